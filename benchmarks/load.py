"""Inside BERT load test: a class of students moving sliders on one server at the same time (issue 17).

    python benchmarks/load.py --sessions 10 30 60 --seconds 60            # starts its own server for each N
    python benchmarks/load.py --sessions 30 --url http://127.0.0.1:8080   # a running server or proxy
        [--server-pid PID ...]   # the process(es) to sample; default: every `streamlit run` on this machine

One headless Chromium, N tabs in a few browser contexts (`--contexts`; a context is one student's browser: its
own cookies, so a proxy's cookie affinity sees one student per context). Tab i opens the i-th chapter with a
slider (`benchmarks/bench.py`'s RERENDER_CASES, in turn), waits until the app is idle, then, for `--seconds`,
presses → or ← on that slider every 1–2 s (seeded jitter; the next press waits for the previous re-render) and
times the key press → the new text on the page and the app idle again (bench.py's headline measure). Errors: a
move not done within `--timeout`, an exception shown on the page, a WebSocket to the server closed mid-run.

Once a second the server process(es) are sampled from /proc: resident memory (RSS, summed over each process and
its children) and CPU (% of one core); the browser's CPU is sampled the same way, since on one machine the
students' browsers compete with the server. Before the sessions open, one tab visits every chapter
(`--no-visit-all` skips it), so the RSS is the RSS with every built-in model loaded.

Writes (replaces) the "## Load" section of benchmarks/RESULTS.md (`--section` for another title).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import shlex
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import RERENDER_CASES, SHOWN_AND_IDLE_JS, RerenderCase, cpu_model  # noqa: E402
from benchmarks.results import RESULTS, replace_section  # noqa: E402
from harness.browser import CHROMIUM, CHROMIUM_ARGS, IDLE_FOR_JS, streamlit_server  # noqa: E402
from ui.chapters import CHAPTERS  # noqa: E402

TARGET_SESSIONS, TARGET_P95_S, TARGET_RSS_GB = 30, 1.0, 1.5  # issue 17: 30 students, p95 ≤ 1 s, ≤ 1.5 GB
# many tabs in one browser: none of them may be throttled as a background tab
BROWSER_ARGS = CHROMIUM_ARGS + ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                                "--disable-backgrounding-occluded-windows"]
EXCEPTION = '[data-testid="stException"]'
# bench.py's "shown and idle", checked on each change of the page instead of on each frame: 60 tabs polling an
# XPath 60 times a second would take the CPU the server needs
WAIT_SHOWN_AND_IDLE_JS = """([text, ms]) => new Promise((resolve, reject) => {
    const done = () => (""" + SHOWN_AND_IDLE_JS + """)(text);
    if (done()) return resolve(true);
    const timer = setTimeout(() => { obs.disconnect(); reject(new Error(`Timeout: ${text} not shown`)); }, ms);
    const obs = new MutationObserver(() => { if (done()) { obs.disconnect(); clearTimeout(timer); resolve(true); } });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
})"""
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# -- /proc sampling -----------------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used so far by all its threads) of a process, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # ppid, utime + stime


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    return 0


def _tree(roots: list[int]) -> dict[int, list[int]]:
    """Each root pid with its descendants (children, grandchildren …)."""
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and (st := _stat(int(p.name))):
            children.setdefault(st[0], []).append(int(p.name))
    out = {}
    for root in roots:
        todo, seen = [root], []
        while todo:
            seen.append(pid := todo.pop())
            todo += children.get(pid, [])
        out[root] = seen
    return out


def find_servers(port: int | None = None) -> list[int]:
    """pids of `streamlit run` processes on this machine (on `port` when given)."""
    pids = []
    for p in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if p.name.isdigit() and int(p.name) != os.getpid():
                argv = (p / "cmdline").read_bytes().split(b"\0")
                if b"streamlit" in b" ".join(argv) and b"run" in argv and (port is None or str(port).encode() in argv):
                    pids.append(int(p.name))
    return sorted(pids)


class Sampler:
    """Once a second, in a thread: RSS and CPU of each server pid (with its children) and of the browser."""

    def __init__(self, servers: list[int], client: int = os.getpid(), every: float = 1.0):
        self.servers, self.client, self.every = servers, client, every
        self.rss: dict[int, list[int]] = {p: [] for p in servers}  # bytes, per server pid
        self.cpu: list[float] = []  # % of one core, all servers together
        self.client_cpu: list[float] = []  # this process and its children (the browser), % of one core
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu_s(self, roots: list[int]) -> tuple[float, dict[int, list[int]]]:
        tree = _tree(roots)
        return sum(st[1] for pids in tree.values() for p in pids if (st := _stat(p))), tree

    def _run(self) -> None:
        t0, (s0, _), (c0, _) = time.monotonic(), self._cpu_s(self.servers), self._cpu_s([self.client])
        while not self._stop.wait(self.every):
            t1, (s1, tree), (c1, _) = time.monotonic(), self._cpu_s(self.servers), self._cpu_s([self.client])
            for root, pids in tree.items():
                self.rss[root].append(sum(_rss(p) for p in pids))
            self.cpu.append(100 * (s1 - s0) / (t1 - t0))
            self.client_cpu.append(100 * (c1 - c0) / (t1 - t0))
            t0, s0, c0 = t1, s1, c1

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def total_rss(self) -> list[int]:
        return [sum(xs) for xs in zip(*self.rss.values())] if self.rss else []


# -- the sessions -------------------------------------------------------------------------------------------

@dataclass
class Student:
    """One student on a chapter with a slider: what every load test records of a session."""

    case: RerenderCase
    rng: random.Random
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class Session(Student):
    """A browser tab."""

    closed_ws: int = 0
    page: object = None
    base_value: str | None = None  # the slider's value when the page opened


async def wait_idle(page, quiet_ms: int = 1000, timeout_ms: int = 120_000) -> None:
    await page.wait_for_function(IDLE_FOR_JS, arg=quiet_ms, polling=100, timeout=timeout_ms)


async def open_session(s: Session, context, url: str, gate: asyncio.Semaphore) -> None:
    """Open the session's chapter (a few tabs at a time: a class does not press Enter in the same second). A page
    without its slider (a model that failed to load) counts as an error and is reloaded, once."""
    async with gate:
        s.page = page = await context.new_page()
        page.on("websocket", lambda ws: ws.on("close", lambda _: setattr(s, "closed_ws", s.closed_ws + 1)))
        await page.goto(url + s.case.path + s.case.query, timeout=180_000)
        knob = page.locator(s.case.slider).first
        for attempt in range(2):
            with contextlib.suppress(Exception):  # idle alone is no proof: a loaded server starts the run late
                await knob.wait_for(timeout=120_000)
                await wait_idle(page, quiet_ms=500, timeout_ms=180_000)
                s.base_value = await knob.input_value()
                return
            s.error("no slider on opening")
            await page.reload()
        raise RuntimeError(f"{page.url}: no slider {s.case.slider} after a reload")


async def run_session(s: Session, start: float, end: float, timeout_ms: int) -> None:
    """Press the slider's keys until `end`; each press at least 1–2 s after the one before."""
    page, knob = s.page, s.page.locator(s.case.slider).first
    closed_before, i = s.closed_ws, 0
    await asyncio.sleep(max(0.0, start - time.monotonic()) + s.rng.uniform(0, 2))  # students are not in step
    while time.monotonic() < end:
        next_press = time.monotonic() + s.rng.uniform(1.0, 2.0)
        try:
            await knob.focus()
            t = time.perf_counter()
            await page.keyboard.press(s.case.keys[i % len(s.case.keys)])
            await page.evaluate(WAIT_SHOWN_AND_IDLE_JS, [s.case.expected(i), timeout_ms])
            s.latencies_s.append(time.perf_counter() - t)
            i += 1
        except Exception as err:  # noqa: BLE001 -- a timeout or a lost page is the measurement, not a crash
            s.error("timeout" if "Timeout" in str(err)[:200] else type(err).__name__)
            with contextlib.suppress(Exception):  # back in step: which way the next press must go
                await wait_idle(page, quiet_ms=500, timeout_ms=timeout_ms)
                i = 0 if await knob.input_value() == s.base_value else 1
        with contextlib.suppress(Exception):
            if await page.locator(EXCEPTION).count():
                s.error("exception shown")
                await page.reload()
                await wait_idle(page, quiet_ms=500, timeout_ms=timeout_ms)
        await asyncio.sleep(max(0.0, next_press - time.monotonic()))
    if s.closed_ws > closed_before:
        s.errors["disconnect"] = s.errors.get("disconnect", 0) + s.closed_ws - closed_before


