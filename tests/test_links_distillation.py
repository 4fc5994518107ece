"""The distillation chapter's "Link to this view" reproduces the view (issue 27).

A reader sets the widgets of the main area to values other than their defaults (a sentence of their own, the
masking's rate and seed, the masked position and the temperature, the math opened; not the pair's names, see the
test), opens the sidebar's link in a new browser and finds the
same widgets and text, the speed meter's numbers included: they are the server's last measurement of this text,
kept for every visitor until someone presses "Measure again".

Run: `python -m pytest tests/test_links_distillation.py -q` (skipped where /usr/bin/chromium or playwright is
missing).
"""
from __future__ import annotations

from harness.views import settle
from tests.browser_fixtures import NEEDS_BROWSER, assert_no_exception, base_url, browser, page, server  # noqa: F401
from tests.test_links_electra import choose, options, set_sentence
from tests.test_links_embeddings import assert_link_reproduces, open_expander, press, view
from tests.test_links_masking import typed as fill

pytestmark = NEEDS_BROWSER

SENTENCE = "Quiet rivers carry silver fish past the old mill at dawn."
PAIR_BOX = "expander:The teacher and the student"  # opened to type the names and closed again: not a setting


def test_link_reproduces_the_distillation_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/distillation")
    settle(page)
    default = {k: v for k, v in view(page).items() if k != PAIR_BOX}
    set_sentence(page, SENTENCE)
    open_expander(page, "The teacher and the student")  # a pair the server refuses: the page says so and
    fill(page, "Teacher", "/tmp/no-such-teacher")  # goes on with the built-in pair
    fill(page, "Student", "/tmp/no-such-student")
    open_expander(page, "The teacher and the student")  # closed again
    press(page, "Rate: share of pieces masked (%)", "ArrowRight", 25)  # 15 → 40: several masked positions
    fill(page, "Seed", "5")
    shown = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="Masked position",
                                                                exact=True).input_value()
    other = next(o for o in reversed(options(page, "Masked position")) if o != shown)
    choose(page, "Masked position", other)
    press(page, "Temperature T", "ArrowRight", 3)  # 1.0 → 2.5
    open_expander(page, "The math")
    assert_no_exception(page)
    assert_link_reproduces(browser, page, default, fresh_server=True, timed=(".st-key-d_speed",))
