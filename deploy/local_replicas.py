"""Two Inside BERT replicas behind nginx on this machine, without Docker: the deployment's proxy config, tested.

    python deploy/local_replicas.py [--sessions 30] [--seconds 60]

Starts two `streamlit run app.py` replicas on loopback ports and nginx (Debian's, `apt-get install nginx`) as a
foreground process with its own prefix, pid and log files in a temporary folder, running `deploy/nginx.conf`
with only its upstream `server` lines and its `listen` port rewritten. Then:

1. every chapter is visited once on each replica (every built-in model loaded), and `benchmarks/load.py`'s load
   test runs through the proxy, one browser context (one affinity cookie) a student;
2. affinity: in nginx's access log, every affinity key (one student's browser) was served by one replica only;
3. failover: students are opened on both replicas (the `X-Replica` header says where), replica 1 is killed
   (SIGKILL, a crash); the students on replica 2 keep working without a reload, and those on replica 1, after a
   reload, are served by replica 2 and their slider works.

Prints the numbers and writes them into the "## Two replicas behind nginx" section of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import load  # noqa: E402
from benchmarks.bench import PATH  # noqa: E402
from benchmarks.results import RESULTS, replace_section  # noqa: E402
from explainers.errors import BuildError, require  # noqa: E402
from harness.browser import CHROMIUM, free_port, slider  # noqa: E402

CONF = ROOT / "deploy/nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECTION = "Two replicas behind nginx"
MASK_RATE = slider("Rate: share of pieces chosen (%)")


def render_conf(ports: list[int], listen: int) -> str:
    """deploy/nginx.conf with the replicas on 127.0.0.1:<port> and the proxy on 127.0.0.1:<listen>."""
    text = CONF.read_text()
    lines = re.findall(r"^( *)server app\d+:8501( [^;]*);\n", text, re.M)
    require(len(lines) >= 1, "deploy/nginx.conf: no `server appN:8501 …;` line in the upstream", BuildError)
    indent, options = lines[0]
    servers = "".join(f"{indent}server 127.0.0.1:{p}{options};\n" for p in ports)
    text = re.sub(r"^ *server app\d+:8501[^;]*;\n", "", text, flags=re.M)
    text = re.sub(r"^( *)hash \$ib_affinity consistent;\n", lambda m: m.group(0) + servers, text, flags=re.M)
    text, n = re.subn(r"^( *)listen 8080;", rf"\1listen 127.0.0.1:{listen};", text, flags=re.M)
    require(n == 1, "deploy/nginx.conf: no `listen 8080;` line", BuildError)
    return text


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited early ({proc.returncode})")
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


def affinity(log: str) -> tuple[int, int, dict[str, int]]:
    """(affinity keys, keys served by more than one replica, keys per replica) from nginx's access log."""
    served: dict[str, set[str]] = defaultdict(set)
    for upstreams, key in re.findall(r"upstream=(.*?) affinity=(\S+)", log):  # "a, b" when nginx retried
        served[key].update(a.strip() for a in upstreams.split(",") if a.strip() not in ("-", ""))
    per_replica: dict[str, int] = defaultdict(int)
    for ups in served.values():
        if len(ups) == 1:
            per_replica[next(iter(ups))] += 1
    return len(served), sum(len(u) > 1 for u in served.values()), dict(per_replica)


async def open_student(browser, url: str):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    response = await page.goto(url + PATH["masking"], timeout=120_000)
    try:
        await page.locator(MASK_RATE).first.wait_for(timeout=120_000)
    except Exception:  # noqa: BLE001 -- a page that did not render under load: once more, then fail
        response = await page.reload(timeout=120_000)
        await page.locator(MASK_RATE).first.wait_for(timeout=120_000)
    await load.wait_idle(page, quiet_ms=500)
    return page, response.headers.get("x-replica", "?")


async def slider_works(page) -> bool:
    """→ on the masking rate: the page shows the new rate and is idle again within 30 s, with no exception."""
    knob = page.locator(MASK_RATE).first
    await knob.wait_for(timeout=60_000)
    value = int(await knob.input_value())
    await knob.focus()
    await page.keyboard.press("ArrowRight")
    try:
        await page.evaluate(load.WAIT_SHOWN_AND_IDLE_JS, [f"Chosen at {value + 1} %:", 30_000])
    except Exception:  # noqa: BLE001
        return False
    return await page.locator(load.EXCEPTION).count() == 0


