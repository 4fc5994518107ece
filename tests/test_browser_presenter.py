"""Presenter mode, the phone and the language switch in a real browser (`tests/browser_fixtures.py`): the clicker's
keys across a chapter boundary on a projector at 150 %, no step cut off or too small, the sidebar on a 420 px
phone, 中文 and back with the address keeping it.
"""
from __future__ import annotations

import contextlib

from tests.browser_fixtures import (NEEDS_BROWSER, TIMEOUT_MS, assert_no_exception, base_url, browser,  # noqa: F401
                                    expect, server, shot, streamlit_server, wait_idle)
from ui.chapters import chapter

pytestmark = NEEDS_BROWSER


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
    steps = chapter("masking").steps
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


