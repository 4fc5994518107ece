"""SpanBERT: contiguous spans of geometric length instead of single pieces, against as many scattered pieces. The
math: `explainers.family`."""
from __future__ import annotations

from dataclasses import dataclass

import torch



def span_length_probs(p: float = 0.2, max_len: int = 10) -> torch.Tensor:
    """P(ℓ) for ℓ = 1 … max_len: the geometric distribution clipped at max_len (SpanBERT: p = 0.2, 10)."""
    lengths = torch.arange(1, max_len + 1, dtype=torch.float64)
    w = p * (1 - p) ** (lengths - 1)
    return w / w.sum()


def span_lengths(n: int, p: float = 0.2, max_len: int = 10, generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` span lengths drawn from `span_length_probs`."""
    return torch.multinomial(span_length_probs(p, max_len).float(), n, replacement=True, generator=generator) + 1


def span_mask(special: torch.Tensor, rate: float = 0.15, p: float = 0.2, max_len: int = 10,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """SpanBERT's selection for one sequence (`special`: [T], 1 at [CLS]/[SEP]/padding): spans of
    `span_lengths`, each at a uniformly drawn start among the maskable pieces, cut at the next special token,
    until at least `rate` of the maskable pieces are chosen. Returns a bool [T]."""
    maskable = special == 0
    budget = max(1, round(rate * int(maskable.sum())))
    chosen = torch.zeros_like(maskable)
    starts = maskable.nonzero()[:, 0]
    if len(starts) == 0:
        return chosen
    while int(chosen.sum()) < budget:
        length = int(span_lengths(1, p, max_len, generator))
        start = int(starts[torch.randint(len(starts), (1,), generator=generator)])
        for i in range(start, min(start + length, len(special))):
            if not maskable[i]:
                break
            chosen[i] = True
    return chosen


def scattered_mask(special: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` maskable positions (`special` [T] == 0) drawn uniformly without replacement: BERT's scattered
    selection with exactly as many pieces as a span selection chose. Returns a bool [T]."""
    maskable = (special == 0).nonzero()[:, 0]
    chosen = torch.zeros(special.shape, dtype=torch.bool)
    pick = torch.randperm(len(maskable), generator=generator)[: min(n, len(maskable))]
    chosen[maskable[pick]] = True
    return chosen


def runs(chosen: torch.Tensor) -> list[tuple[int, int]]:
    """The contiguous runs of True in a bool [T], as (start, end) with end exclusive."""
    edges = torch.diff(torch.cat([torch.zeros(1), chosen.double().reshape(-1), torch.zeros(1)]))
    return list(zip((edges == 1).nonzero()[:, 0].tolist(), (edges == -1).nonzero()[:, 0].tolist()))


@torch.no_grad()
def probs_of_originals(model, batch_ids: torch.Tensor, attention_mask, originals: torch.Tensor,
                       chosen: torch.Tensor, token_type_ids=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For B corrupted copies `[B, T]` of one sequence (`originals` [T]) and their chosen positions (bool
    `[B, T]`): P(original piece), whether it is the top-1, and the top-1 id, at every chosen position, row by
    row (flat [N])."""
    from explainers.mlm import encode, mlm_head

    B = batch_ids.shape[0]
    att = attention_mask.expand(B, -1)
    types = token_type_ids.expand(B, -1) if token_type_ids is not None else None
    hidden = encode(model, batch_ids, att, types)[chosen]  # [N, d]
    probs = mlm_head(model, hidden).float().softmax(-1)  # [N, V]
    target = originals.reshape(1, -1).expand(B, -1)[chosen].to(probs.device)  # [N]
    p, top = probs.gather(1, target[:, None])[:, 0], probs.argmax(-1)
    return p.cpu(), (top == target).cpu(), top.cpu()


@dataclass(frozen=True)
class SpanComparison:
    """The model's guesses at span-masked vs scattered positions, over `draws` seeded draws at the same count."""

    draws: int
    pieces: int  # chosen pieces over all draws (the same for both selections)
    span_top1: float
    scattered_top1: float
    span_p: float  # mean P(original)
    scattered_p: float


def spans_vs_scattered(model, input_ids: torch.Tensor, attention_mask, special: torch.Tensor, *, mask_token_id: int,
                       draws: int = 20, seed: int = 0, rate: float = 0.15, token_type_ids=None) -> SpanComparison:
    """`draws` span selections (`span_mask`) of one sequence `[1, T]`, each with a scattered selection of the
    same number of pieces; every chosen piece reads [MASK]. One forward pass of 2 × draws copies."""
    special = special.reshape(-1)
    selections = []
    for d in range(draws):
        g = torch.Generator().manual_seed(seed * 1_000_003 + d)
        spans = span_mask(special, rate, generator=g)
        selections += [spans, scattered_mask(special, int(spans.sum()), g)]
    chosen = torch.stack(selections).to(input_ids.device)  # [2·draws, T]: span, scattered, span, …
    batch = input_ids.expand(len(selections), -1).masked_fill(chosen, mask_token_id)
    p, hit, _ = probs_of_originals(model, batch, attention_mask, input_ids[0], chosen, token_type_ids)
    is_span = torch.cat([torch.full((int(c.sum()),), i % 2 == 0) for i, c in enumerate(chosen.cpu())])
    return SpanComparison(draws, int(is_span.sum()), float(hit[is_span].float().mean()),
                          float(hit[~is_span].float().mean()), float(p[is_span].mean()), float(p[~is_span].mean()))
