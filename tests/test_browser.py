"""End-to-end checks in a real browser: a `streamlit run app.py` server driven by Playwright + Debian chromium,
chapter by chapter (presenter mode, the phone and the language switch: `tests/test_browser_presenter.py`).

Run: `python -m pytest tests/test_browser.py -q`. Skipped where /usr/bin/chromium or playwright is missing.
"""
from __future__ import annotations

import contextlib
import re
import time
from urllib.parse import quote

import pytest

from harness.browser import slider
from tests.browser_fixtures import (NAV_LINKS, NEEDS_BROWSER, SVG_DRAWN, TIMEOUT_MS, assert_no_exception,  # noqa: F401
                                    base_url, block_outside, browser, expect, frame_of, layer_slider, page, server,
                                    shot, streamlit_server, wait_idle)
from ui import prose
from ui.chapters import CHAPTERS

pytestmark = NEEDS_BROWSER


@pytest.mark.parametrize("path", ["/attention?layer=2&head=3", "/overview", "/"])
def test_first_visitor_of_a_fresh_server_sees_titles_and_the_sidebar(server, page, path):
    """The very first request to a server (a shared link, a bookmark of /overview, the front page) gets the
    chapter titles as navigation at once, never Streamlit's file-name list, the shared sidebar and no
    "Page not found" dialog."""
    titles = [c.title for c in CHAPTERS]
    with contextlib.ExitStack() as stack:
        url = server.url if not server.touched else stack.enter_context(streamlit_server())
        server.touched = True
        outside = block_outside(page)  # e.g. a chapter's material icon fetched as the favicon from a font CDN
        page.goto(f"{url}{path}")
        seen = set()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not page.get_by_label("Sentence A").count() and time.monotonic() < deadline:
            seen |= {text.split("\n")[-1] for text in page.locator(NAV_LINKS).all_inner_texts()}
            time.sleep(0.05)
        wait_idle(page)
        assert seen <= set(titles), f"navigation showed {sorted(seen - set(titles))}"
        links = [text.split("\n")[-1] for text in page.locator(NAV_LINKS).all_inner_texts()]
        assert links[:len(titles)] == titles
        expect(page.get_by_label("Sentence A")).to_be_visible()
        assert page.locator('[role="dialog"]').count() == 0, page.locator('[role="dialog"]').all_inner_texts()
        if path.startswith("/attention"):
            expect(page.get_by_text("Layer 2, head 3").first).to_be_visible()
        assert_no_exception(page)
        page.wait_for_timeout(1000)  # late client-side fetches
        assert outside == [], f"requests left the machine: {outside}"
        shot(page, "first-visit" + path.split("?")[0].replace("/", "-"))


# every chapter of the registry, by its url path, with the heading its prose opens with
PAGES = {c.url_path: prose.sections(c.key)["title"].lstrip("# ") for c in CHAPTERS}


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_every_page_renders_offline(base_url, page, path):
    outside = block_outside(page)
    page.goto(f"{base_url}/{path}")
    expect(page.get_by_role("heading", name=PAGES[path]).first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    page.wait_for_timeout(1000)  # let late client-side fetches (fonts, iframes) happen before counting
    shot(page, f"page-{path or 'overview'}")
    assert_no_exception(page)
    assert outside == [], f"requests left the machine: {outside}"


def test_bertviz_views_draw_svg(base_url, page):
    page.goto(f"{base_url}/attention")
    wait_idle(page)
    head = frame_of(page, "bertviz head view")
    head.wait_for_function(SVG_DRAWN, arg=50, timeout=TIMEOUT_MS)
    expect(head.get_by_text("teacher").first).to_be_attached()
    opener = page.locator('[data-testid="stExpander"] summary').filter(has_text="Model view")  # drawn once opened
    opener.click()
    model = frame_of(page, "bertviz model view")
    model.wait_for_function(SVG_DRAWN, arg=50, timeout=TIMEOUT_MS)
    opener.scroll_into_view_if_needed()
    shot(page, "bertviz-model-view")
    assert_no_exception(page)


def test_slider_moves_with_arrow_keys_and_updates_url(base_url, page):
    page.goto(f"{base_url}/attention")
    wait_idle(page)
    expect(page.get_by_text("Layer 0, head 2").first).to_be_visible()  # the clearest head of the default sentence
    layer_slider(page).focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("Layer 1, head 2").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"[?&]layer=1(&|$)"), timeout=TIMEOUT_MS)
    wait_idle(page)
    assert_no_exception(page)


def test_html_text_is_shown_as_text(base_url, page):
    text = "<script>window.__pwned=1</script><b>bold</b>"
    page.goto(f"{base_url}/embeddings?a={quote(text, safe='')}")
    expect(page.get_by_text("script", exact=True).first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    shot(page, "html-as-text")
    assert_no_exception(page)
    for frame in page.frames:
        assert frame.evaluate("() => typeof window.__pwned") == "undefined", f"script ran in {frame.url}"


def test_empty_text_gets_a_friendly_message(base_url, page):
    page.goto(f"{base_url}/embeddings?a=")
    expect(page.get_by_text("Sentence A is empty").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert_no_exception(page)


def test_masking_rate_slider_remasks_the_sentence(base_url, page):
    page.goto(f"{base_url}/masking")
    wait_idle(page)
    expect(page.get_by_text("Chosen at 15 %").first).to_be_visible(timeout=TIMEOUT_MS)
    page.locator(slider("Rate: share of pieces chosen (%)")).first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_text("Chosen at 18 %").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"[?&]rate=18(&|$)"), timeout=TIMEOUT_MS)
    wait_idle(page)
    shot(page, "masking-rate-18")
    assert_no_exception(page)


