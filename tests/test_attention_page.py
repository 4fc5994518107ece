"""Chapter 2 (Attention heads) in presenter mode through AppTest: each step draws its own section alone, and the
two bertviz views are a step each, fitted to the screen."""
from __future__ import annotations

import pytest

from ui.text import t

from tests.test_pages import _app
from ui import prose
from ui.chapters import chapter

PAGE = "pages/attention.py"
STEPS = chapter("attention").steps


def _frames(at) -> list[str]:
    return [f.proto.srcdoc for f in at.get("iframe")]


@pytest.mark.parametrize("k", range(1, len(STEPS) + 1))
def test_each_step_has_its_own_heading_and_no_other(k):
    at = _app(PAGE, present="1", step=str(k))
    one_head = prose.sections("attention")["one-head"].partition("\n")[0]
    assert bool([m for m in at.markdown if m.value.startswith(one_head)]) == (STEPS[k - 1] == "one-head")


def test_the_head_view_and_the_model_view_are_a_step_each_and_fit_the_screen():
    head = _frames(_app(PAGE, present="1", step=str(STEPS.index("bertviz") + 1)))
    model = _frames(_app(PAGE, present="1", step=str(STEPS.index("model-view") + 1)))
    assert len(head) == 1 and 'id="bertviz-head"' in head[0] and "style.zoom" in head[0]
    assert len(model) == 1 and 'id="bertviz-model"' in model[0] and "style.zoom" in model[0]


def test_outside_presenter_mode_both_views_are_whole_in_tabs_with_their_downloads():
    """Two tabs; only the open one is drawn (the head view first), so a slider move that redraws the page for the
    head view does not send the model view again."""
    at = _app(PAGE)
    frames = _frames(at)
    assert len(at.tabs) == 2 and len(frames) == 1 and "style.zoom" not in frames[0]
    assert {b.key for b in at.get("download_button")} & {"dl_head_view", "dl_model_view"} == {"dl_head_view"}
    at = _app(PAGE, att_view=t("attention.model_view", "en"))  # the model view's tab, as its link opens it
    frames = _frames(at)
    assert len(at.tabs) == 2 and len(frames) == 1 and "style.zoom" not in frames[0]
    assert {b.key for b in at.get("download_button")} & {"dl_head_view", "dl_model_view"} == {"dl_model_view"}
