"""In presenter mode a chapter's later steps show what an earlier step's controls chose without drawing them: the
address still holds those choices on the later step (and the pair of model names the link came with), so the
later step's link opens on the same view (issue 27). The masking chapter's own case is in test_links_masking.py.

Run: `python -m pytest tests/test_links_presenter.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import importlib.util
import re

import pytest

from harness.views import reopen, settle
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, base_url, browser, page, server  # noqa: F401
from tests.test_links_embeddings import press, view
from ui.chapters import chapter

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect


# chapter, the step with the controls, the rate slider's key, the pair's keys (a refused pair: the page says so)
CASES = [("distillation", "soft", "d_rate", ("d_teacher", "d_student")),
         ("electra", "game", "e_rate", ("e_gen", "e_disc"))]


@pytest.mark.parametrize("key, step, rate, pair", CASES, ids=[c[0] for c in CASES])
def test_a_later_steps_link_keeps_what_an_earlier_step_chose(base_url, browser, page, key, step, rate,  # noqa: F811
                                                             pair):
    first = chapter(key).steps.index(step) + 1
    page.goto(f"{base_url}/{key}?present=1&step={first}&{pair[0]}=no-such/model")
    settle(page)
    press(page, "Rate: share of pieces masked (%)", "ArrowUp", 10)  # ← and → are the lecture's keys here
    expect(page).to_have_url(re.compile(rf"[?&]{rate}=25(&|$)"), timeout=TIMEOUT_MS)
    page.locator(".st-key-present_next button").first.click()
    expect(page).to_have_url(re.compile(rf"[?&]step={first + 1}(&|$)"), timeout=TIMEOUT_MS)
    settle(page)
    assert f"{rate}=25" in page.url and f"{pair[0]}=no-such" in page.url, page.url
    shown = view(page)
    # the sidebar is closed in presenter mode; its link is the address (ui.links reads location.href)
    context, other = reopen(browser, page.url, timeout_ms=TIMEOUT_MS * 2)
    try:
        assert view(other) == shown
    finally:
        context.close()
