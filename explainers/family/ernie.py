"""ERNIE: basic, phrase and entity-level masking, with phrases and entities found in a WordNet lexicon, and a unit
guessed piece by piece or whole. The math: `explainers.family`."""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from explainers.errors import require
from explainers.family.spanbert import probs_of_originals


LEXICON = Path(__file__).resolve().parents[2] / "assets/lexicon/wordnet_units.tsv.gz"


# capitalised only because a sentence starts with them: not a name there unless WordNet's entity runs on
SENTENCE_STARTERS = {"a", "i", "the", "may", "will", "can", "march", "june", "april", "august", "mark", "bill",
                     "rose", "grace", "hope", "joy", "art", "pat", "sue", "jack", "frank", "chase", "job", "nice",
                     "turkey", "china", "reading", "bath", "so", "in", "at", "to", "be", "by", "he", "it", "us"}


@dataclass(frozen=True)
class Unit:
    """A stretch of the sentence that ERNIE masks as one: pieces [start, end) of the encoded input."""

    kind: str  # "phrase" or "entity"
    start: int
    end: int
    text: str  # the words as typed


@lru_cache(maxsize=1)
def lexicon(path: Path = LEXICON) -> dict[str, frozenset[str]]:
    """{"phrase": {"living room", …}, "entity": {"New York", …}} from `training/build_lexicon.py`'s file."""
    units: dict[str, set[str]] = {"phrase": set(), "entity": set()}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                kind, words = line.rstrip("\n").split("\t")
                units[kind].add(words)
    return {kind: frozenset(words) for kind, words in units.items()}


def find_units(text: str, offsets: list[tuple[int, int]], lexicon: dict[str, frozenset[str]],
               longest: int = 4) -> list[Unit]:
    """The phrases and entities of `text`, longest match first, as ranges of the pieces whose character
    `offsets` (the tokenizer's, (0, 0) for special tokens) fall inside them. An entity is matched with the
    capitals as typed; a phrase in lower case."""
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Za-z]+(?:['’.-][A-Za-z]+)*", text)]
    starts = {m.end() for m in re.finditer(r"(?:^|[.!?]\s*)", text)}  # where a sentence begins
    units, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            span = words[i:i + n]
            if any(text[a[1]:b[0]].strip() for a, b in zip(span, span[1:])):
                continue  # punctuation between the words
            typed = " ".join(w for _, _, w in span)
            kind = ("entity" if typed in lexicon["entity"] and not (
                        n == 1 and span[0][0] in starts and typed.lower() in SENTENCE_STARTERS)
                    else "phrase" if n > 1 and typed.lower() in lexicon["phrase"] else None)
            pieces = [k for k, (s, e) in enumerate(offsets) if e > s and s >= span[0][0] and e <= span[-1][1]]
            if kind and pieces:
                units.append(Unit(kind, pieces[0], pieces[-1] + 1, text[span[0][0]:span[-1][1]]))
                i += n
                break
        else:
            i += 1
    return units


def knowledge_mask(special: torch.Tensor, units: list[Unit], level: str, rate: float = 0.15,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """ERNIE's selection for one sequence (`special` [T]) at one stage: `level` = "basic" draws single pieces
    (BERT's); "phrase" or "entity" draws whole units of that kind from `units`, "randomly select a few phrases
    [entities] in the sentence and mask and predict all the basic units" in them. Units are drawn in random
    order until at least `rate` of the maskable pieces are chosen (at least one unit when there is any)."""
    require(level in ("basic", "phrase", "entity"), level)
    maskable = special.reshape(-1) == 0
    if level == "basic":
        spans = [(i, i + 1) for i in maskable.nonzero()[:, 0].tolist()]
    else:
        spans = [(u.start, u.end) for u in units if u.kind == level]
    chosen = torch.zeros_like(maskable)
    budget = max(1, round(rate * int(maskable.sum())))
    for k in torch.randperm(len(spans), generator=generator).tolist():
        if int(chosen.sum()) >= budget:
            break
        chosen[spans[k][0]:spans[k][1]] = True
    return chosen & maskable


@dataclass(frozen=True)
class UnitProbe:
    """One unit's pieces guessed two ways: each piece masked alone (the rest of the unit visible), and the whole
    unit masked at once (what phrase- and entity-level masking asks)."""

    positions: list[int]
    alone_p: list[float]  # P(original) with only this piece masked
    alone_top: list[int]  # the top-1 id then
    whole_p: list[float]  # P(original) with the whole unit masked
    whole_top: list[int]


def probe_unit(model, input_ids: torch.Tensor, attention_mask, unit: Unit, *, mask_token_id: int,
               token_type_ids=None) -> UnitProbe:
    """`UnitProbe` for one sequence `[1, T]`: n + 1 copies in one forward pass (one per piece, then the whole)."""
    positions = list(range(unit.start, unit.end))
    n = len(positions)
    chosen = torch.zeros(n + 1, input_ids.shape[1], dtype=torch.bool)
    chosen[torch.arange(n), positions] = True  # row r: piece r alone
    chosen[n, unit.start:unit.end] = True  # the last row: the whole unit
    chosen = chosen.to(input_ids.device)
    batch = input_ids.expand(n + 1, -1).masked_fill(chosen, mask_token_id)
    p, _, top = probs_of_originals(model, batch, attention_mask, input_ids[0], chosen, token_type_ids)
    return UnitProbe(positions, p[:n].tolist(), top[:n].tolist(), p[n:].tolist(), top[n:].tolist())
