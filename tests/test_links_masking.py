"""The masking chapter's "Link to this view" reproduces the view (issue 27).

Every widget of the main area set to a value other than its default (a sentence of the reader's own, the rate and
its split moved with the keyboard, the seed typed, both toggles on, the logit lens opened on another position, the
80/10/10 comparison's position and draw, the two compared rates, the fill-in sentence, the math opened), then the
sidebar's link opened in a new browser: the same widgets and the same text.

Run: `python -m pytest tests/test_links_masking.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import importlib.util
import re

from harness.views import reopen, settle
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, base_url, browser, page, server  # noqa: F401
from tests.test_links_embeddings import assert_link_reproduces, choose, open_expander, press, set_sentence, view

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

SENTENCE = "My grandmother baked bread every Sunday before the family walked to church."


def typed(page, label: str, value: str) -> None:
    """A number or text box of the main area, filled and applied (Enter)."""
    box = page.locator('[data-testid="stMain"]').get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(page)


def toggle(page, label: str) -> None:
    page.locator('[data-testid="stMain"] [data-testid="stCheckbox"]').filter(has_text=label).first.click()
    settle(page)


def test_link_reproduces_the_masking_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/masking")
    settle(page)
    default = view(page)
    set_sentence(page, SENTENCE)
    press(page, "Rate: share of pieces chosen (%)", "ArrowRight", 10)  # 15 → 25
    press(page, "of which → [MASK] (%)", "ArrowLeft", 10)  # 80 → 70
    press(page, "of which → random piece (%)", "ArrowRight", 5)  # 10 → 15
    typed(page, "Seed", "3")
    toggle(page, "Whole words")
    toggle(page, "Every occurrence")
    toggle(page, "Layer by layer")  # the lens, and in it its position box
    lens = "Masked position (position · original → what the model read)"
    opened_on = view(page)[f"stSelectbox:{lens}"]
    choose(page, lens, 1)
    assert view(page)[f"stSelectbox:{lens}"] != opened_on
    choose(page, "Position", 2)
    typed(page, "Random draw", "7")
    press(page, "Rate (%)", "ArrowRight", 5)  # the first compared rate: 15 → 20
    page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[aria-label="Rate (%)"]').nth(1).focus()
    page.keyboard.press("ArrowLeft")  # the second: 50 → 49
    settle(page)
    typed(page, "Your sentence", "The [MASK] barked at the [MASK] all night.")
    open_expander(page, "The math")
    assert_link_reproduces(browser, page, default, fresh_server=True)


def test_link_of_the_presenter_guesses_step_keeps_the_masking(base_url, browser, page):  # noqa: F811
    """Presenter mode shows the guesses on the step after the masking, without its controls: the address still
    holds the masking chosen on the step before, so that step's link opens on the same guesses."""
    page.goto(f"{base_url}/masking?present=1&step=1")
    settle(page)
    press(page, "Rate: share of pieces chosen (%)", "ArrowUp", 10)  # ← and → are the lecture's keys here
    typed(page, "Seed", "5")
    expect(page.get_by_text("Chosen at 25 %").first).to_be_visible()
    page.locator(".st-key-present_next button").first.click()
    expect(page).to_have_url(re.compile(r"[?&]step=2(&|$)"), timeout=TIMEOUT_MS)
    settle(page)
    shown = view(page)
    assert "rate=25" in page.url and "seed=5" in page.url, page.url
    # the sidebar is closed in presenter mode; its link is the address (ui.links reads location.href)
    context, other = reopen(browser, page.url, timeout_ms=TIMEOUT_MS * 2)
    try:
        assert view(other) == shown
    finally:
        context.close()
