"""The embeddings chapter's "Link to this view" reproduces the view (issue 27).

A reader sets every widget of the main area to a value other than its default (a sentence of their own in the
sidebar, the token box, the positions slider moved with the keyboard, another tab of the every-token figure, the
math opened), opens the sidebar's link in a new browser (a new visitor: no cookies, no session) and finds the same
widgets, tabs and text.

The helpers here (`view`, `set_sentence`, `choose`, `press`, `open_tab`, `open_expander`, `assert_link_reproduces`)
are shared with tests/test_links_attention.py and tests/test_links_masking.py.

Run: `python -m pytest tests/test_links_embeddings.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import importlib.util
import re
from urllib.parse import quote

from harness.browser import slider, streamlit_server
from harness.views import main_text, reopen, settle, sidebar_link, widgets
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, assert_no_exception, base_url, browser, page, server  # noqa: F401

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

# What harness.views.widgets does not read: the tab shown in each set of tabs, and whether each expander is open
# (a hidden tab's or a closed expander's content is not in the main area's text either).
PANELS_JS = r"""() => {
  const main = document.querySelector('[data-testid="stMain"]'), out = {};
  main.querySelectorAll('[data-testid="stTabs"]').forEach((tabs, i) => {
    out[`tabs#${i + 1}`] = tabs.querySelector('[role="tab"][aria-selected="true"]')?.innerText.trim() ?? null;
  });
  for (const box of main.querySelectorAll('[data-testid="stExpander"]'))
    out[`expander:${box.querySelector('summary [data-testid="stMarkdownContainer"]')?.innerText.trim()}`] =
      !!box.querySelector('details')?.open;
  return out;
}"""


def view(page) -> dict[str, object]:
    """Every widget's value, every tab set's shown tab, every expander's state, and the main area's text."""
    return {**widgets(page), **page.evaluate(PANELS_JS), "text": main_text(page)}


def set_sentence(page, text: str) -> None:
    """Sentence A in the sidebar, typed and applied (Ctrl+Enter), the address following."""
    box = page.get_by_label("Sentence A")
    box.fill(text)
    box.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"[?&]a=" + re.escape(quote(text).replace("%20", "+"))), timeout=TIMEOUT_MS)
    settle(page)


def choose(page, label: str, option: str | int) -> None:
    """The selectbox labelled `label` set to the option whose text is `option` (an int: the option at that
    index)."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name=label, exact=True)
    box.focus()
    box.press("ArrowDown")  # opens the list (a click in the box does not always)
    options = page.get_by_role("option")
    (options.nth(option) if isinstance(option, int) else options.filter(has_text=option).first).click()
    settle(page)


def press(page, label: str, key: str, times: int = 1) -> None:
    """The slider labelled `label`, focused, moved with the keyboard."""
    page.locator(slider(label)).first.focus()
    for _ in range(times):
        page.keyboard.press(key)
    settle(page)


def open_tab(page, name: str) -> None:
    page.locator('[data-testid="stMain"] [role="tab"]').filter(has_text=name).first.click()
    settle(page)


def open_expander(page, name: str) -> None:
    page.locator('[data-testid="stMain"] [data-testid="stExpander"] summary').filter(has_text=name).first.click()
    settle(page)


TIMING = re.compile(r"\d+(?:\.\d+)?\s*(?:ms|×|%\s+less(?: encoder)? time)")


def assert_link_reproduces(browser, page, default: dict[str, object],  # noqa: F811
                           unchanged_ok: frozenset[str] = frozenset(), fresh_server: bool = False,
                           timed: tuple[str, ...] = ()) -> None:
    """The view now differs from `default` in every widget, tab and expander (but `unchanged_ok`: an action such
    as an examples picker, back on its placeholder), and the sidebar's link opened in a new browser shows the same
    view, every widget and the main area's text. `fresh_server`: the link is also opened as the very first request
    of a server started as users start it (warm-up on), which must show the same view once it has loaded; there
    the lines that give a time or a speed-up, and the text of the `timed` elements (CSS selectors: a chart of
    timings), are left out of the comparison, since another process measures its own speed."""
    assert_no_exception(page)
    now = view(page)
    unchanged = [k for k in default if k != "text" and k not in unchanged_ok and now.get(k) == default[k]]
    assert not unchanged, f"left at their defaults by the test: {unchanged}"
    link = sidebar_link(page)

    def untimed(p, text: str) -> str:
        for part in (t for selector in timed for t in p.locator(selector).all_inner_texts()):
            text = text.replace(part, "")
        return "\n".join(line for line in text.splitlines() if not TIMING.search(line))

    def same_view(address: str, fresh: bool = False) -> None:
        context, other = reopen(browser, address, timeout_ms=TIMEOUT_MS * 4)
        try:
            assert_no_exception(other)
            again = view(other)
            differ = {k: (now.get(k), again.get(k)) for k in set(now) | set(again)
                      if k != "text" and now.get(k) != again.get(k)}
            assert not differ, f"the link {address} lost: {differ}"
            mine, theirs = (untimed(page, now["text"]), untimed(other, again["text"])) if fresh else \
                (now["text"], again["text"])
            assert theirs == mine, f"the link {address} shows another text"
        finally:
            context.close()

    same_view(link)
    if fresh_server:
        with streamlit_server() as url:
            same_view(re.sub(r"^https?://[^/]+", url, link), fresh=True)


SENTENCE = "Quiet rivers carry silver fish past the old mill at dawn."


def test_link_reproduces_the_embeddings_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/embeddings")
    settle(page)
    default = view(page)
    set_sentence(page, SENTENCE)
    choose(page, "Token", "4 · silver")
    press(page, "Positions 0…N", "ArrowRight", 2)  # 64 → 80
    expect(page.locator(slider("Positions 0…N"))).to_have_value("80")
    open_tab(page, "position")
    open_expander(page, "The math")
    assert_link_reproduces(browser, page, default, fresh_server=True)
