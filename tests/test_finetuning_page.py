"""The Fine-tuning chapter through AppTest: every number on the page is the explainers' own, computed here again
with the same models. The built-in classifier and QA model are placeholders until they are trained, so nothing
here depends on what they predict, only on the page showing what they predict."""
from __future__ import annotations

import html
import json
import re

import pytest
import torch
from safetensors.torch import load_file
from transformers import (AutoModelForQuestionAnswering, AutoTokenizer, BertConfig, BertForMaskedLM,
                          BertForQuestionAnswering, BertForSequenceClassification, BertTokenizerFast)

from explainers import finetune as ft
from explainers import qa
from explainers.encoding import encode_text
from explainers.model import BUILTIN_DIR, BUILTIN_NAME, ROOT, ModelLoadError, load_role
from tests.conftest import write_vocab
from tests.test_pages import _app
from ui.html import md_escape
from ui.text import error_text, note_text, t, table

PAGE = "pages/finetuning.py"
CLASSIFIER_DIR = ROOT / "assets/models/next-sentence"
QA_DIR = ROOT / "assets/models/qa"
QA_MAX_LENGTH = 384  # what BERT used for SQuAD; the page uses less for a model with fewer positions
ANSWER_PREFIX = t("finetuning.answer").split("{")[0]  # "**Answer: "


# ------------------------------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def classifier():
    """The built-in next-sentence classifier and the teacher's probe, read from their folder without ui/."""
    facts = json.loads((CLASSIFIER_DIR / "training.json").read_text())
    layers = tuple(facts["probes"][facts["best_probe"]]["layers"])
    probe = ft.Probe(**load_file(CLASSIFIER_DIR / "probe.safetensors"))
    return load_role(BUILTIN_NAME, CLASSIFIER_DIR, BertForSequenceClassification), probe, layers


@pytest.fixture(scope="module")
def builtin_qa():
    return load_role(BUILTIN_NAME, QA_DIR, AutoModelForQuestionAnswering)


@pytest.fixture(scope="module")
def tiny_qa_dir(tmp_path_factory):
    """A 2-layer BertForQuestionAnswering with conftest's vocabulary, saved with save_pretrained."""
    folder = tmp_path_factory.mktemp("tiny-qa")
    tok = BertTokenizerFast(vocab=str(write_vocab(folder)), do_lower_case=True)
    torch.manual_seed(0)
    BertForQuestionAnswering(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2,
                                        num_attention_heads=2, intermediate_size=32,
                                        max_position_embeddings=64)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _tiny_mlm(folder, positions: int):
    """A 2-layer BERT with the built-in tokenizer (so the held-out English pairs are real pieces, not [UNK])."""
    tok = AutoTokenizer.from_pretrained(BUILTIN_DIR)
    torch.manual_seed(0)
    BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                               intermediate_size=32, max_position_embeddings=positions)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_probe_dir(tmp_path_factory):
    return _tiny_mlm(tmp_path_factory.mktemp("tiny-probe"), positions=64)  # the live probe reads 64 pieces


def _button(at, label: str):
    matches = [b for b in at.button if b.label == label]
    assert len(matches) == 1, [b.label for b in at.button]
    return matches[0]


def _expected_answer(lm, question: str, passage: str) -> qa.QAResult:
    return qa.answer(lm.model, lm.tokenizer, question, passage, k=5,
                     max_length=min(QA_MAX_LENGTH, lm.max_positions))


def _answer_line(r: qa.QAResult) -> str:
    best = r.best
    return t("finetuning.answer", answer=md_escape(best.text), score=best.score, i=best.start, j=best.end)


def _answers(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith(ANSWER_PREFIX)]


def _assert_shows_answer(at, r: qa.QAResult) -> None:
    assert _answers(at) == [_answer_line(r)]
    marked = f"{html.escape(r.best.text)}</mark>"  # the passage with the best span marked
    assert any(marked in h.value for h in at.get("html"))
    spans = at.table[-1].value  # the top spans (the paper's table comes first)
    assert list(spans[t("finetuning.span")]) == [s.text for s in r.top]
    assert list(spans["i"]) == [s.start for s in r.top] and list(spans["j"]) == [s.end for s in r.top]
    assert list(spans[t("finetuning.score")]) == [f"{s.score:.2f}" for s in r.top]


def _p_is_next(at) -> list:
    """The two verdicts' metrics (the page shows other metrics too)."""
    return [m for m in at.metric if m.label == t("finetuning.p_is_next")]


def _verdict(p: float) -> str:
    return t("finetuning.is_next") if p >= 0.5 else t("finetuning.not_next")


