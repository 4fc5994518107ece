"""Screenshots of every chapter and of presenter mode for the README: `python docs/screenshots.py [key …]`, and
for README.zh.md `python docs/screenshots.py --lang zh` (into docs/screenshots/zh/; needs playwright, chromium
and a CJK font such as Debian's fonts-wqy-microhei)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from harness.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle  # noqa: E402
from ui.chapters import CHAPTERS  # noqa: E402

VIEWS = {  # chapter key: (query string of the view shown, viewport height); a chapter not here: its default
    "embeddings": ("?a=The+cat+sat+on+the+mat.&b=It+was+warm+in+the+sun.", 1500),
    "attention": ("?layer=1&head=8", 1500),
    "masking": ("?rate=25&seed=2", 1500),
    "electra": ("", 1500),  # the default draw (seed 16): a fake caught and a plausible one passing
    "distillation": ("?d_rate=30&d_seed=0&d_temp=2.0", 1700),  # T = 2: the paper's
    "finetuning": ("?a=She+put+the+kettle+on+and+took+two+cups+from+the+shelf.&b=Then+she+made+tea+for+her+sister.",
                   1900),
    "family": ("?a=We+ate+ice+cream+in+the+living+room+with+Jane+Austen.", 1500),  # the map and RoBERTa's epochs
}
PAGES = {c.key: (f"/{c.key}{VIEWS.get(c.key, ('', 1500))[0]}", VIEWS.get(c.key, ("", 1500))[1])
         for c in CHAPTERS[1:]}  # file name: (url path with query, viewport height)


# presenter mode as a projector shows it: 1920 × 1080 at 150 % zoom
PRESENTER = "/masking?present=1&step=5"


def _with_lang(path: str, lang: str) -> str:
    return path if lang == "en" else path + ("&" if "?" in path else "?") + f"lang={lang}"


def main(only: list[str], lang: str = "en") -> None:
    out = ROOT / "docs/screenshots" / ("" if lang == "en" else lang)
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if not only or "presenter" in only:
            page = browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
            page.goto(url + _with_lang(PRESENTER, lang))
            wait_idle(page, quiet_ms=2000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "presenter.png"))
            page.close()
            print(out / "presenter.png")
        for name, (path, height) in PAGES.items():
            if only and name not in only:
                continue
            page = browser.new_page(viewport={"width": 1400, "height": height})
            page.goto(url + _with_lang(path, lang))
            wait_idle(page, quiet_ms=2000)
            page.wait_for_timeout(1500)  # plotly and iframes finish drawing
            page.screenshot(path=str(out / f"{name}.png"))
            page.close()
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    args = sys.argv[1:]  # chapter keys (or "presenter") to shoot only those; --lang zh: the Chinese UI
    language = args[args.index("--lang") + 1] if "--lang" in args else "en"
    main([a for a in args if a not in ("--lang", language)], language)
