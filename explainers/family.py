r"""
# BERT's family: one change each

Most of BERT's successors keep its Transformer and change one thing about what it sees.

**SpanBERT** (Joshi et al., 2020) masks *contiguous spans* instead of single pieces. A span's length is drawn
from a geometric distribution clipped at $\ell_\max = 10$,

$$P(\ell) = \frac{p\,(1-p)^{\ell-1}}{\sum_{k=1}^{\ell_\max} p\,(1-p)^{k-1}}, \qquad \ell = 1, \dots, \ell_\max,
\quad p = 0.2,$$

so the mean span is about 3.8 pieces; spans are drawn, each at a random start, until 15 % of the maskable pieces
are chosen. (The paper measures spans in whole words; here they are word pieces.) Inside a span the model must
rebuild several neighbouring pieces from the context on both sides of the span only.

**UniLM** (Dong et al., 2019) trains one Transformer for three kinds of language model by changing only the
self-attention mask $M$ added to the attention scores ($M_{ij} = 0$: position $i$ may attend to $j$;
$M_{ij} = -\infty$: it may not):

* bidirectional (BERT): $M_{ij} = 0$ for all $i, j$;
* left-to-right (GPT): $M_{ij} = 0$ if $j \le i$;
* sequence-to-sequence: with a source of $s$ positions, a source position attends to the whole source, and a
  target position attends to the whole source and to the target up to itself: $M_{ij} = 0$ if $j < s$, or if
  $i \ge s$ and $j \le i$.

The encoder here is applied under such a mask as it is: the bidirectional mask gives exactly its ordinary output.
"""
from __future__ import annotations

import torch

UNILM_KINDS = ("bidirectional", "left-to-right", "seq2seq")


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


def unilm_mask(kind: str, n: int, source: int = 0) -> torch.Tensor:
    """UniLM's self-attention mask as booleans [n, n] (True: row i may attend to column j)."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    if kind == "bidirectional":
        return torch.ones(n, n, dtype=torch.bool)
    if kind == "left-to-right":
        return j <= i
    if kind == "seq2seq":
        assert 0 < source < n, f"a sequence-to-sequence mask needs a source inside the sequence, got {source} of {n}"
        return (j < source) | ((i >= source) & (j <= i))
    raise ValueError(f"kind must be one of {UNILM_KINDS}, not {kind!r}")


def encode_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, token_type_ids=None) -> torch.Tensor:
    """A BERT-layout encoder's last hidden states [B, T, H] with the attention limited to `allowed` ([T, T]
    booleans, shared by the batch): the mask is added to the scores as 0 / the dtype's minimum, as UniLM does."""
    base = model.base_model
    assert base.config.model_type in ("bert", "electra"), "a per-pair attention mask needs a BERT-layout encoder"
    dtype = next(base.parameters()).dtype
    additive = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    additive = additive[None, None].expand(input_ids.shape[0], 1, *allowed.shape).to(input_ids.device)
    kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
    return base(input_ids=input_ids, attention_mask=additive, **kwargs).last_hidden_state
