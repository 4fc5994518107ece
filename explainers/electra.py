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

**A generator that already speaks.** Trained from scratch beside the discriminator, a small generator first
samples punctuation and function words, and the discriminator learns to spot those, not plausible fakes. So
the built-in generator is first *distilled* from the app's BERT teacher (`generator_distillation_loss`):
at the masked positions it matches the teacher's distribution, $T^2\,\mathrm{KL}(p^T_\text{teacher} \,\|\,
p^T_\text{generator})$, plus $\alpha$ times its own MLM loss, with the discriminator held still; then the two
train together on $\mathcal{L}$ above.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from explainers.masking import IGNORE_INDEX, mask_tokens
from explainers.mlm import encode, mlm_head
from explainers.errors import require

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
    require(temperature > 0, f"temperature must be positive, got {temperature}")
    probs = (logits.float() / temperature).softmax(-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def replaced_labels(original: torch.Tensor, corrupted: torch.Tensor) -> torch.Tensor:
    """1 where the discriminator's input differs from the original, 0 where it is the same (sampled or not)."""
    return (original != corrupted).long()


def corrupt(generator_model, input_ids, attention_mask, special_tokens_mask, *, mask_token_id: int,
            vocab_size: int, rate: float = 0.15, temperature: float = 1.0, token_type_ids=None,
            generator: torch.Generator | None = None, sampling: torch.Generator | None = None,
            pool: torch.Tensor | None = None) -> Corruption:
    """Mask (all chosen → [MASK]), run the generator, sample replacements, build the discriminator's input.
    `sampling`: a random generator of its own for the draws (the masks then depend on `generator` only, so that
    different fake-makers see the same masks). `generator_model` None: no network, every replacement drawn
    uniformly from the pieces `pool` (`[V]` bool) marks, the paper's random-replacement baseline."""
    m = mask_tokens(input_ids.cpu(), special_tokens_mask.cpu(), mask_token_id=mask_token_id, vocab_size=vocab_size,
                    rate=rate, p_mask=1.0, p_random=0.0, generator=generator)
    selected = m.selected.to(input_ids.device)
    if generator_model is None:
        require(pool is not None and bool(pool.any()), "a random fake-maker needs a pool of pieces to draw from")
        logits = torch.zeros(int(selected.sum()), len(pool)).masked_fill(~pool, float("-inf")).to(input_ids.device)
    else:
        hidden = encode(generator_model, m.input_ids.to(input_ids.device), attention_mask, token_type_ids)
        logits = mlm_head(generator_model, hidden[selected])  # [N, V]
    with torch.no_grad():  # sampled on the CPU, where the torch.Generator lives: no gradient through it
        sampled = sample(logits.detach().cpu(), temperature, generator=sampling or generator).to(input_ids.device)
    corrupted = input_ids.clone()
    corrupted[selected] = sampled
    return Corruption(m.input_ids.to(input_ids.device), m.labels.to(input_ids.device), logits, sampled, corrupted,
                      replaced_labels(input_ids, corrupted))


def discriminator_loss(logits: torch.Tensor, replaced: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the non-padding tokens, as `ElectraForPreTraining` computes it."""
    active = attention_mask.bool()
    return F.binary_cross_entropy_with_logits(logits[active].float(), replaced[active].float())


@dataclass(frozen=True)
class ElectraLoss:
    """The two terms (tensors in training, floats for display) and the weight that combines them."""

    mlm: torch.Tensor | float  # the generator's cross-entropy at the masked positions (nan if none)
    disc: torch.Tensor | float  # the discriminator's binary cross-entropy over all real tokens
    lam: float = LAMBDA

    @property
    def total(self) -> torch.Tensor | float:
        # L = L_MLM + λ · L_disc
        return self.mlm + self.lam * self.disc

    def with_lambda(self, lam: float) -> "ElectraLoss":
        """The same terms weighted by another λ (the chapter's slider)."""
        return replace(self, lam=float(lam))


def electra_loss(c: Corruption, discriminator_logits, attention_mask, lam: float = LAMBDA) -> ElectraLoss:
    """The loss ELECTRA trains with (`training/pretrain_electra.py`) and the chapter shows."""
    chosen = c.mlm_labels != IGNORE_INDEX
    mlm = F.cross_entropy(c.generator_logits.float(), c.mlm_labels[chosen]) if chosen.any() \
        else torch.tensor(float("nan"))
    disc = discriminator_loss(discriminator_logits, c.replaced.to(discriminator_logits.device), attention_mask)
    return ElectraLoss(mlm, disc, lam)


@dataclass(frozen=True)
class GeneratorDistillation:
    loss: torch.Tensor  # kl + alpha_mlm · mlm
    kl: torch.Tensor  # T² · KL(teacher_T ‖ generator_T) at the masked positions (batchmean)
    mlm: torch.Tensor  # the generator's cross-entropy against the original pieces there


def generator_distillation_loss(generator_model, teacher_model, input_ids, attention_mask, special_tokens_mask, *,
                                mask_token_id: int, vocab_size: int, rate: float = 0.15, temperature: float = 1.0,
                                alpha_mlm: float = 1.0, token_type_ids=None,
                                generator: torch.Generator | None = None) -> GeneratorDistillation:
    """The generator's warm-up: the masking `corrupt` uses (every chosen piece → [MASK]), both models read the
    same masked text, and the generator matches the teacher's soft targets at the masked positions."""
    from explainers.distillation import soft_target_loss

    m = mask_tokens(input_ids.cpu(), special_tokens_mask.cpu(), mask_token_id=mask_token_id, vocab_size=vocab_size,
                    rate=rate, p_mask=1.0, p_random=0.0, generator=generator)
    ids, labels = m.input_ids.to(input_ids.device), m.labels.to(input_ids.device)
    chosen = labels != IGNORE_INDEX
    with torch.no_grad():
        t_logits = mlm_head(teacher_model, encode(teacher_model, ids, attention_mask, token_type_ids)[chosen])
    g_logits = mlm_head(generator_model, encode(generator_model, ids, attention_mask, token_type_ids)[chosen])
    kl = soft_target_loss(g_logits.float(), t_logits.float(), temperature)
    mlm = F.cross_entropy(g_logits.float(), labels[chosen])
    return GeneratorDistillation(kl + alpha_mlm * mlm, kl, mlm)


def teacher_kl(teacher_model, c: Corruption, attention_mask, temperature: float = 1.0,
               token_type_ids=None) -> torch.Tensor:
    """T² · KL(teacher_T ‖ generator_T) at the masked positions of a joint step's `Corruption`: the teacher reads
    the generator's input (`c.masked_ids`), so the generator keeps learning the teacher's distribution while it
    plays against the discriminator (`training/pretrain_electra.py --joint-kl`)."""
    from explainers.distillation import soft_target_loss

    chosen = c.mlm_labels != IGNORE_INDEX
    with torch.no_grad():
        t_logits = mlm_head(teacher_model, encode(teacher_model, c.masked_ids, attention_mask, token_type_ids)[chosen])
    return soft_target_loss(c.generator_logits.float(), t_logits.float(), temperature)


def share_embeddings(generator_model, discriminator_model) -> None:
    """Give the generator the discriminator's embedding layer (token, position, segment, LayerNorm) and re-tie
    the generator's output layer to the shared token embeddings."""
    gen, disc = generator_model.electra, discriminator_model.electra
    require(gen.embeddings.word_embeddings.weight.shape == disc.embeddings.word_embeddings.weight.shape,
            "the generator's embedding_size must equal the discriminator's to share embeddings")
    gen.embeddings = disc.embeddings
    generator_model.generator_lm_head.weight = disc.embeddings.word_embeddings.weight


def replaced_probability(discriminator_model, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
    """The discriminator's P(replaced) for every token `[B, T]`: sigmoid of `ElectraForPreTraining`'s logits."""
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask)
    if token_type_ids is not None:
        kwargs["token_type_ids"] = token_type_ids
    return discriminator_model(**kwargs).logits.float().sigmoid()


@dataclass(frozen=True)
class Detection:
    """One round of the game on one sequence `[1, T]`, for display. Lists have T entries unless noted."""

    original_ids: list[int]
    masked_ids: list[int]  # what the generator read
    positions: list[int]  # [N] masked positions
    top_ids: list[list[int]]  # [N, k] the generator's most probable pieces there
    top_probs: list[list[float]]  # [N, k] at the sampling temperature
    sampled_ids: list[int]  # [N] its samples
    corrupted_ids: list[int]  # what the discriminator read
    replaced: list[int]  # truth: 1 where corrupted differs from original
    p_replaced: list[float]  # the discriminator's P(replaced) at every position
    loss: ElectraLoss  # `electra_loss` of this round, as floats (mlm is nan if nothing was masked)


@torch.no_grad()
def replaced_token_detection(generator_model, discriminator_model, input_ids, attention_mask, special_tokens_mask,
                             *, mask_token_id: int, vocab_size: int, rate: float = 0.15, temperature: float = 1.0,
                             token_type_ids=None, seed: int = 0, k: int = 5) -> Detection:
    """`corrupt` and the discriminator on one sequence, as in training, with the generator's top-k kept."""
    require(input_ids.shape[0] == 1, "one sequence at a time")
    g = torch.Generator().manual_seed(seed)
    c = corrupt(generator_model, input_ids, attention_mask, special_tokens_mask, mask_token_id=mask_token_id,
                vocab_size=vocab_size, rate=rate, temperature=temperature, token_type_ids=token_type_ids,
                generator=g)
    probs = (c.generator_logits.float() / temperature).softmax(-1)
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    d_logits = discriminator_model(input_ids=c.corrupted_ids.to(input_ids.device), attention_mask=attention_mask,
                                   **({"token_type_ids": token_type_ids} if token_type_ids is not None else {})).logits
    positions = (c.mlm_labels[0] != IGNORE_INDEX).nonzero()[:, 0].tolist()
    loss = electra_loss(c, d_logits, attention_mask)
    return Detection(input_ids[0].tolist(), c.masked_ids[0].tolist(), positions, top.indices.tolist(),
                     top.values.tolist(), c.sampled_ids.tolist(), c.corrupted_ids[0].tolist(), c.replaced[0].tolist(),
                     d_logits[0].float().sigmoid().tolist(), ElectraLoss(float(loss.mlm), float(loss.disc)))


@dataclass(frozen=True)
class Separation:
    """How the discriminator's scores fall on one sequence: the mean P(replaced) of the pieces that were replaced
    and of those that were not (special tokens left out), the numbers the verdict's sentence states."""

    replaced: float | None  # mean P(replaced) over the replaced pieces; None when nothing was replaced
    original: float | None  # mean over the original pieces; None when every piece was replaced
    n_replaced: int
    n_original: int

    @property
    def apart(self) -> bool:
        """True when the replaced pieces score higher on average: "the redder, the surer it was replaced"."""
        return self.replaced is not None and self.original is not None and self.replaced > self.original


def separation(p_replaced: list[float], replaced: list[int], real: list[bool]) -> Separation:
    """Mean P(replaced) of replaced and of original pieces among the `real` (not special) positions."""
    rep = [p for p, y, r in zip(p_replaced, replaced, real) if r and y]
    orig = [p for p, y, r in zip(p_replaced, replaced, real) if r and not y]
    return Separation(sum(rep) / len(rep) if rep else None, sum(orig) / len(orig) if orig else None,
                      len(rep), len(orig))


def outranked_by(p_word: float, p_originals: list[float]) -> int:
    """How many original pieces score at least as high as the typed word: 0 means it stands out above them all."""
    return sum(p >= p_word for p in p_originals)
