"""The Fine-tuning chapter's caches: the question-answering model, the next-sentence classifier and its probe.

Models: `st.cache_resource` (shared by all sessions, never mutated). Results: `st.cache_data`, keyed by model
name, device and text, so another model never returns a stale result.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import streamlit as st
import torch
from safetensors.torch import load_file
from transformers import AutoModelForQuestionAnswering, BertForSequenceClassification

from explainers import builtin
from explainers import finetune as ft
from explainers import qa
from explainers.model import LoadedModel
from ui.text import t, table

QA_DIR = builtin.folder("qa")
CLASSIFIER_DIR = builtin.folder("next-sentence")
QA_MAX_LENGTH = 384  # what BERT used for SQuAD
# the one-step section's learning rate, chosen on the default pair (a true next sentence) with its label IsNext:
# P(IsNext) 95.8 % -> 95.8 % at 1e-5, 96.2 % at 1e-3, 98.4 % at 1e-2 (the move is visible on the metric)
STEP_LR = 1e-2


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
    from ui import models

    lm = models.load("built-in", device, CLASSIFIER_DIR, BertForSequenceClassification)  # its frozen layers: the teacher's
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
    from explainers.encoding import encode_text

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
PROBE_FOLDS = 5  # cross-validation by document: every pair is tested once, by a probe that never saw its document
PROBE_STEPS = 200  # full-batch steps of each fold's probe
PROBE_SEQ_LEN = 64
# the layer slider opens on layer 4: the built-in teacher's best layer live (5-fold by document, the 736 held-out
# pairs: layers 0…6 scored 46.9, 67.8, 70.9, 73.0, 74.3, 72.7, 67.7 %)
PROBE_LAYER = 4


@dataclass(frozen=True)
class ProbeData:
    """The live probe's sentence pairs with every layer's [CLS] vector (hidden: [pairs, layers + 1, d]),
    computed once per model."""

    hidden: torch.Tensor
    labels: torch.Tensor
    docs: list[int]  # each pair's document: the folds split by document


def heldout_pairs() -> list[ft.SentencePair]:
    """The live probe's pairs: the next-sentence classifier's held-out pairs (`assets/text/en/heldout_pairs.tsv`,
    written by `training/finetune_classifier.py --export`): 736 pairs from 236 documents that no model trained
    on (359 IsNext, 377 NotNext), the very pairs its card's accuracies were measured on."""
    rows = table("heldout_pairs", "en")[1:]  # document, label, sentence A, sentence B
    return [ft.SentencePair(a, b, int(label), int(doc)) for doc, label, a, b in rows]


@st.cache_data(max_entries=4, show_spinner=False)
def probe_data(name: str, device: str) -> ProbeData:
    """Every layer's [CLS] vector of the held-out pairs, read once per model (a probe on any layer reuses it)."""
    from ui.state import get_model

    lm = get_model(name, device)
    pairs = heldout_pairs()
    enc = ft.encode_pairs(lm.tokenizer, pairs, min(PROBE_SEQ_LEN, lm.max_positions))
    return ProbeData(ft.cls_by_layer(lm.encoder, enc), enc["labels"], [p.doc for p in pairs])


@st.cache_data(max_entries=64, show_spinner=False)
def live_probe(name: str, device: str, layer: int) -> ft.CrossValidated:
    """A linear probe on hidden state `layer`'s [CLS] vectors, cross-validated over the held-out documents."""
    data = probe_data(name, device)
    return ft.cross_validate_probe(data.hidden[:, layer], data.labels, data.docs, folds=PROBE_FOLDS,
                                   steps=PROBE_STEPS, seed=0)


def probe_by_layer(name: str, device: str, progress=None) -> dict[int, ft.CrossValidated]:
    """`live_probe` on every hidden state 0…L; `progress(k, L + 1)` before each layer."""
    n = int(probe_data(name, device).hidden.shape[1])
    out = {}
    for k in range(n):
        if progress is not None:
            progress(k, n)
        out[k] = live_probe(name, device, k)
    return out


def build_probe_accuracy(name: str, layer: int) -> tuple[float, int, int] | None:
    """(accuracy, test pairs, training pairs) of the build's probe on `layer` (training.json), for the built-in
    model only (the classifier's probes read the built-in teacher); None otherwise."""
    from explainers.model import BUILTIN_NAME

    if name != BUILTIN_NAME:
        return None
    try:
        _, c = load_classifier("cpu")
    except Exception:  # noqa: BLE001 - no classifier folder: nothing to compare with
        return None
    row = c.facts["probes"].get(f"layer:{layer}")
    return None if row is None else (row["test_accuracy"], c.facts["pairs"]["test"], c.facts["probe_pairs"])


