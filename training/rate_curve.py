"""Measure the masking chapter's "Why 15 %?" curve for the built-in teacher once, and ship it with the model.

The page draws this file at once for the built-in teacher (computing it live took 11-14 s on a first visit) and
computes the curve live for any other model. It is measured exactly as the page measured it: the shipped held-out
sample (`assets/text/en/heldout.txt`) packed into `--sequences` sequences of up to 128 pieces, masked by
`explainers.masking.mask_tokens` (80/10/10) at every rate, once per seed (`explainers.mlm.rate_curve`). The file
names the teacher's weights by sha256: a retrained teacher makes the page measure live until this is rerun.

    python -m training.rate_curve            # writes assets/models/teacher/rate_curve.json
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertForMaskedLM

from explainers.builtin import TEACHER_DIR
from explainers.corpus import load_packed
from explainers.mlm import rate_curve
from explainers.model import file_sha256

ROOT = Path(__file__).resolve().parents[1]
TEACHER = TEACHER_DIR
HELDOUT = ROOT / "assets/text/en/heldout.txt"
RATES = [r / 100 for r in range(5, 61, 5)]
FILE = "rate_curve.json"


def measure(folder: Path = TEACHER, sequences: int = 32, seeds: int = 10, heldout: Path = HELDOUT) -> dict:
    tok = AutoTokenizer.from_pretrained(folder)
    model = BertForMaskedLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    batch = load_packed(heldout, tok, seq_len=min(128, model.config.max_position_embeddings),
                        max_sequences=sequences)
    t = time.time()
    curve = rate_curve(model, batch["input_ids"], batch["attention_mask"], batch["special"],
                       mask_token_id=tok.mask_token_id, vocab_size=len(tok), rates=RATES, seeds=list(range(seeds)))
    return {"curve": asdict(curve), "model_sha256": file_sha256(folder / "model.safetensors"),
            "heldout_sha256": file_sha256(heldout), "seconds": round(time.time() - t, 1),
            "measured_with": "training/rate_curve.py"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=TEACHER)
    ap.add_argument("--sequences", type=int, default=32)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--heldout", type=Path, default=HELDOUT, help="the held-out sample (the app's by default)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = measure(args.model, args.sequences, args.seeds, args.heldout)
    (args.model / FILE).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.model / FILE} in {out['seconds']} s")


if __name__ == "__main__":
    main()
