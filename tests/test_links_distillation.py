"""The distillation chapter's "Link to this view" reproduces the view (issue 27).

A reader sets every widget of the main area to a value other than its default (a sentence of their own, a pair of
model names the server refuses, so that the page says so and shows the built-in pair, the masking's rate and seed,
the masked position and the temperature, the math opened), opens the sidebar's link in a new browser and finds the
same widgets and text, the speed meter's numbers included: they are the server's last measurement of this text,
kept for every visitor until someone presses "Measure again".

Run: `python -m pytest tests/test_links_distillation.py -q` (skipped where /usr/bin/chromium or playwright is
missing).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harness.browser import CHROMIUM
from harness.views import settle
from tests.test_browser import TIMEOUT_MS, assert_no_exception, base_url, browser, page, server  # noqa: F401
from tests.test_links_electra import assert_reopened_view_is_the_same, choose, fill, set_sentence, toggle_expander
from tests.test_links_embeddings import open_expander, press, view

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None,
                                reason="needs /usr/bin/chromium and the playwright package")

SENTENCE = "Quiet rivers carry silver fish past the old mill at dawn."
PAIR_BOX = "expander:The teacher and the student"  # opened to type the names and closed again: not a setting


def test_link_reproduces_the_distillation_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/distillation")
    settle(page)
    default = view(page)
    set_sentence(page, SENTENCE)
    toggle_expander(page, "The teacher and the student")
    fill(page, "Teacher", "/tmp/no-such-teacher")
    fill(page, "Student", "/tmp/no-such-student")
    toggle_expander(page, "The teacher and the student")
    press(page, "Rate: share of pieces masked (%)", "ArrowRight", 25)  # 15 → 40: several masked positions
    fill(page, "Seed", "5")
    options = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stSelectbox"]')]
        .find(b => b.innerText.includes('Masked position')).querySelector('input').value""")
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="Masked position", exact=True)
    box.click()
    listed = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    settle(page)
    other = next(o for o in reversed(listed) if o != options)
    choose(page, "Masked position", other)
    press(page, "Temperature T", "ArrowRight", 3)  # 1.0 → 2.5
    open_expander(page, "The math")
    assert_no_exception(page)
    assert_reopened_view_is_the_same(browser, page, default, {PAIR_BOX})