async def visit_all(context, url: str) -> None:
    """Every chapter once, in one tab, so that every built-in model is loaded."""
    page = await context.new_page()
    for chapter in CHAPTERS:
        await page.goto(url + "/" + chapter.url_path, timeout=300_000)
        await wait_idle(page, quiet_ms=1000, timeout_ms=300_000)
    await page.close()


@dataclass
class LoadResult:
    sessions: int
    seconds: float
    latencies_s: list[float]
    errors: dict[str, int]
    rss_before: int  # bytes, every chapter visited, no session open
    rss_peak: int
    rss_final: int  # the sessions still open
    rss_peak_each: dict[int, int]  # per server pid
    cpu_mean: float  # % of one core, server(s)
    client_cpu_mean: float
    load_avg: float  # 1-minute load average at the end
    date: str


async def load_test(url: str, sessions: int, seconds: float, servers: list[int], contexts: int = 10,
                    seed: int = 0, timeout_s: float = 30, visit: bool = True, open_at_once: int = 4,
                    cases: list[RerenderCase] = RERENDER_CASES) -> LoadResult:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            ctxs = [await browser.new_context(viewport={"width": 1280, "height": 900})
                    for _ in range(max(1, min(contexts, sessions)))]
            if visit:
                await visit_all(ctxs[0], url)
            rss_before = sum(_rss(p) for pids in _tree(servers).values() for p in pids)
            rng = random.Random(seed)
            group = [Session(cases[k % len(cases)], random.Random(rng.random())) for k in range(sessions)]
            gate = asyncio.Semaphore(open_at_once)
            with Sampler(servers) as sampler:  # RSS from the first session on; CPU while the sliders move
                print(f"  opening {sessions} sessions …", flush=True)
                await asyncio.gather(*(open_session(s, ctxs[k % len(ctxs)], url, gate)
                                       for k, s in enumerate(group)))
                print(f"  moving sliders for {seconds:g} s …", flush=True)
                mark = len(sampler.cpu)
                start = time.monotonic() + 1
                await asyncio.gather(*(run_session(s, start, start + seconds, int(timeout_s * 1000))
                                       for s in group))
            load_avg = os.getloadavg()[0]
        finally:
            await browser.close()
    return result(group, seconds, rss_before, sampler, mark, load_avg)


