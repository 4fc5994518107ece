"""Checks that must hold in the project's code raise its own errors (explainers.errors.require), never `assert`,
which `python -O` drops: an input check that vanishes under -O lets a wrong shape through to a wrong number."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_assert_statement_outside_the_tests():
    found = []
    for path in sorted(ROOT.glob("**/*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", ".git") or "site-packages" in rel.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{rel}:{node.lineno}" for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert not found, found


def test_require_raises_whatever_python_O_says():
    import subprocess
    import sys

    code = ("from explainers.masking import mask_tokens\nimport torch\n"
            "try:\n    mask_tokens(torch.tensor([[101, 7, 102]]), torch.tensor([[1, 0, 1]]), rate=2.0, "
            "mask_token_id=103, vocab_size=200)\nexcept ValueError as e:\n    print('refused', type(e).__name__)")
    out = subprocess.run([sys.executable, "-O", "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert "refused InputError" in out.stdout, out.stderr[-2000:]
