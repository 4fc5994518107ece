"""The lecture as a lecturer rehearses it the day before class (`harness.walk`): a fresh `streamlit run app.py`
started as users start it (warm-up on), a 1920 × 1080 projector at 150 % zoom, presenter mode started from the
overview's button, and every step reached with one key press (→, Page Down, Space in turn) after scrolling the
previous step down and leaving the focus on its slider. In English and in 中文, every step must fit the screen
(≤ 40 px of overflow), open at its top with its counter, keep the language, show no exception, no code identifier
and no text under 18 device px. And the very first visitor of a fresh server sees the app at once."""
from __future__ import annotations

import pytest

from harness import walk
from harness.browser import streamlit_server, wait_idle
from tests.browser_fixtures import ARTIFACTS, NEEDS_BROWSER, browser  # noqa: F401
from ui.chapters import CHAPTERS

pytestmark = NEEDS_BROWSER


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server(log=ARTIFACTS / "server-walk.log") as url:
        yield url


def test_code_identifiers_are_found_as_words():
    words = walk.code_identifiers()
    assert {"DistilBertForMaskedLM", "training.json", "explainers.masking", "mask_tokens"} <= words
    assert walk.find_code("The student (DistilBertForMaskedLM) reads training.json.", words) == [
        "DistilBertForMaskedLM", "training.json"]
    assert walk.find_code("masking, tokens and training are plain words", words) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_whole_lecture_walks_with_one_key_a_step_and_every_step_fits_the_projector(server, browser, lang):
    context = browser.new_context(viewport=walk.VIEWPORT, device_scale_factor=walk.SCALE, locale="en-US")
    context.set_default_timeout(60_000)
    rows = walk.walk(context.new_page(), server, lang)
    context.close()
    (ARTIFACTS / f"presenter-walk-{lang}.md").write_text(walk.table(rows), encoding="utf-8")
    assert len(rows) == sum(len(c.steps) for c in CHAPTERS)
    bad = [f"step {r.i} {r.address}: {'; '.join(r.problems())}" for r in rows if r.problems()]
    assert not bad, "\n".join(bad)
    wrong = [f"step {r.i}: {r.counter!r}" for r, (title, _) in zip(rows, walk.lecture(lang))
             if not r.counter.startswith(title + " · ")]
    assert not wrong, "the counter names another chapter (or another language):\n" + "\n".join(wrong)


FIRST_SEEN_JS = """() => {  // when the title and the progress bar first showed, and when the chapter's own text
  window.__seen = {};
  const t0 = performance.now();
  new MutationObserver(() => {
    const s = window.__seen;
    if (s.notice === undefined && document.querySelector('[data-testid="stProgress"]')) s.notice = performance.now() - t0;
    if (s.title === undefined && document.querySelector('[data-testid="stMain"] h1')) s.title = performance.now() - t0;
    if (s.sidebar === undefined && document.querySelector('[data-testid="stSidebar"] [data-testid="stPageLink"]'))
      s.sidebar = performance.now() - t0;
  }).observe(document, {subtree: true, childList: true});
}"""


def test_a_fresh_servers_first_visitor_sees_the_app_loading_and_can_navigate_at_once(browser):
    """The overview is drawn before the process loads PyTorch and the model (issue 29: it needs neither); a click
    on Overview as soon as the sidebar shows, then a reload, meet no exception (they met an ImportError while the
    warm-up thread imported `ui` modules). A chapter opened first shows the title and a progress bar while they
    load, not an empty page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.add_init_script(f"({FIRST_SEEN_JS})()")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server(log=ARTIFACTS / "server-first-visitor.log") as url:
        page.goto(f"{url}/")
        link = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a').filter(has_text="Overview")
        link.first.wait_for()
        link.first.click()
        wait_idle(page, 1000)
        seen = page.evaluate("window.__seen")
        assert page.locator('[data-testid="stException"]').count() == 0
        page.reload()
        wait_idle(page, 1000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_role("heading", name="Inside BERT").count() >= 1
    assert "title" in seen and "notice" not in seen, f"the overview waited for the model: {seen}"
    with streamlit_server(log=ARTIFACTS / "server-first-visitor-chapter.log") as url:
        page.goto(f"{url}/embeddings")
        page.get_by_role("heading", name="1 · Input embeddings").first.wait_for()
        wait_idle(page, 1000)
        seen = page.evaluate("window.__seen")
        assert page.locator('[data-testid="stException"]').count() == 0
    context.close()
    assert "notice" in seen, f"no loading notice before the chapter: {seen}"


def test_keys_drive_the_lecture_after_a_slider_was_touched_and_a_text_box_keeps_its_own(server, browser):
    """The clicker trap: touch the masking chapter's Rate slider with the mouse, then → and Page Down change the
    step and leave the slider where the mouse put it; in the seed box → moves the caret, Escape leaves the box and
    → then changes the step."""
    from harness.browser import slider

    context = browser.new_context(viewport=walk.VIEWPORT, device_scale_factor=walk.SCALE)
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{server}/masking?present=1&step=1")
    wait_idle(page, 800)
    rate = page.locator(slider("Rate: share of pieces chosen (%)"))
    box = rate.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2)  # the mouse still works
    wait_idle(page, 800)
    touched = rate.input_value()
    assert touched != "15"
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda u: "step=2" in u)
    wait_idle(page, 800)
    page.keyboard.press("PageUp")
    page.wait_for_url(lambda u: "step=1" in u or "step=" not in u)
    wait_idle(page, 800)
    assert page.locator(slider("Rate: share of pieces chosen (%)")).input_value() == touched
    seed = page.get_by_label("Seed")
    seed.click()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(800)
    assert "step=2" not in page.url  # the caret moved, the lecture did not
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda u: "step=2" in u)
    context.close()
