"""End-to-end checks in a real browser: a `streamlit run app.py` server driven by Playwright + Debian chromium.

Run: `python -m pytest tests/test_browser.py -q`. Skipped where /usr/bin/chromium or playwright is missing.
Screenshots for humans land in tests/artifacts/ (git-ignored).
"""
from __future__ import annotations

import contextlib
import importlib.util
import re
import time
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from harness import browser as browser_support
from harness.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, slider
from ui import prose
from ui.chapters import CHAPTERS, chapter

ARTIFACTS = ROOT / "tests/artifacts"
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None,
                                reason="needs /usr/bin/chromium and the playwright package")

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect, sync_playwright


# -- the server ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def streamlit_server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with browser_support.streamlit_server(log=ARTIFACTS / f"server-{time.time_ns()}.log") as url:
        yield url


class Server:
    def __init__(self, url: str):
        self.url, self.touched = url, False


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url:
        yield Server(url)


@pytest.fixture
def base_url(server) -> str:
    server.touched = True
    return server.url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    context.close()


# -- helpers ------------------------------------------------------------------------------------------------

def wait_idle(page, quiet_ms: int = 1500) -> None:
    browser_support.wait_idle(page, quiet_ms, timeout_ms=TIMEOUT_MS)


def assert_no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, "app shows an exception:\n" + "\n---\n".join(exc.all_inner_texts())


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def layer_slider(page):
    return page.locator(slider("Layer"))


def frame_of(page, title_part: str):
    handle = page.locator(f'iframe[title*="{title_part}"]').first.element_handle(timeout=TIMEOUT_MS)
    return handle.content_frame()


SVG_DRAWN = "n => document.querySelectorAll('svg *').length > n"


def block_outside(page) -> list[str]:
    """Abort every request that would leave the machine; returns the list they are recorded in."""
    outside: list[str] = []

    def handler(route):
        u = urlparse(route.request.url)
        if u.scheme in ("data", "blob", "about") or u.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", handler)
    return outside

# -- tests --------------------------------------------------------------------------------------------------


# the sidebar's links, not a chapter's own ("Next: …")
NAV_LINKS = '[data-testid="stSidebarNav"] a, [data-testid="stSidebar"] [data-testid="stPageLink"] a'


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


# the smallest text of the main area, HTML and the figures' SVG, visible elements only: [px, tag, text]
SMALLEST_TEXT_JS = """() => {
    let best = [1e9, '', ''];
    for (const el of document.querySelectorAll('.stMainBlockContainer *')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        const box = el.getBoundingClientRect();
        if (!own || box.width === 0 || box.height === 0) continue;
        const px = parseFloat(getComputedStyle(el).fontSize);
        if (px < best[0]) best = [px, el.tagName, el.textContent.trim().slice(0, 40)];
    }
    return best;
}"""


def counter(page) -> str:
    return page.locator(".st-key-present_header").first.inner_text().split("\n")[0]


def press(page, key: str, address: str) -> None:
    """Press `key` and wait until the page is at `address` (path and query) and idle again."""
    page.keyboard.press(key)
    page.wait_for_url(lambda u: u.endswith(address))
    wait_idle(page)


