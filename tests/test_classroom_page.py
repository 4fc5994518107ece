"""Class vs BERT through AppTest: the presenter's panel (ui.classroom.ask) and the students' page (/join), on one
SQLite store in tmp_path; the rules of the store itself are tests/test_classroom_store.py's."""
from __future__ import annotations

import html
import json
from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest

from classroom import questions as CQ
from classroom import store as S
from tests.test_pages import ROOT, _app
from ui import classroom
from ui.classroom import score_line
from ui.text import t

SENTENCE = "The capital of France is [MASK]."


@pytest.fixture(autouse=True)
def shared_store(tmp_path, monkeypatch):
    monkeypatch.setenv("INSIDE_BERT_STORE", str(tmp_path / "class.sqlite3"))
    classroom.store.clear()
    yield
    classroom.store.clear()


def presenter_script():
    import streamlit as st

    from classroom import questions as Q
    from ui import classroom

    st.query_params["present"] = "1"  # presenter mode, where the question is the class's
    st.session_state[classroom.MODE] = True  # the sidebar's Class vs BERT switch
    classroom.ask("masking/playground",
                  lambda: Q.blank("The capital of France is [MASK].", "Paris",
                                  [("france", 0.32), ("paris", 0.20), ("lyon", 0.05)]))


def presenter() -> AppTest:
    at = AppTest.from_function(presenter_script, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def held(at: AppTest) -> tuple[str, str]:
    return at.session_state["_class:masking/playground"]


def student(code: str, **query) -> AppTest:
    return _app("pages/join.py", code=code, **query)


def answer(at: AppTest, word: str) -> AppTest:
    at.text_input(key="class_word").input(word)
    return at.button[0].click().run()


def test_asking_shows_the_code_and_a_qr_code_of_the_join_address_and_hides_the_models_answer():
    at = presenter()
    assert [b.label for b in at.button] == [t("classroom.ask"), t("classroom.show")]
    at.button[0].click().run()
    code, secret = held(at)
    shown = "".join(h.value for h in at.get("html"))
    assert f"<b>{code}</b>" in shown and 'src="data:image/svg+xml' in shown
    assert f"/join?code={code}</span>" in shown
    assert secret not in shown + "".join(c.value for c in at.caption)  # the secret is never on a page
    assert not at.get("plotly_chart"), "the model's answer is shown before the reveal"
    assert [m.value for m in at.metric] == ["0"]


def test_a_student_joins_by_the_code_answers_and_sees_the_reveal_with_the_class_and_the_model():
    at = presenter()
    at.button[0].click().run()
    code, secret = held(at)
    phone = student(code.lower())
    assert not phone.sidebar.get("text_area"), "the students' page has no sidebar"
    assert "capital of France is <mark>?</mark>" in "".join(h.value for h in phone.get("html"))
    assert not [b for b in phone.button if b.label in (t("classroom.reveal"), t("classroom.close"))]
    phone = answer(phone, " Paris. ")
    assert S.from_env().my_answer(code, phone.session_state["_voter"]) == "paris"
    assert t("classroom.sent", word="paris") in [c.value for c in phone.caption]
    other = answer(student(code), "france")
    assert not other.exception
    at.run()
    assert [m.value for m in at.metric] == ["2"]
    next(b for b in at.button if b.label == t("classroom.reveal")).click().run()
    line = t("classroom.class_right", share=0.5, n=2) + " · " + t("classroom.model_ranked", word="paris", rank=2,
                                                                     first="france")
    assert line in [m.value for m in at.markdown]
    assert len(at.get("plotly_chart")) == 2
    phone.run()
    assert t("classroom.you_right", word="paris") in [s.value for s in phone.success]


def test_a_wrong_code_gets_a_message_with_no_hint_and_guessing_is_limited():
    presenter().button[0].click().run()
    phone = student("ZZZZZZ")
    assert [e.value for e in phone.error] == [t("classroom.no_such_code")]
    for _ in range(S.GUESSES):
        phone.text_input(key="code").input("ZZZZZY").run()
    assert phone.error[0].value.startswith(t("classroom.too_many", seconds=0).split("0")[0])


@pytest.mark.parametrize("typed", ["<script>alert(1)</script>", "<a href='http://x'>click</a>", "😀", "مرحبا",
                                   "x" * 40])
def test_any_word_a_student_sends_reaches_the_projector_as_text(typed):
    at = presenter()
    at.button[0].click().run()
    code, _ = held(at)
    phone = answer(student(code), typed)
    assert not phone.exception
    next(b for b in at.run().button if b.label == t("classroom.reveal")).click().run()
    labels = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]
    assert [label.strip() for label in labels] == [html.escape(typed.lower())]  # plotly shows it as typed


