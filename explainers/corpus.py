"""Tokenise a corpus file (one document a line) and pack it into fixed-length sequences.

Whole documents are packed greedily into `[CLS] doc doc ... [SEP]` of at most `seq_len` tokens (a document
longer than that is cut into pieces), the rest padded. Returns tensors `[N, seq_len]`: input_ids,
attention_mask (1 = token), special (1 = [CLS]/[SEP]/padding, never masked).

A document marked `alone` gets a row of its own, as BERT's pretraining data does for a tenth of its sequences
("short_seq_prob", Devlin et al. 2019, to lessen the mismatch between pretraining on full rows and the short
inputs a model is later asked about): the cloze prompts the teacher is measured on are single sentences.
"""
from __future__ import annotations

from pathlib import Path

import torch


def pack(docs_ids: list[list[int]], cls_id: int, sep_id: int, pad_id: int, seq_len: int,
         alone: list[bool] | None = None) -> dict:
    room = seq_len - 2
    rows, current = [], []
    for i, ids in enumerate(docs_ids):
        by_itself = bool(alone and alone[i])
        for start in range(0, max(len(ids), 1), room):
            piece = ids[start:start + room]
            if by_itself:
                rows.append(piece)
                continue
            if current and len(current) + len(piece) > room:
                rows.append(current)
                current = []
            current = current + piece
    if current:
        rows.append(current)
    input_ids = torch.full((len(rows), seq_len), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), seq_len), dtype=torch.long)
    for r, body in enumerate(rows):
        seq = [cls_id, *body, sep_id]
        input_ids[r, :len(seq)] = torch.tensor(seq)
        attention[r, :len(seq)] = 1
    special = (attention == 0) | (input_ids == cls_id) | (input_ids == sep_id)
    return {"input_ids": input_ids, "attention_mask": attention, "special": special.long()}


def alone_share(n_docs: int, share: float, seed: int = 0) -> list[bool]:
    """Which documents get a row of their own: each with probability `share`, from a seeded generator."""
    return (torch.rand(n_docs, generator=torch.Generator().manual_seed(seed)) < share).tolist()


def load_packed(path: Path, tokenizer, seq_len: int = 128, max_sequences: int | None = None,
                alone: float = 0.0, seed: int = 0) -> dict:
    """`alone`: the share of documents that get a row of their own (`alone_share`)."""
    docs = [d for d in Path(path).read_text(encoding="utf-8").splitlines() if d.strip()]
    if max_sequences is not None:
        docs = docs[: max_sequences * 12]  # documents average ~25 tokens: plenty for max_sequences rows
    ids = tokenizer(docs, add_special_tokens=False)["input_ids"]
    packed = pack(ids, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id, seq_len,
                  alone_share(len(ids), alone, seed) if alone else None)
    if max_sequences is not None:
        packed = {k: v[:max_sequences] for k, v in packed.items()}
    return packed
