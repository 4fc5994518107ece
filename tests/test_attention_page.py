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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_presenters_head_view_names_the_head_it_shows_and_where_it_was_chosen(lang):
    """On the projector the sliders are on the chapter's first step, not above the head view: its caption names the
    layer and head from the address and that step, never "above"."""
    at = _app(PAGE, present="1", step=str(STEPS.index("bertviz") + 1), layer="2", head="3", lang=lang)
    captions = [c.value for c in at.caption]
    step = prose.sections("tour", lang)["attention.one-head"].partition("\n")[0].strip()
    assert t("attention.head_view_present", lang, layer=2, head=3, step=step) in captions, captions
    assert t("attention.head_view_one", lang) not in captions


def test_outside_presenter_mode_the_head_view_follows_the_sliders_and_the_model_view_waits_to_be_opened():
    """The head view is one frame per sentence that follows the sliders itself (a move reruns their fragment alone
    and sends no frame); the model view, every head of every layer, only while its expander is open, which the
    link keeps."""
    at = _app(PAGE)
    frames = _frames(at)
    assert len(frames) == 1 and 'id="bertviz-head"' in frames[0] and "style.zoom" not in frames[0]
    assert {b.key for b in at.get("download_button")} & {"dl_head_view", "dl_model_view"} == {"dl_head_view"}
    at.slider(key="layer").set_value(1)
    at.slider(key="head").set_value(2)
    at.run()
    # the same frame (it follows the sliders through the page's address: tests/test_links_attention.py), and the
    # download is the chosen head's
    assert _frames(at) == frames and "window.parent.location.search" in frames[0]
    assert at.get("download_button")[0].proto.label == t("attention.download_head_view", "en", layer=1, head=2)
    at = _app(PAGE, att_model="true")  # the model view's expander, as its link opens it
    frames = _frames(at)
    assert len(frames) == 2 and 'id="bertviz-model"' in frames[1] and "style.zoom" not in frames[1]
    assert {b.key for b in at.get("download_button")} & {"dl_head_view", "dl_model_view"} == {"dl_head_view",
                                                                                             "dl_model_view"}


def test_the_head_views_words_are_the_readers_language_after_another_reader_drew_it_in_english():
    """The frame's page is cached per sentence: its layer selector's label must follow the language too."""
    assert t("chips.bertviz_layer", "en") in _frames(_app(PAGE))[0]
    zh = _frames(_app(PAGE, lang="zh"))[0]
    assert t("chips.bertviz_layer", "zh") in zh and t("chips.bertviz_layer", "en") not in zh
