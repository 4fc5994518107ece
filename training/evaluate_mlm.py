"""Measure a masked-LM: held-out masked top-1, how often it copies, and public cloze top-1 / top-5.

* held-out top-1: the test split, packed like the training data, masked by `explainers.masking.mask_tokens`
  at 15 % (80/10/10, fixed seed); accuracy of the arg-max at every selected position. Also reported with every
  selected position shown as [MASK] (p_mask = 1), the harder reading.
* copying: of the wrong first guesses at `[MASK]` positions, the share that is a piece visible elsewhere in the
  same sequence (the first teacher's habit: "the [MASK] barked at the mailman" → "mail").
* cloze top-1 / top-5: `../shared/eval/cloze_public.tsv`; a prompt counts when an acceptable word is the first
  guess / among the top 5.

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
def top_words(model, tokenizer, prompt: str, k: int = 5) -> list[tuple[str, float]]:
    """The k most probable pieces at the prompt's one [MASK], with their probabilities."""
    batch = tokenizer(prompt, return_tensors="pt")
    pos = (batch["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0]
    probs = model(**batch).logits[0, pos].float().softmax(-1)
    top = probs.topk(k)
    return list(zip(tokenizer.convert_ids_to_tokens(top.indices.tolist()), top.values.tolist()))


def cloze_scores(model, tokenizer, rows) -> dict:
    """Share of prompts whose first guess / one of whose five first guesses is an acceptable answer."""
    top1 = top5 = 0
    for prompt, answers in rows:
        words = [w for w, _ in top_words(model, tokenizer, prompt)]
        top1 += words[0] in answers
        top5 += any(w in answers for w in words)
    n = max(len(rows), 1)
    return {"top1": top1 / n, "top5": top5 / n}


@torch.no_grad()
def heldout_top1(model, tokenizer, packed: dict, *, p_mask: float = 0.8, p_random: float = 0.1,
                 batch_size: int = 32, seed: int = 1234) -> dict:
    g = torch.Generator().manual_seed(seed)
    correct = total = wrong_at_mask = copied = 0
    loss_sum = 0.0
    for i in range(0, len(packed["input_ids"]), batch_size):
        ids, att, special = (packed[k][i:i + batch_size] for k in ("input_ids", "attention_mask", "special"))
        m = mask_tokens(ids, special, mask_token_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                        p_mask=p_mask, p_random=p_random, generator=g)
        out = masked_lm_loss(model, m.input_ids, att, m.labels)
        guess = out.logits.argmax(-1)
        correct += int((guess == out.labels).sum())
        total += len(out.labels)
        loss_sum += float(out.loss) * len(out.labels)
        # copying: a wrong guess at a [MASK] that is a piece the model can see in the same sequence
        rows = m.selected.nonzero()[:, 0]
        at_mask = (m.input_ids[m.selected] == tokenizer.mask_token_id) & (guess != out.labels)
        visible = m.input_ids.masked_fill(special.bool(), -1)
        seen = (visible[rows] == guess[:, None]).any(-1)
        wrong_at_mask += int(at_mask.sum())
        copied += int((at_mask & seen).sum())
    return {"top1": correct / total, "loss": loss_sum / total, "positions": total,
            "copy_share": copied / max(wrong_at_mask, 1)}


def evaluate(model, tokenizer, packed: dict, cloze: Path = CLOZE) -> dict:
    model.eval()
    std = heldout_top1(model, tokenizer, packed)
    all_mask = heldout_top1(model, tokenizer, packed, p_mask=1.0, p_random=0.0)
    c = cloze_scores(model, tokenizer, read_cloze(cloze))
    return {"heldout_top1": round(std["top1"], 4), "heldout_loss": round(std["loss"], 4),
            "heldout_positions": std["positions"], "heldout_top1_all_mask": round(all_mask["top1"], 4),
            "copy_share": round(all_mask["copy_share"], 4), "cloze_top1": round(c["top1"], 4),
            "cloze_top5": round(c["top5"], 4)}


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
