"""doit's view of `training/pipeline.py`: one task per stage, its file inputs as `file_dep`, its outputs as
`targets`, its commands as the action. doit keeps its record of what ran in the profile's cache, outside git.

    python -m training.rebuild                          # full profile, one doit a stage (training/rebuild.py)
    doit -f training/dodo.py                            # full profile: the shipped models
    doit -f training/dodo.py profile=tiny out=/tmp/tiny  # tiny profile (CI runs it: tests/test_pipeline.py);
                                                        # documents=N: the tiny corpus's size (200)
    doit -f training/dodo.py device=cuda                # the training stages on a GPU, unchanged otherwise
"""
from __future__ import annotations

import sys
from pathlib import Path

from doit import get_var
from doit.tools import config_changed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training import pipeline  # noqa: E402  (the repository on the path first)

PROFILE = (pipeline.tiny(Path(get_var("out", "/tmp/inside-bert-tiny")).resolve(), int(get_var("documents", "200")))
           if get_var("profile", "full") == "tiny" else pipeline.full(get_var("device", "cpu")))
PROFILE.cache.mkdir(parents=True, exist_ok=True)
DOIT_CONFIG = {"dep_file": str(PROFILE.cache / f"doit-{PROFILE.name}.json"), "backend": "json",
               "verbosity": 2, "default_tasks": None}


def task_stage():
    for stage in pipeline.stages(PROFILE):
        code = pipeline.module_files(stage.modules)
        yield {
            "doc": stage.doc,
            "basename": stage.name,
            "actions": [(pipeline.execute, [stage, PROFILE])],
            "file_dep": [str(p) for p in [*stage.inputs, *code]],
            "targets": [str(p) for p in stage.outputs],
            # the commands as run_key sees them: another interpreter path or checkout is not a change
            "uptodate": [config_changed({"commands": pipeline.portable(stage.commands)})],
        }
