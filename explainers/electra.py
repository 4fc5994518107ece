r"""
# ELECTRA: replaced-token detection

ELECTRA (Clark et al., 2020) turns masked language modelling into a game between two networks.

1. **Mask.** Choose 15 % of the positions with `explainers.masking.mask_tokens`; for the generator every chosen
   position becomes `[MASK]` (no random or unchanged tokens).
2. **Generate.** A small masked-language model, the *generator*, predicts a distribution at each `[MASK]`
   and a replacement is **sampled** from it (not the arg-max): $\hat x_i \sim \mathrm{softmax}(z_i / T)$.
3. **Corrupt.** The sampled pieces replace the originals. A sampled piece that happens to equal the original
   is labelled **original**: the discriminator is asked "was this token replaced?", and it was not.
4. **Discriminate.** The *discriminator* reads the corrupted sequence and gives every token a probability of
   having been replaced, learning from **all** positions, not only the 15 % that were masked:

$$\mathcal{L}_\text{disc} = -\frac{1}{n}\sum_{t=1}^{n} \Big[ y_t \log D(x^\text{corrupt}, t)
   + (1 - y_t) \log\big(1 - D(x^\text{corrupt}, t)\big) \Big]$$

over the $n$ non-padding tokens, with $y_t = 1$ for replaced. The two are trained together:

$$\mathcal{L} = \mathcal{L}_\text{MLM}(\text{generator}) + \lambda\, \mathcal{L}_\text{disc}, \qquad \lambda = 50,$$

$\lambda$ being large because the discriminator's per-token loss is much smaller than the MLM loss. No gradient
flows from the discriminator into the generator through the sampling: it is not a GAN. The generator is small
(the paper found 1/4 to 1/2 of the discriminator's width best: a strong generator makes the task too hard),
and the two share their embeddings. After pretraining the generator is dropped; the discriminator is the model
that is fine-tuned.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from explainers.masking import IGNORE_INDEX, mask_tokens
from explainers.mlm import encode, mlm_head

LAMBDA = 50.0


@dataclass(frozen=True)
class Corruption:
    """One replaced-token-detection step's data. Tensors `[B, T]` unless noted."""

    masked_ids: torch.Tensor  # what the generator reads: chosen positions are [MASK]
    mlm_labels: torch.Tensor  # original id at chosen positions, IGNORE_INDEX elsewhere
    generator_logits: torch.Tensor  # [N, V] at the N chosen positions (row-major order)
    sampled_ids: torch.Tensor  # [N] the generator's samples
    corrupted_ids: torch.Tensor  # what the discriminator reads
    replaced: torch.Tensor  # 1 where the token differs from the original, else 0 (the discriminator's labels)


def sample(logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """One sample per row of `[N, V]` logits from softmax(logits / T)."""
    assert temperature > 0, f"temperature must be positive, got {temperature}"
    probs = (logits.float() / temperature).softmax(-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def replaced_labels(original: torch.Tensor, corrupted: torch.Tensor) -> torch.Tensor:
    """1 where the discriminator's input differs from the original, 0 where it is the same (sampled or not)."""
    return (original != corrupted).long()


def corrupt(generator_model, input_ids, attention_mask, special_tokens_mask, *, mask_token_id: int,
            vocab_size: int, rate: float = 0.15, temperature: float = 1.0, token_type_ids=None,
            generator: torch.Generator | None = None) -> Corruption:
    """Mask (all chosen → [MASK]), run the generator, sample replacements, build the discriminator's input."""
    m = mask_tokens(input_ids, special_tokens_mask, mask_token_id=mask_token_id, vocab_size=vocab_size,
                    rate=rate, p_mask=1.0, p_random=0.0, generator=generator)
    selected = m.selected
    hidden = encode(generator_model, m.input_ids, attention_mask, token_type_ids)
    logits = mlm_head(generator_model, hidden[selected])  # [N, V]
    with torch.no_grad():
        sampled = sample(logits.detach(), temperature, generator=generator)
    corrupted = input_ids.clone()
    corrupted[selected] = sampled
    return Corruption(m.input_ids, m.labels, logits, sampled, corrupted, replaced_labels(input_ids, corrupted))


def discriminator_loss(logits: torch.Tensor, replaced: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the non-padding tokens, as `ElectraForPreTraining` computes it."""
    active = attention_mask.bool()
    return F.binary_cross_entropy_with_logits(logits[active].float(), replaced[active].float())


@dataclass(frozen=True)
class ElectraLoss:
    total: torch.Tensor  # mlm + λ·disc
    mlm: torch.Tensor  # the generator's cross-entropy at the masked positions
    disc: torch.Tensor  # the discriminator's binary cross-entropy over all tokens
    lam: float


def electra_loss(c: Corruption, discriminator_logits, attention_mask, lam: float = LAMBDA) -> ElectraLoss:
    mlm = F.cross_entropy(c.generator_logits.float(), c.mlm_labels[c.mlm_labels != IGNORE_INDEX])
    disc = discriminator_loss(discriminator_logits, c.replaced, attention_mask)
    return ElectraLoss(mlm + lam * disc, mlm, disc, lam)


def share_embeddings(generator_model, discriminator_model) -> None:
    """Give the generator the discriminator's embedding layer (token, position, segment, LayerNorm) and re-tie
    the generator's output layer to the shared token embeddings."""
    gen, disc = generator_model.electra, discriminator_model.electra
    assert gen.embeddings.word_embeddings.weight.shape == disc.embeddings.word_embeddings.weight.shape, (
        "the generator's embedding_size must equal the discriminator's to share embeddings")
    gen.embeddings = disc.embeddings
    generator_model.generator_lm_head.weight = disc.embeddings.word_embeddings.weight
