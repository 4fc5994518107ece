"""The Fine-tuning chapter's caches: the question-answering model, the next-sentence classifier and its probe.

Models: `st.cache_resource` (shared by all sessions, never mutated). Results: `st.cache_data`, keyed by model
name, device and text, so another model never returns a stale result.
"""
from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass

import streamlit as st
import torch
from safetensors.torch import load_file
from transformers import AutoModelForQuestionAnswering, BertForSequenceClassification

from explainers import finetune as ft
from explainers import qa
from explainers.model import ROOT, LoadedModel, load_role
from ui.text import t, table

QA_DIR = ROOT / "assets/models/qa"
CLASSIFIER_DIR = ROOT / "assets/models/next-sentence"
QA_MAX_LENGTH = 384  # what BERT used for SQuAD
STEP_LR = 1e-3  # the one-step section's learning rate until one is chosen


def get_qa(name: str, device: str) -> LoadedModel:
    """The question-answering model (`ui.models`: shared, under the loading policy)."""
    from ui import models

    return models.load(name, device, QA_DIR, AutoModelForQuestionAnswering)


@st.cache_data(max_entries=128, show_spinner=False)
def answer(name: str, device: str, question: str, passage: str, k: int = 5) -> qa.QAResult:
    lm = get_qa(name, device)
    return qa.answer(lm.model, lm.tokenizer, question, passage, k=k,
                     max_length=min(QA_MAX_LENGTH, lm.max_positions))


@dataclass(frozen=True)
class Classifier:
    """The built-in next-sentence classifier: the fine-tuned model, the frozen teacher's probe and the facts of
    their training (`training.json`: learning curves, per-layer probe accuracy)."""

    finetuned: BertForSequenceClassification
    probe: ft.Probe
    probe_layers: tuple[int, ...]
    tokenizer: object
    facts: dict


def get_classifier(device: str) -> tuple[LoadedModel, Classifier]:
    """(the frozen teacher, the classifier): the feature-based probe reads the teacher's features. The spinner's
    words are looked up when it shows (in the reader's language), not when this module is imported; Streamlit
    shows a spinner only after half a second, so a cache hit shows none."""
    with st.spinner(t("finetuning.loading")):
        return load_classifier(device)


@st.cache_resource(show_spinner=False, max_entries=1)
def load_classifier(device: str) -> tuple[LoadedModel, Classifier]:
    """`get_classifier` without the spinner: what the warm-up thread calls."""
    from ui.state import get_model

    teacher = get_model("built-in", device)
    lm = load_role("built-in", CLASSIFIER_DIR, BertForSequenceClassification, device)
    facts = json.loads((CLASSIFIER_DIR / "training.json").read_text())
    probe = ft.Probe(**load_file(CLASSIFIER_DIR / "probe.safetensors"))
    layers = tuple(facts["probes"][facts["best_probe"]]["layers"])
    return teacher, Classifier(lm.model, probe, layers, lm.tokenizer, facts)


@dataclass(frozen=True)
class PairVerdict:
    tokens: list[str]
    ids: list[int]
    segments: list[str]
    probe: list[float]  # P(NotNext), P(IsNext) from the frozen teacher's features
    finetuned: list[float]  # the same from the fine-tuned classifier
    notes: list


@st.cache_data(max_entries=128, show_spinner=False)
def next_sentence(device: str, text_a: str, text_b: str) -> PairVerdict:
    from explainers.model import encode_text

    teacher, c = get_classifier(device)
    enc = encode_text(c.tokenizer, text_a, text_b, max_length=teacher.max_positions)
    args = [x.to(device) for x in (enc.input_ids, enc.attention_mask, enc.token_type_ids)]
    features = ft.pair_features(teacher.encoder, *args, c.probe_layers)
    with torch.no_grad():
        tuned = ft.cls_head_logits(c.finetuned, *args).softmax(-1)[0]
    return PairVerdict(enc.tokens, enc.input_ids[0].tolist(), enc.segment,
                       c.probe.predict_proba(features.cpu())[0].tolist(),
                       tuned.cpu().tolist(), enc.notes)


# ------------------------------------------------------------------------------------------------ the live probe
@dataclass(frozen=True)
class ProbeData:
    """Held-out sentence pairs split by document into a probe's training and test halves, with every layer's
    [CLS] vector (hidden_states: [pairs, layers + 1, d])."""

    hidden: torch.Tensor
    labels: torch.Tensor
    train: torch.Tensor  # bool [pairs]
    n_docs: int


def heldout_pairs() -> list[ft.SentencePair]:
    """The built-in classifier's held-out pairs (`training/finetune_classifier.py` writes them at export)."""
    return [ft.SentencePair(a, b, int(label), int(doc)) for doc, label, a, b in table("heldout_pairs")[1:]]


