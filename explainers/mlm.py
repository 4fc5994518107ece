r"""
# The masked-language-model objective

After masking (see `explainers.masking`), the encoder reads the corrupted sequence and produces a hidden
vector $h_i \in \mathbb{R}^{d}$ per position. The MLM head maps each to a distribution over the vocabulary:

$$p(\cdot \mid i) = \mathrm{softmax}\big(E\,\mathrm{LN}(\mathrm{gelu}(W h_i + b)) + c\big)$$

where $E$ is the token-embedding matrix itself (the head is *tied* to the input embeddings). The loss is the
mean cross-entropy over the selected positions only:

$$\mathcal{L}_\text{MLM} = -\frac{1}{|M|}\sum_{i \in M} \log p(x_i \mid i).$$

Only about 15 % of positions carry a loss, so applying the head (a $d \times 30522$ product, as costly as the
whole 6-layer encoder at this size) to the selected positions alone gives the same loss at a fraction of the
cost. `masked_lm_loss` does exactly that and equals `BertForMaskedLM(..., labels=...).loss`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from explainers.masking import IGNORE_INDEX
from explainers.errors import require


def encode(model, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
    """Last hidden states `[B, T, d]` of any HF masked-LM (BERT, DistilBERT, ELECTRA generator)."""
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask)
    if token_type_ids is not None and model.config.model_type != "distilbert":
        kwargs["token_type_ids"] = token_type_ids
    return model.base_model(**kwargs).last_hidden_state


def mlm_head(model, hidden: torch.Tensor) -> torch.Tensor:
    """Vocabulary logits `[..., V]` from hidden states `[..., d]`, with the model's own head."""
    kind = model.config.model_type
    if kind == "bert":
        return model.cls(hidden)
    if kind == "distilbert":
        x = model.vocab_layer_norm(model.activation(model.vocab_transform(hidden)))
        return model.vocab_projector(x)
    if kind == "electra":
        return model.generator_lm_head(model.generator_predictions(hidden))
    raise ValueError(f"no MLM head known for model_type {kind!r}")


@dataclass(frozen=True)
class MLMOutput:
    loss: torch.Tensor  # scalar: mean cross-entropy over selected positions
    logits: torch.Tensor  # [N, V]: logits at the N selected positions, in row-major order
    labels: torch.Tensor  # [N]: the original ids there


def masked_lm_loss(model, input_ids, attention_mask, labels, token_type_ids=None) -> MLMOutput:
    """MLM loss with the head applied at selected positions only (labels != IGNORE_INDEX)."""
    hidden = encode(model, input_ids, attention_mask, token_type_ids)  # [B, T, d]
    selected = labels != IGNORE_INDEX  # [B, T]
    logits = mlm_head(model, hidden[selected])  # [N, V]
    target = labels[selected]
    return MLMOutput(F.cross_entropy(logits.float(), target), logits, target)


@dataclass(frozen=True)
class Predictions:
    """The model's top-k at N positions of one sequence."""

    positions: list[int]  # N positions (indices into the sequence)
    top_ids: torch.Tensor  # [N, k] token ids, most probable first
    top_probs: torch.Tensor  # [N, k] their probabilities
    target_ids: torch.Tensor | None  # [N] the original tokens, when known
    target_probs: torch.Tensor | None  # [N] probability the model gives the original
    target_ranks: torch.Tensor | None  # [N] rank of the original (0 = top-1)


@torch.no_grad()
def predict(model, input_ids, attention_mask, positions: list[int], k: int = 5, token_type_ids=None,
            targets: list[int] | None = None) -> Predictions:
    """Top-k of the MLM head at `positions` of one sequence `[1, T]`; with `targets`, their probability and rank."""
    require(input_ids.shape[0] == 1, "one sequence at a time")
    hidden = encode(model, input_ids, attention_mask, token_type_ids)[0, positions]  # [N, d]
    probs = mlm_head(model, hidden).float().softmax(-1)  # [N, V]
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    if targets is None:
        return Predictions(list(positions), top.indices, top.values, None, None, None)
    t = torch.tensor(targets, device=probs.device)
    p_target = probs.gather(1, t[:, None])[:, 0]
    ranks = (probs > p_target[:, None]).sum(-1)
    return Predictions(list(positions), top.indices, top.values, t, p_target, ranks)


