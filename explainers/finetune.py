r"""
# Feature-based or fine-tuning: two ways to use a pretrained encoder

The task here is the one BERT's `[CLS]` was pretrained on, **next-sentence prediction**: given a pair
`[CLS] A [SEP] B [SEP]`, does B follow A in its document (label 1, IsNext) or come from another document
(label 0, NotNext)? The pairs are made as BERT made them: walk consecutive sentences; half of the time keep
the true next sentence, otherwise take a sentence of a random other document.

**Feature-based.** The encoder is frozen. Its hidden states $h^{(k)} \in \mathbb{R}^{T \times d}$
($k = 0$ is the embedding output, $k = 1..L$ the output of encoder layer $k$) give one vector per pair,
the `[CLS]` row $h^{(k)}_0$ (or the mean over real tokens). Several layers are concatenated,
$x = [h^{(L-3)}_0; h^{(L-2)}_0; h^{(L-1)}_0; h^{(L)}_0] \in \mathbb{R}^{4d}$, or summed. Only a linear probe is
trained, on standardised features $\hat x = (x - \mu) / \sigma$ ($\mu, \sigma$ from the training set):

$$p(y \mid x) = \mathrm{softmax}(W \hat x + b), \qquad \mathcal{L} = -\tfrac{1}{N}\sum_n \log p(y_n \mid x_n).$$

In the BERT paper (§5.3, Table 7, CoNLL-2003 NER) the concatenated last four layers were the best
feature-based setting, within 0.3 F1 of fine-tuning (96.1 vs 96.4); the paper put a two-layer BiLSTM on the
features, this chapter a linear probe, and its "sum" is a plain sum, not a weighted one.

**Fine-tuning.** A small head goes on the `[CLS]` row of the last layer and *every* weight trains:

$$\mathrm{logits} = W_c\,\mathrm{dropout}\big(\tanh(W_p h^{(L)}_0 + b_p)\big) + b_c$$

(in BERT the pooler $W_p$ was pretrained for NSP; the built-in teacher has no pooler, so here it is new, like
the classifier $W_c$), with the same cross-entropy.
`cls_head_logits` writes this out and equals `BertForSequenceClassification(...).logits`.
"""
from __future__ import annotations

import random
import re
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from explainers.errors import ExplainerError, require

# Hidden-state indices: k >= 0 is absolute (0 = embeddings); k < 0 counts from the top (-1 = L, the last layer).
FEATURES: dict[str, tuple[int, ...]] = {
    "embeddings": (0,),
    "last": (-1,),
    "last4_concat": (-4, -3, -2, -1),  # BERT's best feature-based setting
    "last4_sum": (-4, -3, -2, -1),  # the same layers, summed: d features instead of 4d
}


def feature_layers(setting: str, n_layers: int) -> tuple[int, ...]:
    """Hidden-state indices of a setting (a key of FEATURES, or "layer:k") for a model with `n_layers`."""
    if setting.startswith("layer:") and setting[6:].strip().isdigit():
        layers = (int(setting[6:]),)
    elif setting in FEATURES:
        layers = tuple(k if k >= 0 else n_layers + 1 + k for k in FEATURES[setting])
    else:
        raise ExplainerError("unknown_feature", setting=setting, n_layers=n_layers)
    if not all(0 <= k <= n_layers for k in layers):  # "layer:9" of a 6-layer model, last four of 2 layers
        raise ExplainerError("unknown_feature", setting=setting, n_layers=n_layers)
    return layers


def feature_combine(setting: str) -> str:
    """How a setting's layers are joined: "sum" for the summed settings, otherwise "concat"."""
    return "sum" if setting.endswith("_sum") else "concat"