def result(group: list, seconds: float, rss_before: int, sampler: Sampler, mark: int, load_avg: float) -> LoadResult:
    """One row: the sessions' latencies and errors (each has `latencies_s` and `errors`), the server's RSS and,
    from sample `mark` on (the sliders moving), its CPU and the clients'."""
    errors: dict[str, int] = {}
    for s in group:
        for kind, n in s.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    total = sampler.total_rss() or [0]
    return LoadResult(len(group), seconds, [x for s in group for x in s.latencies_s], errors, rss_before,
                      max(rss_before, *total), total[-1], {p: max(xs or [0]) for p, xs in sampler.rss.items()},
                      float(np.mean(sampler.cpu[mark:] or [0])), float(np.mean(sampler.client_cpu[mark:] or [0])),
                      load_avg, dt.datetime.now().isoformat(timespec="minutes"))


# -- report -------------------------------------------------------------------------------------------------

def quantiles_ms(xs: list[float]) -> tuple[float, float, float]:
    if not xs:
        return (float("nan"),) * 3
    return tuple(float(np.percentile(xs, q)) * 1e3 for q in (50, 95, 99))


def gb(n: int) -> str:
    return f"{n / 2**30:.2f} GB"


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores"


TABLE_HEAD = ["| sessions | moves | p50 | p95 | p99 | errors | RSS before → peak → final | mean CPU (server / "
              "browser) | machine | load avg | date |", "|---|---|---|---|---|---|---|---|---|---|---|"]


