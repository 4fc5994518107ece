"""The Fine-tuning chapter's outcome sentences (issue 27): each states what the numbers beside it show, for the
default view and for three others. The numbers are computed here again from the models and the explainers; the
words the page shows are checked against their direction."""
from __future__ import annotations

import pytest
import torch
from scipy.stats import binomtest

from explainers import finetune as ft
from explainers.model import BUILTIN_NAME
from tests.test_finetuning_page import PAGE, _expected_answer, _probe_expected, builtin_qa, tiny_probe_dir  # noqa: F401
from tests.test_pages import _app
from ui import finetune as F
from ui.html import md_escape
from ui.text import t, table

DEFAULT_A, DEFAULT_B = table("finetuning_pairs")[1][1:]
LABEL = {1: t("finetuning.is_next"), 0: t("finetuning.not_next")}


# ------------------------------------------------------------------------------------- one step of fine-tuning
def _expected_step_sentence(a: str, b: str, label: int, lr: float) -> tuple[str, str]:
    """(the sentence the step should show, the direction found here): the step recomputed on a copy."""
    s = F.one_step("cpu", a, b, label, lr)
    change = (s.after - s.before) * (1 if label else -1)
    direction = "still" if abs(change) < 5e-5 else "towards" if change > 0 else "away"
    said = t("finetuning.step_still") if direction == "still" else \
        t(f"finetuning.step_{direction}", pp=100 * (s.after - s.before), label=LABEL[label])
    ranked = sorted(s.moved.items(), key=lambda kv: -kv[1])
    said += " " + t("finetuning.step_most", part=F.part_label(ranked[0][0]), x=ranked[0][1],
                    second=F.part_label(ranked[1][0]),
                    ratio=ranked[0][1] / ranked[1][1])
    return said, direction


@pytest.mark.parametrize("a,b,label,lr", [
    (DEFAULT_A, DEFAULT_B, 1, F.STEP_LR),  # the default view
    (DEFAULT_A, "The committee approved the budget for next year.", 0, 1e-3),
    ("The cat sat on the mat.", "Stock prices fell sharply on Monday.", 1, 1e-5),
    ("She opened the door.", "The room was dark and cold.", 0, 1e-2),
])
def test_the_one_step_sentence_names_the_direction_the_probability_moved(a, b, label, lr):
    at = _app(PAGE, a=a, b=b, f_label=LABEL[label], f_lr=f"{lr:g}")
    expected, direction = _expected_step_sentence(a, b, label, lr)
    assert expected in [m.value for m in at.markdown]
    # the narration's general claim, on these pairs: a step of at most 1e-2 never moves away from the label
    assert direction in ("towards", "still")


def test_the_default_step_moves_the_probability_visibly():
    """The default (first example pair, IsNext, STEP_LR) shows the point: P(IsNext) rises by more than the
    metric's rounding."""
    s = F.one_step("cpu", DEFAULT_A, DEFAULT_B, 1, F.STEP_LR)
    assert f"{s.after:.1%}" != f"{s.before:.1%}" and s.after > s.before


@pytest.mark.parametrize("before,after,label,direction", [
    (0.40, 0.60, 1, "towards"), (0.40, 0.20, 0, "towards"), (0.40, 0.30, 1, "away"), (0.5, 0.50001, 1, "still")])
def test_step_direction_reads_the_sign_against_the_label(before, after, label, direction):
    s = F.OneStep(before, after, 0.5, {"classifier": 1e-3, "pooler": 1e-4}, {})
    assert F.step_direction(s, label) == direction


# ------------------------------------------------------------------------------------------- the live probe
def _probe_lines(at) -> list[str]:
    starts = [t(k, layer=0, n=0, low=0, high=0).split("0")[0] for k in
              ("finetuning.probe_above", "finetuning.probe_chance", "finetuning.probe_below")]
    build = t("finetuning.build_inside", build=0, test=0, train=0, live=0).split("0")[0]
    return [m.value for m in at.markdown if m.value.startswith(tuple(starts)) or m.value.startswith(build)]


@pytest.mark.parametrize("layer", [F.PROBE_LAYER, 0, 2, 6])
def test_the_probe_sentences_place_the_interval_against_chance_and_the_build(layer):
    at = _app(PAGE, f_layer=str(layer))
    r = _probe_expected(BUILTIN_NAME, layer)
    ref = binomtest(r.correct, r.n).proportion_ci(method="wilson")  # scipy's Wilson interval, not ours
    low, high = r.interval
    assert low == pytest.approx(ref.low, abs=1e-6) and high == pytest.approx(ref.high, abs=1e-6)
    verdict = "above" if ref.low > 0.5 else "below" if ref.high < 0.5 else "chance"
    build = F.load_classifier("cpu")[1].facts["probes"][f"layer:{layer}"]["test_accuracy"]
    where = "inside" if ref.low <= build <= ref.high else "higher" if build > ref.high else "lower"
    facts = F.load_classifier("cpu")[1].facts
    assert _probe_lines(at) == [
        t(f"finetuning.probe_{verdict}", layer=layer, n=r.n, low=low, high=high),
        t(f"finetuning.build_{where}", build=build, test=facts["pairs"]["test"], train=facts["probe_pairs"],
          live=r.train_pairs)]
    if layer == 0:  # the embedding output's [CLS] is one vector for every pair: a probe can only guess
        assert verdict == "chance"
    if layer == F.PROBE_LAYER:  # the default shows the point: a layer that knows, its interval above chance
        assert verdict == "above"


