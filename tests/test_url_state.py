"""Every view a teacher sets up lives in the URL: a bookmark opens the same position, draw and word.

A bound selectbox stores its option's label in the URL ("3 · wrote"), so a link made for another sentence
names no option of this one and the page opens at its default."""
from __future__ import annotations

from tests.test_pages import _app


def test_masking_why_position_and_draw_come_from_the_url():
    at = _app("pages/masking.py", why_pos="3 · wrote", why_draw="7")
    assert at.selectbox(key="why_pos").value == 3
    assert at.number_input(key="why_draw").value == 7


def test_a_position_from_another_sentence_opens_the_default():
    at = _app("pages/masking.py", a="Hi there.", why_pos="9 · zebra")
    assert not at.exception
    assert at.selectbox(key="why_pos").value == 2  # the middle of "hi", "there", "."


def test_electra_replacement_position_and_word_come_from_the_url():
    at = _app("pages/electra.py", e_pos="2 · teacher", e_word="elephant")
    assert at.selectbox(key="e_pos").value == 2
    assert at.text_input(key="e_word").value == "elephant"
    assert any("“elephant”" in m.value for m in at.markdown)


def test_distillation_position_comes_from_the_url():
    at = _app("pages/distillation.py")
    second = at.selectbox(key="d_pos").options[1]
    at = _app("pages/distillation.py", d_pos=second)
    assert at.selectbox(key="d_pos").value == 1
