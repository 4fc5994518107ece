"""How good is an ELECTRA discriminator, measured on held-out text: the ROC curve of its P(replaced) and the
counts at a threshold; the held-out text corrupted by the generator as training corrupts it (`heldout_scores`),
with the share of fakes that give themselves away (punctuation or function words where a content word was
masked); the same masks filled by makers of fakes of rising strength (`compare_fake_makers`), the ELECTRA paper's
point that a generator can be too strong; and random words swapped in, as a person playing "Try to fool it" does
(`word_swap_scores`). The game and the losses themselves are `explainers.electra`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from explainers.electra import corrupt, replaced_probability
from explainers.errors import require
from explainers.masking import IGNORE_INDEX, STOPWORDS, content_pieces, vocab_flags


@dataclass(frozen=True)
class Roc:
    """Receiver operating characteristic of scores against 0/1 labels (1 = replaced)."""

    fpr: torch.Tensor  # [K] false-positive rate at each threshold, rising from 0 to 1
    tpr: torch.Tensor  # [K] true-positive rate
    thresholds: torch.Tensor  # [K] score ≥ threshold counts as "replaced" (the first is +inf)
    auc: float  # area under the curve: P(a random replaced token outscores a random original one)
    positives: int
    negatives: int

    def at(self, threshold: float) -> tuple[float, float]:
        """(TPR, FPR) when a score ≥ `threshold` is flagged: the curve's point for the last threshold ≥ it."""
        i = int((self.thresholds >= threshold).sum()) - 1
        return float(self.tpr[i]), float(self.fpr[i])


def roc(scores: torch.Tensor, labels: torch.Tensor) -> Roc:
    """ROC curve and AUC of 1-D `scores` against `labels`; tied scores form one step (trapezoid area)."""
    scores, labels = scores.flatten().double(), labels.flatten().long()
    pos, neg = int(labels.sum()), int((1 - labels).sum())
    require(pos > 0 and neg > 0, "ROC needs both replaced and original tokens")
    order = torch.argsort(scores, descending=True, stable=True)
    s, y = scores[order], labels[order].double()
    tp, fp = torch.cumsum(y, 0), torch.cumsum(1 - y, 0)
    last = torch.ones_like(s, dtype=torch.bool)  # keep the last index of every run of equal scores
    last[:-1] = s[1:] != s[:-1]
    tpr = torch.cat([torch.zeros(1, dtype=torch.double), tp[last] / pos])
    fpr = torch.cat([torch.zeros(1, dtype=torch.double), fp[last] / neg])
    thresholds = torch.cat([torch.full((1,), float("inf"), dtype=torch.double), s[last]])
    auc = float(torch.trapezoid(tpr, fpr))
    return Roc(fpr.float(), tpr.float(), thresholds.float(), auc, pos, neg)


@dataclass(frozen=True)
class HeldoutScores:
    """The discriminator's P(replaced) on held-out text corrupted by the generator, over real tokens only
    ([CLS], [SEP] and padding are never replaced and are left out)."""

    scores: torch.Tensor  # [M] P(replaced)
    labels: torch.Tensor  # [M] 1 = replaced
    generator_top1: float  # share of masked positions where the generator's arg-max is the original
    masked: int  # masked positions
    sequences: int
    content_masked: int = 0  # masked positions whose original piece starts a content word (`content`)
    function_fakes: int = 0  # of those, where the generator sampled punctuation or a function word (`function`)

    @property
    def function_share(self) -> float | None:
        """Share of the generator's samples at masked content words that are punctuation or function words: fakes
        that a reader (and the discriminator) spots without reading the sentence."""
        return self.function_fakes / self.content_masked if self.content_masked else None


@torch.no_grad()
def heldout_scores(generator_model, discriminator_model, packed: dict, *, mask_token_id: int, vocab_size: int,
                   rate: float = 0.15, temperature: float = 1.0, seed: int = 1234, batch_size: int = 32,
                   content: torch.Tensor | None = None, function: torch.Tensor | None = None,
                   pool: torch.Tensor | None = None) -> HeldoutScores:
    """Corrupt packed held-out sequences (`input_ids`, `attention_mask`, `special`: `[B, T]`) batch by batch with
    the generator, as training does, and score every real token with the discriminator. The masks depend on
    `seed` alone (the draws have a random generator of their own), so two generators are compared on the same
    masked positions; `generator_model` None draws uniformly from `pool` (see `corrupt`). With `content` and
    `function` (`[V]` bool flags: `masking.content_pieces`, `function_pieces`), also count the samples at masked
    content words that are function pieces."""
    g = torch.Generator().manual_seed(seed)
    draws = torch.Generator().manual_seed(seed + 1)
    scores, labels = [], []
    correct = total = content_masked = function_fakes = 0
    n = len(packed["input_ids"])
    for i in range(0, n, batch_size):
        ids, att, special = (packed[k][i:i + batch_size] for k in ("input_ids", "attention_mask", "special"))
        c = corrupt(generator_model, ids, att, special, mask_token_id=mask_token_id, vocab_size=vocab_size,
                    rate=rate, temperature=temperature, generator=g, sampling=draws, pool=pool)
        target = c.mlm_labels[c.mlm_labels != IGNORE_INDEX]
        correct += int((c.generator_logits.argmax(-1) == target).sum())
        total += len(target)
        if content is not None and function is not None:
            at_content = content[target.cpu()]
            content_masked += int(at_content.sum())
            function_fakes += int((at_content & function[c.sampled_ids.cpu()]).sum())
        keep = special.to(ids.device) == 0
        scores.append(replaced_probability(discriminator_model, c.corrupted_ids, att)[keep].cpu())
        labels.append(c.replaced[keep].cpu())
    return HeldoutScores(torch.cat(scores), torch.cat(labels), correct / max(total, 1), total, n, content_masked,
                         function_fakes)