def test_electra_resample_and_threshold_update_the_page_and_url(base_url, page):
    page.goto(f"{base_url}/electra")
    wait_idle(page)
    expect(page.get_by_text("Masked at 15 %").first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Resample").click()
    expect(page).to_have_url(re.compile(r"[?&]e_seed=17(&|$)"), timeout=TIMEOUT_MS)
    expect(page.get_by_text("seed 17 ·").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    page.locator(slider("Threshold", prefix=True)).first.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("flagged: p ≥ 0.55").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"[?&]e_thr=0\.55(&|$)"), timeout=TIMEOUT_MS)
    # "Try to fool it" judges with the same threshold: it was a fragment of its own and kept 0.50
    expect(page.get_by_text("(threshold 0.55)").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    shot(page, "electra-resampled")
    assert_no_exception(page)


def test_electra_typed_word_is_text_and_judged(base_url, page):
    page.goto(f"{base_url}/electra")
    wait_idle(page)
    box = page.get_by_label("with the word")
    box.fill("<img src=x onerror=window.__pwned=1>")
    box.press("Enter")
    expect(page.get_by_text("P(replaced) =").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert_no_exception(page)
    for frame in page.frames:
        assert frame.evaluate("() => typeof window.__pwned") == "undefined", f"script ran in {frame.url}"


def test_distillation_temperature_slider_updates_url_and_entropy(base_url, page):
    page.goto(f"{base_url}/distillation?d_temp=1.0")
    wait_idle(page)
    metric = page.locator('[data-testid="stMetric"]', has_text="Teacher entropy").first
    before = metric.inner_text()
    page.locator(slider("Temperature T")).first.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"[?&]d_temp=3(\.0)?(&|$)"), timeout=TIMEOUT_MS)
    # the URL changes on the key press, the numbers after the fragment's rerun: wait for them, do not race
    expect(metric).not_to_have_text(before, timeout=TIMEOUT_MS)
    wait_idle(page)
    shot(page, "distillation-t3")
    assert_no_exception(page)


def test_finetuning_question_and_live_probe(base_url, page):
    """A typed question is answered with the span `explainers.qa.answer` finds, the passage shown as text; the
    live probe shows the default layer's cross-validated accuracy."""
    from explainers.model import load_role
    from explainers.qa import answer
    from ui.finetune import QA_DIR
    from ui.text import table
    from transformers import AutoModelForQuestionAnswering

    passage = table("qa_examples")[1][1]
    question = "Who teaches music?"
    lm = load_role("built-in", QA_DIR, AutoModelForQuestionAnswering)
    expected = answer(lm.model, lm.tokenizer, question, passage).best.text
    page.goto(f"{base_url}/finetuning")
    wait_idle(page)
    box = page.get_by_label("Question (segment A)")
    box.fill(question)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]qa_q=Who\+teaches\+music"), timeout=TIMEOUT_MS)
    expect(page.locator("mark").first).to_have_text(expected, timeout=TIMEOUT_MS)
    wait_idle(page)
    expect(page.get_by_text("Probe on layer 4: accuracy").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    shot(page, "finetuning-answered")
    assert_no_exception(page)


def test_the_family_chapter_draws_every_demo_and_its_controls_answer(base_url, page):
    """Chapter 7 in the browser: the map, the 16 figures of its demos, the epochs slider moved with the keyboard
    (the summary and the address follow) and ERNIE's example put into the sidebar with one click."""
    page.goto(f"{base_url}/family")
    expect(page.get_by_text("10 epochs, 10 different masks").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(16, timeout=TIMEOUT_MS)  # 1+1+9+3, the lens: 2
    page.locator(slider("Epochs")).first.focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text("9 epochs, 9 different masks").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"[?&]fam_epochs=9(&|$)"), timeout=TIMEOUT_MS)
    wait_idle(page)
    page.get_by_role("button", name="Put the example in the sidebar").click()
    sidebar_a = page.locator('[data-testid="stSidebar"] textarea').first
    expect(sidebar_a).to_have_value(re.compile("^My sister moved from New York"), timeout=TIMEOUT_MS)
    wait_idle(page)
    expect(page.get_by_text("Your sentence A has no phrase")).to_have_count(0)
    shot(page, "family")
    assert_no_exception(page)


def test_the_sidebar_link_follows_a_fragments_rerun_and_reopens_the_view(base_url, browser, page):
    """A slider in a fragment reruns only the fragment, not the sidebar: the link still holds what the slider set,
    and opened in a new browser it shows the same view."""
    rate = "Rate: share of pieces chosen (%)"
    page.goto(f"{base_url}/masking")
    wait_idle(page)
    page.locator(slider(rate)).focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda u: "rate=16" in u)
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Link to this view").click()
    box = page.locator(".inside-bert-link input").first
    expect(box).to_have_value(re.compile(r"rate=16"))
    link = box.input_value()
    assert link == page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    other.set_default_timeout(TIMEOUT_MS)
    fresh = other.new_page()
    fresh.goto(link)
    wait_idle(fresh)
    expect(fresh.locator(slider(rate))).to_have_value("16", timeout=TIMEOUT_MS)
    other.close()