@torch.no_grad()
def pair_features(model, input_ids, attention_mask, token_type_ids, layers: tuple[int, ...],
                  pooling: str = "cls", combine: str = "concat") -> torch.Tensor:
    """Frozen features `[B, len(layers)*d]` ("concat") or `[B, d]` ("sum") of a batch `[B, T]`.

    pooling "cls": the `[CLS]` row of each layer; "mean": the mean over attended tokens. The model is used as
    it is (call it in eval mode, or dropout adds noise)."""
    require(input_ids.shape == attention_mask.shape, f"{tuple(input_ids.shape)} vs {tuple(attention_mask.shape)}")
    if pooling not in ("cls", "mean") or combine not in ("concat", "sum"):
        raise ValueError(f"pooling must be 'cls' or 'mean', combine 'concat' or 'sum' (got {pooling!r}, {combine!r})")
    encoder = getattr(model, "base_model", model)
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    if token_type_ids is not None and encoder.config.model_type != "distilbert":
        kwargs["token_type_ids"] = token_type_ids
    hidden = encoder(**kwargs).hidden_states  # L+1 tensors [B, T, d]
    require(all(0 <= k < len(hidden) for k in layers), f"layers {layers} outside 0..{len(hidden) - 1}")
    if pooling == "cls":
        pooled = [hidden[k][:, 0] for k in layers]  # [B, d] each
    else:
        m = attention_mask.unsqueeze(-1).to(hidden[0].dtype)  # [B, T, 1], 1 = real token
        pooled = [(hidden[k] * m).sum(1) / m.sum(1).clamp_min(1) for k in layers]
    return torch.cat(pooled, -1) if combine == "concat" else torch.stack(pooled).sum(0)


@torch.no_grad()
def cls_by_layer(model, data: dict, batch_size: int = 64) -> torch.Tensor:
    """Every hidden state's [CLS] vector of encoded pairs (`encode_pairs`' dict), read in batches on the model's
    device: `[N, L + 1, d]` on the CPU (index 0 = the embedding output). A probe setting picks its layers."""
    encoder = getattr(model, "base_model", model)
    device = next(encoder.parameters()).device
    every = tuple(range(encoder.config.num_hidden_layers + 1))
    out = []
    for i in range(0, len(data["input_ids"]), batch_size):
        ids, att, types = (data[k][i:i + batch_size].to(device)
                           for k in ("input_ids", "attention_mask", "token_type_ids"))
        out.append(pair_features(encoder, ids, att, types, every).view(len(ids), len(every), -1).cpu())
    return torch.cat(out)


# ------------------------------------------------------------------------------------------ the linear probe
@dataclass(frozen=True)
class Probe:
    """Multinomial logistic regression on standardised features."""

    weight: torch.Tensor  # [classes, features]
    bias: torch.Tensor  # [classes]
    mean: torch.Tensor  # [features]: mean of the training features
    std: torch.Tensor  # [features]: their standard deviation (1 where a feature is constant)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, classes]` from features `[N, features]`."""
        return ((x - self.mean) / self.std) @ self.weight.T + self.bias

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x).softmax(-1)


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    steps: list[int]  # optimiser steps at which accuracy was measured: 0, eval_every, 2·eval_every, ..., steps
    train_accuracy: list[float]  # one per entry of `steps`
    test_accuracy: list[float]

    @property
    def final_test_accuracy(self) -> float:
        return self.test_accuracy[-1]


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of rows whose arg-max is the label (nan for no rows)."""
    return float((logits.argmax(-1) == labels).float().mean()) if len(labels) else float("nan")


@contextmanager
def one_thread():
    """Run tiny tensor work on this thread alone. A probe's full-batch steps (736 × 384 features) are too small for
    torch's intra-op threads to help, and where other work holds the cores (a training run, other sessions'
    forwards) those threads wait on each other: one layer's cross-validated probe took 20.5 s on 2 threads beside
    a training run and 0.53 s on 1. The setting is the calling thread's own (OpenMP), so other sessions keep theirs."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def train_probe(train_x, train_y, test_x, test_y, n_classes: int = 2, steps: int = 200, lr: float = 0.05,
                weight_decay: float = 1e-3, eval_every: int = 20, seed: int = 0, progress=None) -> ProbeResult:
    """Fit a Probe by full-batch AdamW on `train_x [N, F]`, `train_y [N]`; the same seed gives the same probe.

    `progress(step, steps)` is called at each measurement of the learning curve."""
    require(train_x.ndim == 2 and train_y.shape == train_x.shape[:1], f"{tuple(train_x.shape)}, {tuple(train_y.shape)}")
    require(test_x.shape[1:] == train_x.shape[1:] and test_y.shape == test_x.shape[:1], "test set shapes differ")
    require(int(train_y.min()) >= 0 and int(train_y.max()) < n_classes, f"labels must lie in 0..{n_classes - 1}")
    x, xt = train_x.float(), test_x.float()
    mean, std = x.mean(0), x.std(0, correction=0)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))  # a constant feature carries nothing: leave it at 0
    x, xt = (x - mean) / std, (xt - mean) / std
    g = torch.Generator().manual_seed(seed)
    weight = (0.01 * torch.randn(n_classes, x.shape[1], generator=g)).to(x.device).requires_grad_()
    bias = torch.zeros(n_classes, device=x.device, requires_grad=True)
    opt = torch.optim.AdamW([{"params": [weight], "weight_decay": weight_decay},
                             {"params": [bias], "weight_decay": 0.0}], lr=lr)
    curve: tuple[list, list, list] = ([], [], [])

    def measure(step: int) -> None:
        with torch.no_grad():
            for values, value in zip(curve, (step, accuracy(x @ weight.T + bias, train_y),
                                             accuracy(xt @ weight.T + bias, test_y))):
                values.append(value)
        if progress is not None:
            progress(step, steps)

    with torch.enable_grad(), one_thread():
        measure(0)
        for step in range(1, steps + 1):
            loss = F.cross_entropy(x @ weight.T + bias, train_y)  # mean -log p(y|x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step % eval_every == 0 or step == steps:
                measure(step)
    probe = Probe(weight.detach().clone(), bias.detach().clone(), mean, std)
    return ProbeResult(probe, *curve)


