"""The project's modules import each other without a cycle, counting imports inside functions too: a cycle lets
a thread that imports one module meet the other half-initialised (a fresh server's first visitor met
`ImportError: cannot import name 'state' from 'ui'` while the warm-up thread imported `ui.distill`)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("explainers", "ui", "training", "harness")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports anywhere in its body (`from ui import state` names `ui.state`)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules}
            if node.module in modules and not any(f"{node.module}.{a.name}" in modules for a in node.names):
                out.add(node.module)
    return out


def graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]  # subpackages too (explainers/family)
    modules = {module_name(p) for p in files}
    return {module_name(p): imports(p, modules) - {module_name(p)} for p in files}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_the_projects_modules():
    assert cycles(graph()) == []


IMPORT_WITHOUT_SESSION = """
import importlib, sys
sys.path.insert(0, {root!r})
from streamlit.runtime.state import session_state_proxy, query_params_proxy


class Stop(BaseException):  # what Streamlit raises in a script run that a rerun stops, at a session read
    pass


def stop(*args, **kwargs):
    raise Stop("read the session at import time")


for proxy in (session_state_proxy.SessionStateProxy, query_params_proxy.QueryParamsProxy):
    for name in ("__getitem__", "__contains__", "get", "__getattr__"):
        setattr(proxy, name, stop)
for module in {modules!r}:
    importlib.import_module(module)
"""


def test_no_module_reads_the_session_when_imported():
    """Streamlit stops a script run (a fast rerun: a click while a fresh server's first run imports) at its next
    session read, with an exception no `except Exception` catches. If that read is in a module's import, the
    module is half-imported, and a second script run importing it at the same time gets
    `ImportError: cannot import name 'state' from 'ui'` (CPython hands the waiting thread the module the failed
    import removed). So no module of the app reads the session (a string in the reader's language, the address)
    when imported."""
    import subprocess
    import sys

    modules = sorted(m for m in graph() if m.split(".")[0] in ("ui", "explainers"))
    run = subprocess.run([sys.executable, "-c", IMPORT_WITHOUT_SESSION.format(root=str(ROOT), modules=modules)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]


def test_no_script_folder_shadows_the_standard_library():
    """A script run from a folder puts that folder first on sys.path: a `benchmarks/profile.py` made torch's
    `import cProfile` find it instead of the standard library's `profile`, and bench.py failed to load a model."""
    import sys

    folders = ("benchmarks", "deploy", "docs", "harness", "training", ".")
    clash = [str(p.relative_to(ROOT)) for folder in folders for p in (ROOT / folder).glob("*.py")
             if p.stem in sys.stdlib_module_names]
    assert not clash, clash