@dataclass(frozen=True)
class RatePoint:
    rate: float
    top1: float  # share of selected positions whose original is the arg-max
    loss: float  # mean cross-entropy at selected positions (nats)
    targets_per_sequence: float  # selected positions per sequence: the training signal a step gets


@torch.no_grad()
def accuracy_by_rate(model, input_ids, attention_mask, special, *, mask_token_id: int, vocab_size: int,
                     rates: list[float], seed: int = 0, p_mask: float = 0.8, p_random: float = 0.1) -> list[RatePoint]:
    """Masked-token accuracy and loss of `model` on a held-out batch `[B, T]`, masked at each rate in turn.

    The masking is `explainers.masking.mask_tokens` and the loss `masked_lm_loss`: what training optimises.
    """
    from explainers.masking import mask_tokens

    points = []
    for i, rate in enumerate(rates):
        g = torch.Generator().manual_seed(seed)
        m = mask_tokens(input_ids, special, mask_token_id=mask_token_id, vocab_size=vocab_size, rate=rate,
                        p_mask=p_mask, p_random=p_random, generator=g)
        out = masked_lm_loss(model, m.input_ids.to(input_ids.device), attention_mask, m.labels.to(input_ids.device))
        n = len(out.labels)
        top1 = float((out.logits.argmax(-1) == out.labels).float().mean()) if n else float("nan")
        points.append(RatePoint(rate, top1, float(out.loss) if n else float("nan"), n / input_ids.shape[0]))
    return points


@dataclass(frozen=True)
class RateCurve:
    """`accuracy_by_rate` repeated over seeds: per rate the mean and standard deviation across seeds."""

    rates: list[float]
    seeds: list[int]
    top1: list[list[float]]  # [seed][rate]
    loss: list[list[float]]  # [seed][rate]
    targets_per_sequence: list[float]  # [rate] mean over seeds
    sequences: int

    def mean(self, what: str) -> list[float]:
        rows = torch.tensor(getattr(self, what))
        return rows.mean(0).tolist()

    def std(self, what: str) -> list[float]:
        """Sample standard deviation across seeds (0 with one seed)."""
        rows = torch.tensor(getattr(self, what))
        return rows.std(0, unbiased=True).tolist() if len(rows) > 1 else [0.0] * rows.shape[1]


def rate_curve(model, input_ids, attention_mask, special, *, mask_token_id: int, vocab_size: int,
               rates: list[float], seeds: list[int]) -> RateCurve:
    """The "Why 15 %?" curve: `accuracy_by_rate` at every rate, once per seed (each seed a new masking of the
    same held-out batch), so that the spread between seeds shows which wiggles are noise."""
    runs = [accuracy_by_rate(model, input_ids, attention_mask, special, mask_token_id=mask_token_id,
                             vocab_size=vocab_size, rates=rates, seed=seed) for seed in seeds]
    return RateCurve(list(rates), list(seeds), [[p.top1 for p in run] for run in runs],
                     [[p.loss for p in run] for run in runs],
                     [sum(run[i].targets_per_sequence for run in runs) / len(runs) for i in range(len(rates))],
                     int(input_ids.shape[0]))


def trend(values: list[float]) -> str:
    """How a measured curve goes from its first point to its last: "falls_steadily" (every step down), "falls"
    (lower at the end, not at every step), or "does_not_fall". The words under the rate curve follow it."""
    require(len(values) >= 2, "a trend needs two points")
    if values[-1] >= values[0]:
        return "does_not_fall"
    return "falls_steadily" if all(b < a for a, b in zip(values, values[1:])) else "falls"
