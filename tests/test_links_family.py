"""The family chapter's "Link to this view" reproduces the view (issue 27).

A reader sets every widget of the main area to a value other than its default (a sentence of their own with
phrases and a name in it, RoBERTa's static copies, seed and epochs, SpanBERT's and ERNIE's draws, ERNIE's unit,
UniLM's source, hidden piece and layer, MASS's fragment, the lens's hidden piece, the math opened), opens the
sidebar's link in a new browser and finds the same widgets and the same text.

Run: `python -m pytest tests/test_links_family.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

from harness.views import settle
from tests.browser_fixtures import NEEDS_BROWSER, assert_no_exception, base_url, browser, page, server  # noqa: F401
from tests.test_links_embeddings import assert_link_reproduces, open_expander, press, set_sentence, view

pytestmark = NEEDS_BROWSER

# [CLS] we ate ice cream in the living room with jane austen . [SEP]: two phrases and a name for ERNIE
SENTENCE = "We ate ice cream in the living room with Jane Austen."


def fill(page, label: str, value: str, nth: int = 0) -> None:
    """The `nth` text or number box of the main area labelled `label`, filled and applied (Enter)."""
    box = page.locator('[data-testid="stMain"]').get_by_label(label, exact=True).nth(nth)
    box.fill(value)
    box.press("Enter")
    settle(page)


def choose(page, label: str, option: str) -> None:
    """The selectbox labelled `label` set to the option whose text is `option` (a click opens most selects; ERNIE's
    unit, under its table, opens on ↓)."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name=label, exact=True)
    box.click()
    item = page.get_by_role("option", name=option, exact=True)
    try:
        item.wait_for(timeout=3000)
    except Exception:  # playwright's TimeoutError: the menu stayed closed
        box.press("ArrowDown")
    item.click()
    settle(page)


def test_link_reproduces_the_family_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/family")
    settle(page)
    default = view(page)
    set_sentence(page, SENTENCE)
    page.locator('[data-testid="stMain"] [data-testid="stButtonGroup"] button').filter(has_text="10").first.click()
    settle(page)  # static copies: 1 → 10
    fill(page, "Seed", "3")
    press(page, "Epochs", "ArrowLeft", 2)  # 10 → 8
    fill(page, "Draw", "4")  # SpanBERT's
    fill(page, "Draw", "5", nth=1)  # ERNIE's
    choose(page, "Unit", "Jane Austen · entity")  # opens on "living room", the unit masking whole makes hardest
    press(page, "Source length s (pieces)", "ArrowRight", 2)  # 7 → 9 (the default sentence opens on 8)
    choose(page, "Predict the piece at (a [MASK] there)", "11 · austen")
    press(page, "Attention of layer", "ArrowLeft", 2)  # 6 → 4
    press(page, "Fragment length k (pieces)", "ArrowLeft", 2)  # 6 → 4
    press(page, "Fragment starts at position", "ArrowRight", 2)  # re-derived for k = 4: 5 → 7
    choose(page, "Hide the piece at", "3 · ice")  # opens on "9 · with"
    open_expander(page, "The math")
    assert_no_exception(page)
    assert_link_reproduces(browser, page, default, fresh_server=True)