# ----------------------------------------------------------------------------------- 1 · two classifiers
def _p_both(builtin, classifier, a: str, b: str) -> tuple[float, float]:
    """P(IsNext) of the probe on the frozen teacher and of the fine-tuned head."""
    tuned, probe, layers = classifier
    enc = encode_text(tuned.tokenizer, a, b, max_length=builtin.max_positions)
    args = (enc.input_ids, enc.attention_mask, enc.token_type_ids)
    p_probe = float(probe.predict_proba(ft.pair_features(builtin.encoder, *args, layers))[0, 1])
    with torch.no_grad():
        p_tuned = float(ft.cls_head_logits(tuned.model, *args).softmax(-1)[0, 1])
    return p_probe, p_tuned


@pytest.mark.parametrize("a,b", [("She put the kettle on and took two cups from the shelf.", "Then she made tea."),
                                 ("The cat sat on the mat.", "Stock prices fell sharply on Monday.")])
def test_both_verdicts_are_the_probe_on_the_frozen_teacher_and_the_finetuned_head(builtin, classifier, a, b):
    at = _app(PAGE, a=a, b=b)
    p_probe, p_tuned = _p_both(builtin, classifier, a, b)
    layers = classifier[2]
    shown = _p_is_next(at)
    assert [m.value for m in shown] == [f"{p_probe:.0%}", f"{p_tuned:.0%}"]
    assert [m.delta for m in shown] == [_verdict(p_probe), _verdict(p_tuned)]
    names = ", ".join(t("finetuning.layer_short", k=k) if k else t("finetuning.embeddings_short") for k in layers)
    assert f"**{t('finetuning.feature_based_title', layers=names)}**" in [m.value for m in at.markdown]


def test_without_sentence_b_the_page_asks_for_a_pair_and_each_example_button_loads_its_row():
    at = _app(PAGE, b="")
    assert t("finetuning.need_pair") in [i.value for i in at.info]
    assert not _p_is_next(at)
    rows = table("finetuning_pairs")[1:]
    assert rows
    for label, a, b in rows:
        _button(at, label).click().run()
        assert not at.exception
        assert (at.sidebar.text_area(key="a").value, at.sidebar.text_area(key="b").value) == (a, b)
        assert t("finetuning.need_pair") not in [i.value for i in at.info]
        assert len(_p_is_next(at)) == 2


# ------------------------------------------------------------------------------------ 3 · question answering
def test_the_default_answer_is_the_best_span_of_qa_answer(builtin_qa):
    at = _app(PAGE)
    _, passage, question = table("qa_examples")[1]
    assert (at.text_area(key="qa_p").value, at.text_input(key="qa_q").value) == (passage, question)
    r = _expected_answer(builtin_qa, question, passage)
    _assert_shows_answer(at, r)
    key = "finetuning.no_answer_higher" if r.no_answer > r.best.score else "finetuning.no_answer_lower"
    assert t(key, null=r.no_answer, best=r.best.score) in [c.value for c in at.caption]


def test_an_empty_question_from_the_url_gets_the_empty_question_message():
    at = _app(PAGE, qa_q="")
    assert t("errors.empty_question") in [i.value for i in at.info]
    assert not _answers(at)


def test_a_ten_thousand_character_passage_is_cut_with_a_note_and_still_answered(builtin_qa):
    passage = ("Anna took her class of 24 students to Madrid by train in 2019. " * 200)[:10_000]
    question = "Where did Anna take her class?"
    at = _app(PAGE, qa_p=passage, qa_q=question)
    notes = qa.encode_qa(builtin_qa.tokenizer, question, passage, min(QA_MAX_LENGTH, builtin_qa.max_positions)).notes
    assert "truncated" in [n.reason for n in notes]
    assert [w.value for w in at.warning] == [note_text(n) for n in notes]
    _assert_shows_answer(at, _expected_answer(builtin_qa, question, passage))


def test_a_typed_sep_in_the_passage_is_flagged_and_still_answered(builtin_qa):
    passage, question = "Anna took her class to Madrid. [SEP] Tom stayed in Lisbon.", "Where did Tom stay?"
    at = _app(PAGE, qa_p=passage, qa_q=question)
    notes = qa.encode_qa(builtin_qa.tokenizer, question, passage).notes
    assert [n.reason for n in notes] == ["literal_special"]
    assert [w.value for w in at.warning] == [note_text(notes[0])]
    _assert_shows_answer(at, _expected_answer(builtin_qa, question, passage))