@pytest.mark.parametrize("typed", ["", "   ", "x" * 41, "\u0000\u200b"])
def test_an_empty_or_too_long_word_gets_a_friendly_message(typed):
    at = presenter()
    at.button[0].click().run()
    code, _ = held(at)
    phone = student(code)
    phone.text_input(key="class_word").input(typed[:40] if len(typed) <= 40 else typed)
    phone.button[0].click().run()
    assert not phone.exception
    assert S.from_env().count(code) == 0
    if len(typed) <= 40:
        assert [w.value for w in phone.warning] == [t("classroom.bad_blank", n=40)]


def test_the_students_page_speaks_the_presenters_language():
    at = presenter()
    at.button[0].click().run()
    code, _ = held(at)
    phone = student(code, lang="zh")
    assert phone.subheader[0].value == t("classroom.join_title", "zh")
    assert phone.text_input(key="class_word").label == t("classroom.your_word", "zh")


def presenter_of(kind: str):
    def script(kind):
        import streamlit as st

        from classroom import questions as Q
        from ui import classroom

        st.query_params["present"] = "1"
        st.session_state[classroom.MODE] = True
        make = {"fake": lambda: Q.fake(["the", "chef", "ate", "a", "banana"], [4], [.1, .2, .3, .05, .8]),
                "agree": lambda: Q.agree("The chef cooked a [MASK] meal.", "delicious", "good"),
                "span": lambda: Q.span("Where did Anna go?", "Anna went to Madrid in May".split(), (3, 3), 6.0)}
        classroom.ask(f"test/{kind}", make[kind])

    at = AppTest.from_function(script, args=(kind,), default_timeout=60)
    at.run()
    at.button[0].click().run()
    return at, at.session_state[f"_class:test/{kind}"]


def test_a_fake_question_is_answered_by_tapping_pieces_and_revealed_piece_by_piece():
    at, (code, secret) = presenter_of("fake")
    phone = student(code)
    assert "the chef ate a banana" in "".join(h.value for h in phone.get("html"))
    phone.pills(key="class_pick").set_value([4, 2])
    phone = next(b for b in phone.button if b.label == t("classroom.send")).click().run()
    assert S.from_env().my_answer(code, phone.session_state["_voter"]) == "2,4"
    assert t("classroom.sent", word="ate, banana") in [c.value for c in phone.caption]
    other = student(code)
    next(b for b in other.button if b.label == t("classroom.none_fake")).click().run()
    at.run()
    next(b for b in at.button if b.label == t("classroom.reveal")).click().run()
    line = (t("classroom.fake_class", caught=0, n=1, false=0, answers=2) + " · "
            + t("classroom.fake_model", caught=1, n=1, false=0, threshold=0.5))
    assert line in [m.value for m in at.markdown]  # 1 of 2 flagged "banana": not a majority


def test_an_agree_question_takes_yes_or_no_and_the_reveal_says_what_the_student_guessed():
    at, (code, _) = presenter_of("agree")
    for word in ("yes", "yes", "no"):
        phone = student(code)
        next(b for b in phone.button if b.label == t(f"classroom.{word}")).click().run()
    at.run()
    next(b for b in at.button if b.label == t("classroom.reveal")).click().run()
    line = (t("classroom.agree_class", share=2 / 3, n=3) + " · "
            + t("classroom.agree_no", student="good", teacher="delicious"))
    assert line in [m.value for m in at.markdown]


def test_a_span_question_counts_the_spans_tapped():
    at, (code, _) = presenter_of("span")
    phone = student(code)
    phone.pills(key="class_pick").set_value([3])
    next(b for b in phone.button if b.label == t("classroom.send")).click().run()
    at.run()
    next(b for b in at.button if b.label == t("classroom.reveal")).click().run()
    assert t("classroom.span_line", share=1.0, n=1, answer="Madrid") in [m.value for m in at.markdown]


def _step(chapter_key: str, step: str) -> AppTest:
    """A presenter step with the sidebar's Class vs BERT switch on."""
    from ui.chapters import chapter

    return _self(chapter_key, present="1", step=str(chapter(chapter_key).steps.index(step) + 1))


