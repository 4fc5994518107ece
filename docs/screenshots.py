"""Screenshots of every chapter and of presenter mode for the README: `python docs/screenshots.py [key …]`
(needs playwright + chromium)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle  # noqa: E402
from ui.chapters import CHAPTERS  # noqa: E402

VIEWS = {  # chapter key: (query string of the view shown, viewport height); a chapter not here: its default
    "embeddings": ("?a=The+cat+sat+on+the+mat.&b=It+was+warm+in+the+sun.", 1500),
    "attention": ("?layer=1&head=8", 1500),
    "masking": ("?rate=25&seed=2", 1500),
    "electra": ("", 1500),  # the default draw (seed 16): a fake caught and a plausible one passing
    "distillation": ("?d_rate=30&d_seed=0&d_temp=2.0", 1700),  # T = 2: the paper's
    "finetuning": ("?a=She+put+the+kettle+on+and+took+two+cups+from+the+shelf.&b=Then+she+made+tea+for+her+sister.",
                   1900),
}
PAGES = {c.key: (f"/{c.key}{VIEWS.get(c.key, ('', 1500))[0]}", VIEWS.get(c.key, ("", 1500))[1])
         for c in CHAPTERS[1:]}  # file name: (url path with query, viewport height)


# presenter mode as a projector shows it: 1920 × 1080 at 150 % zoom
PRESENTER = "/masking?present=1&step=5"


def main(only: list[str]) -> None:
    out = ROOT / "docs/screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if not only or "presenter" in only:
            page = browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
            page.goto(url + PRESENTER)
            wait_idle(page, quiet_ms=2000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "presenter.png"))
            page.close()
            print(out / "presenter.png")
        for name, (path, height) in PAGES.items():
            if only and name not in only:
                continue
            page = browser.new_page(viewport={"width": 1400, "height": height})
            page.goto(url + path)
            wait_idle(page, quiet_ms=2000)
            page.wait_for_timeout(1500)  # plotly and iframes finish drawing
            page.screenshot(path=str(out / f"{name}.png"))
            page.close()
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])  # chapter keys (or "presenter") to shoot only those
