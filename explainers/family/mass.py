"""MASS: a fragment masked for the encoder and predicted left to right by a decoder (teacher forcing). The math:
`explainers.family`."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from explainers.errors import require
from explainers.family.spanbert import probs_of_originals
from explainers.family.unilm import unilm_mask


@dataclass(frozen=True)
class Mass:
    """MASS's inputs for one sequence: the encoder reads the sentence with the fragment [start, end) masked;
    the decoder reads the fragment shifted right by one (its first input a [MASK] standing for the start
    symbol; MASS's decoder has no input outside the fragment) and predicts the fragment."""

    encoder_ids: torch.Tensor  # [T]
    decoder_ids: torch.Tensor  # [k]: positions start … end-1
    targets: torch.Tensor  # [k]: the fragment
    decoder_self: torch.Tensor  # [k, k] bool: causal
    cross: torch.Tensor  # [k, T] bool: the decoder attends to every encoder position


def mass_inputs(input_ids: torch.Tensor, start: int, end: int, mask_token_id: int) -> Mass:
    ids = input_ids.reshape(-1)
    require(0 <= start < end <= len(ids), f"fragment [{start}, {end}) outside a sequence of {len(ids)}")
    k = end - start
    encoder = ids.clone()
    encoder[start:end] = mask_token_id
    decoder = torch.cat([torch.tensor([mask_token_id]), ids[start:end - 1]])
    return Mass(encoder, decoder, ids[start:end].clone(), unilm_mask("left-to-right", k),
                torch.ones(k, len(ids), dtype=torch.bool))


@torch.no_grad()
def fragment_probs(model, input_ids: torch.Tensor, attention_mask, start: int, end: int, *, mask_token_id: int,
                   token_type_ids=None) -> tuple[list[float], list[float]]:
    """P(each fragment piece) two ways, for one sequence `[1, T]`: with the whole fragment masked (the
    encoder's view, every piece at once), and with the pieces before it revealed (what MASS's decoder is
    given, teacher forcing). A bidirectional encoder stands in for the decoder: it reads the same words."""
    positions = list(range(start, end))
    k = len(positions)
    batch = input_ids.expand(k + 1, -1).clone()
    batch[0, start:end] = mask_token_id  # row 0: the whole fragment masked
    for row, i in enumerate(positions, start=1):  # row r: fragment pieces from the r-th on masked
        batch[row, i:end] = mask_token_id
    chosen = torch.zeros(batch.shape, dtype=torch.bool)
    chosen[0, start:end] = True
    for row, i in enumerate(positions, start=1):
        chosen[row, i] = True
    p, _, _ = probs_of_originals(model, batch, attention_mask, input_ids[0], chosen.to(batch.device),
                                 token_type_ids)
    return p[:k].tolist(), p[k:].tolist()
