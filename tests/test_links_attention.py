"""The attention chapter's "Link to this view" reproduces the view, and bertviz's head view follows the Layer and
Head sliders (issue 27).

The sliders live in a fragment: a key press on a focused slider reruns the fragment alone, which an AppTest never
does (it reruns the whole page), so only a browser sees whether the head view below follows them. What the head
view shows is read from what bertviz drew in its frame: its layer select and which head's colour box is on.

Run: `python -m pytest tests/test_links_attention.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import re
from pathlib import Path

from harness.browser import slider
from harness.views import settle
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, assert_no_exception, base_url, browser, page, server  # noqa: F401
from tests.test_links_embeddings import (assert_link_reproduces, open_expander, press, set_sentence,
                                         view)

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

SENTENCE = "The old fisherman mended his nets while the gulls circled the harbour."
# What bertviz's head view shows: the layer in its select, and the heads drawn (d3 binds each head's colour box to
# whether that head is on: full colour when on, lightened when off).
SHOWN_JS = """() => {
  const layer = document.querySelector('#bertviz-head #layer')?.value;
  const boxes = [...document.querySelectorAll('#bertviz-head svg rect')].filter(r => typeof r.__data__ === 'boolean');
  if (layer === undefined || !boxes.length) return null;
  return [Number(layer), boxes.map((r, i) => r.__data__ ? i : -1).filter(i => i >= 0)];
}"""


def head_view_shows(page, expected: tuple[int, list[int]] | None = None) -> tuple[int, list[int]]:
    """(layer, [heads drawn]) of the bertviz head view on the page, scrolled into view, once drawn (and, given
    `expected`, once it shows that or the wait times out: the frame redraws itself from the page's address)."""
    box = page.locator('iframe[title*="bertviz head view"]').first
    box.scroll_into_view_if_needed(timeout=TIMEOUT_MS)  # looked at: off screen the view waits to redraw
    frame = box.element_handle(timeout=TIMEOUT_MS).content_frame()
    frame.wait_for_function(SHOWN_JS, timeout=TIMEOUT_MS)
    if expected is not None:
        want = json.dumps(list(expected), separators=(",", ":"))  # as JSON.stringify writes it
        with contextlib.suppress(PlaywrightTimeout):
            frame.wait_for_function(f"() => JSON.stringify(({SHOWN_JS})()) === {json.dumps(want)}", timeout=5_000)
    layer, heads = frame.evaluate(SHOWN_JS)
    return layer, heads


def sliders(page) -> tuple[int, int]:
    return tuple(int(page.locator(slider(name)).first.input_value()) for name in ("Layer", "Head"))


def test_link_reproduces_the_attention_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/attention")
    settle(page)
    default = view(page)
    set_sentence(page, SENTENCE)
    press(page, "Layer", "ArrowRight", 2)
    press(page, "Head", "ArrowRight", 3)
    page.locator('[data-testid="stMain"] [data-testid="stButtonGroup"] button').filter(has_text="entropy").click()
    settle(page)
    open_expander(page, "Model view")  # the model view waits in an expander
    open_expander(page, "The math")
    assert_link_reproduces(browser, page, default, fresh_server=True)


def test_head_view_follows_the_layer_and_head_sliders(base_url, page):  # noqa: F811
    page.goto(f"{base_url}/attention")
    settle(page)
    layer, head = sliders(page)
    assert head_view_shows(page) == (layer, [head])
    for name, key, moved in (("Layer", "ArrowRight", (layer + 1, head)), ("Head", "ArrowLeft", (layer + 1, head - 1)),
                             ("Layer", "ArrowLeft", (layer, head - 1))):
        press(page, name, key)
        assert sliders(page) == moved
        assert head_view_shows(page, (moved[0], [moved[1]])) == (moved[0], [moved[1]]), f"after {key} on {name}"
        assert_no_exception(page)


def test_the_head_view_off_screen_waits_and_catches_up_when_scrolled_into_view(base_url, page):  # noqa: F811
    """Issue 29: a redraw costs the page about 70 ms, which a slider move above waited for; scrolled away, the view
    keeps what it drew, and it shows the sliders' head once it is on screen again."""
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"{base_url}/attention")
    settle(page)
    layer, head = sliders(page)
    assert head_view_shows(page) == (layer, [head])  # drawn, then scrolled away with the sliders
    page.locator(slider("Layer")).first.scroll_into_view_if_needed()
    box = page.locator('iframe[title*="bertviz head view"]').first
    assert not box.evaluate("f => { const r = f.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }")
    press(page, "Layer", "ArrowRight")
    page.wait_for_timeout(1_000)  # ten of the frame's looks at the address
    frame = box.element_handle(timeout=TIMEOUT_MS).content_frame()
    assert frame.evaluate(SHOWN_JS) == [layer, [head]]
    assert head_view_shows(page, (layer + 1, [head])) == (layer + 1, [head])


def test_presenter_steps_show_the_heads_the_sliders_chose(base_url, page):  # noqa: F811
    """Presenter mode: the one-head step's sliders move its figure (no page rerun needed there), and the head
    view's step opens on the head they chose."""
    page.goto(f"{base_url}/attention?present=1&step=1")
    settle(page)
    layer, head = sliders(page)
    press(page, "Layer", "ArrowUp")  # ← and → are the lecture's keys in presenter mode, a focused slider's too
    press(page, "Head", "ArrowUp")
    assert sliders(page) == (layer + 1, head + 1)
    expect(page.get_by_text(f"Layer {layer + 1}, head {head + 1}").first).to_be_visible()
    assert "step=1" in page.url
    assert_no_exception(page)
    for step in (2, 3):  # the presenter's "next" button, twice: the grid, then the head view
        page.locator(".st-key-present_next button").first.click()
        expect(page).to_have_url(re.compile(rf"[?&]step={step}(&|$)"), timeout=TIMEOUT_MS)
        settle(page)
    assert head_view_shows(page) == (layer + 1, [head + 1])
    assert_no_exception(page)
    page.goto(page.url)  # the same step opened from its address (a new session): the address's head
    settle(page)
    assert head_view_shows(page) == (layer + 1, [head + 1])


def test_the_head_views_file_is_made_when_pressed_for_the_head_the_sliders_chose(base_url, page):  # noqa: F811
    """The download's page is made on Streamlit's thread when the button is pressed (a callable), for the layer
    and head chosen by then, as a whole offline page."""
    page.goto(f"{base_url}/attention")
    settle(page)
    layer, head = sliders(page)
    press(page, "Layer", "ArrowRight")
    press(page, "Head", "ArrowLeft")
    button = page.get_by_role("button", name=f"Download layer {layer + 1}, head {head - 1} (HTML)")
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        button.click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    assert download.suggested_filename == f"inside-bert-head-view-{layer + 1}-{head - 1}.html"
    assert f'"layer": {layer + 1}, "heads": [{head - 1}]' in text and "d3js.org v5" in text and "jQuery v3" in text
    assert_no_exception(page)