def function_pieces(vocab: dict[str, int]) -> torch.Tensor:
    """`[V]` bool: pieces a reader takes for no word of content: punctuation and symbols (no letter or digit), a
    function word (`masking.STOPWORDS`), and the special and unused pieces."""
    def is_function(piece: str) -> bool:
        if piece.startswith("[") and piece.endswith("]"):
            return True
        word = piece[2:] if piece.startswith("##") else piece
        return not any(ch.isalnum() for ch in word) or piece.lower() in STOPWORDS
    return vocab_flags(vocab, is_function)



def real_pieces(vocab: dict[str, int]) -> torch.Tensor:
    """`[V]` bool: every piece but the special and `[unused…]` ones: what a random fake is drawn from."""
    return vocab_flags(vocab, lambda piece: not (piece.startswith("[") and piece.endswith("]")))


@dataclass(frozen=True)
class FakeMaker:
    """The discriminator against one maker of fakes, on the same held-out masks as the others."""

    name: str
    generator_top1: float  # 0 for random draws (it has no arg-max worth the name: it is counted all the same)
    auc: float | None  # None when nothing was replaced
    caught: float  # share of replaced pieces flagged at 0.5
    function_share: float | None  # samples at masked content words that are punctuation or function words


def compare_fake_makers(makers: dict, discriminator_model, packed: dict, *, mask_token_id: int, vocab: dict,
                        seed: int = 1234) -> list[FakeMaker]:
    """How hard the discriminator's task is with each maker of fakes (`name -> masked-LM model`, or None for
    uniform random pieces): the same held-out masks for all, ordered from the weakest maker (lowest masked top-1)
    to the strongest. The ELECTRA paper's point that a generator can be too strong, measured on this pair."""
    content, function, pool = content_pieces(vocab), function_pieces(vocab), real_pieces(vocab)
    out = []
    for name, model in makers.items():
        h = heldout_scores(model, discriminator_model, packed, mask_token_id=mask_token_id, vocab_size=len(pool),
                           seed=seed, content=content, function=function, pool=pool)
        positives = int(h.labels.sum())
        r = roc(h.scores, h.labels) if 0 < positives < len(h.labels) else None
        caught = float((h.scores[h.labels == 1] >= 0.5).float().mean()) if positives else 0.0
        out.append(FakeMaker(name, h.generator_top1, r.auc if r else None, caught, h.function_share))
    return sorted(out, key=lambda f: f.generator_top1)


def harder_as_stronger(makers: list[FakeMaker]) -> bool:
    """True when every stronger maker (higher top-1) leaves the discriminator a lower AUC than the one before."""
    aucs = [m.auc for m in makers]
    return None not in aucs and all(b < a for a, b in zip(aucs, aucs[1:]))

@dataclass(frozen=True)
class WordSwaps:
    """The discriminator on held-out text where one whole word per sequence was swapped for a random word: what a
    person trying to fool it does, not what the generator does."""

    swapped: torch.Tensor  # [S] P(replaced) at the swapped position
    untouched: torch.Tensor  # [S] P(replaced) at another word of the same sequence, left as it was
    edits: list[tuple[int, int, int, int]]  # [S] (sequence, swapped position, new id, untouched position)


@torch.no_grad()
def word_swap_scores(discriminator_model, packed: dict, words: list[int], *, seed: int = 0) -> WordSwaps:
    """In each packed sequence with two or more pieces from `words` (ids of whole words), swap one of them for a
    random id from `words` and score it, with another such piece of the sequence, left alone, for comparison.
    Sequences are scored one by one, unpadded."""
    g = torch.Generator().manual_seed(seed)
    vocab = torch.tensor(sorted(set(words)))
    swapped, untouched, edits = [], [], []
    for k, (ids, att) in enumerate(zip(packed["input_ids"], packed["attention_mask"])):
        ids = ids[att.bool()][None].clone()
        where = torch.isin(ids[0], vocab).nonzero()[:, 0]
        if len(where) < 2:
            continue
        i, j = where[torch.randperm(len(where), generator=g)[:2]].tolist()
        new = vocab[torch.randint(len(vocab), (1,), generator=g)].item()
        while new == ids[0, i]:
            new = vocab[torch.randint(len(vocab), (1,), generator=g)].item()
        ids[0, i] = new
        p = replaced_probability(discriminator_model, ids, torch.ones_like(ids))[0]
        swapped.append(float(p[i]))
        untouched.append(float(p[j]))
        edits.append((k, i, new, j))
    return WordSwaps(torch.tensor(swapped), torch.tensor(untouched), edits)


def counts_at(r: Roc, threshold: float) -> tuple[int, int]:
    """(replaced pieces caught, originals wrongly flagged) at `threshold`: the curve's rates times its counts."""
    tpr, fpr = r.at(threshold)
    return round(tpr * r.positives), round(fpr * r.negatives)
