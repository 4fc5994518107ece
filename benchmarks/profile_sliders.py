"""Where a slider's rerun spends its time: py-spy samples the server while the benchmark's slider cases move.

    pip install -r benchmarks/requirements.txt
    python benchmarks/profile_sliders.py [--moves 12] [--case masking] [--results]

(Not `profile.py`: run as a script from this folder, that name would shadow the standard library's `profile`,
which `cProfile` imports when torch loads, and break bench.py.)

For each slider case of `bench.RERENDER_CASES`: a fresh `streamlit run app.py`, the case's page opened and
settled, then py-spy (a sampling profiler attached from outside, so the server runs unmodified) records while the
slider moves `--moves` times as bench.py moves it. The samples of the script's thread (Streamlit's
`ScriptRunner`) are summed per function: inclusive (the function and what it called) and own time, as shares of
the thread's samples. Each case's top entries go to `benchmarks/out/profile-<case>.txt`; `--results` puts a short
summary of every case into RESULTS.md ("## Profile").
"""
from __future__ import annotations

import argparse
import collections
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import RERENDER_CASES, measure_rerender  # noqa: E402
from benchmarks.results import write_section  # noqa: E402
from harness.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle  # noqa: E402

OUT = ROOT / "benchmarks/out"
# frames every script run passes through: shown nowhere, they would top every list at 100 %
PLUMBING = ("(threading.py)", "streamlit/runtime/scriptrunner", "exec_func_with_error_handling", "(app.py)",
            "metrics_util.py", "wrapped_fragment", "navigation/page.py")
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def short(file: str) -> str:
    """A frame's file, from the project root or from site-packages."""
    for marker in (str(ROOT) + "/", "site-packages/", "lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def summarise(raw: Path, top: int = 15) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples in script runs, [(function, inclusive share, own share)]) from py-spy's raw (collapsed) output."""
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or not any("_run_script" in f for f in frames):
            continue  # not the script's thread (the server's event loop, the warm-up thread)
        n = int(count)
        total += n
        names = []
        for f in frames:
            m = FRAME.match(f.strip())
            if m:
                names.append(f"{m['func']} ({short(m['file'])})")
        for name in set(names):
            inclusive[name] += n
        if names:
            own[names[-1]] += n
    rows = [(name, c / total, own[name] / total) for name, c in inclusive.most_common()
            if not any(p in name for p in PLUMBING)]
    return total, rows[:top]


def profile_case(browser, case, moves: int) -> tuple[int, list, list[float]]:
    pid: list[int] = []
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"profile-{case.path.strip('/') or 'overview'}.raw"
    # no warm-up thread: its model work would hold the GIL while the slider moves, and its samples would land on
    # whatever line the script thread waits at (plotly's optional import showed 25 % "own" time so); the case's
    # first moves fill the caches the slider needs
    with streamlit_server(pid=pid, warm=False) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        measure_rerender(page, url, case, repeats=1, warmup=2)  # caches warm, as bench.py measures
        wait_idle(page, quiet_ms=1000)
        spy = subprocess.Popen(["py-spy", "record", "-p", str(pid[0]), "-o", str(raw), "--format", "raw",
                                "--rate", "250", "--nonblocking", "--threads"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attached
        _, done = measure_rerender(page, url, case, repeats=moves, warmup=0)
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
        page.context.close()
    total, rows = summarise(raw)
    return total, rows, done


def main() -> None:
    import numpy as np
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=12)
    ap.add_argument("--case", help="only the cases whose page path contains this")
    ap.add_argument("--results", action="store_true", help="write a summary into benchmarks/RESULTS.md")
    args = ap.parse_args()
    lines = ["## Profile", "", "`python benchmarks/profile_sliders.py`: py-spy at 250 Hz on the server while each slider "
             f"case moves {args.moves} times (warm caches); shares of the script thread's samples.", ""]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for case in RERENDER_CASES:
                if args.case and args.case not in case.path:
                    continue
                total, rows, done = profile_case(browser, case, args.moves)
                name = case.path.strip("/") or "overview"
                text = [f"# {case.label}: {total} samples in script runs, slider → re-render p50 "
                        f"{np.median(done):.0f} ms while sampled", "", f"{'inclusive':>9} {'own':>6}  function"]
                text += [f"{inc:9.1%} {own:6.1%}  {fn}" for fn, inc, own in rows]
                (OUT / f"profile-{name}.txt").write_text("\n".join(text) + "\n")
                print("\n".join(text), "\n", flush=True)
                lines += [f"**{case.label}** ({total} samples): " + "; ".join(
                    f"{fn.split(' (')[0]} {inc:.0%}" for fn, inc, _ in rows[:6]), ""]
        finally:
            browser.close()
    if args.results:
        write_section(lines)


if __name__ == "__main__":
    main()
