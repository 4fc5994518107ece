"""Inside BERT benchmarks: cold start, encoder forward latency, slider → re-render in a real browser.

    python benchmarks/bench.py [--repeats 7] [--skip-browser]

Writes medians (and p90 where meaningful) to benchmarks/RESULTS.md. The browser part needs playwright and
/usr/bin/chromium. To time another slider, add one `RerenderCase(...)` line to RERENDER_CASES.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import tempfile
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import visits  # noqa: E402
from benchmarks.results import RESULTS, write_section  # noqa: E402
from harness.browser import (CHROMIUM, CHROMIUM_ARGS, IDLE_JS, RERUN_DONE_JS, RUNS_JS, slider,  # noqa: E402
                             streamlit_server, wait_idle, wait_warmed)
from ui.chapters import CHAPTERS  # noqa: E402
TARGET_COLD_START_S = 5.0


@dataclass(frozen=True)
class RerenderCase:
    label: str
    path: str  # page path with optional query, e.g. "/attention"
    slider: str  # CSS selector of the focusable slider input
    expected: Callable[[int], str]  # text the page shows once the i-th key press (0-based) has been handled
    keys: tuple[str, ...] = ("ArrowRight", "ArrowLeft")  # pressed in turn
    query: str = ""  # where the slider starts, so that expected(i) holds from the first press


PATH = {c.key: "/" + c.url_path for c in CHAPTERS}  # the chapter registry's addresses
RERENDER_CASES = [
    RerenderCase("slider → re-render: attention, Layer", PATH["attention"], slider("Layer"),  # not the clearest head
                 lambda i: f"Layer {(i + 1) % 2}, head 0", query="?layer=0&head=0"),
    RerenderCase("slider → re-render: masking, Rate", PATH["masking"], slider("Rate: share of pieces chosen (%)"),
                 lambda i: f"Chosen at {16 if i % 2 == 0 else 15} %:"),
    RerenderCase("slider → re-render: ELECTRA, Rate", PATH["electra"], slider("Rate: share of pieces masked (%)"),
                 lambda i: f"Masked at {16 if i % 2 == 0 else 15} %:"),
    RerenderCase("slider → re-render: distillation, Rate", PATH["distillation"],
                 slider("Rate: share of pieces masked (%)"), lambda i: f"Masked at {16 if i % 2 == 0 else 15} %:"),
    RerenderCase("slider → re-render: family, Epochs", PATH["family"], slider("Epochs"),
                 lambda i: "{0} epochs, {0} different masks".format(11 if i % 2 == 0 else 10)),
]
# Streamlit's own floor for a slider: a fragment holding one slider and the caption it sets, nothing else
FLOOR_SLIDER_APP = """import streamlit as st


@st.fragment
def floor():
    v = st.slider("Floor", 1, 60, 15, key="floor")
    st.caption(f"Floor at {v} %:")


