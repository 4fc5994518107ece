"""The Fine-tuning chapter's widgets follow their input (issue 27): after the pair changes, the step's label and
rate still select what the views show, and every view reads the new pair; the layer slider follows the model; the
QA example selector never names an example the boxes no longer hold."""
from __future__ import annotations

from explainers.model import BUILTIN_NAME
from tests.test_finetuning_page import PAGE, _answers, _answer_line, _expected_answer, _p_is_next, \
    _probe_expected, builtin_qa, tiny_probe_dir  # noqa: F401
from tests.test_pages import _app
from ui import finetune as F
from ui.text import t, table


def _step_metrics(at) -> list[str]:
    labels = (t("finetuning.step_before"), t("finetuning.step_after"), t("finetuning.step_loss"))
    return [m.value for m in at.metric if m.label in labels]


def _expected_step(a: str, b: str, label: int, lr: float) -> list[str]:
    s = F.one_step("cpu", a, b, label, lr)
    return [f"{s.before:.1%}", f"{s.after:.1%}", f"{s.loss:.3f}"]


def test_the_views_follow_the_pair_and_then_the_selectors():
    _, a, b = table("finetuning_pairs")[1]
    at = _app(PAGE, a=a, b=b)
    assert _step_metrics(at) == _expected_step(a, b, 1, F.STEP_LR)
    at.radio(key="f_label").set_value(0).run()
    at.select_slider(key="f_lr").set_value(1e-3).run()
    assert _step_metrics(at) == _expected_step(a, b, 0, 1e-3)

    a2, b2 = "The cat sat on the mat.", "Stock prices fell sharply on Monday."  # a new pair in the sidebar
    at.sidebar.text_area(key="a").set_value(a2).run()
    at.sidebar.text_area(key="b").set_value(b2).run()
    v = F.next_sentence("cpu", a2, b2)
    assert [m.value for m in _p_is_next(at)] == [f"{v.probe[1]:.0%}", f"{v.finetuned[1]:.0%}"]
    assert at.radio(key="f_label").value == 0 and at.select_slider(key="f_lr").value == 1e-3
    assert _step_metrics(at) == _expected_step(a2, b2, 0, 1e-3)

    at.radio(key="f_label").set_value(1).run()  # and the selectors again, on the new pair
    at.select_slider(key="f_lr").set_value(1e-4).run()
    assert _step_metrics(at) == _expected_step(a2, b2, 1, 1e-4)
    assert not at.exception


def test_the_layer_slider_follows_the_model_and_selects_the_probe_shown(tiny_probe_dir):
    at = _app(PAGE, f_layer="6")
    r = _probe_expected(BUILTIN_NAME, 6)
    assert [m.value for m in at.metric if m.label == t("finetuning.probe_result", layer=6)] == [f"{r.accuracy:.1%}"]
    at.sidebar.text_input(key="model").set_value(str(tiny_probe_dir)).run()  # a model of 2 layers
    slider = at.slider(key="f_layer")
    assert slider.max == 2 and 0 <= slider.value <= 2
    slider.set_value(1).run()
    r = _probe_expected(str(tiny_probe_dir), 1)
    assert [m.value for m in at.metric if m.label.startswith(t("finetuning.probe_result", layer=1))] \
        == [f"{r.accuracy:.1%}"]
    assert not at.exception


def test_a_loaded_qa_example_fills_the_boxes_and_the_selector_returns_to_its_placeholder(builtin_qa):
    title, passage, question = table("qa_examples")[2]
    at = _app(PAGE)
    at.selectbox(key="qa_example").set_value(title).run()
    assert at.text_area(key="qa_p").value == passage and at.text_input(key="qa_q").value == question
    assert at.selectbox(key="qa_example").value is None
    assert _answers(at) == [_answer_line(_expected_answer(builtin_qa, question, passage))]
    at.text_input(key="qa_q").set_value("When did she win a second Nobel Prize?").run()  # the question edited
    assert at.selectbox(key="qa_example").value is None
    assert _answers(at) == [_answer_line(_expected_answer(builtin_qa, "When did she win a second Nobel Prize?",
                                                          passage))]
