"""The Fine-tuning chapter's "Link to this view" reproduces the view (issue 27).

A reader sets every widget of the main area to a value other than its default (a pair of their own in the sidebar,
the step's label and learning rate, the probe's layer moved with the keyboard, a QA model the server cannot load
(so that the page says so and answers with the built-in one), a passage and a question of their own, every
expander opened), opens the sidebar's link in a new browser (a new visitor: no cookies, no session) and finds the
same widgets and text. The example selector is an action, like the pair buttons: it shows its placeholder in both.

Run: `python -m pytest tests/test_links_finetuning.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import importlib.util
import re

from harness.views import settle
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, assert_no_exception, base_url, browser, page, server  # noqa: F401
from tests.test_links_embeddings import assert_link_reproduces
from tests.test_links_masking import typed as fill
from tests.test_links_embeddings import open_expander, press, view

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

A, B = "The river rose after a week of rain.", "By Friday the bridge was closed to traffic."
PASSAGE = "Lena Novak runs a bicycle shop in Graz. She opened it in 2015 with her brother Marko, who repairs the bikes."
QUESTION = "Who repairs the bikes?"
EXAMPLES = "stSelectbox:Load a passage and question"  # an action: its placeholder in every view


def set_sentence(page, label: str, text: str, address: str) -> None:
    """A sidebar sentence box typed and applied (Ctrl+Enter), the address following (the chapter's heading
    names "sentence A" too: the box is found in the sidebar by its exact label)."""
    box = page.locator('[data-testid="stSidebar"]').get_by_label(label, exact=True)
    box.fill(text)
    box.press("Control+Enter")
    expect(page).to_have_url(re.compile(address), timeout=TIMEOUT_MS)
    settle(page)


def test_link_reproduces_the_finetuning_view(base_url, browser, page):  # noqa: F811
    page.goto(f"{base_url}/finetuning")
    settle(page)
    default = view(page)
    set_sentence(page, "Sentence A", A, r"[?&]a=The\+river")
    set_sentence(page, "Sentence B (optional)", B, r"[?&]b=By\+Friday")
    page.locator('[data-testid="stMain"] [data-testid="stRadio"]').get_by_text("NotNext: B is from elsewhere") \
        .click()
    settle(page)
    press(page, "Learning rate (plain gradient descent: θ ← θ − rate · ∇L)", "ArrowLeft")  # 0.01 → 0.003
    press(page, "Layer (0 = the embedding output)", "ArrowLeft")  # 4 → 3
    open_expander(page, "Question-answering model")
    fill(page, "QA model", "/tmp/no-such-qa-model")
    box = page.locator('[data-testid="stMain"]').get_by_label("Passage (segment B)", exact=True)
    box.fill(PASSAGE)
    box.press("Control+Enter")
    settle(page)
    fill(page, "Question (segment A)", QUESTION)
    open_expander(page, "The input the model reads")
    open_expander(page, "explainers/finetune.py")
    open_expander(page, "explainers/qa.py")
    expect(page.get_by_text("Probe on layer 3: accuracy").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("towards the label given (NotNext").first).to_be_visible(timeout=TIMEOUT_MS)
    assert_no_exception(page)
    assert_link_reproduces(browser, page, default, frozenset({EXAMPLES}), fresh_server=True)
