"""`python -m training.cards <kind> <folder> [options]`: the card of one built-in model (`training/cards/`).

Each kind's module is imported by name when asked for, so a pipeline stage that writes one card depends on that
card's code only (`training.pipeline.module_files` follows import statements).
"""
from __future__ import annotations

import importlib
import sys

MODULES = {"teacher": "teacher", "electra": "electra", "student": "student", "qa": "finetuned",
           "classifier": "finetuned"}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in MODULES:
        raise SystemExit(f"usage: python -m training.cards {{{','.join(MODULES)}}} <folder> [options]")
    module = importlib.import_module(f"training.cards.{MODULES[argv[0]]}")
    module.main(argv if MODULES[argv[0]] == "finetuned" else argv[1:])


if __name__ == "__main__":
    main()
