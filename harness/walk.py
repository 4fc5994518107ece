"""Walk the whole lecture in presenter mode as a lecturer rehearses it: on a 1920 × 1080 projector at 150 % zoom
(1280 × 720 CSS px, device scale 1.5), started from the overview's button, one key press a step, the way a
clicker and a keyboard send them (→, Page Down, Space in turn).

Before each key press the walk does what a lecturer does between two slides: scrolls the step to its bottom and
leaves the focus on the step's first slider (or button), which is where keys used to get lost. After each press
it records what the audience sees (`StepSeen`): how far the step overflows the screen, whether it opened at its
top with its counter visible, its language, exceptions, code identifiers, and how long → took to settle.

`benchmarks/bench.py` reports the walk's times; `tests/test_presenter_walk.py` asserts on every step.
"""
from __future__ import annotations

import ast
import contextlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.browser import IDLE_JS, ROOT

VIEWPORT = {"width": 1280, "height": 720}  # a 1920 × 1080 projector at 150 % zoom
SCALE = 1.5
KEYS = ("ArrowRight", "PageDown", "Space")  # what a keyboard and a presentation clicker send for "next"

# What the audience sees of a step: the main column's overflow, its scroll position, the counter's box, the
# main area's text, the exceptions shown.
SEEN_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const header = document.querySelector('.st-key-present_header');
  const box = header ? header.getBoundingClientRect() : null;
  const block = document.querySelector('.stMainBlockContainer');
  let smallest = 1e9;  // the smallest visible text of the main area, in CSS px
  for (const el of block ? block.querySelectorAll('*') : []) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect();
    if (own && r.width > 0 && r.height > 0) smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
  }
  return {
    smallest,
    overflow: main ? main.scrollHeight - main.clientHeight : -1,
    scroll_top: main ? main.scrollTop : -1,
    header_visible: !!box && box.top >= 0 && box.bottom <= window.innerHeight,
    counter: header ? header.innerText.split('\\n')[0] : '',
    text: block ? block.innerText : '',
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 300)),
  };
}"""
# Between two slides: the step scrolled to its bottom, the focus left on its first slider (else its first button).
FIDGET_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (main) main.scrollTop = main.scrollHeight;
  const block = document.querySelector('.stMainBlockContainer');
  const mine = el => !el.closest('.st-key-present_header, .st-key-present_keys');
  const first = sel => block ? [...block.querySelectorAll(sel)].find(mine) : null;
  const el = first('[data-testid="stSlider"] input[type="range"]') || first('button');
  if (el) el.focus();
  return el ? (el.getAttribute('aria-label') || el.innerText || el.tagName).slice(0, 40) : '';
}"""


@dataclass
class StepSeen:
    i: int  # 1-based place in the lecture
    address: str  # path and query
    counter: str
    overflow_px: int
    scroll_top: int
    header_visible: bool
    lang_ok: bool
    seconds: float  # key press → the step settled (idle)
    focused: str = ""  # what had the focus when the key that opened this step was pressed
    smallest_px: float = 0  # the smallest visible text of the main area, CSS px
    exceptions: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)  # code identifiers in the main area's text

    def problems(self, max_overflow: int = 40) -> list[str]:
        out = []
        if self.overflow_px > max_overflow:
            out.append(f"overflows by {self.overflow_px} px")
        if self.scroll_top > 0 or not self.header_visible:
            out.append(f"opened scrolled ({self.scroll_top} px)")
        if not self.lang_ok:
            out.append("language lost")
        if self.smallest_px * SCALE < 18:
            out.append(f"text of {self.smallest_px * SCALE:.0f} device px")
        if self.exceptions:
            out.append(f"exception: {self.exceptions[0][:80]}")
        if self.code:
            out.append(f"code on screen: {', '.join(self.code[:5])}")
        return out


