"""classroom.questions: what each kind of question accepts, and what its reveal computes from the class's counts."""
from __future__ import annotations

from collections import Counter

import pytest

from classroom import questions as Q
from explainers.errors import InputError


@pytest.mark.parametrize("typed,kept", [(" Paris. ", "paris"), ("«Paris»", "paris"), ("New  York", "new york"),
                                        ("ＰＡＲＩＳ", "paris"), ("pa\u200bris", "paris"), ("😀", "😀")])
def test_a_typed_word_is_counted_as_the_class_would_expect(typed, kept):
    assert Q.normal_word(typed) == kept


@pytest.mark.parametrize("typed", ["", "  ", "...", "\u0000", "x" * 41])
def test_a_word_that_is_not_one_is_refused(typed):
    with pytest.raises(InputError):
        Q.normal_word(typed)


def test_the_blank_reveal_ranks_the_hidden_word_in_the_models_guesses():
    payload = Q.blank("The capital of France is [MASK].", "Paris", [("france", .32), ("paris", .20), (".", .1)])
    r = Q.reveal(payload, Counter({"paris": 3, "lyon": 1}), 5)  # one hidden answer: 5 counted, 4 shown
    assert (r.right, r.answers, r.model_rank, r.model_p, r.model_top) == (3, 5, 2, .20, ("france", .32))
    assert r.top == [("paris", 3), ("lyon", 1)]
    none = Q.reveal(Q.blank("A [MASK].", "", [("cat", .5)]), Counter({"dog": 2}), 2)
    assert (none.right, none.model_rank) == (None, None)


def test_the_fake_reveal_counts_the_class_votes_and_the_discriminators_verdict_piece_by_piece():
    payload = Q.fake(["the", "chef", "ate", "a", "banana"], [2, 4], [.1, .2, .7, .05, .4])
    tally = Counter({"2,4": 2, "2": 1, "1": 1, "none": 1})
    r = Q.reveal(payload, tally, 5)
    assert r.flagged == [0, .2, .6, 0, .4]
    assert (r.class_caught, r.class_false) == (1, 0)  # piece 2 by a majority; 4 by 40 %, not a majority
    assert (r.model_caught, r.model_false) == (1, 0)  # 0.7 ≥ 0.5 caught; 0.4 missed
    assert Q.normal_answer("fake", "4, 2,2", payload) == "2,4" and Q.normal_answer("fake", "none", payload) == "none"
    for bad in ("", "5", "-1", "x"):
        with pytest.raises(InputError):
            Q.normal_answer("fake", bad, payload)


def test_the_span_reveal_counts_spans_by_their_text_and_who_chose_the_models():
    words = "Anna took her class to Madrid in May".split()
    payload = Q.span("Where did Anna take her class?", words, (5, 5), 7.5)
    assert Q.normal_answer("span", "6,5", payload) == "5-6" and Q.normal_answer("span", "5", payload) == "5-5"
    r = Q.reveal(payload, Counter({"5-5": 3, "5-6": 1, "4-5": 1}), 5)
    assert (r.model, r.agree, r.top[0]) == ("Madrid", 3, ("Madrid", 3))
    with pytest.raises(InputError):
        Q.normal_answer("span", "none", payload)


def test_the_agree_reveal_says_what_happened():
    payload = Q.agree("The chef cooked a [MASK] meal.", "delicious", "good")
    r = Q.reveal(payload, Counter({"yes": 3, "no": 1}), 4)
    assert (r.yes, r.agree, r.student, r.teacher) == (3, False, "good", "delicious")
    assert Q.normal_answer("agree", " YES ", payload) == "yes"
    with pytest.raises(InputError):
        Q.normal_answer("agree", "maybe", payload)
