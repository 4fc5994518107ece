r"""
# Masked language modelling: which tokens BERT hides, and how

BERT learns by filling in blanks. For every sequence of a batch we

1. **select** each maskable token independently with probability $r$ (the masking *rate*, 15 % in the paper);
   `[CLS]`, `[SEP]`, padding and other special tokens are never selected;
2. for each selected token draw what the model will see instead:
   * $P(\texttt{[MASK]} \mid \text{selected}) = p_\text{mask}$ (0.8),
   * $P(\text{random token} \mid \text{selected}) = p_\text{random}$ (0.1),
   * $P(\text{unchanged} \mid \text{selected}) = 1 - p_\text{mask} - p_\text{random}$ (0.1);
3. compute the loss only at the selected positions: `labels` holds the original id there and
   `IGNORE_INDEX` (-100) everywhere else.

Why not always `[MASK]`? Because `[MASK]` never appears when the model is fine-tuned, and a model that only
ever predicts at `[MASK]` learns nothing useful about the other tokens' representations. Random and unchanged
tokens force it to keep a good representation of *every* input token, since any of them might be a target.
Why not leave them all unchanged? Then the answer is in the input and the model can simply copy it.

The draws follow `transformers.DataCollatorForLanguageModeling` in order (select, then `[MASK]` with
$p_\text{mask}$, then random with $p_\text{random} / (1 - p_\text{mask})$ among the rest, random ids from
`randint(vocab_size)`), so with the same `torch.Generator` state the result is identical to the collator's.

**Whole-word masking** selects *words* rather than pieces: a word's WordPiece pieces (`play`, `##ing`) are
chosen together, with one draw per word, so a word is never half hidden and the expected share of selected
tokens stays $r$.

**Every occurrence** (with whole words): a chosen content word is hidden wherever it occurs in the sequence.
Without it a model can often answer by copying: "the *dog* chased the [MASK] and the dog …" is solved by
looking at the other "dog", and a model rewarded for that learns to copy the salient noun of any sentence
("the teacher wrote on the [MASK]" → "teacher"), which the app's first teacher did. Function words ("the",
"of", `STOPWORDS`) repeat by nature and are left alone; which pieces count as content words is
`content_pieces(vocab)`.

This module is the one the *Masking* chapter shows and the one `training/pretrain_mlm.py` trains with.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import torch
from explainers.errors import require

IGNORE_INDEX = -100


class Action(IntEnum):
    """What happened to one position; stored in `MaskingResult.action`."""

    KEPT = 0  # not selected: no loss here
    MASKED = 1  # selected, replaced by [MASK]
    RANDOM = 2  # selected, replaced by a random vocabulary token
    UNCHANGED = 3  # selected, left as it was (still a target)


@dataclass(frozen=True)
class MaskingResult:
    """Output of `mask_tokens`. All tensors are `[B, T]`, like the input."""

    input_ids: torch.Tensor  # corrupted ids the model reads
    labels: torch.Tensor  # original id where selected, IGNORE_INDEX elsewhere
    action: torch.Tensor  # int8 codes of `Action` per position

    @property
    def selected(self) -> torch.Tensor:
        """`[B, T]` bool: positions that carry a loss."""
        return self.labels != IGNORE_INDEX


def _expand_to_words(chosen_words: torch.Tensor, word_ids: torch.Tensor) -> torch.Tensor:
    """Token mask from a per-word choice. `word_ids`: `[B, T]`, -1 where a token belongs to no word."""
    idx = word_ids.clamp(min=0)
    picked = torch.gather(chosen_words, 1, idx)
    return picked & (word_ids >= 0)


# English function words: they repeat in any sentence, so hiding every occurrence of one would hide half of it
STOPWORDS = frozenset("""a an the and or but if of to in on at by for with from as into onto than then that this these
those there here is are was were be been being am do does did have has had it its he him his she her they them their
we us our you your i me my not no so too very can could will would shall should may might must what which who whom
whose when where why how all any each some one""".split())


def vocab_flags(vocab: dict[str, int], keep) -> torch.Tensor:
    """`[V]` bool over a tokenizer's `get_vocab()`: `keep(piece)` for every piece."""
    flags = torch.zeros(max(vocab.values()) + 1, dtype=torch.bool)
    for piece, i in vocab.items():
        flags[i] = keep(piece)
    return flags


def content_pieces(vocab: dict[str, int]) -> torch.Tensor:
    """`[V]` bool: pieces that start a content word (alphabetic, two letters or more, not a `STOPWORDS` word)."""
    return vocab_flags(vocab, lambda piece: piece.isalpha() and len(piece) > 1 and piece.lower() not in STOPWORDS)


def _every_occurrence(input_ids: torch.Tensor, selected: torch.Tensor, word_ids: torch.Tensor,
                      content: torch.Tensor) -> torch.Tensor:
    """`selected` grown to every occurrence (same pieces) of a selected content word in the same row."""
    out = selected.clone()
    for b in range(input_ids.shape[0]):
        spans: dict[int, list[int]] = {}
        for t, w in enumerate(word_ids[b].tolist()):
            if w >= 0:
                spans.setdefault(w, []).append(t)
        ids = input_ids[b].tolist()
        pieces = {w: tuple(ids[t] for t in ts) for w, ts in spans.items()}
        chosen = {pieces[w] for w, ts in spans.items() if selected[b, ts[0]] and content[ids[ts[0]]]}
        for w, ts in spans.items():
            if pieces[w] in chosen:
                out[b, ts] = True
    return out


