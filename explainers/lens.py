r"""
# The logit lens, for a masked-language model

nostalgebraist's *logit lens* (2020) reads a transformer's intermediate states with the model's own output head:
the hidden vector $h^{(\ell)}_i$ after layer $\ell$ is pushed through the head as if it were the last one,

$$p^{(\ell)}(\cdot \mid i) = \mathrm{softmax}\big(\mathrm{head}(h^{(\ell)}_i)\big), \qquad \ell = 0, 1, \dots, L,$$

where $\ell = 0$ is the embedding output and $\mathrm{head}$ is the MLM head of `explainers.mlm` (for GPT it was
the unembedding). At $\ell = L$ it is exactly the model's prediction; earlier rows show how the guess forms
layer by layer. The head was trained only on the last layer, so early rows are a rough reading, not the
model's "belief".
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from explainers.mlm import mlm_head


@dataclass(frozen=True)
class Lens:
    """The MLM head read at one position after every layer (row 0 = the embeddings, row L = the last layer)."""

    position: int
    layers: list[int]  # [L+1]: 0 (embeddings), 1, ..., L
    top_ids: torch.Tensor  # [L+1, k] token ids, most probable first, per layer
    top_probs: torch.Tensor  # [L+1, k] their probabilities
    final_id: int  # the last layer's top-1: the model's answer
    final_ranks: torch.Tensor  # [L+1] rank of final_id at each layer (0 = top-1); 0 at the last layer
    final_probs: torch.Tensor  # [L+1] probability of final_id at each layer


def hidden_states(model, input_ids, attention_mask, token_type_ids=None) -> tuple[torch.Tensor, ...]:
    """The encoder's L+1 hidden states `[B, T, d]` (embedding output first), for BERT and DistilBERT alike."""
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    if token_type_ids is not None and model.config.model_type != "distilbert":
        kwargs["token_type_ids"] = token_type_ids
    states = model.base_model(**kwargs).hidden_states
    assert states is not None, "the encoder returned no hidden states: it ignored output_hidden_states=True"
    return states


@torch.no_grad()
def logit_lens(model, input_ids, attention_mask, position: int, k: int = 5, token_type_ids=None) -> Lens:
    """Apply the model's own MLM head to the hidden state at `position` of one sequence `[1, T]` after every layer."""
    assert input_ids.dim() == 2 and input_ids.shape[0] == 1, f"one sequence [1, T], got {tuple(input_ids.shape)}"
    T = input_ids.shape[1]
    assert 0 <= position < T, f"position {position} is outside the sequence of {T} pieces"
    states = hidden_states(model, input_ids, attention_mask, token_type_ids)
    h = torch.stack([s[0, position] for s in states])  # [L+1, d]: one row per layer
    probs = mlm_head(model, h).float().softmax(-1)  # [L+1, V]: p^(l)(. | position)
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    final_id = int(top.indices[-1, 0])  # the model's answer: top-1 at the last layer
    final_probs = probs[:, final_id]  # [L+1]
    final_ranks = (probs > final_probs[:, None]).sum(-1)  # [L+1]: pieces strictly more probable
    return Lens(position, list(range(len(states))), top.indices.cpu(), top.values.cpu(), final_id,
                final_ranks.cpu(), final_probs.cpu())
