"""Server memory: the resident size of a fresh `streamlit run app.py` (warm-up on, as users start it) while one
visitor opens every chapter, and once the warm-up is done and the size has settled (issue 29: ≤ 1.2 GB).

    python benchmarks/memory.py

Writes (replaces) the "## Server memory" section of benchmarks/RESULTS.md. RSS is summed over the server process
and its children (`benchmarks/load.py`'s sampler), read after each chapter is idle in the browser.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import _rss, _tree  # noqa: E402
from benchmarks.results import RESULTS, replace_section  # noqa: E402
from harness.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle  # noqa: E402
from ui.chapters import CHAPTERS  # noqa: E402

TARGET_GB = 1.2
SETTLED_GB = 0.005  # two reads 15 s apart within 5 MB: the warm-up is done and nothing else runs


def server_gb(pid: int) -> float:
    return sum(_rss(p) for p in _tree([pid])[pid]) / 1e9


def measure() -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    pid: list[int] = []
    rows = []
    with streamlit_server(pid=pid) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(180_000)
        for c in CHAPTERS:
            page.goto(f"{url}/{c.url_path}")
            wait_idle(page, quiet_ms=1500)
            rows.append((f"after opening {c.title}", server_gb(pid[0])))
            print(rows[-1], flush=True)
        last, t0 = 0.0, time.time()
        while time.time() - t0 < 900:
            time.sleep(15)
            if abs((now := server_gb(pid[0])) - last) < SETTLED_GB:
                break
            last = now
        rows.append((f"settled ({time.time() - t0:.0f} s later)", server_gb(pid[0])))
        browser.close()
    return rows


def main() -> None:
    start = os.getloadavg()[0]
    rows = measure()
    final = rows[-1][1]
    body = "\n".join([
        f"`python benchmarks/memory.py`, {dt.datetime.now().isoformat(timespec='minutes')}, load average at start "
        f"{start:.2f}. A fresh `streamlit run app.py` with its warm-up thread on; one browser tab opens every "
        "chapter in lecture order and waits until the page is idle.", "",
        "| when | server RSS |", "|---|---|", *[f"| {what} | {gb:.2f} GB |" for what, gb in rows], "",
        f"Settled: **{final:.2f} GB** {'✅' if final <= TARGET_GB else '❌'} (target ≤ {TARGET_GB} GB)."])
    print(body)
    replace_section(RESULTS, "Server memory", body)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
