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
