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
from explainers.errors import require


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
    require(states is not None, "the encoder returned no hidden states: it ignored output_hidden_states=True")
    return states


@torch.no_grad()
def logit_lens(model, input_ids, attention_mask, position: int, k: int = 5, token_type_ids=None) -> Lens:
    """Apply the model's own MLM head to the hidden state at `position` of one sequence `[1, T]` after every layer."""
    require(input_ids.dim() == 2 and input_ids.shape[0] == 1, f"one sequence [1, T], got {tuple(input_ids.shape)}")
    T = input_ids.shape[1]
    require(0 <= position < T, f"position {position} is outside the sequence of {T} pieces")
    states = hidden_states(model, input_ids, attention_mask, token_type_ids)
    h = torch.stack([s[0, position] for s in states])  # [L+1, d]: one row per layer
    probs = mlm_head(model, h).float().softmax(-1)  # [L+1, V]: p^(l)(. | position)
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    final_id = int(top.indices[-1, 0])  # the model's answer: top-1 at the last layer
    final_probs = probs[:, final_id]  # [L+1]
    final_ranks = (probs > final_probs[:, None]).sum(-1)  # [L+1]: pieces strictly more probable
    return Lens(position, list(range(len(states))), top.indices.cpu(), top.values.cpu(), final_id,
                final_ranks.cpu(), final_probs.cpu())


@dataclass(frozen=True)
class Settling:
    """Where a lens's top guess meets the hidden piece, read from the top-1 of every layer (layer 0 first)."""

    hidden_layers: list[int]  # the layers whose top guess is the hidden piece
    settles_at: int | None  # the first layer from which the top guess is the hidden piece up to the last; None: the
    #                         last layer's top guess is another piece


def settling(top1: list, hidden) -> Settling:
    """`Settling` of one lens: `top1` [L+1] the top guess at each layer (ids or pieces), `hidden` the piece hidden."""
    hits = [layer for layer, x in enumerate(top1) if x == hidden]
    at = None
    if top1 and top1[-1] == hidden:
        at = len(top1) - 1
        while at > 0 and top1[at - 1] == hidden:
            at -= 1
    return Settling(hits, at)


@torch.no_grad()
def top1_when_hidden(model, input_ids, attention_mask, positions: list[int], *, mask_token_id: int,
                     token_type_ids=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The lens at each of `positions` of one sequence `[1, T]` with that one piece read as [MASK] (a copy per
    position, one pass): the top-1 id at every layer `[P, L+1]` and P(hidden piece) at the last layer `[P]`."""
    P = len(positions)
    rows = torch.arange(P)
    batch = input_ids.expand(P, -1).clone()
    batch[rows, positions] = mask_token_id
    types = token_type_ids.expand(P, -1) if token_type_ids is not None else None
    states = hidden_states(model, batch, attention_mask.expand(P, -1), types)
    h = torch.stack([s[rows, positions] for s in states], 1)  # [P, L+1, d]
    probs = mlm_head(model, h).float().softmax(-1)  # [P, L+1, V]
    hidden = input_ids[0, positions]  # [P]
    return probs.argmax(-1).cpu(), probs[rows, -1, hidden].cpu()


def opening_position(top1: torch.Tensor, final_p: torch.Tensor, hidden: list[int], words: list[bool],
                     clear: float = 0.25) -> int:
    """Which of P candidate positions the lens opens on (an index into them): a word whose lens settles on the hidden
    piece with P ≥ `clear` at the last layer, the one that settles latest (the guess is seen forming), nearest the
    middle among equals; else any word that settles on it; else the middle one."""
    P = len(hidden)
    require(top1.shape[0] == P == len(words) == final_p.shape[0], "one row per candidate position")
    middle = P // 2
    at = [settling(top1[i].tolist(), hidden[i]).settles_at for i in range(P)]
    for need in (clear, 0.0):
        good = [i for i in range(P) if words[i] and at[i] is not None and float(final_p[i]) >= need]
        if good:
            return max(good, key=lambda i: (at[i], -abs(i - middle)))
    return middle
