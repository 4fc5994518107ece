r"""
# Attention heads

In every layer, each of the $H$ heads projects the $T$ input vectors to queries $Q$, keys $K$ and values $V$
of size $d_h = d/H$ (384/12 = 32 here, 768/12 = 64 in BERT-base) and mixes the values with weights

$$A = \mathrm{softmax}\!\Big(\frac{QK^\top}{\sqrt{d_h}} + M\Big), \qquad \text{head output} = AV,$$

where $M$ is $-\infty$ at padding. Row $i$ of $A$ is a probability distribution: how much token $i$ takes from
each token $j$. Rows sum to 1.

Heads specialise. Clark et al. (2019, *What Does BERT Look At?*) found heads that attend to the next or the
previous token, heads that put most weight on `[SEP]` (a "no-op": nothing useful to take), broad heads that
average over the sentence, and heads that follow syntax. The statistics below make those patterns visible:

* **entropy** of a row, $-\sum_j A_{ij}\log A_{ij}$, averaged over rows: low = sharp, high = broad;
* the average share of attention each row gives to `[CLS]`, to `[SEP]`, to the token itself, and to the
  previous and the next token.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from explainers.errors import require

STATS = ("entropy", "to_cls", "to_sep", "to_self", "to_prev", "to_next")  # the UI words them (attention.stat_*)


@torch.no_grad()
def attention_probs(encoder, input_ids, attention_mask, token_type_ids=None) -> np.ndarray:
    """`[L, H, T, T]` attention probabilities of one sequence; rows sum to 1.

    The encoder must be loaded with `attn_implementation="eager"`: other kernels return no attentions.
    """
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True)
    if token_type_ids is not None and encoder.config.model_type != "distilbert":
        kwargs["token_type_ids"] = token_type_ids
    out = encoder(**kwargs)
    require(out.attentions and out.attentions[0] is not None,
            "the model returned no attentions: load it with attn_implementation='eager'")
    return torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()


@dataclass(frozen=True)
class HeadStats:
    """Each field `[L, H]`: one number per head, averaged over the rows (query tokens)."""

    entropy: np.ndarray  # mean row entropy, nats
    to_cls: np.ndarray  # mean weight on [CLS] (position 0)
    to_sep: np.ndarray  # mean weight on all [SEP] positions together
    to_self: np.ndarray  # mean weight on the diagonal
    to_prev: np.ndarray  # mean weight on position i-1 (rows i >= 1)
    to_next: np.ndarray  # mean weight on position i+1 (rows i <= T-2)

    def get(self, name: str) -> np.ndarray:
        return getattr(self, name)


def head_stats(probs: np.ndarray, sep_positions: list[int], cls_position: int = 0) -> HeadStats:
    """Per-head statistics of `probs` `[L, H, T, T]`."""
    require(probs.ndim == 4 and probs.shape[-1] == probs.shape[-2], f"need [L, H, T, T], got {probs.shape}")
    T = probs.shape[-1]
    entropy = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(-1).mean(-1)
    diag = np.diagonal(probs, axis1=-2, axis2=-1)  # [L, H, T]
    prev = np.diagonal(probs, offset=-1, axis1=-2, axis2=-1)  # A[i, i-1], i = 1..T-1
    nxt = np.diagonal(probs, offset=1, axis1=-2, axis2=-1)  # A[i, i+1], i = 0..T-2
    nan = np.full(probs.shape[:2], np.nan)
    return HeadStats(
        entropy=entropy,
        to_cls=probs[..., cls_position].mean(-1),
        to_sep=probs[..., sep_positions].sum(-1).mean(-1) if sep_positions else np.zeros(probs.shape[:2]),
        to_self=diag.mean(-1),
        to_prev=prev.mean(-1) if T > 1 else nan,
        to_next=nxt.mean(-1) if T > 1 else nan,
    )


def dominant_pattern(stats: HeadStats, layer: int, head: int, threshold: float = 0.5) -> tuple[str, float] | None:
    """A head's reading: (the pattern of `STATS[1:]` holding the most of its attention, that share) when the
    share is at least `threshold`; None for a broad head, where no single pattern does."""
    shares = {k: float(stats.get(k)[layer, head]) for k in STATS[1:]}
    name, share = max(shares.items(), key=lambda kv: -1 if np.isnan(kv[1]) else kv[1])
    return (name, share) if share >= threshold else None


CLEAR = ("to_prev", "to_next", "to_self")  # patterns a class sees at once in a matrix: a diagonal, one off it


def clearest_head(stats: HeadStats, patterns: tuple[str, ...] = CLEAR) -> tuple[int, int, str, float]:
    """(layer, head, pattern, share) of the head that gives the largest share of its attention to one of
    `patterns`: the head a chapter opens on, a clean diagonal rather than a head that parks its attention on
    [CLS] or [SEP]. Ties go to the first layer and head; a one-token input (no neighbours) gives (0, 0)."""
    best = (0, 0, patterns[0], float("nan"))
    for name in patterns:
        values = np.nan_to_num(stats.get(name), nan=-1.0)
        layer, head = np.unravel_index(int(np.argmax(values)), values.shape)
        if values[layer, head] > (-1 if np.isnan(best[3]) else best[3]):
            best = (int(layer), int(head), name, float(values[layer, head]))
    return best