def mask_tokens(
    input_ids: torch.Tensor,
    special_tokens_mask: torch.Tensor,
    *,
    mask_token_id: int,
    vocab_size: int,
    rate: float = 0.15,
    p_mask: float = 0.8,
    p_random: float = 0.1,
    generator: torch.Generator | None = None,
    word_ids: torch.Tensor | None = None,
    every_occurrence: torch.Tensor | None = None,
) -> MaskingResult:
    """Mask a batch the BERT way. Never modifies `input_ids`.

    input_ids: `[B, T]` token ids. special_tokens_mask: `[B, T]`, 1/True where a token may never be
    selected (special tokens and padding). word_ids: `[B, T]` word index per token (-1 for none) to
    select whole words; None selects pieces independently. every_occurrence: `[V]` bool, the content pieces
    (`content_pieces`): with word_ids, a chosen word whose first piece is one is chosen wherever it occurs in
    its sequence (no other draw: the random draws are the same as without it).
    """
    require(input_ids.dim() == 2, f"input_ids must be [B, T], got shape {tuple(input_ids.shape)}")
    require(special_tokens_mask.shape == input_ids.shape, "special_tokens_mask must have input_ids' shape")
    require(0.0 <= rate <= 1.0, f"rate must be in [0, 1], got {rate}")
    require(p_mask >= 0 and p_random >= 0 and p_mask + p_random <= 1 + 1e-9,
            f"need p_mask, p_random >= 0 and p_mask + p_random <= 1, got {p_mask}, {p_random}")
    never = special_tokens_mask.bool()

    # 1. select: each maskable token (or word) with probability `rate`
    if word_ids is None:
        probability = torch.full(input_ids.shape, float(rate)).masked_fill_(never, 0.0)
        selected = torch.bernoulli(probability, generator=generator).bool()
    else:
        require(word_ids.shape == input_ids.shape, "word_ids must have input_ids' shape")
        word_ids = word_ids.masked_fill(never, -1)
        n_words = int(word_ids.max().item()) + 1 if word_ids.numel() else 0
        chosen = torch.bernoulli(torch.full((input_ids.shape[0], max(n_words, 1)), float(rate)), generator=generator)
        selected = _expand_to_words(chosen.bool(), word_ids)
        if every_occurrence is not None:
            selected = _every_occurrence(input_ids, selected, word_ids, every_occurrence)

    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    corrupted = input_ids.clone()
    action = torch.where(selected, int(Action.UNCHANGED), int(Action.KEPT)).to(torch.int8)

    # 2a. P([MASK] | selected) = p_mask
    to_mask = torch.bernoulli(torch.full(input_ids.shape, float(p_mask)), generator=generator).bool() & selected
    corrupted[to_mask] = mask_token_id
    action[to_mask] = int(Action.MASKED)
    if p_mask >= 1.0 or p_random <= 0.0:
        return MaskingResult(corrupted, labels, action)

    # 2b. P(random | selected, not [MASK]) = p_random / (1 - p_mask), so P(random | selected) = p_random
    p_random_rest = min(1.0, p_random / (1.0 - p_mask))
    to_random = torch.bernoulli(torch.full(input_ids.shape, p_random_rest), generator=generator).bool()
    to_random &= selected & ~to_mask
    random_ids = torch.randint(vocab_size, input_ids.shape, dtype=input_ids.dtype, generator=generator)
    corrupted[to_random] = random_ids[to_random]
    action[to_random] = int(Action.RANDOM)
    # 2c. the rest of the selected tokens stay unchanged (action already UNCHANGED)
    return MaskingResult(corrupted, labels, action)


def word_ids_from_tokens(tokens: list[list[str]]) -> torch.Tensor:
    """Word index per WordPiece token: a `##` piece joins the word before it. Returns `[B, T]`."""
    rows = []
    for seq in tokens:
        ids, w = [], -1
        for tok in seq:
            if not tok.startswith("##") or w < 0:
                w += 1
            ids.append(w)
        rows.append(ids)
    width = max((len(r) for r in rows), default=0)
    return torch.tensor([r + [-1] * (width - len(r)) for r in rows], dtype=torch.long)


def continuation_flags(vocab: dict[str, int]) -> torch.Tensor:
    """`[V]` bool from a tokenizer's `get_vocab()`: True for a WordPiece that continues a word (`##ing`)."""
    return vocab_flags(vocab, lambda piece: piece.startswith("##"))


def word_ids_from_ids(input_ids: torch.Tensor, continuation: torch.Tensor) -> torch.Tensor:
    """`word_ids_from_tokens` on ids, batched (the pretraining loop's form): `[B, T]` -> `[B, T]`."""
    starts = ~continuation[input_ids]
    starts[:, 0] = True  # a leading `##` piece still opens a word, as in word_ids_from_tokens
    return starts.long().cumsum(dim=1) - 1