def table_row(r: LoadResult) -> str:
    p50, p95, p99 = quantiles_ms(r.latencies_s)
    errors = sum(r.errors.values())
    ok = ""
    if r.sessions == TARGET_SESSIONS:
        ok = " ✅" if p95 <= TARGET_P95_S * 1e3 and errors == 0 else " ❌"
    detail = ", ".join(f"{k} {v}" for k, v in sorted(r.errors.items()))
    return (f"| {r.sessions} | {len(r.latencies_s)} | {p50:.0f} ms | **{p95:.0f} ms**{ok} | {p99:.0f} ms | "
            f"{errors}{f' ({detail})' if detail else ''} | {gb(r.rss_before)} → **{gb(r.rss_peak)}** → "
            f"{gb(r.rss_final)} | {r.cpu_mean:.0f} % / {r.client_cpu_mean:.0f} % | {machine()} | {r.load_avg:.2f} | "
            f"{r.date} |")


def load_section(results: list[LoadResult], command: str, servers: str) -> str:
    rss_ok = [r for r in results if r.sessions >= TARGET_SESSIONS]
    lines = [f"Targets (issue 17): {TARGET_SESSIONS} sessions p95 ≤ {TARGET_P95_S:g} s with no error; server RSS ≤ "
             f"{TARGET_RSS_GB:g} GB with every built-in model loaded and {TARGET_SESSIONS} sessions open.", "",
             *TABLE_HEAD, *map(table_row, results), ""]
    if rss_ok:
        worst = max(r.rss_peak for r in rss_ok)
        lines.append(f"Peak server RSS with ≥ {TARGET_SESSIONS} sessions open: **{gb(worst)}** "
                     f"{'✅' if worst <= TARGET_RSS_GB * 2**30 else '❌'} (target ≤ {TARGET_RSS_GB:g} GB).")
        lines.append("")
    lines += [f"Server: {servers}. Each session is a tab of one headless Chromium (on the same machine: its CPU is "
              "the \"browser\" column) on a chapter with a slider (attention, masking, ELECTRA, distillation in "
              "turn), pressing → or ← every 1–2 s (seeded jitter; a press waits for the previous re-render). "
              "Latency: key press → the new text on the page and the app idle again (bench.py's headline "
              "measure). Errors: a move not done within the timeout, an exception shown on the page, a WebSocket "
              "closed mid-run. RSS summed over the server process(es) and children, sampled every second; "
              "\"before\" is after one tab visited every chapter (every built-in model loaded), no session open. "
              "CPU in % of one core.", "", "```bash", command, "```"]
    return "\n".join(lines)


def arguments(doc: str, section: str) -> argparse.ArgumentParser:
    """The options both load tests take (this one and `load_protocol.py`)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, nargs="+", default=[10, 30, 60])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--timeout", type=float, default=30, help="seconds a move may take before it is an error")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--section", default=section, help="the RESULTS.md section to write")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    return ap


def main() -> None:
    ap = arguments(__doc__, "Load")
    ap.add_argument("--url", help="a running server or proxy (default: start a fresh server for each N)")
    ap.add_argument("--server-pid", type=int, nargs="*", default=None,
                    help="with --url: the process(es) to sample (default: every `streamlit run` here)")
    ap.add_argument("--contexts", type=int, default=10, help="browser contexts (students' browsers) the tabs share")
    ap.add_argument("--no-visit-all", action="store_true", help="do not visit every chapter first")
    args = ap.parse_args()

    results = []
    for n in args.sessions:
        print(f"{n} sessions, {args.seconds:g} s", flush=True)
        with (contextlib.nullcontext(args.url) if args.url else streamlit_server()) as url:
            servers = args.server_pid or find_servers(None if args.url else urlparse(url).port)
            if not servers:
                sys.exit("no server process to sample: pass --server-pid")
            r = asyncio.run(load_test(url, n, args.seconds, servers, args.contexts, args.seed, args.timeout,
                                      not args.no_visit_all))
        results.append(r)
        print(TABLE_HEAD[0] + "\n" + table_row(r), flush=True)
        if len(r.rss_peak_each) > 1:
            print("  peak RSS per server process: " + ", ".join(f"{p}: {gb(v)}" for p, v in r.rss_peak_each.items()))
    command = "python benchmarks/load.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    servers = f"`{args.url}`" if args.url else "a fresh `streamlit run app.py` for each row"
    if not args.no_write:
        replace_section(RESULTS, args.section, load_section(results, command, servers))
        print(f"\nwrote the \"## {args.section}\" section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
