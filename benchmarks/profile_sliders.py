"""Where a slider's rerun spends its time: py-spy samples the server while the benchmark's slider cases move.

    pip install -r benchmarks/requirements.txt
    python benchmarks/profile_sliders.py [--moves 12] [--case masking] [--results]

(Not `profile.py`: run as a script from this folder, that name would shadow the standard library's `profile`,
which `cProfile` imports when torch loads, and break bench.py.)

For each slider case of `bench.RERENDER_CASES`: a fresh `streamlit run app.py`, the case's page opened and
settled, then py-spy (a sampling profiler attached from outside, so the server runs unmodified) records while the
slider moves `--moves` times as bench.py moves it. The samples of the script's thread (Streamlit's
`ScriptRunner`) are summed per function: inclusive (the function and what it called) and own time, as shares of
the thread's samples. Meanwhile Chromium's own sampling profiler (CDP `Profiler`) records the page: its main
thread's time a move, by the innermost script on the stack, is the other half of a move (plotly drawing,
Streamlit's React, a frame's script). Each case's top entries go to `benchmarks/out/profile-<case>.txt`;
`--results` puts a short summary of every case into RESULTS.md ("## Profile").
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


def profile_case(browser, case, moves: int) -> tuple[int, list, list[float], list[tuple[str, float]]]:
    """(the script thread's samples, its top functions, re-render times, the page's script time a move by source)"""
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
        cdp = page.context.new_cdp_session(page)  # and Chromium's own sampling profiler on the page
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        cdp.send("Profiler.start")
        _, done = measure_rerender(page, url, case, repeats=moves, warmup=0, start=3, open_page=False)
        page_time = by_script(cdp.send("Profiler.stop")["profile"], moves)
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
        page.context.close()
    total, rows = summarise(raw)
    return total, rows, done, page_time


def by_script(profile: dict, moves: int, top: int = 6) -> list[tuple[str, float]]:
    """ms a move of the page's main thread, by the innermost script file on the stack (bertviz's frame shows as
    about:srcdoc); (program) is the browser's own work (style, layout, paint), (idle) waiting."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {child: n["id"] for n in profile["nodes"] for child in n.get("children", [])}
    per_sample_ms = (profile["endTime"] - profile["startTime"]) / 1000 / max(1, len(profile["samples"]))
    ms: collections.Counter = collections.Counter()
    for node_id, count in collections.Counter(profile["samples"]).items():
        x, source = node_id, None
        while x in nodes and source is None:
            url = nodes[x]["callFrame"]["url"]
            source = url.rsplit("/", 1)[-1].split("?")[0] if url else None
            x = parent.get(x)
        source = source or nodes[node_id]["callFrame"]["functionName"]
        ms[re.sub(r"\.[-\w]{8}\.js$", ".js", source)] += count * per_sample_ms / moves  # Streamlit's hashed chunks
    return [(name, v) for name, v in ms.most_common() if name != "(idle)"][:top]


def main() -> None:
    import numpy as np
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=12)
    ap.add_argument("--case", help="only the cases whose page path contains this")
    ap.add_argument("--results", action="store_true", help="write a summary into benchmarks/RESULTS.md")
    args = ap.parse_args()
    lines = ["## Profile", "", "`python benchmarks/profile_sliders.py`: py-spy at 250 Hz on the server while each slider "
             f"case moves {args.moves} times (warm caches; shares of the script thread's samples), and Chromium's "
             "sampling profiler on the page meanwhile (its main thread's time a move by the innermost script on the "
             "stack: about:srcdoc is a frame such as bertviz's, (program) the browser's own style, layout and paint)."
             "", ""]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for case in RERENDER_CASES:
                if args.case and args.case not in case.path:
                    continue
                total, rows, done, page_time = profile_case(browser, case, args.moves)
                name = case.path.strip("/") or "overview"
                script_ms = total / 250 / args.moves * 1000
                text = [f"# {case.label}: {total} samples in script runs ({script_ms:.0f} ms of script a move), "
                        f"slider → re-render p50 {np.median(done):.0f} ms while sampled", "",
                        f"{'inclusive':>9} {'own':>6}  function"]
                text += [f"{inc:9.1%} {own:6.1%}  {fn}" for fn, inc, own in rows]
                text += ["", "the page's main thread, ms a move, by innermost script:"]
                text += [f"{v:9.1f}  {src}" for src, v in page_time]
                (OUT / f"profile-{name}.txt").write_text("\n".join(text) + "\n")
                print("\n".join(text), "\n", flush=True)
                lines += [f"**{case.label}**: server, {script_ms:.0f} ms of script a move ({total} samples): " +
                          "; ".join(f"{fn.split(' (')[0]} {inc:.0%}" for fn, inc, _ in rows[:6]) +
                          ". Page, ms a move: " + "; ".join(f"{src} {v:.0f}" for src, v in page_time), ""]
        finally:
            browser.close()
    if args.results:
        write_section(lines)


if __name__ == "__main__":
    main()