def code_identifiers() -> set[str]:
    """Words that only code has, derived from the code: the project's class names in CamelCase, its function
    names with an underscore, its module paths (`explainers.masking`), the model classes its checkpoints name,
    and the names of its files (`training.json`, `app.py`)."""
    words: set[str] = set()
    for py in [*ROOT.glob("explainers/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("training/*.py")]:
        module = f"{py.parent.name}.{py.stem}"
        words |= {module, f"{py.parent.name}/{py.name}"}
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, ast.ClassDef) and re.fullmatch(r"_?[A-Z][a-z0-9]+[A-Z]\w*", node.name):
                words.add(node.name.lstrip("_"))
            elif isinstance(node, ast.FunctionDef) and "_" in node.name.strip("_") and len(node.name) > 6:
                words.add(node.name)
    for config in ROOT.glob("assets/models/*/config.json"):
        words |= set(json.loads(config.read_text()).get("architectures", []))
    for folder in ROOT.glob("assets/models/*"):
        words |= {p.name for p in folder.iterdir() if p.suffix in (".json", ".safetensors", ".md", ".txt")}
    words |= {"app.py", "tour.md", "strings.toml", "AutoModel", "from_pretrained", "ForMaskedLM"}
    return words


def find_code(text: str, words: set[str]) -> list[str]:
    return sorted(w for w in words if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", text))


def settle(page, timeout_s: float = 60, quiet_s: float = 0.4) -> float:
    """Wait until the app is idle for `quiet_s` in a row; returns when it last became idle (perf_counter)."""
    deadline = time.perf_counter() + timeout_s
    idle_since = None
    while time.perf_counter() < deadline:
        if page.evaluate(IDLE_JS):
            idle_since = idle_since or time.perf_counter()
            if time.perf_counter() - idle_since >= quiet_s:
                return idle_since
        else:
            idle_since = None
        time.sleep(0.03)
    raise TimeoutError("the app did not settle")


def see(page, i: int, seconds: float, focused: str, lang_title: str, words: set[str]) -> StepSeen:
    seen = page.evaluate(SEEN_JS)
    address = page.url.split("//", 1)[-1].split("/", 1)[-1]
    return StepSeen(i=i, address="/" + address, counter=seen["counter"], overflow_px=int(seen["overflow"]),
                    scroll_top=int(seen["scroll_top"]), header_visible=seen["header_visible"],
                    lang_ok=seen["counter"].startswith(lang_title), seconds=round(seconds, 2), focused=focused,
                    smallest_px=float(seen["smallest"]), exceptions=seen["exceptions"], code=find_code(seen["text"], words))


def lecture(lang: str) -> list[tuple[str, str]]:
    """(the chapter's title in `lang`, its key) for every step of the lecture, in order."""
    from ui.chapters import CHAPTERS
    from ui.text import t

    return [(t(f"chapters.{c.key}", lang), c.key) for c in CHAPTERS for _ in c.steps]


def start(page, base_url: str, lang: str) -> None:
    """The overview in a fresh tab, 中文 chosen in the sidebar when `lang` is zh, and the lecture started with
    the overview's button."""
    from ui.text import t

    page.goto(f"{base_url}/")
    settle(page)
    if lang != "en":
        page.locator('[data-testid="stSidebar"]').get_by_text("中文", exact=True).click()
        settle(page)
    page.get_by_role("button", name=t("overview.tour", lang)).click()
    page.wait_for_url(lambda u: "present=1" in u)
    settle(page)


def walk(page, base_url: str, lang: str = "en", limit: int | None = None, fidget: bool = True) -> list[StepSeen]:
    """Every step of the lecture from the overview's start button, one key press a step (`KEYS` in turn)."""
    words = code_identifiers()
    steps = lecture(lang)[:limit]
    t0 = time.perf_counter()
    start(page, base_url, lang)
    out = [see(page, 1, time.perf_counter() - t0, "", steps[0][0], words)]
    for i in range(2, len(steps) + 1):
        focused = page.evaluate(FIDGET_JS) if fidget else ""
        before = page.url
        key = KEYS[(i - 2) % len(KEYS)]
        t0 = time.perf_counter()
        page.keyboard.press(key)
        try:
            page.wait_for_url(lambda u: u != before, timeout=20_000)
            settled = settle(page)
        except Exception:  # noqa: BLE001 - the key did not move the lecture: recorded as what the audience sees
            settled = time.perf_counter()
        out.append(see(page, i, settled - t0, focused, steps[i - 1][0], words))
    return out


def visit(page, base_url: str, key: str, lang: str = "en", shots: Path | None = None) -> list[StepSeen]:
    """Every step of chapter `key` opened by its address (no key presses): what a chapter's author checks while
    fitting its steps to the screen. `shots`: a folder for a screenshot of each step."""
    from ui.chapters import chapter
    from ui.text import t

    words, ch = code_identifiers(), chapter(key)
    out = []
    for k in range(1, len(ch.steps) + 1):
        t0 = time.perf_counter()
        page.goto(f"{base_url}/{ch.url_path}?present=1&step={k}&lang={lang}")
        settled = settle(page)
        out.append(see(page, k, settled - t0, "", t(f"chapters.{key}", lang), words))
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{key}-{lang}-{k}.png"))
    return out


def table(rows: list[StepSeen]) -> str:
    """A markdown table of the walk, for RESULTS.md and a session's note."""
    lines = ["| # | address | overflow | opened at top | language | → settled | problems |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.i} | `{r.address}` | {r.overflow_px} px | {'yes' if r.scroll_top == 0 else 'no'} | "
                     f"{'kept' if r.lang_ok else 'lost'} | {r.seconds:.2f} s | {'; '.join(r.problems()) or '—'} |")
    return "\n".join(lines)


def main() -> None:
    import argparse

    from playwright.sync_api import sync_playwright

    from harness.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running server (default: start a fresh one)")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--chapter", help="open this chapter's steps by their addresses instead of walking")
    ap.add_argument("--shots", type=Path, help="with --chapter: a folder for a screenshot of each step")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=SCALE, locale="en-US")
        context.set_default_timeout(60_000)
        page = context.new_page()
        with contextlib.ExitStack() as stack:
            url = args.url or stack.enter_context(streamlit_server())
            rows = (visit(page, url, args.chapter, args.lang, args.shots) if args.chapter
                    else walk(page, url, args.lang, args.limit))
        browser.close()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