def test_the_qa_step_asks_the_class_before_it_shows_the_models_answer():
    at = _step("finetuning", "qa")
    answer_start = t("finetuning.answer", answer="", score=0, i=0, j=0).split(":")[0]
    assert not [m for m in at.markdown if m.value.startswith(answer_start)], "the answer shows before the class"
    next(b for b in at.button if b.label == t("classroom.ask")).click().run()
    code, _ = at.session_state["_class:finetuning/qa"]
    question = S.from_env().question(code)
    words, (i, j) = question.payload["ask"]["words"], question.payload["truth"]["best"]
    phone = student(code)
    assert question.payload["ask"]["question"] in "".join(h.value for h in phone.get("html"))
    phone.pills(key="class_pick").set_value([i, j])
    next(b for b in phone.button if b.label == t("classroom.send")).click().run()
    next(b for b in at.run().button if b.label == t("classroom.reveal")).click().run()
    assert t("classroom.span_line", share=1.0, n=1, answer=" ".join(words[i:j + 1])) in [m.value for m in at.markdown]
    assert [m for m in at.markdown if m.value.startswith(answer_start)], "the reveal shows the model's answer"


def test_show_the_answer_skips_the_class_and_without_the_switch_nothing_changes():
    at = _step("finetuning", "qa")
    next(b for b in at.button if b.label == t("classroom.show")).click().run()
    answer_start = t("finetuning.answer", answer="", score=0, i=0, j=0).split(":")[0]
    assert [m for m in at.markdown if m.value.startswith(answer_start)]
    plain = _app("pages/finetuning.py", present="1", step="7")
    assert not [b for b in plain.button if b.label in (t("classroom.ask"), t("classroom.show"))]


def test_the_electra_verdict_step_asks_the_class_to_mark_the_fakes_before_the_discriminator_judges():
    at = _step("electra", "verdict")
    assert not [h for h in at.get("html") if "P(replaced)" in h.value or "inside-bert-score" in h.value]
    n_metrics = len(at.metric)
    next(b for b in at.button if b.label == t("classroom.ask")).click().run()
    code, secret = at.session_state["_class:electra/verdict"]
    q = S.from_env().question(code)
    assert "[CLS]" not in q.payload["ask"]["pieces"] and "[SEP]" not in q.payload["ask"]["pieces"]
    replaced = q.payload["truth"]["replaced"]
    phone = student(code)
    phone.pills(key="class_pick").set_value(replaced or [0])
    next(b for b in phone.button if b.label == t("classroom.send")).click().run()
    next(b for b in at.run().button if b.label == t("classroom.reveal")).click().run()
    r = CQ.reveal(q.payload, S.from_env().answers(code, secret), 1)
    assert r.class_caught == len(replaced)
    assert score_line(r) in [m.value for m in at.markdown]
    assert len(at.metric) > n_metrics, "the reveal shows the discriminator's verdict"


def test_the_distillation_step_asks_whether_the_student_will_agree_at_the_teachers_least_sure_blank():
    at = _step("distillation", "soft")
    assert not at.get("arrow_data_frame") and not at.dataframe, "the two models' guesses show before the bet"
    next(b for b in at.button if b.label == t("classroom.ask")).click().run()
    code, _ = at.session_state["_class:distillation/soft"]
    q = S.from_env().question(code)
    assert q.payload["ask"]["sentence"].count("[MASK]") == 1
    phone = student(code)
    next(b for b in phone.button if b.label == t("classroom.no")).click().run()
    next(b for b in at.run().button if b.label == t("classroom.reveal")).click().run()
    truth = q.payload["truth"]
    verdict = "classroom.agree_yes" if truth["agree"] else "classroom.agree_no"
    line = (t("classroom.agree_class", share=0.0, n=1) + " · "
            + t(verdict, student=truth["student"], teacher=q.payload["ask"]["teacher"]))
    assert line in [m.value for m in at.markdown]
    assert at.dataframe, "the reveal shows the two models' guesses"


def test_the_fill_in_the_blank_step_asks_for_a_word_and_scores_the_class_with_the_hidden_word():
    at = _step("masking", "playground")
    assert not at.get("plotly_chart"), "the model's guesses show before the class is asked"
    at.text_input(key="fill_answer").input("School").run()
    next(b for b in at.button if b.label == t("classroom.ask")).click().run()
    code, _ = at.session_state["_class:masking/playground"]
    q = S.from_env().question(code)
    assert q.payload["ask"] == {"sentence": t("masking.your_sentence_default")}
    guesses = q.payload["truth"]["guesses"]
    for word in ("school", "church"):
        answer(student(code), word)
    next(b for b in at.run().button if b.label == t("classroom.reveal")).click().run()
    r = CQ.reveal(q.payload, Counter({"school": 1, "church": 1}), 2)
    assert (r.right, r.answer) == (1, "school") and score_line(r) in [m.value for m in at.markdown]
    assert [g for g, _ in guesses][:1] == [r.model_top[0]]
    assert len(at.get("plotly_chart")) >= 2, "the reveal shows the class's words and the model's guesses"


