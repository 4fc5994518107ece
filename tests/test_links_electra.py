"""The ELECTRA chapter's "Link to this view" reproduces the view (issue 27).

A reader sets every widget of the main area to a value other than its default (a sentence of their own, a pair of
model names the server refuses, so that the page says so and plays with the built-in pair, the game's rate,
temperature and seed, the verdict's threshold, λ, the piece and word of "Try to fool it", the ROC's operating
point, the math opened), opens the sidebar's link in a new browser and finds the same widgets and text.

Run: `python -m pytest tests/test_links_electra.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import importlib.util
import re

from harness.browser import slider
from harness.views import settle
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, base_url, browser, page, server  # noqa: F401
from tests.test_links_embeddings import assert_link_reproduces, open_expander, press, view
from tests.test_links_masking import typed as fill

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

SENTENCE = "Quiet rivers carry silver fish past the old mill at dawn."
PAIR_BOX = "expander:The ELECTRA pair"  # a container opened to type the names and closed again: not a setting


def set_sentence(page, text: str) -> None:
    """Sentence A in the sidebar, typed and applied (Ctrl+Enter), the address following (the label matched
    exactly: a figure's "On your masked sentence above" contains "sentence a")."""
    from urllib.parse import quote

    box = page.locator('[data-testid="stSidebar"]').get_by_label("Sentence A", exact=True)
    box.fill(text)
    box.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"[?&]a=" + re.escape(quote(text).replace("%20", "+"))), timeout=TIMEOUT_MS)
    settle(page)


def choose(page, label: str, option: str) -> None:
    """The selectbox labelled `label` (Streamlit 1.67: a combobox) set to the option whose text is `option`."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name=label, exact=True)
    item = page.get_by_role("option").filter(has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).first
    for _ in range(5):  # a rerun that lands while the list is open closes it: open it again
        box.click()
        try:
            item.click(timeout=5000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the list was not open
            page.keyboard.press("Escape")
            settle(page)
    settle(page)
    expect(box).to_have_value(option)


def options(page, label: str) -> list[str]:
    """The options the selectbox labelled `label` lists (its list opened, read and closed)."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name=label, exact=True)
    for _ in range(5):  # a rerun that lands while the list is open closes it: open it again
        box.click()
        try:
            page.get_by_role("option").first.wait_for(timeout=5000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the list was not open
            settle(page)
    listed = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    settle(page)
    return listed


def test_link_reproduces_the_electra_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/electra")
    settle(page)
    default = {k: v for k, v in view(page).items() if k != PAIR_BOX}
    set_sentence(page, SENTENCE)
    open_expander(page, "The ELECTRA pair")  # opened, then closed again below
    fill(page, "Generator", "/tmp/no-such-generator")
    fill(page, "Discriminator", "/tmp/no-such-discriminator")
    open_expander(page, "The ELECTRA pair")  # opened, then closed again below
    press(page, "Rate: share of pieces masked (%)", "ArrowRight", 3)  # 15 → 18
    press(page, "Sampling temperature", "ArrowRight", 2)  # 1.0 → 1.2
    fill(page, "Seed", "5")
    page.locator(slider("Threshold", prefix=True)).first.focus()
    for _ in range(2):
        page.keyboard.press("ArrowLeft")  # 0.50 → 0.40
    settle(page)
    press(page, "λ (weight of the discriminator's loss)", "ArrowLeft")  # 50 → 49
    choose(page, "Replace the piece at", "2 · rivers")
    fill(page, "with the word", "otter")
    press(page, "Operating point: threshold", "ArrowRight")  # 0.50 → 0.55
    open_expander(page, "The math")
    expect(page.get_by_text("“otter”").first).to_be_visible(timeout=TIMEOUT_MS)
    assert_link_reproduces(browser, page, default, fresh_server=True)
