"""UniLM: one encoder, three self-attention masks (bidirectional, left-to-right, sequence-to-sequence), applied to
the encoder as it is. The math: `explainers.family`."""
from __future__ import annotations

import torch

from explainers.errors import require


UNILM_KINDS = ("bidirectional", "left-to-right", "seq2seq")


def unilm_mask(kind: str, n: int, source: int = 0) -> torch.Tensor:
    """UniLM's self-attention mask as booleans [n, n] (True: row i may attend to column j)."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    if kind == "bidirectional":
        return torch.ones(n, n, dtype=torch.bool)
    if kind == "left-to-right":
        return j <= i
    if kind == "seq2seq":
        require(0 < source < n, f"a sequence-to-sequence mask needs a source inside the sequence, got {source} of {n}")
        return (j < source) | ((i >= source) & (j <= i))
    raise ValueError(f"kind must be one of {UNILM_KINDS}, not {kind!r}")


def _additive(allowed: torch.Tensor, dtype) -> torch.Tensor:
    """UniLM's mask as added to the attention scores: 0 where allowed, the dtype's minimum elsewhere."""
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)


def encode_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, token_type_ids=None) -> torch.Tensor:
    """A BERT-layout encoder's last hidden states [B, T, H] with the attention limited to `allowed` ([T, T]
    booleans, shared by the batch): the mask is added to the scores as 0 / the dtype's minimum, as UniLM does."""
    base = model.base_model
    require(base.config.model_type in ("bert", "electra"), "a per-pair attention mask needs a BERT-layout encoder")
    additive = _additive(allowed, next(base.parameters()).dtype)
    additive = additive[None, None].expand(input_ids.shape[0], 1, *allowed.shape).to(input_ids.device)
    kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
    return base(input_ids=input_ids, attention_mask=additive, **kwargs).last_hidden_state


@torch.no_grad()
def attention_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, token_type_ids=None) -> torch.Tensor:
    """`[L, H, T, T]` attention probabilities of one sequence under `allowed` (as `encode_under`); the model must
    be loaded with eager attention. A row gives zero weight to every column it may not attend to."""
    base = model.base_model
    additive = _additive(allowed, next(base.parameters()).dtype)
    kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
    out = base(input_ids=input_ids, attention_mask=additive[None, None].to(input_ids.device),
               output_attentions=True, **kwargs)
    require(out.attentions and out.attentions[0] is not None, "load the model with attn_implementation='eager'")
    return torch.stack([a[0] for a in out.attentions]).float().cpu()


@torch.no_grad()
def predict_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, position: int, k: int = 5,
                  token_type_ids=None) -> tuple[list[int], list[float], torch.Tensor]:
    """Top-k ids and probabilities of the MLM head at `position` of one sequence `[1, T]` under `allowed`, and
    the whole distribution there ([V])."""
    from explainers.mlm import mlm_head

    hidden = encode_under(model, input_ids, allowed, token_type_ids)[0, position]
    probs = mlm_head(model, hidden).float().softmax(-1).cpu()
    top = probs.topk(k)
    return top.indices.tolist(), top.values.tolist(), probs
