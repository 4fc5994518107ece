"""A view as a reader sees it: every widget's value in the main area and the main area's text, and the sidebar's
"Link to this view" opened in a new browser (a new visitor: no cookies, no session), for the tests that check that
a link reproduces its view (issue 27) and for anyone checking a chapter by hand."""
from __future__ import annotations

from harness.browser import wait_idle

# Every input a reader can set in the main area, by its label: sliders (their value), text and number boxes,
# selects (the option shown), toggles and checkboxes (on/off), radios and segmented controls (the option chosen).
WIDGETS_JS = r"""() => {
  const main = document.querySelector('[data-testid="stMain"]'), out = {};
  const label = el => (el.getAttribute('aria-label') || el.closest('[data-testid]')?.querySelector('label')?.innerText
                       || '').trim();
  const put = (kind, name, value) => {
    let key = `${kind}:${name}`, n = 2;
    while (key in out) key = `${kind}:${name}#${n++}`;
    out[key] = value;
  };
  for (const el of main.querySelectorAll('[data-testid="stSlider"] input[type="range"]'))
    put('slider', el.getAttribute('aria-label') || label(el), el.getAttribute('aria-valuetext') || el.value);
  for (const box of main.querySelectorAll('[data-testid="stTextInput"], [data-testid="stNumberInput"], '
                                          + '[data-testid="stTextArea"]')) {
    const el = box.querySelector('input, textarea');
    if (el) put(box.dataset.testid, box.querySelector('label')?.innerText.trim() || '', el.value);
  }
  for (const box of main.querySelectorAll('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]'))
    put(box.dataset.testid, box.querySelector('label')?.innerText.trim() || '',
        box.querySelector('input[role="combobox"]')?.value ?? (box.querySelector('[data-baseweb="select"]')
                                                                 ?.innerText || '').trim());
  for (const box of main.querySelectorAll('[data-testid="stCheckbox"]'))
    put('toggle', box.innerText.trim(), !!box.querySelector('input')?.checked);
  for (const box of main.querySelectorAll('[data-testid="stRadio"]'))
    put('radio', box.querySelector('label')?.innerText.trim() || '',
        box.querySelector('input:checked')?.closest('label')?.innerText.trim() ?? null);
  for (const box of main.querySelectorAll('[data-testid="stButtonGroup"]'))
    put('segmented', box.closest('[data-testid="stElementContainer"]')?.querySelector('label')?.innerText.trim()
        || '', [...box.querySelectorAll('button[aria-checked="true"], button[kind$="Active"]')]
          .map(b => b.innerText.trim()).join('|'));
  return out;
}"""


def widgets(page) -> dict[str, object]:
    """`{"slider:<label>": value, "stSelectbox:<label>": shown option, "toggle:<label>": bool, …}` of the main
    area (a repeated label gets `#2`, `#3`)."""
    return page.evaluate(WIDGETS_JS)


def main_text(page) -> str:
    """The main area's visible text."""
    return page.locator('[data-testid="stMain"]').inner_text()


def sidebar_link(page) -> str:
    """The address "Link to this view" gives (the popover opened, its box read, the popover closed)."""
    from playwright.sync_api import expect

    page.locator('[data-testid="stSidebar"]').locator('[data-testid="stPopover"] button').first.click()
    box = page.locator(".inside-bert-link input").first
    expect(box).to_have_value(page.url)
    link = box.input_value()
    page.keyboard.press("Escape")
    return link


def settle(page, quiet_ms: int = 2000, timeout_ms: int = 120_000) -> str:
    """Until the app is idle and the main area's text has not changed for `quiet_ms` (a new session's first visit
    draws its fragments in runs of their own, with idle moments between them); returns that text."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    text = None
    while time.monotonic() < deadline:
        wait_idle(page, timeout_ms=timeout_ms)
        now = main_text(page)
        if now == text:
            return now
        text = now
        page.wait_for_timeout(quiet_ms)
    raise TimeoutError("the main area kept changing")


def reopen(browser, link: str, viewport: dict | None = None, timeout_ms: int = 120_000):
    """`link` opened in a new browser context, as a new visitor opens it: (context, page), the page idle."""
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000})
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    page.goto(link)
    settle(page, timeout_ms=timeout_ms)
    return context, page