def test_presenter_keys_walk_the_lecture_and_a_steps_address_reopens_it(server, browser):
    """On a 1920 × 1080 projector at 150 % zoom: a cold server opens a step's address at that step; → / ← /
    Page Down / Space / Page Up move one step, across the chapter boundary; no text of the steps seen is under
    18 device px."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    with contextlib.ExitStack() as stack:
        url = server.url if not server.touched else stack.enter_context(streamlit_server())
        server.touched = True
        page.goto(f"{url}/masking?present=1&step=6")
        wait_idle(page)
        assert_no_exception(page)
        assert "· 6 / 7 ·" in counter(page), counter(page)
        smallest = [page.evaluate(SMALLEST_TEXT_JS)]
        press(page, "ArrowRight", "/masking?present=1&step=7")
        assert "· 7 / 7 ·" in counter(page)
        press(page, "ArrowRight", "/electra?present=1&step=1")
        electra_steps = len(chapter("electra").steps)  # the registry's count: a new step moves no test
        assert f"· 1 / {electra_steps} ·" in counter(page) and counter(page).startswith("4 · ELECTRA")
        assert_no_exception(page)
        smallest.append(page.evaluate(SMALLEST_TEXT_JS))
        press(page, "ArrowLeft", "/masking?present=1&step=7")
        for key, address in (("PageDown", "/electra?present=1&step=1"), ("Space", "/electra?present=1&step=2"),
                             ("PageUp", "/electra?present=1&step=1")):
            press(page, key, address)
        page.goto(f"{url}/masking?present=1&step=1")
        wait_idle(page)
        smallest.append(page.evaluate(SMALLEST_TEXT_JS))
        shot(page, "presenter-masking-1")
        px, tag, text = min(smallest)
        assert px * 1.5 >= 18, f"{tag} {text!r} is {px} CSS px: {px * 1.5} px on the projector"
    context.close()


# elements of the main column that end right of the viewport without a scrolling box around them: cut off on a
# phone (KaTeX's hidden MathML copy, plotly's clipped SVG and visually hidden inputs are not shown, so not cut)
CUT_OFF_JS = r"""() => {
  const W = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('.stMainBlockContainer *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 1 || el.closest('.katex-mathml, svg, .js-plotly-plot')) continue;
    if (el.tagName === 'INPUT' && ['radio', 'checkbox', 'range'].includes(el.type)) continue;
    let a = el.parentElement;  // a scrolling box inside the page's column (the column itself scrolls the page)
    while (a && !a.matches('.stMainBlockContainer') && !(['auto', 'scroll'].includes(getComputedStyle(a).overflowX)
           && a.getBoundingClientRect().right <= W + 1))
      a = a.parentElement;
    if (a && a.matches('.stMainBlockContainer')) a = null;
    if (!a) out.push(`${el.tagName} ${(el.innerText || '').slice(0, 30)} ends at ${Math.round(r.right)} px`);
  }
  return out;
}"""


def test_on_a_phone_choosing_a_chapter_closes_the_sidebar_and_typing_does_not(base_url, browser):
    context = browser.new_context(viewport={"width": 420, "height": 860}, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sidebar = page.locator('[data-testid="stSidebar"]')
    page.goto(f"{base_url}/")
    wait_idle(page)
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    expect(sidebar.get_by_label("Sentence A")).to_be_in_viewport()
    sidebar.get_by_label("Sentence A").fill("A cat sat on a warm mat.")
    page.keyboard.press("Control+Enter")
    wait_idle(page)
    expect(sidebar.get_by_label("Sentence A")).to_be_in_viewport()  # the same page reran: the sidebar stays
    sidebar.locator('[data-testid="stPageLink"] a').filter(has_text="Masking").click()
    page.wait_for_url(lambda u: "/masking" in u)
    wait_idle(page)
    expect(sidebar.get_by_label("Sentence A")).not_to_be_in_viewport()
    expect(page.get_by_role("heading", name="3 · Masking")).to_be_in_viewport()
    assert page.evaluate(CUT_OFF_JS) == []  # its tables scroll sideways instead of being cut
    page.goto(f"{base_url}/distillation")
    wait_idle(page)
    assert page.evaluate(CUT_OFF_JS) == []
    context.close()


def test_in_presenter_mode_no_step_of_the_masking_chapter_is_cut_off_or_small(base_url, browser):
    """Every step of the chapter with the widest tables (its "recovered" column, the "Whole words" label), on a
    1920 × 1080 projector at 150 % zoom: nothing ends right of the screen outside a scrolling box, and no text is
    under 18 device px."""
    from ui.chapters import CHAPTERS, chapter

    steps = next(c for c in CHAPTERS if c.key == "masking").steps
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    for step in range(1, len(steps) + 1):
        page.goto(f"{base_url}/masking?present=1&step={step}")
        wait_idle(page)
        assert_no_exception(page)
        assert page.evaluate(CUT_OFF_JS) == [], step
        px, tag, text = page.evaluate(SMALLEST_TEXT_JS)
        assert px * 1.5 >= 18, f"step {step}: {tag} {text!r} is {px} CSS px"
    context.close()


def test_the_language_switch_turns_a_chapter_chinese_and_back_and_the_address_keeps_it(base_url, browser):
    """A browser whose language is Chinese opens the app in 中文; the switch turns it English and back, and the
    address carries `lang`, so a link opens in the language it was copied in."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base_url}/masking")
    wait_idle(page)
    assert_no_exception(page)
    expect(page.get_by_role("heading", name="3 · 掩码")).to_be_visible()
    page.wait_for_url(lambda u: "lang=zh" in u)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("English", exact=True).click()
    page.wait_for_url(lambda u: "lang=en" in u)
    wait_idle(page)
    expect(page.get_by_role("heading", name="3 · Masking")).to_be_visible()
    sidebar.get_by_text("中文", exact=True).click()
    page.wait_for_url(lambda u: "lang=zh" in u)
    wait_idle(page)
    expect(page.get_by_role("heading", name="3 · 掩码")).to_be_visible()
    link = page.url
    context.close()
    english = browser.new_context(locale="en-US")
    english.set_default_timeout(TIMEOUT_MS)
    other = english.new_page()
    other.goto(link)  # the link, in a browser whose own language is English
    wait_idle(other)
    expect(other.get_by_role("heading", name="3 · 掩码")).to_be_visible()
    english.close()


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