floor()
"""
FLOOR_CASE = RerenderCase("Streamlit's floor: a fragment of one slider and its caption", "/", slider("Floor"),
                          lambda i: f"Floor at {16 if i % 2 == 0 else 15} %:")
TARGET_RERENDER_P50_MS = 100  # issue 29: p50 ≤ 100 ms and ≤ 1.5× the floor; p95 ≤ 200 ms
TARGET_FLOOR_RATIO = 1.5
TARGET_STUDENT_SPEEDUP = 1.8  # issue 6: the student's encoder throughput over the teacher's, same run
TARGET_QA_P50_MS = 200  # issue 29 (was 300, issue 15): a new question → its answer on the page, built-in QA model
QA_QUESTIONS = ["Where did Anna take her students?", "Who teaches music?", "When did Anna go to Madrid?",
                "How many students are in Anna's class?", "Where does Anna Silva teach?", "Who stayed in Lisbon?",
                "How did the class travel to Madrid?", "What does Tom Baker teach?", "Who is Anna's colleague?",
                "Which city did the class visit?", "What is Anna Silva's job?", "Who went with the younger children?"]

# -- helpers ------------------------------------------------------------------------------------------------

def median_p90(xs: list[float]) -> tuple[float, float]:
    return float(np.median(xs)), float(np.percentile(xs, 90))


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


SHOWN_JS = """text => document.evaluate(`//*[normalize-space(text())=${JSON.stringify(text)}]`, document, null,
    XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue !== null"""
SHOWN_AND_IDLE_JS = "text => (" + IDLE_JS + ")() && (" + SHOWN_JS + ")(text)"


# -- measurements -------------------------------------------------------------------------------------------

COLD_CODE = """
import time
t = time.perf_counter()
import torch, transformers, streamlit
from explainers.model import load_model
load_model("built-in")
print(time.perf_counter() - t)
"""


def bench_cold_start(repeats: int) -> list[tuple[str, list[float]]]:
    inside, wall = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", COLD_CODE], cwd=ROOT, capture_output=True, text=True,
                             check=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"})
        wall.append(time.perf_counter() - t)
        inside.append(float(out.stdout.strip().splitlines()[-1]))
    return [("cold start: import torch+transformers+streamlit + load_model(built-in)", inside),
            ("cold start, whole subprocess (interpreter start included)", wall)]


def bench_forward(repeats: int, threads: int, lengths=(16, 64, 128, 512)) -> list[tuple[int, list[float]]]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)

    from transformers.utils import logging as hf_logging

    from explainers.model import load_model

    hf_logging.disable_progress_bar()

    lm = load_model("built-in")
    enc, vocab = lm.encoder, lm.tokenizer.vocab_size
    gen = torch.Generator().manual_seed(0)
    rows = []
    for n in lengths:
        n = min(n, lm.max_positions)
        ids = torch.randint(1000, vocab, (1, n), generator=gen)
        kwargs = dict(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids),
                      output_attentions=True)
        times = []
        with torch.no_grad():
            for i in range(2 + repeats):
                t = time.perf_counter()
                enc(**kwargs)
                if i >= 2:
                    times.append((time.perf_counter() - t) * 1e3)
        rows.append((n, times))
    torch.set_num_threads(before)
    return rows


def bench_student_speed(repeats: int, lengths=(16, 64, 128, 512)) -> list[tuple[int, list[float], list[float]]]:
    """Teacher vs student encoder, batch 1, interleaved run by run (`explainers.speed.encoder_latency`)."""
    import torch
    from transformers import AutoModelForMaskedLM
    from transformers.utils import logging as hf_logging

    from explainers.model import BUILTIN_DIR, load_role
    from explainers.speed import encoder_latency
    from ui.distill import STUDENT_DIR

    hf_logging.disable_progress_bar()
    teacher = load_role("built-in", BUILTIN_DIR, AutoModelForMaskedLM)
    student = load_role("built-in", STUDENT_DIR, AutoModelForMaskedLM)
    gen = torch.Generator().manual_seed(0)
    rows = []
    for n in lengths:
        ids = torch.randint(1000, teacher.tokenizer.vocab_size, (1, n), generator=gen)
        lat = encoder_latency({"teacher": teacher.model, "student": student.model}, ids, torch.ones_like(ids),
                              repeats=max(repeats, 15))
        rows.append((n, lat["teacher"].runs_ms, lat["student"].runs_ms))
    return rows


def measure_rerender(page, base_url: str, case: RerenderCase, repeats: int, warmup: int = 2, start: int = 0,
                     open_page: bool = True):
    """ms from a key press on `case.slider` until `case.expected(i)` is shown, and until it is shown and the
    app is idle again (the headline number). Returns (shown, shown_and_idle). `open_page=False`: on the page as it
    is, whose slider has been pressed `start` times (a profiler attached meanwhile sees no page load)."""
    if open_page:
        page.goto(base_url + case.path + case.query)
        wait_idle(page)
    knob = page.locator(case.slider).first
    shown, done = [], []
    for i in range(start, start + warmup + repeats):
        knob.focus()
        text = case.expected(i)
        t = time.perf_counter()
        page.keyboard.press(case.keys[i % len(case.keys)])
        page.wait_for_function(SHOWN_JS, arg=text, polling="raf", timeout=60_000)
        t_shown = time.perf_counter()
        page.wait_for_function(SHOWN_AND_IDLE_JS, arg=text, polling="raf", timeout=60_000)
        if i >= start + warmup:
            shown.append((t_shown - t) * 1e3)
            done.append((time.perf_counter() - t) * 1e3)
        wait_idle(page, quiet_ms=500)
    return shown, done


def measure_question(page, base_url: str, repeats: int, warmup: int = 2) -> list[float]:
    """ms from Enter in the Fine-tuning chapter's question box until the rerun that answers it has finished; a
    new question each time (nothing cached)."""
    page.goto(base_url + PATH["finetuning"])
    wait_idle(page)
    box = page.get_by_label("Question (segment A)")
    times = []
    for i in range(warmup + repeats):
        box.fill(QA_QUESTIONS[i % len(QA_QUESTIONS)])
        page.evaluate(RUNS_JS)
        t = time.perf_counter()
        box.press("Enter")
        page.wait_for_function(RERUN_DONE_JS, polling="raf", timeout=60_000)
        if i >= warmup:
            times.append((time.perf_counter() - t) * 1e3)
        wait_idle(page, quiet_ms=500)
    return times


def bench_browser(repeats: int) -> list[tuple[str, list[float], bool]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            rows.append((f"{FLOOR_CASE.label}, before the app's cases", _floor(browser, repeats), "floor"))
            rows += _bench_app(browser, repeats)
            rows.append((f"{FLOOR_CASE.label}, after the app's cases", _floor(browser, repeats), "floor"))
        finally:
            browser.close()
    return rows


def _floor(browser, repeats: int) -> list[float]:
    """Streamlit's floor on a fresh server of `FLOOR_SLIDER_APP`: measured before and after the app's cases, as it
    moves from run to run (39-70 ms on this machine), and the cases are divided by the lower of the two medians."""
    with tempfile.TemporaryDirectory() as tmp:
        floor = Path(tmp) / "floor.py"
        floor.write_text(FLOOR_SLIDER_APP, encoding="utf-8")
        with streamlit_server(app=floor) as url:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            times = measure_rerender(page, url, FLOOR_CASE, repeats)[1]
            page.context.close()
    return times


def _bench_app(browser, repeats: int) -> list[tuple[str, list[float], bool | str]]:
    """The app's slider cases and the QA question on one fresh server, once its warm-up has finished: these are
    the steady state's numbers (a chapter's first visit, with the warm-up running, is `--first-visits`')."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(log=Path(tmp) / "server.log") as url:
        page = browser.new_page()
        page.goto(url)
        wait_idle(page)
        page.close()
        wait_warmed(Path(tmp) / "server.log")
        for case in RERENDER_CASES:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            shown, done = measure_rerender(page, url, case, repeats)
            rows += [(case.label, done, True), (f"{case.label}: new text shown (idle not awaited)", shown, False)]
            page.context.close()
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        rows.append(("question → answer: fine-tuning, built-in QA model", measure_question(page, url, repeats),
                     "qa"))
        page.context.close()
    return rows


# -- report -------------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--first-visits-only", action="store_true", help="only each chapter's first visit on a fresh "
                    "server (benchmarks/FIRST_VISITS.md)")
    ap.add_argument("--settle", type=float, default=15.0, help="seconds on the overview before the first click")
    ap.add_argument("--first-visitor", action="store_true", help="only a fresh server's first visitor and "
                    "Streamlit's floor (a section of benchmarks/RESULTS.md)")
    ap.add_argument("--presenter-walk", action="store_true", help="only the lecture walked in presenter mode and "
                    "a fresh server's first visitor (a section of benchmarks/RESULTS.md)")
    args = ap.parse_args()
    if args.presenter_walk or args.first_visitor:
        if args.presenter_walk:
            write_section(visits.bench_presenter_walk(min(args.repeats, 5)))
        write_section(visits.bench_first_visitor(min(args.repeats, 5)))
        print(f"wrote {RESULTS.relative_to(ROOT)}")
        return
    import torch

    n = args.repeats
    load = os.getloadavg()[0]
    lines = ["# Benchmarks\n",
             f"- date: {dt.datetime.now().isoformat(timespec='minutes')}",
             f"- CPU: {cpu_model()}, {os.cpu_count()} cores; torch threads: {torch.get_num_threads()}; "
             f"load average at start: {load:.2f}",
             f"- python {platform.python_version()}, torch {torch.__version__}; repeats: {n}\n",
             "| measurement | median | p90 | target |", "|---|---|---|---|"]

    def row(name, xs, unit, fmt, target=""):
        med, p90 = median_p90(xs)
        ok = "" if not target else (" ✅" if med <= target[1] else " ❌")
        line = f"| {name} | {med:{fmt}} {unit} | {p90:{fmt}} {unit} | {target[0] if target else ''}{ok} |"
        print(line, flush=True)
        lines.append(line)

    if args.first_visits_only:
        print("\n".join(lines), flush=True)
        for name, xs, target in visits.bench_first_visits(n, args.settle):
            row(name, xs, "s", ".2f", (f"≤ {target:g} s", target) if target else "")
        visits.FIRST_VISITS.write_text("\n".join(lines) + "\n\nClick on the sidebar link → the chapter's title shown and the "
                                "script idle (\"figures drawn\": every plotly chart's SVG and every frame loaded as "
                                "well); a fresh `streamlit run app.py` per repeat, the overview loaded first "
                                f"and left open {args.settle:g} s (the server warms its caches meanwhile). "
                                "Other load on the machine (see load average) inflates all numbers.\n",
                                encoding="utf-8")
        print(f"\nwrote {visits.FIRST_VISITS.relative_to(ROOT)}")
        return
    print("\n".join(lines), flush=True)
    cold = bench_cold_start(n)
    row(*cold[0], "s", ".2f", (f"≤ {TARGET_COLD_START_S:g} s", TARGET_COLD_START_S))
    row(*cold[1], "s", ".2f")
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        for tokens, xs in bench_forward(n, threads):
            row(f"encoder forward, batch 1, {tokens} tokens, output_attentions, {threads} torch thread(s)", xs,
                "ms", ".1f")
    lines.append("")
    lines += ["| encoder, batch 1 (interleaved) | teacher median | student median | student throughput ÷ teacher's | "
              "target |", "|---|---|---|---|---|"]
    for tokens, t_ms, s_ms in bench_student_speed(n):
        ratio = float(np.median(t_ms) / np.median(s_ms))
        ok = "✅" if ratio >= TARGET_STUDENT_SPEEDUP else "❌"
        line = (f"| {tokens} tokens | {np.median(t_ms):.1f} ms | {np.median(s_ms):.1f} ms | **{ratio:.2f}×** | "
                f"≥ {TARGET_STUDENT_SPEEDUP}× {ok} |")
        print(line, flush=True)
        lines.append(line)
    if not args.skip_browser:
        lines += ["", "| measurement | median | p95 | ÷ floor (the lower median) | target |", "|---|---|---|---|---|"]
        rows = bench_browser(n)
        floor = min(float(np.median(xs)) for _, xs, kind in rows if kind == "floor")  # the stricter ratio
        for name, xs, headline in rows:
            med, p95 = float(np.median(xs)), float(np.percentile(xs, 95))
            target = ""
            if headline is True:
                ok = med <= TARGET_RERENDER_P50_MS and med <= TARGET_FLOOR_RATIO * floor and p95 <= 200
                target = (f"p50 ≤ {TARGET_RERENDER_P50_MS} ms and ≤ {TARGET_FLOOR_RATIO:g}× floor, p95 ≤ 200 ms "
                          + ("✅" if ok else "❌"))
            elif headline == "qa":
                target = f"p50 ≤ {TARGET_QA_P50_MS} ms " + ("✅" if med <= TARGET_QA_P50_MS else "❌")
            line = f"| {name} | {med:.0f} ms | {p95:.0f} ms | {med / floor:.2f}× | {target} |"
            print(line, flush=True)
            lines.append(line)
    lines += ["", "Forward: 2 warm-up runs, `torch.no_grad()`, random ids. Re-render: time from the key press "
              "until the new title is on the page and the app's script state is `notRunning`; 2 warm-up presses "
              "(results cached per layer), so these are warm-cache numbers. Other load on the machine (see load "
              "average) inflates all numbers."]
    kept = ""  # the "## …" sections other scripts write (benchmarks/load.py, deploy/local_replicas.py) stay
    if RESULTS.exists() and "\n## " in (old := RESULTS.read_text(encoding="utf-8")):
        kept = "\n" + old[old.index("\n## ") + 1:]
    RESULTS.write_text("\n".join(lines) + "\n" + kept, encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
