"""The class load test without browsers: N students as WebSocket clients that speak Streamlit's own protocol.

    python benchmarks/load_protocol.py --sessions 10 30 60 --seconds 60

`benchmarks/load.py` drives N Chromium tabs; on this 2-core machine those tabs take ≈ 1.9 cores and the server
waits for a CPU, so its latencies are the browsers' as much as the server's. In a class the browsers run on the
students' laptops. Here each student is one WebSocket to `/_stcore/stream` (the `websockets` package that
Streamlit's server brings): it asks for a chapter with a slider (`benchmarks/bench.py`'s RERENDER_CASES, in
turn), as a browser's first visit does, then every 1–2 s (seeded jitter; a move waits for the previous one)
sends the slider's new value as the browser does (a `rerun_script` BackMsg with the widget's state and its
fragment's id) and times it until the server's `script_finished`, checking that the case's expected text came
back. No rendering, so the client costs little CPU and the latency is the server's: its queueing, its script
run and the transfer. Errors: no `script_finished` within `--timeout`, an exception element, the expected text
missing, a closed WebSocket. Server RSS and CPU are sampled as load.py samples them.

Writes (replaces) the "## Load, protocol clients" section of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import RERENDER_CASES, RerenderCase  # noqa: E402
from benchmarks.results import RESULTS, replace_section  # noqa: E402
from benchmarks.load import (TABLE_HEAD, TARGET_RSS_GB, TARGET_SESSIONS, LoadResult, Sampler,  # noqa: E402
                             Student, _rss, _tree, arguments, find_servers,
                             result, table_row)
from harness.browser import streamlit_server  # noqa: E402

FINISHED = (0, 3)  # ScriptFinishedStatus: FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY


def slider_label(case: RerenderCase) -> str:
    """The slider's label, from the case's CSS selector (`…[aria-label="Layer"]`)."""
    return re.search(r'aria-label\^?="([^"]+)"', case.slider).group(1)


@dataclass
class Client(Student):
    """A WebSocket speaking Streamlit's protocol instead of a browser tab."""

    ws: object = None
    slider: tuple[str, str, float] | None = None  # widget id, fragment id, value when the page opened

    @property
    def page(self) -> str:
        return self.case.path.lstrip("/")

    @property
    def query(self) -> str:
        return self.case.query.lstrip("?")


