"""Chapter 3 (Masking) in presenter mode through AppTest: the masked sentence and the model's guesses are two
steps that agree, and the steps keep engineers' captions off the projector."""
from __future__ import annotations

from tests.test_pages import _app, seen_keys
from ui.chapters import chapter
from ui.text import t

PAGE = "pages/masking.py"
STEPS = chapter("masking").steps


def _step(name: str) -> str:
    return str(STEPS.index(name) + 1)


def _chosen(at) -> str:
    """The "Chosen at r %: n of m" caption's numbers."""
    return next(c.value for c in at.caption if c.value.startswith("Chosen at")).split("**")[1]


def test_outside_presenter_mode_the_guesses_and_the_lens_stay_under_the_masked_sentence():
    at = _app(PAGE)
    assert len(at.dataframe) == 1 and t("masking.lens_title") in [w.label for w in at.toggle]


def test_the_guesses_step_guesses_the_sentence_as_the_mask_step_masked_it():
    at = _app(PAGE, present="1", step=_step("mask"))
    assert not at.dataframe, "the guesses are the next step"
    at.slider(key="rate").set_value(40).run()
    n = int(_chosen(at).split(" of ")[0])
    at.button(key="present_next").click().run()
    assert not at.exception
    assert at.query_params.get("step") in ("2", ["2"]) and STEPS[1] == "guesses"
    assert "rate" not in seen_keys(at, "slider") and "rate" in {s.key for s in at.slider}, "drawn unseen"
    assert len(at.dataframe) == 1 and at.dataframe[0].value.shape[0] == n
    assert not [w for w in at.toggle if w.key == "lens"], "the lens stays out of presenter mode"


def test_the_guesses_step_opened_by_its_address_uses_berts_settings():
    at = _app(PAGE, present="1", step=_step("guesses"))
    normal = _app(PAGE)
    assert at.dataframe[0].value.equals(normal.dataframe[0].value)


def test_the_rate_curve_step_shows_the_curve_without_the_measurement_captions():
    at = _app(PAGE, present="1", step=_step("curve"))
    assert len(at.get("plotly_chart")) == 1
    assert not [c for c in at.caption if "rate_curve" in c.value or "%" in c.value]
    normal = _app(PAGE)
    assert any("training/rate_curve.py" in c.value for c in normal.caption)


def test_the_80_10_10_step_leaves_the_reasons_to_the_lecturer():
    reasons = "Never hide the word"
    at = _app(PAGE, present="1", step=_step("why"))
    assert len(at.get("plotly_chart")) == 3 and not [m for m in at.markdown if reasons in m.value]
    assert [m for m in _app(PAGE).markdown if reasons in m.value]
