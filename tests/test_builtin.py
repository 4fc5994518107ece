"""explainers.builtin: the one registry of the built-in models."""
from __future__ import annotations

import json
import re
from pathlib import Path

from explainers import builtin

ROOT = Path(__file__).resolve().parents[1]


def test_every_built_in_model_is_in_the_registry_with_the_head_its_config_names():
    shipped = {p.parent.name for p in (ROOT / "assets/models").glob("*/config.json")}
    assert shipped == set(builtin.MODELS)
    for m in builtin.MODELS.values():
        assert json.loads((m.folder / "config.json").read_text())["architectures"] == [m.head], m.key
        assert set(m.parents) <= set(builtin.MODELS) and m.key not in m.parents


def test_no_code_names_a_built_in_folder_but_the_registry():
    """A folder spelled out anywhere else (a training default, a ui constant) would drift from the registry."""
    # a path built in code (`ROOT / "assets/models/qa"`, `Path("assets/models/qa")`); prose that names a folder may
    spelled = re.compile(r"""(/\s*|Path\()["']assets/models/(""" + "|".join(map(re.escape, builtin.MODELS)) + r")\b")
    found = []
    for path in ROOT.glob("**/*.py"):
        if {"tests", ".git"} & set(path.relative_to(ROOT).parts) or path == Path(builtin.__file__):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if spelled.search(line.split("#")[0]):
                found.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not found, "\n".join(found)