def probe_verdict(r: ft.CrossValidated) -> str:
    """Where the interval lies against chance (50 %): "above", "below" or "chance" (it contains 50 %)."""
    low, high = r.interval
    return "above" if low > 0.5 else "below" if high < 0.5 else "chance"


def build_verdict(r: ft.CrossValidated, build: float) -> str:
    """"inside" when the build-time accuracy lies in the live interval, else "higher" or "lower" (the build's)."""
    low, high = r.interval
    return "inside" if low <= build <= high else "higher" if build > high else "lower"


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


def default_probe(name: str, device: str) -> dict[int, ft.CrossValidated]:
    """The live probe on every layer (the chart; what `ui.warm` computes ahead)."""
    return probe_by_layer(name, device)


# ------------------------------------------------------------------------------------ one step of fine-tuning
@dataclass(frozen=True)
class OneStep:
    """One gradient step of the built-in classifier on one labelled pair (on a copy; the shared model is never
    changed): P(IsNext) before and after, the loss, and how far each part's weights moved (‖Δθ‖ / ‖θ‖)."""

    before: float
    after: float
    loss: float
    moved: dict[str, float]  # part_key → relative change; frozen parts are absent
    trainable: dict[str, int]  # `ft.trainable_share` of the copy


@st.cache_data(max_entries=64, show_spinner=False)
def one_step(device: str, text_a: str, text_b: str, label: int, lr: float) -> OneStep:
    from explainers.encoding import encode_text

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
            part_name = part_key(name)
            sums = moved.setdefault(part_name, [0.0, 0.0])
            sums[0] += float((p.detach() - start[name]).pow(2).sum())
            sums[1] += float(start[name].pow(2).sum())
    return OneStep(before, p_is_next(), loss, {k: (d / n) ** 0.5 for k, (d, n) in moved.items()},
                   ft.trainable_share(model))


def step_direction(s: OneStep, label: int) -> str:
    """"towards" the label, "away" from it, or "still" (under 0.005 percentage points, which the page shows as
    ±0.00)."""
    change = (s.after - s.before) * (1 if label else -1)
    return "still" if abs(change) < 5e-5 else "towards" if change > 0 else "away"


def moved_most(s: OneStep) -> tuple[str, float, str, float]:
    """(the part that moved furthest, its ‖Δθ‖/‖θ‖, the runner-up, its ‖Δθ‖/‖θ‖)."""
    ranked = sorted(s.moved.items(), key=lambda kv: -kv[1])
    (first, x), (second, y) = ranked[0], ranked[1] if len(ranked) > 1 else ("", 0.0)
    return first, x, second, y


def build_comparison(facts: dict) -> dict:
    """The build's fine-tuned classifier against its best probe on the same held-out pairs, with Wilson 95 %
    intervals: {"tuned", "probe", "n", "tuned_ci", "probe_ci", "winner": "tuned"/"probe"/"tie", "overlap"}."""
    curve = [row for row in facts["finetune_curve"] if "test_accuracy" in row]
    tuned, probe, n = curve[-1]["test_accuracy"], facts["probes"][facts["best_probe"]]["test_accuracy"], \
        facts["pairs"]["test"]
    tuned_ci, probe_ci = (ft.wilson_interval(round(a * n), n) for a in (tuned, probe))
    winner = "tie" if round(tuned * n) == round(probe * n) else "tuned" if tuned > probe else "probe"
    overlap = tuned_ci[0] <= probe_ci[1] and probe_ci[0] <= tuned_ci[1]
    return dict(tuned=tuned, probe=probe, n=n, tuned_ci=tuned_ci, probe_ci=probe_ci, winner=winner, overlap=overlap)


def part_key(name: str) -> str:
    """`bert.encoder.layer.3.…` → "layer:4"; "embeddings", "pooler", "head" otherwise: the same in every language
    (a cached result must not hold the words of the language that computed it first)."""
    if name.startswith("bert.encoder.layer."):
        return f"layer:{int(name.split('.')[3]) + 1}"
    if name.startswith("bert.embeddings."):
        return "embeddings"
    return "pooler" if name.startswith("bert.pooler.") else "head"


def part_label(key: str) -> str:
    """A part's name in the reader's language."""
    if key.startswith("layer:"):
        return t("finetuning.part_layer", k=int(key[6:]))
    return {"embeddings": t("finetuning.part_embeddings"), "pooler": t("finetuning.part_pooler")}.get(
        key, t("finetuning.part_head"))


def part(name: str) -> str:
    """`bert.encoder.layer.3.…` → "layer 4"; the pooler, the classifier, the embeddings by name."""
    return part_label(part_key(name))
