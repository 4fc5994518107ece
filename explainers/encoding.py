r"""
# Turning text into an encoder's input

A BERT-style encoder reads **token ids**. The WordPiece tokenizer splits text into pieces from a fixed
vocabulary (30,522 for uncased BERT); a word that is not in the vocabulary is split into a first piece and
`##`-prefixed continuations (`embeddings` → `em ##bed ##ding ##s`). The input is framed as

    [CLS] sentence A [SEP]                      (one sentence)
    [CLS] sentence A [SEP] sentence B [SEP]     (a pair)

with a **segment id** (`token_type_ids`) of 0 for `[CLS]`, A and its `[SEP]`, and 1 for B and its `[SEP]`.
An encoder has learned position embeddings for a fixed number of positions (512 for BERT), so longer input
is truncated: sentence B first when there are two, as Hugging Face's `longest_first` does.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import torch

from explainers.errors import ExplainerError, facts

CONTROL_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")


def clean_text(text: str) -> tuple[str, int]:
    """Drop control and format characters (keeping newline and tab as spaces). Returns (text, n_removed)."""
    kept, removed = [], 0
    for ch in text or "":
        if ch in "\n\t\r":
            kept.append(" ")
        elif unicodedata.category(ch) in CONTROL_CATEGORIES and ch not in "\u200d":
            removed += 1
        else:
            kept.append(ch)
    return "".join(kept).strip(), removed


class Note:
    """Something the user should know about their input, as facts: `reason` ("removed", "truncated",
    "literal_special", "unknown_one", "unknown_other", "chinese") and `fields`, worded by the UI (`ui.text.note_text`:
    `notes.<reason>` in `assets/text/<lang>/strings.toml`)."""

    def __init__(self, reason: str, **fields):
        self.reason, self.fields = reason, fields

    def __eq__(self, other) -> bool:
        return isinstance(other, Note) and (self.reason, self.fields) == (other.reason, other.fields)

    def __repr__(self) -> str:
        return f"Note({facts(self.reason, self.fields)})"

    __str__ = __repr__


@dataclass(frozen=True)
class EncodedInput:
    """One tokenised input. Tensors are `[1, T]`; `tokens` has T entries."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    tokens: list[str]
    n_tokens_before_truncation: int  # with special tokens
    notes: list[Note] = field(default_factory=list)  # things the user should know (truncation, removed chars)

    @property
    def truncated(self) -> bool:
        return self.n_tokens_before_truncation > len(self.tokens)

    @property
    def segment(self) -> list[str]:
        return ["A" if t == 0 else "B" for t in self.token_type_ids[0].tolist()]


class EmptyInputError(ExplainerError, ValueError):
    """Nothing left to read after cleaning."""

    def __init__(self):
        super().__init__("empty_input")


def token_notes(tokenizer, tokens: list[str], framing: set[int], text: str) -> list[Note]:
    """What the tokenizer made of the user's `text`: special tokens typed as text (any special token outside
    the `framing` positions the tokenizer added; [UNK] only if typed literally), and pieces that became [UNK]."""
    special = set(tokenizer.all_special_tokens)
    literal = sorted({t for i, t in enumerate(tokens)
                      if t in special and i not in framing and (t != tokenizer.unk_token or t in text)})
    notes = [Note("literal_special", tokens=", ".join(literal))] if literal else []
    unk = sum(t == tokenizer.unk_token for t in tokens)
    chinese = sorted(set(CJK.findall(text)), key=text.index)
    if chinese:  # an English vocabulary: say which characters it cannot read, and what can
        lost = [c for c in chinese if tokenizer.tokenize(c) in ([], [tokenizer.unk_token])]
        notes.append(Note("chinese", chars=len(chinese), unknown=len(lost), unk=tokenizer.unk_token,
                          which=" ".join(lost[:20]) + (" …" if len(lost) > 20 else "") or "—"))
    elif unk:
        notes.append(Note("unknown_one" if unk == 1 else "unknown_other", n=unk, unk=tokenizer.unk_token))
    return notes


# CJK ideographs (the unified block, extension A, compatibility ideographs, extensions B–F)
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")


def encode_text(tokenizer, text_a: str, text_b: str = "", max_length: int = 512) -> EncodedInput:
    a, removed_a = clean_text(text_a)
    b, removed_b = clean_text(text_b)
    if not a:
        raise EmptyInputError()
    notes = []
    if removed_a + removed_b:
        notes.append(Note("removed", n=removed_a + removed_b))
    pair = (a, b) if b else (a,)
    full = tokenizer(*pair, truncation=False, return_token_type_ids=True)
    n_full = len(full["input_ids"])
    enc = tokenizer(*pair, truncation="longest_first", max_length=max_length, return_tensors="pt",
                    return_token_type_ids=True)
    if n_full > max_length:
        notes.append(Note("truncated", n=n_full, limit=max_length))
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    types = enc["token_type_ids"][0].tolist()
    framing = {0, len(tokens) - 1, *([types.index(1) - 1] if 1 in types else [])}
    notes += token_notes(tokenizer, tokens, framing, a + b)
    return EncodedInput(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"], tokens, n_full, notes)
