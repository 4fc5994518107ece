"""Issue 27, chapter 7: the pickers derived from the input re-derive when the sentence changes, and every view
follows the pickers that select it (AppTest, the built-in model)."""
from __future__ import annotations

from tests.test_pages import _app
from ui import family as fam
from ui.state import DEFAULT_A
from ui.text import t

PAGE = "pages/family.py"
NEW = "We ate ice cream in the living room with Jane Austen."


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def _pickers(at) -> dict:
    return {k: (at.selectbox(key=k) if k in ("fam_lens_pos", "fam_unilm_pos", "fam_unit") else at.slider(key=k)).value
            for k in ("fam_lens_pos", "fam_unilm_pos", "fam_unit", "fam_source", "fam_mass_k", "fam_mass_start")}


def _views_agree(at, text: str) -> None:
    """Each view names what its picker selects: the lens's words its hidden piece, UniLM's captions the piece at
    the picked position, MASS's table the fragment the two sliders give, ERNIE's probe the picked unit."""
    enc = fam.encoded("built-in", "cpu", text, "")
    shown = _captions(at)
    lens_pos = at.selectbox(key="fam_lens_pos").value
    assert f"The hidden piece was “{enc.tokens[lens_pos]}”" in shown
    pos = at.selectbox(key="fam_unilm_pos").value
    assert shown.count(f"P(“{enc.tokens[pos]}”) = ") == 3
    start, k = at.slider(key="fam_mass_start").value, at.slider(key="fam_mass_k").value
    table = next(df.value for df in at.dataframe if t("family.decoder_predicts") in df.value.columns)
    assert list(table[t("family.decoder_predicts")]) == enc.tokens[start:start + k]
    unit = at.selectbox(key="fam_unit")
    assert f"“{unit.options[unit.value].split(' · ')[0]}”: mean P(original)" in shown


def test_the_pickers_re_derive_when_the_sentence_changes_and_the_views_follow_them():
    at = _app(PAGE)
    at.selectbox(key="fam_lens_pos").set_value(8).run()
    at.slider(key="fam_source").set_value(5).run()
    at.slider(key="fam_mass_k").set_value(2).run()
    at.selectbox(key="fam_unit").set_value(2).run()
    _views_agree(at, DEFAULT_A)
    at.sidebar.text_area(key="a").set_value(NEW).run()
    assert not at.exception
    fresh = _app(PAGE, a=NEW)  # what a first visit with the new sentence opens on
    assert _pickers(at) == _pickers(fresh)
    _views_agree(at, NEW)
    at.selectbox(key="fam_lens_pos").set_value(3).run()  # "ice"
    at.slider(key="fam_source").set_value(3).run()
    at.selectbox(key="fam_unilm_pos").set_value(6).run()
    at.slider(key="fam_mass_k").set_value(4).run()
    at.slider(key="fam_mass_start").set_value(2).run()
    at.selectbox(key="fam_unit").set_value(2).run()  # Jane Austen
    assert not at.exception
    assert _pickers(at) == {"fam_lens_pos": 3, "fam_unilm_pos": 6, "fam_unit": 2, "fam_source": 3,
                            "fam_mass_k": 4, "fam_mass_start": 2}
    _views_agree(at, NEW)