async def exchange(ws, back, timeout_s: float) -> list:
    """Send one BackMsg and read ForwardMsgs until the script (or fragment) run has finished."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    await ws.send(back.SerializeToString())
    msgs = []
    async with asyncio.timeout(timeout_s):
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await ws.recv())
            msgs.append(msg)
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in FINISHED:
                return msgs


def rerun(page: str, query: str, widgets: list[tuple[str, float]] = (), fragment: str = ""):
    from streamlit.proto.BackMsg_pb2 import BackMsg

    back = BackMsg()
    state = back.rerun_script
    state.page_name, state.query_string, state.fragment_id = page, query, fragment
    for wid, value in widgets:
        w = state.widget_states.widgets.add()
        w.id = wid
        w.double_array_value.data.extend([value])
    return back


def elements(msgs: list):
    for m in msgs:
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
            yield m.delta, m.delta.new_element


async def open_client(c: Client, url: str, gate: asyncio.Semaphore, timeout_s: float) -> None:
    import websockets

    async with gate:
        c.ws = await websockets.connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                                        max_size=None)
        msgs = await exchange(c.ws, rerun(c.page, c.query), timeout_s * 4)  # a first visit may load models
    label = slider_label(c.case)
    for delta, el in elements(msgs):
        if el.WhichOneof("type") == "slider" and el.slider.label == label:
            value = (list(el.slider.value) or list(el.slider.default))[0]
            c.slider = (el.slider.id, delta.fragment_id, value)
    if c.slider is None:
        c.error("no slider")


async def run_client(c: Client, start: float, end: float, timeout_s: float) -> None:
    if c.slider is None:
        return
    wid, fragment, base = c.slider
    await asyncio.sleep(max(0.0, start - time.monotonic()) + c.rng.uniform(0, 1.5))
    i = 0
    while time.monotonic() < end:
        value = base + 1 if i % 2 == 0 else base  # the case's key presses: → then ←
        t = time.perf_counter()
        try:
            msgs = await exchange(c.ws, rerun(c.page, c.query, [(wid, value)], fragment), timeout_s)
        except TimeoutError:
            c.error("timeout")
            return
        except Exception:  # a closed WebSocket
            c.error("websocket closed")
            return
        c.latencies_s.append(time.perf_counter() - t)
        if any(el.WhichOneof("type") == "exception" for _, el in elements(msgs)):
            c.error("exception")
        elif c.case.expected(i).encode() not in b"".join(m.SerializeToString() for m in msgs):
            c.error("text missing")
        i += 1
        await asyncio.sleep(c.rng.uniform(1.0, 2.0))


async def load_test(url: str, sessions: int, seconds: float, servers: list[int], seed: int = 0,
                    timeout_s: float = 30, cases: list[RerenderCase] = RERENDER_CASES) -> LoadResult:
    rng = random.Random(seed)
    gate = asyncio.Semaphore(4)
    warm = [Client(case, random.Random(0)) for case in cases]  # every chapter once: every built-in model loaded
    for c in warm:
        await open_client(c, url, gate, timeout_s)
        await c.ws.close()
    rss_before = sum(_rss(p) for pids in _tree(servers).values() for p in pids)
    group = [Client(cases[k % len(cases)], random.Random(rng.random())) for k in range(sessions)]
    with Sampler(servers) as sampler:
        print(f"  opening {sessions} sessions …", flush=True)
        await asyncio.gather(*(open_client(c, url, gate, timeout_s) for c in group))
        print(f"  moving sliders for {seconds:g} s …", flush=True)
        mark = len(sampler.cpu)
        start = time.monotonic() + 1
        await asyncio.gather(*(run_client(c, start, start + seconds, timeout_s) for c in group))
        load_avg = os.getloadavg()[0]
    for c in group:
        with contextlib.suppress(Exception):
            await c.ws.close()
    return result(group, seconds, rss_before, sampler, mark, load_avg)


def section(results: list[LoadResult], command: str) -> str:
    head = [TABLE_HEAD[0].replace("(server / browser)", "(server / clients)"), TABLE_HEAD[1]]
    lines = [f"Targets (issue 17): {TARGET_SESSIONS} sessions p95 ≤ 1 s with no error; server RSS ≤ "
             f"{TARGET_RSS_GB:g} GB.", "", *head, *map(table_row, results), "",
             "Server: a fresh `streamlit run app.py` for each row. Each session is a WebSocket client speaking "
             "Streamlit's protocol (`benchmarks/load_protocol.py`), no browser: it opens a chapter with a slider "
             "(" + "; ".join(c.label.split(": ")[-1] for c in RERENDER_CASES) + "; in turn) and every 1–2 s "
             "(seeded jitter; a move waits for the previous one) sends the slider's next value, as a browser "
             "does. Latency: the message sent → the server's `script_finished` (the fragment's run, its deltas "
             "received), with the expected text checked in what came back. The clients' CPU is this one Python "
             "process. CPU in % of one core.", "", "```bash", command, "```"]
    return "\n".join(lines)


def main() -> None:
    args = arguments(__doc__, "Load, protocol clients").parse_args()
    results = []
    for n in args.sessions:
        print(f"{n} sessions, {args.seconds:g} s", flush=True)
        with streamlit_server() as url:
            servers = find_servers(urlparse(url).port)
            r = asyncio.run(load_test(url, n, args.seconds, servers, args.seed, args.timeout))
        results.append(r)
        print(TABLE_HEAD[0] + "\n" + table_row(r), flush=True)
    command = "python benchmarks/load_protocol.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if not args.no_write:
        replace_section(RESULTS, args.section, section(results, command))
        print(f"\nwrote the \"## {args.section}\" section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