def test_a_sentence_with_two_blanks_is_not_asked():
    at = _step("masking", "playground")
    at.text_input(key="fill").input("The [MASK] went to [MASK].").run()
    assert t("masking.class_one_mask") in [c.value for c in at.caption]
    assert not [b for b in at.button if b.label == t("classroom.ask")]


# ------------------------------------------------------------------------------------------------ self-study
def _self(chapter_key: str, **query) -> AppTest:
    """A chapter with the sidebar's switch on: "Predict first" outside presenter mode (`present="1"`: Class vs
    BERT)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.session_state[classroom.MODE] = True
    at.run()
    at.switch_page(f"pages/{chapter_key}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_self_study_asks_the_reader_first_then_reveals_beside_bert_and_stores_nothing():
    """Outside presenter mode the masking playground's question is the reader's alone: BERT's guesses are hidden
    until the reader answers; the reveal ranks the reader's word among the model's own guesses (the page's
    `fill_in`), and nothing reaches the class's store."""
    from explainers.model import BUILTIN_NAME
    from ui.masking import fill_in

    sentence = "She drank a cup of hot [MASK]."
    at = _self("masking", fill=sentence)
    charts = len(at.get("plotly_chart"))
    assert t("classroom.self_title") in [m.value for m in at.markdown]
    at.text_input(key="self_masking/playground_word").input("Coffee.")
    next(b for b in at.button if b.label == t("classroom.reveal")).click().run()
    assert not at.exception
    guesses = fill_in(BUILTIN_NAME, "cpu", sentence, 8)[1][0]  # what the page asks the model
    expected = (t("classroom.self_blank_rank", word="coffee", rank=guesses.index("coffee") + 1, first=guesses[0])
                if "coffee" in guesses else
                t("classroom.self_blank_missed", word="coffee", k=len(guesses), first=guesses[0]))
    assert expected in [m.value for m in at.markdown]
    assert len(at.get("plotly_chart")) == charts + 3, "the reader's word, BERT's guesses, and the playground's"
    assert not [k for k in at.session_state if str(k).startswith("_class:")], "no question was opened"
    next(b for b in at.button if b.label == t("classroom.self_again")).click().run()
    assert t("classroom.self_title") in [m.value for m in at.markdown]


def test_self_study_refuses_an_empty_answer_with_a_message_and_keeps_asking():
    at = _self("masking", fill="The dog barked at the [MASK].")
    next(b for b in at.button if b.label == t("classroom.reveal")).click().run()
    assert t("classroom.bad_blank", n=CQ.MAX_WORD_CHARS) in [w.value for w in at.warning]
    assert t("classroom.self_title") in [m.value for m in at.markdown]


def test_self_lines_say_what_the_numbers_say():
    from classroom import questions as Q
    from ui.classroom import self_line

    fake = Q.fake(["the", "chef", "ate", "a", "banana"], [4], [.1, .2, .3, .05, .8])
    r = Q.reveal(fake, Counter(["1,4"]), 1)
    assert self_line(r, "fake", fake, "1,4").startswith(t("classroom.self_fake", caught=1, n=1, false=1))
    agree = Q.agree("The chef cooked a [MASK] meal.", "delicious", "good")
    assert self_line(Q.reveal(agree, Counter(["no"]), 1), "agree", agree, "no").startswith(
        t("classroom.self_right"))
    assert self_line(Q.reveal(agree, Counter(["yes"]), 1), "agree", agree, "yes").startswith(
        t("classroom.self_wrong"))
    span = Q.span("Where did Anna go?", "Anna went to Madrid in May".split(), (3, 3), 6.0)
    assert self_line(Q.reveal(span, Counter(["3-3"]), 1), "span", span, "3-3") == t(
        "classroom.self_span_same", mine="Madrid")
    assert self_line(Q.reveal(span, Counter(["5-5"]), 1), "span", span, "5-5") == t(
        "classroom.self_span_other", mine="May", answer="Madrid")


def test_self_study_on_electra_keeps_the_generators_samples_back_until_the_reader_answers():
    at = _self("electra")
    assert t("electra.sampled") not in at.dataframe[0].value.columns
    assert t("electra.samples_after_you") in [c.value for c in at.caption]
    next(b for b in at.button if b.label == t("classroom.none_fake")).click().run()
    assert not at.exception
    assert t("electra.sampled") in at.dataframe[0].value.columns
    replaced = list(at.dataframe[0].value[t("electra.result")]).count(t("electra.replaced"))
    line = t("classroom.self_fake", caught=0, n=replaced, false=0)  # "none": nothing caught, nothing flagged
    assert any(m.value.startswith(line) for m in at.markdown), line
