"""The one command that brings the built-in models up to date: doit (`training/dodo.py`), one run a stage.

doit writes its record of what ran when a run ends, with every backend it has (json, dbm, sqlite3). A run killed
during a stage (a closed laptop, a session's end, an out-of-memory kill) therefore forgets the stages it finished
before it: the next run rebuilds the corpus, re-exports the teacher and measures every card again (the training
stages resume from their checkpoints, but that still costs tens of minutes). Seen on 2026-12-07: a run killed
during the student stage redid corpus, teacher, teacher-card and rate-curve. Run one doit a stage, in the
pipeline's order, and each finished stage is on record when the next starts.

    python -m training.rebuild                                 # every stage of the full profile
    python -m training.rebuild profile=tiny out=/tmp/tiny      # doit's variables pass through
    python -m training.rebuild --db-file ~/.cache/inside-bert/doit-rebuild.json   # and its options
    python -m training.rebuild student student-card            # some stages (and what they depend on)
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from training import pipeline


def order(stages: list[pipeline.Stage]) -> list[str]:
    """The stages with every stage after the ones whose outputs it reads (the declared order where free): each doit
    run then finds its parents on record and runs only its own stage."""
    declared = [s.name for s in stages]
    made_by = {out: s.name for s in stages for out in s.outputs}
    parents = {s.name: {made_by[i] for i in s.inputs if i in made_by} for s in stages}
    done: list[str] = []

    def visit(name: str) -> None:
        if name not in done:
            for parent in sorted(parents[name], key=declared.index):
                visit(parent)
            done.append(name)

    for s in stages:
        visit(s.name)
    return done


ORDER = order(pipeline.stages(pipeline.tiny(Path("/nonexistent"))))  # the same stages in every profile


def plan(argv: list[str]) -> tuple[list[str], list[str]]:
    """(doit's own arguments, the stages to run in order): an argument that names a stage is a stage; the rest
    (variables such as `profile=tiny`, options such as `--db-file X`) go to every doit run."""
    chosen = [a for a in argv if a in ORDER]
    rest = [a for a in argv if a not in ORDER]
    return rest, [s for s in ORDER if s in chosen] if chosen else ORDER


def main(argv: list[str] | None = None) -> int:
    args, stages = plan(sys.argv[1:] if argv is None else argv)
    for stage in stages:
        print(f"== {stage}", flush=True)
        done = subprocess.run([sys.executable, "-m", "doit", "-f", str(pipeline.ROOT / "training/dodo.py"), *args, stage],
                              cwd=pipeline.ROOT)
        if done.returncode:
            return done.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
