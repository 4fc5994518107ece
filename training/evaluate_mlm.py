"""Measure a masked-LM: held-out masked top-1 and public cloze top-5.

* held-out top-1: the test split, packed like the training data, masked by `explainers.masking.mask_tokens`
  at 15 % (80/10/10, fixed seed); accuracy of the arg-max at every selected position. Also reported with every
  selected position shown as [MASK] (p_mask = 1), the harder reading.
* cloze top-5: `../shared/eval/cloze_public.tsv`; a prompt counts when any acceptable word is among the top 5.

    python -m training.evaluate_mlm assets/models/teacher
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explainers.masking import mask_tokens
from explainers.mlm import masked_lm_loss
from explainers.corpus import load_packed

ROOT = Path(__file__).resolve().parents[1]
CLOZE = ROOT.parent / "shared/eval/cloze_public.tsv"


def read_cloze(path: Path = CLOZE) -> list[tuple[str, set[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        prompt, answers = line.split("\t", 1)
        rows.append((prompt, {a.strip().lower() for a in answers.split(",")}))
    return rows


@torch.no_grad()
def cloze_top5(model, tokenizer, rows) -> float:
    hits = 0
    for prompt, answers in rows:
        batch = tokenizer(prompt, return_tensors="pt")
        pos = (batch["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0]
        logits = model(**batch).logits[0, pos]
        top = tokenizer.convert_ids_to_tokens(logits.topk(5).indices.tolist())
        hits += any(t in answers for t in top)
    return hits / max(len(rows), 1)


@torch.no_grad()
def heldout_top1(model, tokenizer, packed: dict, *, p_mask: float = 0.8, p_random: float = 0.1,
                 batch_size: int = 32, seed: int = 1234) -> dict:
    g = torch.Generator().manual_seed(seed)
    correct = total = 0
    loss_sum = 0.0
    for i in range(0, len(packed["input_ids"]), batch_size):
        ids, att, special = (packed[k][i:i + batch_size] for k in ("input_ids", "attention_mask", "special"))
        m = mask_tokens(ids, special, mask_token_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                        p_mask=p_mask, p_random=p_random, generator=g)
        out = masked_lm_loss(model, m.input_ids, att, m.labels)
        correct += int((out.logits.argmax(-1) == out.labels).sum())
        total += len(out.labels)
        loss_sum += float(out.loss) * len(out.labels)
    return {"top1": correct / total, "loss": loss_sum / total, "positions": total}


def evaluate(model, tokenizer, packed: dict, cloze: Path = CLOZE) -> dict:
    model.eval()
    std = heldout_top1(model, tokenizer, packed)
    all_mask = heldout_top1(model, tokenizer, packed, p_mask=1.0, p_random=0.0)
    return {"heldout_top1": round(std["top1"], 4), "heldout_loss": round(std["loss"], 4),
            "heldout_positions": std["positions"], "heldout_top1_all_mask": round(all_mask["top1"], 4),
            "cloze_top5": round(cloze_top5(model, tokenizer, read_cloze(cloze)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path.home() / ".cache/inside-bert/corpus")
    ap.add_argument("--sequences", type=int, default=512, help="held-out sequences of 128 tokens")
    args = ap.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForMaskedLM.from_pretrained(args.model, dtype=torch.float32).eval()
    packed = load_packed(args.corpus / "test.txt", tokenizer, max_sequences=args.sequences)
    print(json.dumps(evaluate(model, tokenizer, packed), indent=2))


if __name__ == "__main__":
    main()
