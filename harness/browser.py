"""What the browser tests and the benchmark share: a real `streamlit run app.py` and in-page idle checks."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]

# "Idle": connected, the script not running, no running-man icon.
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
        && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
}"""
# True once the app has been idle for `quiet` ms in a row (polled: the quiet time passes without a DOM change).
IDLE_FOR_JS = ("quiet => { const now = performance.now(); if (!(" + IDLE_JS + ")()) { window.__busySince = now; "
               "return false; } return now - (window.__busySince ?? 0) >= quiet; }")

# records each change of the app's script state, so that a rerun too quick to be polled is still seen
RUNS_JS = """() => { window.__runs = []; const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => window.__runs.push(app.dataset.testScriptState)).observe(app,
        {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
RERUN_DONE_JS = "() => window.__runs.includes('running') && window.__runs.at(-1) === 'notRunning'"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log: Path | None = None, timeout: float = 90, warm: bool = True, pid: list | None = None,
                     app: Path | str = "app.py"):
    """A fresh `streamlit run app.py` on a free port, started as users start it (the warm-up thread on, whatever
    the test suite set for its in-process AppTests); yields its base URL once /_stcore/health answers ok. `pid`: a
    list the server's process id is appended to (for a profiler); `app`: another script (the benchmark's floor)."""
    port = free_port()
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", "INSIDE_BERT_WARM": "1" if warm else "0"}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if pid is not None:
        pid.append(proc.pid)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {log}")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit not healthy after {timeout} s; see {log}")
            time.sleep(0.1)  # a cold start is timed from here (benchmarks/visits.py): poll often
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


def wait_warmed(log: Path, timeout: float = 900) -> float:
    """Until the server writing `log` has finished its warm-up (the thread's last line, `ui.warm.DONE`), so that
    what is timed next does not share the cores with it; the warm-up starts with the first visitor's script run, so
    open a page first. Returns the seconds waited."""
    from ui.warm import DONE

    start = time.monotonic()
    while DONE not in log.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"the warm-up did not finish in {timeout} s; see {log}")
        time.sleep(0.5)
    return time.monotonic() - start


def slider(label: str, prefix: bool = False) -> str:
    """CSS selector of a Streamlit 1.67 slider's keyboard-focusable input, by its label (or its label's start)."""
    return f'[data-testid="stSlider"] input[type="range"][aria-label{"^" if prefix else ""}="{label}"]'


def wait_idle(page, quiet_ms: int = 1000, timeout_ms: int = 120_000) -> None:
    """Until the app has been idle for `quiet_ms` in a row (a cold page reruns once after its first run)."""
    page.wait_for_function(IDLE_FOR_JS, arg=quiet_ms, polling=50, timeout=timeout_ms)