@st.cache_data(max_entries=4, show_spinner=False)
def probe_data(name: str, device: str, seq_len: int = 64) -> ProbeData:
    from ui.state import get_model

    lm = get_model(name, device)
    pairs = heldout_pairs()
    enc = ft.encode_pairs(lm.tokenizer, pairs, min(seq_len, lm.max_positions))
    docs_in_train = {d for d in {p.doc for p in pairs} if random.Random(d).random() < 0.5}
    train = torch.tensor([p.doc in docs_in_train for p in pairs])
    return ProbeData(ft.cls_by_layer(lm.encoder, enc), enc["labels"], train, len({p.doc for p in pairs}))


ProbeOutcome = tuple[float, float, int, int, int]  # test accuracy, training accuracy, train pairs, test pairs, docs


def train_live_probe(name: str, device: str, layer: int, progress=None) -> ProbeOutcome:
    """The live probe: 200 full-batch steps on hidden state `layer`'s [CLS] vectors of the held-out pairs'
    training half, seed 0, measured on the other half."""
    data = probe_data(name, device)
    x, y, train = data.hidden[:, layer], data.labels, data.train
    r = ft.train_probe(x[train], y[train], x[~train], y[~train], steps=200, seed=0, progress=progress)
    return r.final_test_accuracy, r.train_accuracy[-1], int(train.sum()), int((~train).sum()), data.n_docs


@st.cache_data(max_entries=64, show_spinner=False)
def live_probe(name: str, device: str, layer: int) -> ProbeOutcome:
    """`train_live_probe`, cached: the result presenter mode opens its step with."""
    return train_live_probe(name, device, layer)


def default_pair() -> tuple[str, str]:
    """The first example pair: what the classifiers read in presenter mode while the sidebar has no sentence B."""
    _, a, b = table("finetuning_pairs")[1]
    return a, b


def warm_defaults(device: str, name: str = "built-in") -> None:
    """What the chapter's presenter steps open with, computed into the caches (for `ui.warm`): the default pair's
    verdicts and one step of training on it, the live probe on the last layer, the first example's answer."""
    a, b = default_pair()
    next_sentence(device, a, b)
    one_step(device, a, b, 1, STEP_LR)
    default_probe(name, device)
    _, passage, question = table("qa_examples")[1]
    answer(name, device, question, passage)


def default_probe(name: str, device: str) -> ProbeOutcome:
    """The live probe on the last layer, the layer slider's default (what `ui.warm` can compute ahead)."""
    from ui.state import get_model

    return live_probe(name, device, get_model(name, device).config.num_hidden_layers)


# ------------------------------------------------------------------------------------ one step of fine-tuning
@dataclass(frozen=True)
class OneStep:
    """One gradient step of the built-in classifier on one labelled pair (on a copy; the shared model is never
    changed): P(IsNext) before and after, the loss, and how far each part's weights moved (‖Δθ‖ / ‖θ‖)."""

    before: float
    after: float
    loss: float
    moved: dict[str, float]  # part → relative change; frozen parts are absent
    trainable: dict[str, int]  # `ft.trainable_share` of the copy


@st.cache_data(max_entries=64, show_spinner=False)
def one_step(device: str, text_a: str, text_b: str, label: int, lr: float) -> OneStep:
    from explainers.model import encode_text

    teacher, c = get_classifier(device)
    model = copy.deepcopy(c.finetuned).eval()  # eval: no dropout, so the step is repeatable
    frozen = tuple(c.facts["base"]["shared"])
    for name, p in model.named_parameters():
        p.requires_grad_(not name.startswith(frozen))
    enc = encode_text(c.tokenizer, text_a, text_b, max_length=teacher.max_positions)
    batch = {"input_ids": enc.input_ids.to(device), "attention_mask": enc.attention_mask.to(device),
             "token_type_ids": enc.token_type_ids.to(device), "labels": torch.tensor([label], device=device)}

    def p_is_next() -> float:
        with torch.no_grad():
            return float(ft.cls_head_logits(model, batch["input_ids"], batch["attention_mask"],
                                            batch["token_type_ids"]).softmax(-1)[0, 1])

    before = p_is_next()
    trainable = [p for p in model.parameters() if p.requires_grad]
    start = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
    loss = ft.finetune_step(model, batch, torch.optim.SGD(trainable, lr=lr), clip=0)
    moved: dict[str, list[float]] = {}
    for name, p in model.named_parameters():
        if name in start:
            part_name = part(name)
            sums = moved.setdefault(part_name, [0.0, 0.0])
            sums[0] += float((p.detach() - start[name]).pow(2).sum())
            sums[1] += float(start[name].pow(2).sum())
    return OneStep(before, p_is_next(), loss, {k: (d / n) ** 0.5 for k, (d, n) in moved.items()},
                   ft.trainable_share(model))


def part(name: str) -> str:
    """`bert.encoder.layer.3.…` → "layer 4"; the pooler, the classifier, the embeddings by name."""
    if name.startswith("bert.encoder.layer."):
        return t("finetuning.part_layer", k=int(name.split(".")[3]) + 1)
    if name.startswith("bert.embeddings."):
        return t("finetuning.part_embeddings")
    return t("finetuning.part_pooler") if name.startswith("bert.pooler.") else t("finetuning.part_head")
