"""A private `redis-server` (Debian's) on a free port, for the tests and tools that need a class shared by several
server processes: no persistence, gone when the context exits."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time

from harness.browser import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@contextlib.contextmanager
def redis_server(timeout: float = 20):
    """Yields `redis://127.0.0.1:<port>/0` once the server answers."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {proc.returncode}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("redis-server did not answer")
                time.sleep(0.1)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(10)