def test_html_in_the_passage_and_question_is_shown_as_text():
    at = _app(PAGE, qa_p="<script>alert('x')</script><img src=x onerror=alert(1)> is a <b>tag</b>.",
              qa_q="What <i>is</i> <script>alert(2)</script>?")
    # the app's own scripts (ui.boot.close_sidebar_on_phone, ui.links' copy button), not the user's text
    own = ("__insideBertPage", "__insideBertLink")
    shown = [h.value for h in at.get("html") if not any(o in h.value for o in own)]
    assert not [h.value for h in at.get("html") if "alert(" in h.value and h.value not in shown]
    assert any("&lt;script&gt;alert(" in h for h in shown)  # the passage is on the page, as text
    for h in shown:
        assert not re.search(r"<\s*(script|img|b>|i>)", h, re.I), h
    for m in at.markdown:  # markdown: every "<" the user typed arrives escaped ("\<")
        assert not re.search(r"(?<!\\)<\s*/?\s*(script|img)", m.value, re.I), m.value
    assert len(_answers(at)) == 1


def test_an_unknown_qa_model_shows_an_error_and_the_builtin_model_answers(builtin_qa):
    name = "no/such-model-xyz"
    at = _app(PAGE, qa_model=name)
    with pytest.raises(ModelLoadError) as err:
        load_role(name, QA_DIR, AutoModelForQuestionAnswering)
    assert t("finetuning.builtin_qa_instead", error=md_escape(error_text(err.value))) in [e.value for e in at.error]
    _, passage, question = table("qa_examples")[1]
    _assert_shows_answer(at, _expected_answer(builtin_qa, question, passage))


def test_a_local_qa_folder_chosen_in_the_box_answers(tiny_qa_dir):
    passage, question = "the big red cat sat on the mat . the dog ran", "where sat the cat ?"
    at = _app(PAGE)
    at.text_input(key="qa_model").set_value(str(tiny_qa_dir))
    at.text_area(key="qa_p").set_value(passage)
    at.text_input(key="qa_q").set_value(question).run()
    assert not at.exception and not at.error
    lm = load_role(str(tiny_qa_dir), tiny_qa_dir, AutoModelForQuestionAnswering)
    r = _expected_answer(lm, question, passage)
    _assert_shows_answer(at, r)
    S, E = r.S, r.E
    assert t("finetuning.vectors_caption", d=16, norm_s=float(S.norm()), norm_e=float(E.norm()),
             cos=float((S @ E) / (S.norm() * E.norm()))) in [c.value for c in at.caption]


# ------------------------------------------------------------------------------------------- 2 · live probe
def _probe_expected(name: str, layer: int) -> ft.CrossValidated:
    """The live probe computed here again: every layer's [CLS] of the held-out pairs, cross-validated by document."""
    from ui import finetune as F

    data = F.probe_data(name, "cpu")
    return ft.cross_validate_probe(data.hidden[:, layer], data.labels, data.docs, folds=F.PROBE_FOLDS,
                                   steps=F.PROBE_STEPS, seed=0)


def _probe_metric(at, layer: int) -> list:
    return [m for m in at.metric if m.label == t("finetuning.probe_result", layer=layer)]


def test_the_live_probe_is_a_cross_validated_probe_on_the_chosen_layers_features(tiny_probe_dir):
    from ui import finetune as F

    name = str(tiny_probe_dir)
    at = _app(PAGE, model=name)
    assert at.slider(key="f_layer").max == 2 and at.slider(key="f_layer").value == 2  # min(PROBE_LAYER, layers)
    at.slider(key="f_layer").set_value(1).run()
    assert not at.exception
    r = _probe_expected(name, 1)
    low, high = r.interval
    shown = _probe_metric(at, 1)
    assert [m.value for m in shown] == [f"{r.accuracy:.1%}"]
    assert shown[0].delta == t("finetuning.probe_interval", low=low, high=high, n=r.n)
    assert t("finetuning.probe_caption", n=r.n, docs=r.n_docs, folds=r.folds, train=r.train_pairs,
             steps=F.PROBE_STEPS) in at.caption.values
    assert r.n == len(F.heldout_pairs()) >= 100 and r.n_docs >= 15  # enough pairs to mean something

    # the features are layer 1's [CLS] rows of the held-out pairs
    lm = load_role(name, tiny_probe_dir, BertForMaskedLM)
    enc = ft.encode_pairs(lm.tokenizer, F.heldout_pairs(), 64)
    own = ft.pair_features(lm.model, enc["input_ids"], enc["attention_mask"], enc["token_type_ids"], (1,))
    torch.testing.assert_close(F.probe_data(name, "cpu").hidden[:, 1], own, atol=1e-5, rtol=1e-4)
    assert torch.equal(F.probe_data(name, "cpu").labels, enc["labels"])


