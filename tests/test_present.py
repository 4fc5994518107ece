"""Presenter mode (ui/present.py) through AppTest: one step a screen, the keys that walk the lecture, the
registry, the pages and the narration agreeing with each other."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_pages import seen_keys
from ui import prose
from ui.chapters import CHAPTERS, chapter
from ui.present import lecture
from ui.text import t

ROOT = Path(__file__).resolve().parents[1]


def _present(key: str, step: int | str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"present": "1", "step": str(step), **query})
    at.switch_page(chapter(key).file).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _counter(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "step " in m.value and " / " in m.value)


def _param(at: AppTest, key: str) -> str | None:
    """A query parameter as one string (AppTest keeps a list for the ones the test set, a string for the app's)."""
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def _keys(at: AppTest) -> set[str]:
    """Keys of the widgets the page shows (the header's included; not those drawn unseen)."""
    return seen_keys(at, "slider", "selectbox", "text_input", "number_input")


def test_every_declared_step_is_drawn_by_its_page_and_narrated():
    tour = prose.sections("tour")
    assert set(tour) == {f"{c.key}.{s}" for c, s in lecture()}, "tour.md and the registry disagree"
    for c in CHAPTERS:
        source = (ROOT / c.file).read_text()
        drawn = set(re.findall(r'show\("([\w-]+)"\)', source))
        assert drawn == set(c.steps), (c.key, drawn ^ set(c.steps))
        for s in c.steps:
            title, _, body = tour[f"{c.key}.{s}"].partition("\n")
            assert title.strip() and len(body.split()) >= 10, (c.key, s)


@pytest.mark.parametrize("key,k", [(c.key, k) for c in CHAPTERS for k in range(1, len(c.steps) + 1)])
def test_each_step_renders_alone_under_its_counter(key, k):
    at = _present(key, k)
    ch = chapter(key)
    i = lecture().index((ch, ch.steps[k - 1])) + 1
    assert f"· {k} / {len(ch.steps)} ·" in _counter(at) and f"step {i} of {len(lecture())}" in _counter(at)
    essay = t("common.math", file="").split("(")[0]
    assert not [e for e in at.expander if e.label.startswith(essay)], "the essays stay out of presenter mode"
    assert at.button(key="present_prev").disabled == (i == 1)
    assert at.button(key="present_next").disabled == (i == len(lecture()))


def test_a_step_shows_its_section_and_not_the_others():
    at = _present("masking", 3)  # "why": the 80/10/10 comparison
    assert "why_pos" in _keys(at) and "rate" not in _keys(at) and "fill" not in _keys(at)
    at = _present("masking", 1)
    assert "rate" in _keys(at) and "why_pos" not in _keys(at)


def test_outside_presenter_mode_the_page_is_whole_with_its_title_and_no_header():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(chapter("masking").file).run()
    assert not at.exception
    assert {"rate", "why_pos", "fill"} <= _keys(at)
    assert at.markdown[0].value.startswith("# 3 · Masking") or any(m.value.startswith("# 3") for m in at.markdown)
    assert not [b for b in at.button if (b.key or "").startswith("present_")]


def test_next_moves_one_step_and_back_returns():
    at = _present("masking", 2)
    at.button(key="present_next").click().run()
    assert _param(at, "step") == "3" and "· 3 / 7 ·" in _counter(at)
    at.button(key="present_prev").click().run()
    at.button(key="present_prev").click().run()
    assert _param(at, "step") == "1" and "· 1 / 7 ·" in _counter(at)


def test_next_on_a_chapters_last_step_opens_the_next_chapter_at_its_first():
    at = _present("masking", 7)
    at.button(key="present_next").click().run()
    assert not at.exception
    assert _counter(at).startswith(f"**{chapter('electra').title}** · 1 / {len(chapter('electra').steps)}")
    at.button(key="present_prev").click().run()
    assert _counter(at).startswith(f"**{chapter('masking').title}** · 7 / 7")


def test_the_clicker_keys_are_handled_in_the_page_with_the_steps_identity():
    """→ / Space / Page Down and ← / Page Up are read by a script in the page, whatever has the focus (the browser
    tests press them); the script carries the step it was drawn for, so that a new step scrolls to its top."""
    at = _present("embeddings", 2)
    scripts = [h.proto.body for h in at.get("html") if "__insideBertKeys" in h.proto.body]
    assert len(scripts) == 1
    assert '"embeddings/2"' in scripts[0]
    for key in ("ArrowRight", "PageDown", "' '", "ArrowLeft", "PageUp"):
        assert key in scripts[0]


@pytest.mark.parametrize("step,expected", [("99", 7), ("0", 1), ("abc", 1)])
def test_a_step_out_of_range_in_the_address_is_clamped(step, expected):
    assert f"· {expected} / 7 ·" in _counter(_present("masking", step))


def test_the_sidebar_toggle_writes_presenter_mode_into_the_address():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(chapter("attention").file).run()
    at.sidebar.toggle(key="_present").set_value(True).run()
    assert _param(at, "present") == "1" and _param(at, "step") == "1"
    assert "· 1 / 4 ·" in _counter(at)
    at.sidebar.toggle(key="_present").set_value(False).run()
    assert "present" not in at.query_params and not [m for m in at.markdown if "step 7 of" in m.value]


def test_the_sentence_travels_with_the_presenter_across_chapters():
    at = _present("overview", 1, a="My own sentence about a cat.")
    at.button(key="present_next").click().run()
    assert _counter(at).startswith(f"**{chapter('embeddings').title}** · 1 / 5")
    assert at.sidebar.text_area(key="a").value == "My own sentence about a cat."


def test_the_overview_starts_the_guided_lecture_at_its_first_step():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    next(b for b in at.button if b.label == t("overview.tour")).click().run()
    assert _param(at, "present") == "1" and "step 1 of" in _counter(at)
    at.button(key="present_next").click().run()
    assert _counter(at).startswith(f"**{chapter('embeddings').title}** · 1 / 5")
