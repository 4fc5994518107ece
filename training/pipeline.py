"""Every built-in model and every file derived from one, as the stages of one declared pipeline.

A stage names its command lines, its inputs (the code it runs, found by following its imports; its data; the
checkpoints it starts from, by sha256 where they are shipped versions; its configuration) and its outputs.
`training/dodo.py` hands the stages to doit, which runs a stage when an input changed or an output is missing,
in the order the files make, and skips it otherwise:

    pip install -r requirements-pipeline.txt
    python -m training.rebuild                          # bring the shipped models up to date, a stage a run
    doit -f training/dodo.py profile=tiny out=/tmp/tiny  # the same stages on tiny models, in minutes
    doit -f training/dodo.py list                       # the stages; `doit -f training/dodo.py info teacher`

A training stage keeps its checkpoints in `<cache>/runs/<stage>-<key>`, where the key is a hash of its
configuration and of its inputs' contents: an interrupted stage resumes from its last checkpoint when rerun, and a
stage whose inputs changed starts a run of its own (the loop refuses a changed configuration on resume anyway,
`training/loop.py`). Checkpoints and intermediate files live in the cache, outside git; the outputs are the model
folders (fp16 weights, `training.json`, the cards) and the files the app reads.

Initialisation, per stage: the full profile continues each model from a shipped version named by commit and the
sha256 of its weights (`training/warm.py` writes that version out of git: no folder is copied); the from-scratch
rules are the teacher from all-MiniLM-L6-v2 (`training/import_minilm.py`; the tiny profile: a random width-32
BERT, `training/tiny.py`), the ELECTRA discriminator from the teacher's layers and embeddings
(`pretrain_electra.init_from_teacher`), the student from the teacher's layers 0, 2 and 4, and the QA and
next-sentence models from the teacher with a fresh head. In both profiles the ELECTRA generator starts from the
student's layers with a new head (`pretrain_electra.generator_from_layers`).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from explainers.model import file_sha256

ROOT = Path(__file__).resolve().parents[1]
SHARED_CLOZE = ROOT.parent / "shared/eval/cloze_public.tsv"

# the shipped versions the full profile continues from: (commit, folder, sha256 of model.safetensors)
WARM = {
    "teacher": ("1a70795", "assets/models/teacher",
                "c18204c87bb278a8a2dae770a4cb098d795fa214d6b821b027855e107b9ac770"),
    "electra-discriminator": ("1a70795", "assets/models/electra-discriminator",
                              "70116fa0b0c2b61ac2c9f976152c445b80404f2021c1d4ce32b7c6987159496e"),
    "student": ("1a70795", "assets/models/student",
                "472e735eff4b3b250a097b2e5c1fe65f5861a59268e53ce909c1839b76c8d681"),
}


@dataclass(frozen=True)
class Profile:
    """Where a run of the pipeline reads and writes, and the flags that size each stage."""
    name: str
    models: Path  # the model folders (assets/models for the shipped ones)
    cache: Path  # corpus, QA data, warm starts, checkpoints: never in git
    sample: Path  # the held-out documents the chapters measure live
    pairs: Path  # the next-sentence held-out pairs the fine-tuning chapter's live probe uses
    device: str = "cpu"
    flags: dict[str, list[str]] = field(default_factory=dict)  # stage -> extra flags


def full(device: str = "cpu", threads: int = 2) -> Profile:
    t = ["--threads", str(threads)]
    return Profile("full", ROOT / "assets/models", Path.home() / ".cache/inside-bert",
                   ROOT / "assets/text/en/heldout.txt", ROOT / "assets/text/en/heldout_pairs.tsv", device, {
                       "corpus": [],
                       "teacher": ["--steps", "1500", "--lr", "2e-4", "--warmup", "100", "--whole-word", "true",
                                   "--every-occurrence", "true", "--unigram-bias", "false", "--alone", "0.1",
                                   "--eval-every", "250", "--save-every", "50", *t],
                       "teacher-card": ["--sequences", "512"],
                       "rate-curve": [],
                       "electra": ["--steps", "1300", "--distill-steps", "600", "--lam", "50", "--eval-every", "100",
                                   "--save-every", "50", *t],
                       "electra-card": ["--sequences", "512"],
                       "student": ["--steps", "1900", "--batch-size", "32", "--lr", "2e-4", "--warmup", "100",
                                   "--eval-every", "200", "--save-every", "50", "--device", device, *t],
                       "student-card": ["--sequences", "512"],
                       "next-sentence": [*t],
                       "qa-data": [],
                       "qa": [*t],
                   })


def tiny(out: Path, documents: int = 200) -> Profile:
    """Every stage on a width-32 model and `documents` of the project's own text, two steps each: minutes on two
    cores."""
    small = ["--threads", "1", "--batch-size", "2", "--seq-len", "32", "--warmup", "1", "--eval-every", "1",
             "--save-every", "1", "--steps", "2"]
    return Profile("tiny", out / "models", out / "cache", out / "heldout.txt", out / "heldout_pairs.tsv", "cpu", {
        "corpus": ["--only", "everyday", "--max-documents", str(documents)],
        "teacher": [*small, "--eval-sequences", "4"],
        "teacher-card": ["--sequences", "4"],
        "rate-curve": ["--sequences", "2", "--seeds", "2"],
        "electra": [*small, "--eval-sequences", "4", "--embedding-size", "16", "--fit-steps", "2",
                    "--distill-steps", "1"],
        "electra-card": ["--sequences", "4"],
        "student": [*small, "--eval-sequences", "4"],
        "student-card": ["--sequences", "4"],
        "next-sentence": [*small, "--train-pairs", "16", "--test-pairs", "8", "--probe-pairs", "8",
                          "--probe-steps", "2"],
        "qa-data": ["--stories", "80", "--no-wordnet"],
        "qa": [*small, "--seq-len", "96", "--eval-examples", "4"],
    })


@dataclass(frozen=True)
class Stage:
    name: str
    doc: str
    commands: list[list[str]]  # run in order; "{run}" stands for the stage's checkpoint folder
    inputs: list[Path]  # data and parent models (the code is added from `modules`)
    outputs: list[Path]
    modules: tuple[str, ...] = ()  # the scripts it runs: their repository imports are inputs too
    trains: bool = False  # has a checkpoint folder (`{run}`)


def py(module: str, *args) -> list[str]:
    return [sys.executable, "-m", module, *map(str, args)]


def trained(module: str, args: list, out: Path) -> list[list[str]]:
    """A training script's two commands: train (resumable, in the stage's `{run}`), then the same command line
    with `--export out` (the loop checks the configuration, so the export names the run's flags again)."""
    return [py(module, "--run", "{run}", *args), py(module, "--run", "{run}", *args, "--export", out)]


def card(kind: str, *args) -> list[str]:
    return py("training.cards", kind, *args)


def card_code(kind: str) -> tuple[str, ...]:
    """A card stage's code: the dispatcher and that card's module (imported by name, so not followed)."""
    from training.cards.__main__ import MODULES

    return ("training.cards.__main__", f"training.cards.{MODULES[kind]}")


def stages(p: Profile) -> list[Stage]:
    c, m, f = p.cache, p.models, p.flags
    corpus = c / "corpus"
    corpus_files = [corpus / "train.txt", corpus / "test.txt", corpus / "manifest.json"]
    teacher, gen, disc, student = m / "teacher", m / "electra-generator", m / "electra-discriminator", m / "student"
    weights = "model.safetensors"
    if p.name == "full":
        def warm(name: str) -> tuple[list[str], Path]:
            commit, folder, digest = WARM[name]
            out = c / "warm" / f"{name}-{digest[:12]}" / name
            return py("training.warm", "--commit", commit, "--folder", folder, "--sha256", digest, "--out", out), out
        init_cmd, init = warm("teacher")
        pair_cmds = [warm("electra-discriminator")[0]]  # the generator is new: from the student's layers
        pair = warm("electra-discriminator")[1].parent
        pair_init = ["--init", pair]
        student_cmd, student_init = warm("student")
        init_student = [student_cmd]
        student_flags = ["--init", student_init]
        init_modules = ("training.warm",)
    else:
        init = c / "init" / "teacher"
        init_cmd = py("training.tiny", "--out", init)
        pair_cmds, pair_init, init_student, student_flags = [], [], [], []
        init_modules = ("training.tiny",)
    cloze = [SHARED_CLOZE] if SHARED_CLOZE.exists() else []
    return [
        Stage("corpus", "the pretraining corpus and the held-out sample the chapters measure",
              [py("training.build_corpus", "--out", corpus, "--sample-out", p.sample, *f["corpus"])],
              [ROOT / "training/classroom.tsv", *cloze], [*corpus_files, p.sample], ("training.build_corpus",)),
        Stage("teacher-init", "where the teacher starts: a shipped version (full) or a fresh tiny BERT (tiny)",
              [init_cmd], [], [init / weights], init_modules),
        Stage("teacher", "the teacher: masked-language-model training, exported in fp16",
              trained("training.pretrain_mlm", ["--init", init, "--corpus", corpus, *f["teacher"]], teacher),
              [init / weights, *corpus_files, *cloze], [teacher / weights, teacher / "training.json"],
              ("training.pretrain_mlm",), trains=True),
        Stage("teacher-card", "the teacher's model card, measured against where it started",
              [card("teacher", teacher, "--previous", init, "--corpus", corpus, *f["teacher-card"])],
              [teacher / weights, teacher / "training.json", init / weights, *corpus_files,
               ROOT / "training/classroom.tsv"], [teacher / "README.md"], card_code("teacher")),
        Stage("rate-curve", "how much of a sentence the teacher recovers at each masking rate (the masking chapter)",
              [py("training.rate_curve", "--model", teacher, "--heldout", p.sample, *f["rate-curve"])],
              [teacher / weights, p.sample], [teacher / "rate_curve.json"], ("training.rate_curve",)),
        Stage("electra", "the ELECTRA generator and discriminator, sharing their embeddings",
              [*pair_cmds, *trained("training.pretrain_electra",
                                    ["--teacher", teacher, "--corpus", corpus, *pair_init, "--generator-init",
                                     student, *f["electra"]], m)],
              [teacher / weights, student / weights, *corpus_files],
              [gen / weights, disc / weights, disc / "training.json"],
              ("training.pretrain_electra", "training.warm"), trains=True),
        Stage("electra-card", "the ELECTRA pair's cards",
              [card("electra", m, "--corpus", corpus, *f["electra-card"])],
              [gen / weights, disc / weights, *corpus_files], [gen / "README.md", disc / "README.md"],
              card_code("electra")),
        Stage("student", "the distilled student (DistilBERT), from the teacher's soft targets",
              [*init_student, *trained("training.distill",
                                       ["--teacher", teacher, "--corpus", corpus, *student_flags, *f["student"]],
                                       student)],
              [teacher / weights, *corpus_files], [student / weights, student / "training.json"],
              ("training.distill", "training.warm"), trains=True),
        Stage("student-card", "the student's card and measured.json (the distillation chapter's numbers)",
              [card("student", student, "--corpus", corpus, *f["student-card"])],
              [student / weights, teacher / weights, *corpus_files], [student / "README.md", student / "measured.json"],
              card_code("student")),
        Stage("next-sentence", "the next-sentence classifier and its live probe's held-out pairs",
              trained("training.finetune_classifier", ["--base", teacher, "--corpus", corpus, "--heldout-out",
                                                       p.pairs, *f["next-sentence"]], m / "next-sentence"),
              [teacher / weights, *corpus_files],
              [m / "next-sentence" / weights, m / "next-sentence" / "training.json", p.pairs],
              ("training.finetune_classifier",), trains=True),
        Stage("next-sentence-card", "the next-sentence classifier's card",
              [card("classifier", m / "next-sentence")],
              [m / "next-sentence" / weights, m / "next-sentence" / "training.json", teacher / weights],
              [m / "next-sentence" / "README.md"], card_code("classifier")),
        Stage("qa-data", "the extractive-QA examples (WordNet facts and stories)",
              [py("training.qa_data", "--out", c / "qa", *f["qa-data"])],
              [], [c / "qa" / "train.jsonl", c / "qa" / "test.jsonl"], ("training.qa_data",)),
        Stage("qa", "the extractive-QA model (span start and end over the teacher's encoder)",
              trained("training.finetune_qa", ["--base", teacher, "--data", c / "qa", *f["qa"]], m / "qa"),
              [teacher / weights, c / "qa" / "train.jsonl", c / "qa" / "test.jsonl"],
              [m / "qa" / weights, m / "qa" / "training.json"],
              ("training.finetune_qa",), trains=True),
        Stage("qa-card", "the QA model's card, scored on the held-out questions",
              [card("qa", m / "qa", "--data", c / "qa")],
              [m / "qa" / weights, m / "qa" / "training.json", teacher / weights, c / "qa" / "test.jsonl"],
              [m / "qa" / "README.md"], card_code("qa")),
    ]


# ---------------------------------------------------------------- inputs and keys -----------------------------
def module_files(modules: tuple[str, ...]) -> list[Path]:
    """The repository files these modules run: each module's file and, followed through their imports, every
    `explainers.` and `training.` module they import (not third-party code, which the requirements pin)."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():  # a package: its __init__
            path = ROOT / name.replace(".", "/") / "__init__.py"
        if name in seen or not path.exists():
            continue
        seen[name] = path
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
    return sorted(p for n, p in seen.items() if n.split(".")[0] in ("explainers", "training"))


def portable(commands: list[list]) -> list[list[str]]:
    """The commands with the repository's own path and the interpreter's left out: a second checkout (a `git
    worktree` that rebuilds the models while this one serves the app) and `python` or `python3.11` give the same."""
    def general(arg) -> str:
        return "<python>" if str(arg) == sys.executable else str(arg).replace(str(ROOT), "<repo>")

    return [[general(a) for a in cmd] for cmd in commands]


def run_key(stage: Stage) -> str:
    """A hash of the stage's commands (`portable`) and of its inputs' contents (code included): the same key, the
    same run."""
    h = hashlib.sha256(json.dumps(portable(stage.commands)).encode())
    for path in sorted(set(stage.inputs) | set(module_files(stage.modules))):
        h.update(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{file_sha256(path)}".encode())
    return h.hexdigest()[:12]


def execute(stage: Stage, profile: Profile) -> None:
    """Run the stage's commands in the repository root, `{run}` standing for its checkpoint folder."""
    run = profile.cache / "runs" / f"{stage.name}-{run_key(stage)}" if stage.trains else None
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for cmd in stage.commands:
        argv = [str(run) if a == "{run}" else str(a) for a in cmd]
        print("$", shlex.join(argv), flush=True)
        subprocess.run(argv, cwd=ROOT, env=env, check=True)
