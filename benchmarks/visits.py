"""A fresh server's first moments, measured in a real browser: each chapter's first visit from the sidebar, the
very first visitor's title and progress bar (beside Streamlit's floor), and the lecture walked in presenter mode.
Run through `benchmarks/bench.py` (`--first-visits-only`, `--first-visitor`, `--presenter-walk`)."""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.browser import (CHROMIUM, CHROMIUM_ARGS, IDLE_JS, RERUN_DONE_JS, ROOT, RUNS_JS, streamlit_server,
                             wait_idle)
from ui.chapters import CHAPTERS

FIRST_VISITS = ROOT / "benchmarks/FIRST_VISITS.md"
TARGET_FIRST_VISIT_S = 2.0  # issue 29 (3 s in issue 16): a chapter's first visit on a fresh server
TARGET_COLD_START_S = 3.0  # issue 29: `streamlit run` to the first chapter drawn


# every figure on the page drawn: each plotly chart holds its SVG, each frame (bertviz, the family's views) has
# loaded, and no element is still a loading skeleton
DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))
    && [...document.querySelectorAll('[data-testid="stMain"] iframe')].every(f => f.contentDocument?.readyState === 'complete')
    && !document.querySelector('[data-testid="stSkeleton"]')"""
TARGET_FAMILY_DRAWN_S = 5.0  # issue 29: the family chapter fully drawn (figures, not only text), from the click


def bench_first_visits(repeats: int, settle_s: float) -> list[tuple[str, list[float], float]]:
    """Each chapter's first visit on a fresh server: the overview loads, `settle_s` seconds pass (a teacher
    introducing the lecture; the server warms its caches meanwhile, `ui/warm.py`), then every chapter in lecture
    order is opened from the sidebar; the time from the click until the chapter's title is shown and the script
    is idle, and until its figures are drawn too (`DRAWN_JS`). One fresh server per repeat. Returns (row, times,
    target) rows."""
    from playwright.sync_api import sync_playwright

    shown: dict[str, list[float]] = {c.key: [] for c in CHAPTERS[1:]}
    drawn: dict[str, list[float]] = {c.key: [] for c in CHAPTERS[1:]}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                with streamlit_server() as url:
                    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    page.goto(url)
                    wait_idle(page, quiet_ms=1000)
                    page.wait_for_timeout(settle_s * 1000)
                    for c in CHAPTERS[1:]:
                        link = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a').filter(
                            has_text=c.title)
                        page.evaluate(RUNS_JS)
                        t = time.perf_counter()
                        link.click()
                        page.wait_for_url(lambda u, key=c.key: f"/{key}" in u, timeout=120_000)
                        page.get_by_role("heading", name=c.title).first.wait_for(timeout=120_000)
                        page.wait_for_function(RERUN_DONE_JS, polling="raf", timeout=120_000)
                        shown[c.key].append(time.perf_counter() - t)
                        page.wait_for_function(DRAWN_JS, polling="raf", timeout=120_000)
                        drawn[c.key].append(time.perf_counter() - t)
                        wait_idle(page, quiet_ms=500)
                    page.context.close()
        finally:
            browser.close()
    rows = [(f"first visit on a fresh server: {c.title}", shown[c.key], TARGET_FIRST_VISIT_S) for c in CHAPTERS[1:]]
    return rows + [(f"first visit on a fresh server: {c.title}, figures drawn", drawn[c.key],
                    TARGET_FAMILY_DRAWN_S if c.key == "family" else None) for c in CHAPTERS[1:]]


FIRST_SEEN_JS = """() => { window.__seen = {}; const t0 = performance.now();
  new MutationObserver(() => { const s = window.__seen, now = performance.now() - t0;
    if (s.title === undefined && document.querySelector('[data-testid="stMain"] h1')) s.title = now;
    if (s.notice === undefined && document.querySelector('[data-testid="stProgress"]')) s.notice = now;
    if (s.sidebar === undefined && document.querySelector('[data-testid="stSidebar"] [data-testid="stPageLink"]'))
      s.sidebar = now; }).observe(document, {subtree: true, childList: true}); }"""
TARGET_STEP_P95_S = 1.0  # issue 29 (1.5 s in issue 26): → to the next step settled, p95 over the lecture
TARGET_NOTICE_S = 1.0  # issue 26: a fresh server's first visitor sees the title and the loading progress


FLOOR_APP = 'import streamlit as st\nst.title("Inside BERT")\nst.progress(0.05, text="Starting")\n'


def first_visits(browser, repeats: int, app: Path | str = "app.py") -> list[dict]:
    """`repeats` fresh servers of `app`, each opened once: when the title, the progress bar and the sidebar's
    links first showed (ms from the request)."""
    seen = []
    for _ in range(repeats):
        with streamlit_server(app=app) as url:
            page = browser.new_context().new_page()
            page.add_init_script(f"({FIRST_SEEN_JS})()")
            page.goto(url)
            page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=120_000)
            if str(app) == "app.py":
                page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').first.wait_for(timeout=120_000)
            wait_idle(page, quiet_ms=500)
            seen.append(page.evaluate("window.__seen"))
            page.context.close()
    return seen


NO_NOTICE_JS = "() => !document.querySelector('[data-testid=\"stMain\"] [data-testid=\"stProgress\"]')"


def cold_starts(browser, repeats: int, path: str = "", app: Path | str = "app.py",
                heading: str | None = None) -> tuple[list[float], list[float]]:
    """Seconds from `streamlit run` until `path` is drawn in a browser that opened it as soon as the server
    answered (its `heading` shown, where given, and no "starting" notice), and until the script is idle too (the
    overview is drawn before the sidebar's model loads, which goes on after it). `repeats` fresh servers, started
    as users start them. Returns (drawn, idle)."""
    drawn, idle = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        with streamlit_server(app=app) as url:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{url}/{path}")
            title = page.get_by_role("heading", name=heading) if heading else page.locator("h1")
            title.first.wait_for(timeout=120_000)
            if str(app) == "app.py":  # the page itself, not the "starting" notice (the floor's script is one)
                page.wait_for_function(NO_NOTICE_JS, polling="raf", timeout=120_000)
            drawn.append(time.perf_counter() - t)
            page.wait_for_function(IDLE_JS, polling="raf", timeout=120_000)
            idle.append(time.perf_counter() - t)
            page.context.close()
    return drawn, idle


def bench_presenter_walk(repeats: int) -> list[str]:
    """The lecture walked with one key a step (`harness.walk`) in English and in 中文 on one fresh server, and a
    fresh server's first visitor (`repeats` servers): markdown lines for RESULTS.md."""
    from playwright.sync_api import sync_playwright

    from harness import walk

    lines = ["## Presenter walk", "",
             f"`python benchmarks/bench.py --presenter-walk`, {dt.datetime.now().isoformat(timespec='minutes')}, "
             f"load average at start {os.getloadavg()[0]:.2f}. A 1280 × 720 CSS px screen at device scale 1.5, "
             "presenter mode started from the overview's button, one key a step (→, Page Down, Space in turn) after "
             "scrolling the step down and focusing its first slider; → settled = key press → the app idle.", "",
             "| language | steps | fit (≤ 40 px overflow) | opened at top | language kept | → settled p50 | p95 | "
             "slowest step | target p95 |", "|---|---|---|---|---|---|---|---|---|"]
    details: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with streamlit_server() as url:
                for lang in ("en", "zh"):
                    context = browser.new_context(viewport=walk.VIEWPORT, device_scale_factor=walk.SCALE)
                    context.set_default_timeout(60_000)
                    rows = walk.walk(context.new_page(), url, lang)
                    context.close()
                    secs = [r.seconds for r in rows[1:]]  # step 1 is the start, not a key press
                    slow = max(rows[1:], key=lambda r: r.seconds)
                    p95 = float(np.percentile(secs, 95))
                    lines.append(f"| {lang} | {len(rows)} | {sum(r.overflow_px <= 40 for r in rows)} | "
                                 f"{sum(r.scroll_top == 0 for r in rows)} | {sum(r.lang_ok for r in rows)} | "
                                 f"{np.median(secs):.2f} s | {p95:.2f} s | {slow.seconds:.2f} s (`{slow.address}`) | "
                                 f"≤ {TARGET_STEP_P95_S:g} s {'✅' if p95 <= TARGET_STEP_P95_S else '❌'} |")
                    print(lines[-1], flush=True)
                    details += ["", f"<details><summary>every step, {lang}</summary>", "", walk.table(rows), "",
                                "</details>"]
        finally:
            browser.close()
    return lines + details


def bench_first_visitor(repeats: int) -> list[str]:
    """A fresh server's first visitor (`repeats` servers), beside Streamlit's floor measured the same way: markdown
    lines for RESULTS.md."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            seen = first_visits(browser, repeats)
            cold = {c.title: cold_starts(browser, repeats, c.url_path, heading=c.title if c.url_path else None)
                    for c in CHAPTERS[:2]}
            with tempfile.TemporaryDirectory() as tmp:  # Streamlit's floor: a script that draws only the notice
                floor = Path(tmp) / "floor.py"
                floor.write_text(FLOOR_APP, encoding="utf-8")
                floor_seen = first_visits(browser, repeats, floor)
                cold_floor = cold_starts(browser, repeats, app=floor)[1]
        finally:
            browser.close()
    title = [s.get("title", float("nan")) / 1000 for s in seen]
    lines = ["## First visitor", "",
             f"`python benchmarks/bench.py --first-visitor`, {dt.datetime.now().isoformat(timespec='minutes')}, "
             f"load average at start {os.getloadavg()[0]:.2f}; {repeats} fresh servers each. Seconds from the "
             "browser's request to the first sight of each (the page's own clock).", "",
             "| a fresh server's first visitor (from the request) | median | max | target |", "|---|---|---|---|"]
    for what, xs, target in (("the overview's title shown (drawn before the model loads)", title, TARGET_NOTICE_S),
                             ("sidebar shown", [s.get("sidebar", float("nan")) / 1000 for s in seen], None),
                             ("Streamlit's floor: a script of only a title and a progress bar, the same measure",
                              [s.get("title", float("nan")) / 1000 for s in floor_seen], None)):
        ok = "" if target is None else f"≤ {target:g} s {'✅' if np.nanmax(xs) <= target else '❌'}"
        lines.append(f"| {what} | {np.nanmedian(xs):.2f} s | {np.nanmax(xs):.2f} s | {ok} |")
    lines += ["", "Cold start: seconds from `streamlit run` (the process started) until a browser that opened the "
              "address as soon as the server answered shows the page drawn (its title, no \"starting\" notice), and "
              "until the script is idle as well (on the overview the sidebar's model loads after the page).", "",
              "| cold start | drawn, median | max | idle, median | target (drawn, median) |", "|---|---|---|---|---|"]
    for title, (drawn, idle) in cold.items():
        ok = f"≤ {TARGET_COLD_START_S:g} s {'✅' if np.median(drawn) <= TARGET_COLD_START_S else '❌'}"
        lines.append(f"| `streamlit run` → {title} | {np.median(drawn):.2f} s | {np.max(drawn):.2f} s | "
                     f"{np.median(idle):.2f} s | {ok} |")
    lines.append(f"| Streamlit's floor: `streamlit run` → a script of only a title and a progress bar | "
                 f"{np.median(cold_floor):.2f} s | {np.max(cold_floor):.2f} s | | |")
    print("\n".join(lines), flush=True)
    return lines
