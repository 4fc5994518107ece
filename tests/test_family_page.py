"""Chapter 7 (The BERT family) through AppTest: every section draws on the sidebar's sentence and model, the
numbers are the explainers', and inputs a section cannot use get a message instead of an error."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_pages import _app
from ui.chapters import chapter
from ui.text import t

PAGE = "pages/family.py"


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_the_family_chapter_shows_every_section_on_the_default_sentence():
    at = _app(PAGE)
    text = _captions(at)
    assert "10 epochs, 1 different masks" in text and "10 epochs, 10 different masks" in text
    assert t("family.level_entity") in text and t("family.unilm_caption") in text
    assert len(at.get("plotly_chart")) == 1 + 1 + 9 + 3 + 2  # coverage, span lengths, UniLM 3×3, MASS, lens
    assert [i.value for i in at.info] == [t("family.no_units")]  # no WordNet phrase here: the example stands in
    assert at.table[0].value.shape[0] == 8  # the family map: eight models


def test_the_spanbert_numbers_are_the_explainers_on_the_same_sentence(builtin):
    import torch

    from explainers.family.spanbert import spans_vs_scattered
    from explainers.encoding import encode_text

    text = "My grandmother baked fresh bread in the old oven every Sunday morning before church."
    at = _app(PAGE, a=text, fam_span_seed="7")
    enc = encode_text(builtin.tokenizer, text)
    special = torch.tensor([int(i in builtin.tokenizer.all_special_ids) for i in enc.input_ids[0].tolist()])
    c = spans_vs_scattered(builtin.model, enc.input_ids, enc.attention_mask, special,
                           mask_token_id=builtin.tokenizer.mask_token_id, draws=20, seed=7)
    assert t("family.many_caption", draws=20, pieces=c.pieces, span_p=c.span_p,
             scattered_p=c.scattered_p) in _captions(at)


def test_ernie_uses_the_sidebar_sentence_when_it_has_phrases_and_the_example_button_fills_the_sidebar():
    at = _app(PAGE, a="We ate ice cream in the living room with Jane Austen.")
    assert not at.info
    assert at.selectbox(key="fam_unit").options == ["ice cream · phrase", "living room · phrase",
                                                    "Jane Austen · entity"]
    at = _app(PAGE)
    at.button[0].click().run()  # "Put the example in the sidebar"
    assert not at.exception and at.sidebar.text_area(key="a").value == t("family.ernie_example")
    assert not at.info and "New York · entity" in at.selectbox(key="fam_unit").options


def test_a_model_without_mlm_head_keeps_the_map_and_a_distilbert_skips_only_unilm(tiny_distilbert_dir):
    at = _app(PAGE, model=str(tiny_distilbert_dir), a="the cat sat on the mat")
    assert [w.value for w in at.warning] == [t("family.no_head")] and at.table[0].value.shape[0] == 8
    student = Path(__file__).resolve().parents[1] / "assets/models/student"  # DistilBERT with its MLM head
    at = _app(PAGE, model=str(student))
    assert [i.value for i in at.info] == [t("family.no_units"), t("family.unilm_needs_bert", kind="distilbert")]
    assert t("family.many_top1_spans", draws=20) in [m.label for m in at.metric]


def test_unilm_asks_for_a_shorter_input_beyond_its_drawing_limit():
    long = " ".join(["the cat sat on the mat ."] * 12)
    at = _app(PAGE, a=long)
    assert t("family.unilm_too_long", n=12 * 7 + 2, limit=64) in [i.value for i in at.info]


@pytest.mark.parametrize("text", ["", "🙂🙂", "<script>alert(1)</script> [MASK] [CLS]", "x", "北京是中国的首都。",
                                  "مرحبا بالعالم", "tab\there\x07bell New\u200bYork"])
def test_bad_input_gets_a_message_and_no_error(text):
    at = _app(PAGE, a=text)
    assert not at.exception


# the figures each presenter step draws, and nothing else: one idea a screen
PRESENTER_FIGURES = {"map": 0, "roberta": 0, "roberta-coverage": 1, "roberta-paper": 0, "spanbert": 1,
                     "spanbert-draw": 0, "ernie": 0, "ernie-levels": 0, "ernie-probe": 0, "unilm": 3,
                     "unilm-attention": 3, "unilm-guesses": 3, "mass": 0, "mass-bars": 1, "mass-masks": 2,
                     "lens": 2}  # the lens: teacher and student


@pytest.mark.parametrize("step", range(1, len(chapter("family").steps) + 1))
def test_every_presenter_step_draws_alone_without_code_on_screen(step):
    from harness.walk import code_identifiers, find_code

    at = _app(PAGE, present="1", step=str(step))
    assert not at.exception
    assert len(at.get("plotly_chart")) == PRESENTER_FIGURES[chapter("family").steps[step - 1]]
    shown = "\n".join([c.value for c in at.main.caption] + [m.value for m in at.main.markdown])
    assert not find_code(shown, code_identifiers())


def test_the_presenter_steps_are_the_registrys():
    assert tuple(PRESENTER_FIGURES) == chapter("family").steps


def test_a_long_input_gets_fewer_draws_a_shorter_summary_and_no_matrices():
    """10,000 characters, truncated to 512 pieces: the demos that measure over copies of the input keep to a
    budget (this took 173 s before; now a few), and UniLM and MASS say why they are not drawn."""
    from ui import family as fam

    text = ("After high school, my sister moved from New York to Paris and opened a coffee shop. " * 130)[:10_000]
    at = _app(PAGE, a=text)
    assert fam.span_draws(512) == 2 and fam.span_draws(17) == 20
    captions = _captions(at)
    assert "Over 2 draws" in captions
    units = at.selectbox(key="fam_unit").options
    assert len(units) > 20 and f"of the sentence's {len(units)} units are counted" in captions
    assert [i.value for i in at.info] == [t("family.unilm_too_long", n=512, limit=64),
                                          t("family.mass_too_long", n=512, limit=64)]