def test_a_model_other_than_the_builtin_gets_no_build_time_comparison(tiny_probe_dir):
    name = str(tiny_probe_dir)
    at = _app(PAGE, model=name, f_layer="1")
    lines = _probe_lines(at)
    assert len(lines) == 1 and F.build_probe_accuracy(name, 1) is None


@pytest.mark.parametrize("correct,n,verdict", [(80, 100, "above"), (50, 100, "chance"), (30, 100, "below"),
                                               (4, 6, "chance")])
def test_probe_verdict_reads_the_interval(correct, n, verdict):
    r = ft.CrossValidated(correct, n, 5, 10, n - n // 5, 1.0)
    assert F.probe_verdict(r) == verdict


# -------------------------------------------------------------------------------------- measured at build time
def _facts(tuned: float, probe: float, n: int = 736) -> dict:
    return {"finetune_curve": [{"step": 1, "test_accuracy": tuned}], "probes": {"layer:5": {"test_accuracy": probe}},
            "best_probe": "layer:5", "pairs": {"test": n}}


@pytest.mark.parametrize("tuned,probe,n,winner,overlap", [
    (0.87, 0.811, 736, "tuned", False), (0.65, 0.75, 736, "probe", False), (0.80, 0.78, 100, "tuned", True),
    (0.80, 0.80, 100, "tie", True)])
def test_the_build_comparison_names_the_higher_and_whether_the_intervals_overlap(tuned, probe, n, winner, overlap):
    cmp = F.build_comparison(_facts(tuned, probe, n))
    assert (cmp["winner"], cmp["overlap"]) == (winner, overlap)


def test_the_measured_step_says_what_the_build_measured():
    facts = F.load_classifier("cpu")[1].facts
    tuned = [r for r in facts["finetune_curve"] if "test_accuracy" in r][-1]["test_accuracy"]
    probe, n = facts["probes"][facts["best_probe"]]["test_accuracy"], facts["pairs"]["test"]
    t_ci = binomtest(round(tuned * n), n).proportion_ci(method="wilson")
    p_ci = binomtest(round(probe * n), n).proportion_ci(method="wilson")
    at = _app(PAGE)
    shown = [m.value for m in at.markdown if m.value.startswith(t("finetuning.compare_tuned").split("{")[0])]
    assert len(shown) == 1
    key = "compare_tuned" if tuned > probe else "compare_probe"
    layer = t("finetuning.layer_short", k=int(facts["best_probe"].split(":")[1]))
    assert shown[0].startswith(t(f"finetuning.{key}", tuned=tuned, probe=probe, n=n, pp=100 * abs(tuned - probe),
                                 layer=layer))
    apart = t_ci.low > p_ci.high or p_ci.low > t_ci.high
    assert shown[0].endswith(t("finetuning.compare_apart" if apart else "finetuning.compare_overlap",
                               t_low=t_ci.low, t_high=t_ci.high, p_low=p_ci.low, p_high=p_ci.high))


# ------------------------------------------------------------------------------------- question answering
EXAMPLES = [tuple(r[1:]) for r in table("qa_examples")[1:]]


@pytest.mark.parametrize("passage,question", [EXAMPLES[0][:2], EXAMPLES[1][:2], EXAMPLES[3][:2],
                                              (EXAMPLES[0][0], "Who teaches music?")])
def test_the_answer_is_the_span_with_the_highest_start_plus_end_score(builtin_qa, passage, question):
    """The narration: the answer is the span i…j (i ≤ j, in the passage, at most 30 pieces) with the highest
    S·Tᵢ + E·Tⱼ; found here by brute force over every pair of positions."""
    at = _app(PAGE, qa_p=passage, qa_q=question)
    r = _expected_answer(builtin_qa, question, passage)
    best, where = -float("inf"), None
    s, e = r.start_logits.tolist(), r.end_logits.tolist()
    for i in range(r.input.first, r.input.last + 1):
        for j in range(i, min(r.input.last, i + 29) + 1):
            if s[i] + e[j] > best:
                best, where = s[i] + e[j], (i, j)
    assert (r.best.start, r.best.end) == where and r.best.score == pytest.approx(best, abs=1e-4)
    text = r.input.passage[r.input.offsets[where[0]][0]:r.input.offsets[where[1]][1]]
    assert t("finetuning.answer", answer=md_escape(text), score=r.best.score, i=where[0], j=where[1]) in \
        [m.value for m in at.markdown]
    assert float(torch.as_tensor(r.scores).max()) == pytest.approx(best, abs=1e-4)


def test_the_step_names_the_parts_in_the_readers_language_after_another_language_computed_it():
    """The step's result is cached without the language: the parts' names are looked up when shown (in English
    first, then in Chinese, the same cached step)."""
    _app(PAGE, a=DEFAULT_A, b=DEFAULT_B)
    at = _app(PAGE, a=DEFAULT_A, b=DEFAULT_B, lang="zh")
    s = F.one_step("cpu", DEFAULT_A, DEFAULT_B, 1, F.STEP_LR)
    first, x, second, y = F.moved_most(s)
    said = t("finetuning.step_most", "zh", part=t("finetuning.part_head", "zh"), x=x,
             second=t("finetuning.part_pooler", "zh"), ratio=x / y)
    assert (first, second) == ("head", "pooler")
    assert any(m.value.endswith(said) for m in at.markdown), [m.value for m in at.markdown if "P(IsNext)" in m.value]