def test_the_live_probe_works_on_a_model_with_fewer_positions_than_its_pairs(tmp_path):
    name = str(_tiny_mlm(tmp_path, positions=32))
    at = _app(PAGE, model=name)
    assert not at.exception, [e.value for e in at.exception]
    assert _probe_metric(at, 2)


# ------------------------------------------------------------------------------------------ unusual input
@pytest.mark.parametrize("text", ["I ❤️ 🤖 transformers", "東京は日本の首都です", "שלום עולם",
                                  "<script>alert('x')</script><img src=x onerror=alert(1)>",
                                  "Paris is the [MASK] of France. [CLS] [SEP]", "tab\there\x00\x1b[31m red"])
def test_unusual_text_renders(text):
    """tests/test_pages.py's unusual texts, as both sentences of the pair and as the question and passage."""
    at = _app(PAGE, a=text, b=text, qa_p=text, qa_q=text)
    assert len(_p_is_next(at)) == 2
    assert len(_answers(at)) == 1


# ------------------------------------------------------------------------------------------- presenter mode
def _step(name: str):
    """The chapter's step `name` in presenter mode (`?present=1&step=k`)."""
    from tests.test_present import _present
    from ui.chapters import chapter

    return lambda **query: _present("finetuning", chapter("finetuning").steps.index(name) + 1, **query)


def test_presenter_pair_step_opens_with_the_default_pairs_verdicts_while_sentence_b_is_empty(builtin, classifier):
    at = _step("pair")(b="")
    assert t("finetuning.need_pair") not in [i.value for i in at.info]
    assert t("finetuning.default_pair") in at.caption.values
    _, a, b = table("finetuning_pairs")[1]
    assert t("finetuning.pair_line", a=md_escape(a), b=md_escape(b)) in [m.value for m in at.markdown]
    assert [m.value for m in _p_is_next(at)] == [f"{p:.0%}" for p in _p_both(builtin, classifier, a, b)]
    assert not [m for m in at.metric if m.label == t("finetuning.step_before")], "one step is the next step"


def test_presenter_pair_step_reads_the_sidebars_pair_when_it_has_one():
    a, b = "The cat sat on the mat.", "Stock prices fell sharply on Monday."
    at = _step("pair")(a=a, b=b)
    assert t("finetuning.default_pair") not in at.caption.values and len(_p_is_next(at)) == 2
    assert t("finetuning.pair_line", a=md_escape(a), b=md_escape(b)) in [m.value for m in at.markdown]


def test_presenter_one_step_step_trains_on_the_default_pair():
    at = _step("step")(b="")
    assert [m.label for m in at.metric] == [t("finetuning.step_before"), t("finetuning.step_after"),
                                           t("finetuning.step_loss")]
    _, a, b = table("finetuning_pairs")[1]
    assert t("finetuning.pair_line", a=md_escape(a), b=md_escape(b)) in [m.value for m in at.markdown]


def test_presenter_probe_step_opens_with_the_default_layers_probe(tiny_probe_dir):
    name = str(tiny_probe_dir)
    at = _step("probe")(model=name)
    r = _probe_expected(name, 2)
    assert [m.value for m in _probe_metric(at, 2)] == [f"{r.accuracy:.1%}"]


def test_presenter_qa_steps_show_the_answer_then_every_spans_score(builtin_qa):
    _, passage, question = table("qa_examples")[1]
    r = _expected_answer(builtin_qa, question, passage)
    at = _step("qa")()
    assert _answers(at) == [_answer_line(r)]
    assert any(f"{html.escape(r.best.text)}</mark>" in h.value for h in at.get("html"))
    assert not at.table and not [e for e in at.expander if e.label == t("finetuning.qa_model")]
    at = _step("spans")()
    assert _answers(at) == [_answer_line(r)]
    top = at.table[-1].value
    assert list(top["i"]) == [s.start for s in r.top] and list(top["j"]) == [s.end for s in r.top]
    for shown, s in zip(top[t("finetuning.span")], r.top):  # a long span is cut in its middle, one line a row
        head, cut, tail = shown.partition(" … ")
        assert shown == s.text or (cut and len(shown) < len(s.text) and s.text.startswith(head)
                                   and s.text.endswith(tail)), shown
    assert not any("</mark>" in h.value for h in at.get("html"))
