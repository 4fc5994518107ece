"""The model cards of the built-in models, written from measured numbers: one command, one module a model.

Each card reads the `training.json` its training script's `--export` wrote, measures the exported fp16 folder in
float32 after the round trip (held-out text, the public cloze set, the classroom sentences, held-out QA and
next-sentence pairs) and writes `README.md` in the folder; the student's also writes `measured.json`, the numbers
the distillation and masking chapters quote.

    python -m training.cards teacher assets/models/teacher --previous <the teacher it continued from>
    python -m training.cards electra assets/models
    python -m training.cards student assets/models/student
    python -m training.cards qa assets/models/qa
    python -m training.cards classifier assets/models/next-sentence

`teacher.py`, `electra.py`, `student.py` and `finetuned.py` (qa, classifier) hold one card each; the lines every
card has (the corpus line, the folder's files and their sha256, loading a model to measure it, the held-out
command line) are here.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch
from transformers import AutoModelForMaskedLM

from explainers.model import MEASURED

CACHE = Path.home() / ".cache/inside-bert"
CORPUS = CACHE / "corpus"
QA_DATA = CACHE / "qa"


def hashes(folder: Path) -> list[str]:
    """The folder's files with their sha256, one Markdown bullet each (the card and `measured.json` left out)."""
    return [f"- `{p.name}` {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in sorted(folder.iterdir())
            if p.is_file() and p.name not in ("README.md", MEASURED)]


def files_section(folder: Path, title: str = "This folder's files (sha256)") -> list[str]:
    return [f"## {title}", "", *hashes(folder), ""]


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6


def corpus_line(corpus: Path = CORPUS) -> str:
    m = json.loads((corpus / "manifest.json").read_text())
    sources = ", ".join(f"{name} {src['documents']:,} documents ({src['bytes'] / 1e6:.2f} MB)"
                        for name, src in m.get("sources", {}).items())
    return (f"`training/build_corpus.py`: {sources}; train {m['train']['documents']:,} documents "
            f"(sha256 {m['train']['sha256'][:16]}…), held out by document {m['test']['documents']:,} "
            f"(sha256 {m['test']['sha256'][:16]}…)")


def section(card: Path, title: str) -> list[str]:
    """The bullet lines under `## <title>` of a model card (none where there is no such card or section)."""
    text = card.read_text() if card.exists() else ""
    if f"## {title}" not in text:
        return []
    text = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    return [ln for ln in text.splitlines() if ln.startswith("- ")]


def load_mlm(folder: Path, eager: bool = False):
    """A masked-language model in float32 for measuring (`eager`: the attention the app loads it with)."""
    extra = {"attn_implementation": "eager"} if eager else {}
    return AutoModelForMaskedLM.from_pretrained(folder, dtype=torch.float32, **extra).eval()


def facts_of(folder: Path) -> dict:
    """The `training.json` its training script's `--export` wrote."""
    return json.loads((folder / "training.json").read_text())


def held_out_parser(doc: str, path_help: str) -> argparse.ArgumentParser:
    """The command line of a card measured on the corpus's held-out split: the folder, how many sequences, a note."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help=path_help)
    ap.add_argument("--sequences", type=int, default=512)
    ap.add_argument("--note", default="")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="the corpus folder (build_corpus.py --out)")
    return ap