async def failover(url: str, victim: subprocess.Popen, victim_port: int, students: int) -> dict:
    """Students on both replicas; replica `victim` killed; who keeps working, who works after a reload, where."""
    from playwright.async_api import async_playwright

    dead = f"127.0.0.1:{victim_port}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=load.BROWSER_ARGS)
        try:
            opened = [await open_student(browser, url) for _ in range(students)]
            while len({r for _, r in opened}) < 2 and len(opened) < 4 * students:  # one on each replica at least
                opened.append(await open_student(browser, url))
            before = [await slider_works(p) for p, _ in opened]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            await asyncio.sleep(3)
            lost = [(p, r) for p, r in opened if r == dead]
            kept = [(p, r) for p, r in opened if r != dead]
            kept_ok = [await slider_works(p) for p, _ in kept]  # no reload
            moved, moved_ok = [], []
            for page, _ in lost:
                response = await page.reload(timeout=120_000)
                moved.append(response.headers.get("x-replica", "?"))
                moved_ok.append(await slider_works(page))
        finally:
            await browser.close()
    return dict(students=len(opened), on_victim=len(lost), before_ok=sum(before), kept=len(kept),
                kept_ok=sum(kept_ok), moved_to=sorted(set(moved)), moved_ok=sum(moved_ok), dead=dead)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--failover-students", type=int, default=6)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, rendered config)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = ap.parse_args()
    if not Path(NGINX).exists():
        sys.exit("nginx is missing: apt-get update && apt-get install -y nginx")
    tmp = Path(tempfile.mkdtemp(prefix="inside-bert-replicas-"))
    ports, listen = [free_port(), free_port()], free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "INSIDE_BERT_MODELS": "builtin"}  # as in the image
    procs: list[subprocess.Popen] = []
    try:
        for i, port in enumerate(ports, 1):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT, env=env, stdout=open(tmp / f"replica{i}.log", "w"), stderr=subprocess.STDOUT))
        (tmp / "nginx.conf").write_text(render_conf(ports, listen))
        (tmp / "logs").mkdir()
        nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g",
                                  f"daemon off; pid {tmp / 'nginx.pid'};"],
                                 stdout=open(tmp / "access.log", "w"), stderr=open(tmp / "error.log", "w"))
        for port, proc in zip(ports, procs):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        url = f"http://127.0.0.1:{listen}"
        wait_healthy(url, nginx)
        print(f"replicas on {ports}, nginx on {listen} ({tmp})", flush=True)

        async def visit_replicas():  # each replica loads every built-in model once, one chapter after another
            from playwright.async_api import async_playwright
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=load.BROWSER_ARGS)
                for port in ports:
                    await load.visit_all(await browser.new_context(), f"http://127.0.0.1:{port}")
                await browser.close()

        asyncio.run(visit_replicas())
        pids = [p.pid for p in procs]
        print(f"load test: {args.sessions} sessions through nginx, {args.seconds:g} s", flush=True)
        result = asyncio.run(load.load_test(url, args.sessions, args.seconds, pids, contexts=args.sessions,
                                            visit=False))
        print(load.TABLE_HEAD[0] + "\n" + load.table_row(result), flush=True)
        time.sleep(2)  # closed WebSockets are logged when they close
        keys, split, per_replica = affinity((tmp / "access.log").read_text())
        print(f"affinity: {keys} keys, {split} served by more than one replica; keys per replica {per_replica}")
        fo = failover(url, procs[0], ports[0], args.failover_students)
        fo = asyncio.run(fo)
        print(f"failover: {fo}", flush=True)
    finally:
        for proc in [*procs, *([nginx] if "nginx" in locals() else [])]:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(15)
                if proc.poll() is None:
                    proc.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    rss = ", ".join(f"replica {i}: {load.gb(result.rss_peak_each.get(p, 0))}" for i, p in enumerate(pids, 1))
    ok = "✅" if split == 0 else "❌"
    fo_ok = "✅" if fo["kept_ok"] == fo["kept"] and fo["moved_ok"] == fo["on_victim"] and fo["dead"] not in \
        fo["moved_to"] else "❌"
    body = "\n".join([
        f"Two `streamlit run app.py` replicas and nginx 1.22 running `deploy/nginx.conf` (cookie affinity, "
        f"consistent hash) on one machine, the students' browser on the same machine; each session its own "
        f"browser context (its own affinity cookie).", "",
        *load.TABLE_HEAD, load.table_row(result), "",
        f"- peak RSS per replica: {rss}",
        f"- affinity {ok}: {keys} affinity keys in nginx's access log, {split} served by more than one replica; "
        f"keys per replica: {', '.join(f'{k}: {v}' for k, v in sorted(per_replica.items()))}",
        f"- failover {fo_ok}: {fo['students']} students, {fo['on_victim']} on replica 1, which was killed (SIGKILL); "
        f"{fo['kept_ok']} of {fo['kept']} on replica 2 moved their slider without a reload; after a reload "
        f"{fo['moved_ok']} of {fo['on_victim']} from replica 1 were served by {', '.join(fo['moved_to']) or '-'} "
        f"(replica 2) and their slider worked (their view came back from the address; what was not in it is lost).",
        "", "```bash", "python deploy/local_replicas.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]), "```"])
    print("\n" + body)
    if not args.no_write:
        replace_section(RESULTS, SECTION, body)
        print(f"\nwrote the \"## {SECTION}\" section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