# ------------------------------------------------------------------------------ how sure a measured share is
def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's score interval for a share `correct / n` (95 %): unlike p ± z·sqrt(p(1-p)/n) it stays
    inside [0, 1] and is not empty at 0 or n correct (z: the normal distribution's 97.5 % quantile),

    $$\\frac{p + z^2/2n \\pm z\\sqrt{p(1-p)/n + z^2/4n^2}}{1 + z^2/n}.$$"""
    if n <= 0:
        return float("nan"), float("nan")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class CrossValidated:
    """A probe measured by k-fold cross-validation over documents: every pair is tested once, by a probe trained
    on the other folds' documents (never on its own document's pairs)."""

    correct: int  # test pairs predicted right, over all folds
    n: int  # test pairs, all folds together (= every pair once)
    folds: int
    n_docs: int
    train_pairs: int  # the smallest fold's training set
    train_accuracy: float  # mean over folds

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)


def document_folds(docs: list[int], folds: int, seed: int = 0) -> torch.Tensor:
    """Fold index `[N]` per pair: documents shuffled (seeded) and dealt round-robin, so a document's pairs share
    a fold."""
    order = sorted(set(docs))
    random.Random(seed).shuffle(order)
    fold_of = {d: i % folds for i, d in enumerate(order)}
    return torch.tensor([fold_of[d] for d in docs])


def cross_validate_probe(x: torch.Tensor, y: torch.Tensor, docs: list[int], folds: int = 5, steps: int = 200,
                         seed: int = 0) -> CrossValidated:
    """`train_probe` on features `x [N, F]` in `folds` document folds; every pair is tested once."""
    require(x.shape[:1] == y.shape and len(docs) == len(y), f"{tuple(x.shape)}, {tuple(y.shape)}, {len(docs)} docs")
    fold = document_folds(docs, folds, seed)
    correct, train_sizes, train_acc = 0, [], []
    for f in range(folds):
        test = fold == f
        if not test.any() or test.all():
            continue
        r = train_probe(x[~test], y[~test], x[test], y[test], steps=steps, seed=seed, eval_every=steps)
        correct += round(r.final_test_accuracy * int(test.sum()))
        train_sizes.append(int((~test).sum()))
        train_acc.append(r.train_accuracy[-1])
    return CrossValidated(correct, len(y), len(train_sizes), len(set(docs)), min(train_sizes),
                          sum(train_acc) / len(train_acc))


# ------------------------------------------------------------------------------------------- fine-tuning
def cls_head_logits(model, input_ids, attention_mask, token_type_ids) -> torch.Tensor:
    """Logits `[B, classes]` of a BertForSequenceClassification, step by step; dropout follows model.training."""
    require(hasattr(model, "classifier") and getattr(model.base_model, "pooler", None) is not None,
            "needs a BertForSequenceClassification (an encoder with a pooler, and a classifier)")
    bert = model.base_model
    hidden = bert(input_ids=input_ids, attention_mask=attention_mask,
                  token_type_ids=token_type_ids).last_hidden_state  # [B, T, d]
    cls = hidden[:, 0]  # [B, d]: the [CLS] row of the last layer
    pooled = torch.tanh(bert.pooler.dense(cls))  # pooler: tanh(W_p h + b_p), pretrained for NSP in BERT
    return model.classifier(model.dropout(pooled))  # W_c dropout(pooled) + b_c: the new head


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy, as BertForSequenceClassification computes it for integer labels."""
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))


