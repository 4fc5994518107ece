"""Two students on one server (issue 17): what one session sets never shows in the other.

Two browser contexts (two students' browsers, no shared cookies) on the same `streamlit run app.py`, each with
its own sentence (first from a link's `?a=`, then typed into the sidebar) and its own slider values, changed in
turn without waiting for the other session, so that their reruns overlap on the server. Every check reads both
pages; an observer in each page also records any moment the other student's word appears, between checks too.

Run: `python -m pytest tests/test_sessions.py -q` (skipped where /usr/bin/chromium or playwright is missing).
"""
from __future__ import annotations

import importlib.util
import json
import re
from urllib.parse import parse_qs, quote, urlparse

from harness.browser import slider
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, assert_no_exception, base_url, browser, server, wait_idle  # noqa: F401
from ui.chapters import CHAPTERS

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

TITLE = {c.key: c.title for c in CHAPTERS}
# one word each student's sentences share and the other's never contain (a single word piece of the built-in
# vocabulary, so the masking chapter shows it as a token; no guess for the other sentence is likely to be it)
STUDENTS = {
    "penguin": ("The penguin slept on the frozen lake.", "The penguin swam under the cold ice.", 20, +2),
    "volcano": ("The volcano smoked above the sleepy village.", "A volcano erupted near the quiet village.", 30, -3),
}
# records every added or changed text in the page that contains the other student's word
WATCH_JS = """(() => { const word = %s; window.__foreign = [];
    const seen = node => { const text = (node.nodeType === 3 ? node.data : node.textContent) || '';
        if (text.toLowerCase().includes(word)) window.__foreign.push(text.slice(0, 200)); };
    new MutationObserver(ms => { for (const m of ms) { m.addedNodes.forEach(seen);
        if (m.type === 'characterData') seen(m.target); } })
        .observe(document, {subtree: true, childList: true, characterData: true}); })()"""


def open_student(browser, url: str, word: str, other: str):  # noqa: F811 -- the imported fixture's name
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(WATCH_JS % json.dumps(other))
    first, _, rate, _ = STUDENTS[word]
    page = context.new_page()
    page.goto(f"{url}/masking?a={quote(first)}&rate={rate}")
    return page


def assert_only_own(page, word: str, other: str, sentence: str, shown: str) -> None:
    """The page shows this student's sentence and `shown`, nothing of the other student's, now or before."""
    expect(page.get_by_text(shown).first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.get_by_label("Sentence A").input_value() == sentence
    assert parse_qs(urlparse(page.url).query).get("a") == [sentence], page.url
    main = page.locator('[data-testid="stMain"]').inner_text().lower()
    assert word in main, f"{word!r} is not on the page"
    assert other not in main and other not in page.url.lower(), f"the other session's {other!r} is on the page"
    assert page.evaluate("() => window.__foreign") == [], "the other session's sentence was shown at some point"
    assert_no_exception(page)


def test_two_sessions_never_show_each_others_sentence_or_settings(base_url, browser):  # noqa: F811
    (w1, w2) = STUDENTS
    pages = {w1: open_student(browser, base_url, w1, w2), w2: open_student(browser, base_url, w2, w1)}
    other = {w1: w2, w2: w1}
    rate = {w: STUDENTS[w][2] for w in pages}
    for w, page in pages.items():  # the link's sentence and rate
        assert_only_own(page, w, other[w], STUDENTS[w][0], f"Chosen at {rate[w]} %:")

    for w, page in pages.items():  # a typed sentence: both reruns start before either has finished
        box = page.get_by_label("Sentence A")
        box.fill(STUDENTS[w][1])
        box.press("Control+Enter")
    for w, page in pages.items():
        expect(page).to_have_url(re.compile(r"[?&]a=" + re.escape(quote(STUDENTS[w][1]).replace("%20", "+"))),
                                 timeout=TIMEOUT_MS)
        assert_only_own(page, w, other[w], STUDENTS[w][1], f"Chosen at {rate[w]} %:")

    for w, page in pages.items():
        page.locator(slider("Rate: share of pieces chosen (%)")).first.focus()
    for step in range(3):  # the two students' key presses interleaved
        for w, page in pages.items():
            move = STUDENTS[w][3]
            if step < abs(move):
                page.keyboard.press("ArrowRight" if move > 0 else "ArrowLeft")
                rate[w] += 1 if move > 0 else -1
    for w, page in pages.items():
        expect(page).to_have_url(re.compile(rf"[?&]rate={rate[w]}(&|$)"), timeout=TIMEOUT_MS)
        assert_only_own(page, w, other[w], STUDENTS[w][1], f"Chosen at {rate[w]} %:")
    assert rate[w1] != rate[w2]

    for page in pages.values():  # the next chapter, from the sidebar: the sentence travels with each session
        page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a').filter(
            has_text=TITLE["electra"]).click()
    for w, page in pages.items():
        expect(page).to_have_url(re.compile(r"/electra"), timeout=TIMEOUT_MS)
        assert_only_own(page, w, other[w], STUDENTS[w][1], "Masked at 15 %:")
        assert f"rate={rate[other[w]]}" not in page.url

    for w, page in pages.items():  # an ELECTRA setting of each session's own, pressed back to back
        page.locator(slider("Rate: share of pieces masked (%)")).first.focus()
        page.keyboard.press("ArrowRight" if STUDENTS[w][3] > 0 else "ArrowLeft")
    for w, page in pages.items():
        e_rate = 16 if STUDENTS[w][3] > 0 else 14
        expect(page).to_have_url(re.compile(rf"[?&]e_rate={e_rate}(&|$)"), timeout=TIMEOUT_MS)
        assert_only_own(page, w, other[w], STUDENTS[w][1], f"Masked at {e_rate} %:")
    for page in pages.values():
        page.context.close()
