"""RoBERTa: static masking (BERT's preprocessing, a few copies reused epoch after epoch) against dynamic masking
(a new mask every time), and how much of a sentence becomes a prediction target. The math: `explainers.family`."""
from __future__ import annotations

import torch

from explainers.errors import require


def epoch_seeds(epochs: int, dynamic: bool, duplicates: int = 1, seed: int = 0) -> list[int]:
    """The masking seed of each epoch. Static (BERT's preprocessing): the data was masked once, in `duplicates`
    copies (BERT's `dupe_factor`, 10 in RoBERTa's re-implementation), and epoch e reads copy e mod duplicates.
    Dynamic (RoBERTa): a new mask every time the sequence is fed, as `training/loop.py` seeds each step."""
    require(epochs >= 1 and duplicates >= 1, 'expected epochs >= 1 and duplicates >= 1')
    return [seed * 1_000_003 + (e if dynamic else e % duplicates) for e in range(epochs)]


def epoch_masks(input_ids: torch.Tensor, special: torch.Tensor, *, epochs: int, dynamic: bool, duplicates: int = 1,
                seed: int = 0, mask_token_id: int, vocab_size: int, rate: float = 0.15) -> list:
    """`explainers.masking.mask_tokens` of one sequence `[1, T]` at every epoch: a `MaskingResult` per epoch."""
    from explainers.masking import mask_tokens

    return [mask_tokens(input_ids, special, mask_token_id=mask_token_id, vocab_size=vocab_size, rate=rate,
                        generator=torch.Generator().manual_seed(s))
            for s in epoch_seeds(epochs, dynamic, duplicates, seed)]


def coverage(selections: list[torch.Tensor], special: torch.Tensor) -> list[float]:
    """After each epoch, the share of maskable positions that were predicted at least once so far."""
    maskable = special.reshape(-1) == 0
    seen = torch.zeros_like(maskable)
    out = []
    for chosen in selections:
        seen |= chosen.reshape(-1).bool() & maskable
        out.append(int(seen.sum()) / max(1, int(maskable.sum())))
    return out


def expected_coverage(rate: float, epochs: int, dynamic: bool, duplicates: int = 1) -> list[float]:
    """E[coverage] after each epoch: 1 − (1 − rate)^(distinct masks seen so far)."""
    return [1 - (1 - rate) ** (e + 1 if dynamic else min(e + 1, duplicates)) for e in range(epochs)]