def finetune_step(model, batch: dict, optimizer, scheduler=None, clip: float = 1.0) -> float:
    """One step on `batch` (input_ids, attention_mask, token_type_ids, labels); returns the loss.

    Every parameter with requires_grad trains; call `model.train()` first for dropout."""
    logits = cls_head_logits(model, batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
    loss = classification_loss(logits, batch["labels"])
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def trainable_share(model) -> dict[str, int]:
    """Trainable (requires_grad) parameter counts: {"embeddings", "encoder", "pooler", "head"}.

    "head" is everything outside the encoder (a BertForSequenceClassification's classifier); weights shared
    by two modules are counted once."""
    counts = dict(embeddings=0, encoder=0, pooler=0, head=0)
    prefix = getattr(model, "base_model_prefix", "") + "."
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        inner = name[len(prefix):] if name.startswith(prefix) else name
        if inner.startswith("embeddings"):
            counts["embeddings"] += p.numel()
        elif inner.startswith(("encoder.", "transformer.")):  # BERT, ELECTRA / DistilBERT
            counts["encoder"] += p.numel()
        elif inner.startswith("pooler."):
            counts["pooler"] += p.numel()
        else:
            counts["head"] += p.numel()
    return counts


# -------------------------------------------------------------------------------------------------- the data
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "prof", "jr", "sr"}
_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+")  # sentence-final punctuation (and closing quotes) before a space
_OPENING = "\"'“‘("


def split_sentences(text: str) -> list[str]:
    """Split at ., ! or ? followed by a space and a capital letter or opening quote; not after Mr., Mrs., Ms.,
    Dr., St., Prof., Jr., Sr. or a one-letter initial ("J. Smith")."""
    text = " ".join((text or "").split())
    sentences, start = [], 0
    for m in _END.finditer(text):
        following = text[m.end():m.end() + 1]
        if not following or not (following.isupper() or following in _OPENING):
            continue
        word = text[start:m.start()].rsplit(" ", 1)[-1].lstrip(_OPENING)
        if m.group().startswith(".") and (word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper())):
            continue
        sentences.append(text[start:m.end()].strip())
        start = m.end()
    rest = text[start:].strip()
    return sentences + [rest] if rest else sentences


@dataclass(frozen=True)
class SentencePair:
    a: str
    b: str
    label: int  # 1 = B follows A in its document (IsNext), 0 = B is from another document (NotNext)
    doc: int  # index of A's document in the list given


def next_sentence_pairs(documents: list[str], seed: int = 0, max_pairs: int | None = None) -> list[SentencePair]:
    """BERT's NSP pairs: each consecutive (A, B) of a document of >= 2 sentences is kept with p = 1/2 (label 1),
    otherwise B is a random sentence of a random other document (label 0). In document order; with `max_pairs`,
    a seeded random subset of that size (still in order)."""
    sentences = [split_sentences(d) for d in documents]
    others = [i for i, s in enumerate(sentences) if s]
    if len(others) < 2:
        raise ExplainerError("too_few_documents", n_documents=len(others))
    rng = random.Random(seed)
    pairs = []
    for d, sents in enumerate(sentences):
        for a, b in zip(sents, sents[1:]):
            if rng.random() < 0.5:
                pairs.append(SentencePair(a, b, 1, d))
                continue
            other = d
            while other == d:  # a random other document, then a random sentence of it
                other = rng.choice(others)
            pairs.append(SentencePair(a, rng.choice(sentences[other]), 0, d))
    if max_pairs is not None and max_pairs < len(pairs):
        pairs = [pairs[i] for i in sorted(rng.sample(range(len(pairs)), max_pairs))]
    return pairs


def encode_pairs(tokenizer, pairs: list[SentencePair], max_length: int = 128) -> dict:
    """`[CLS] A [SEP] B [SEP]` per pair, padded: input_ids, attention_mask, token_type_ids `[N, T]`; labels `[N]`."""
    enc = tokenizer([p.a for p in pairs], [p.b for p in pairs], truncation="longest_first", max_length=max_length,
                    padding=True, return_tensors="pt", return_token_type_ids=True)
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
            "token_type_ids": enc["token_type_ids"], "labels": torch.tensor([p.label for p in pairs])}
