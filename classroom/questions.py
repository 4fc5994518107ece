"""The questions of Class vs BERT, kind by kind: what the students' page shows, which answers it accepts (as the
one string a store keeps per student), and what the reveal computes from the class's answers and the model's.

* **blank** (masked LM): a sentence with one `[MASK]`; a student types one word; the reveal counts the words
  and ranks the right one in the model's guesses.

A payload is split in two: `ask` is what every student's page may show; `truth` (the hidden word, the model's
guesses) is drawn only after the reveal. Both are plain JSON, stored with the question.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from explainers.errors import InputError, require

MAX_WORD_CHARS = 40  # a word a student types; the presenter's screen shows it
SHOWN = 8  # the reveal's top answers


def normal_word(text: str) -> str:
    """A typed word as the class's tally counts it: NFKC, lower case, inner spaces collapsed, the punctuation
    around it dropped ("Paris." and " paris" are one answer). InputError when nothing is left or it is too long."""
    word = unicodedata.normalize("NFKC", text or "")
    word = "".join(ch for ch in word if unicodedata.category(ch)[0] != "C")  # control and format characters
    word = re.sub(r"\s+", " ", word).strip().strip(".,;:!?\"'()[]«»“”‘’").strip().lower()
    require(word, "an empty answer")
    require(len(word) <= MAX_WORD_CHARS, f"an answer of {len(word)} characters (at most {MAX_WORD_CHARS})")
    return word


def _as_typed(piece: str) -> str:
    """A model's guess as a student would have typed it ("." stays ".": a student could not type it)."""
    try:
        return normal_word(piece)
    except InputError:
        return piece


def blank(sentence: str, answer: str, guesses: list[tuple[str, float]]) -> dict:
    """A fill-in-the-blank question: `sentence` holds one `[MASK]`; `answer` the hidden word, or "" when the
    presenter gave none (the reveal then compares the class with the model, no one is right or wrong);
    `guesses` the model's top guesses there with their probabilities, best first."""
    require(sentence.count("[MASK]") == 1, "a blank question needs exactly one [MASK]")
    return {"kind": "blank", "ask": {"sentence": sentence},
            "truth": {"answer": normal_word(answer) if answer.strip() else "",
                      "guesses": [[g, float(p)] for g, p in guesses]}}


@dataclass(frozen=True)
class BlankReveal:
    answers: int  # students who answered (hidden answers included)
    top: list[tuple[str, int]]  # the class's most common words, hidden ones left out
    right: int | None  # students who typed the hidden word; None: no hidden word was given
    answer: str
    model_top: tuple[str, float]  # the model's first guess
    model_rank: int | None  # 1-based rank of the hidden word in the model's guesses; None: not among them
    model_p: float | None  # its probability there
    model_k: int  # how many of the model's guesses the question kept


def reveal_blank(payload: dict, tally: Counter, answers: int) -> BlankReveal:
    """What the reveal shows for a blank: `tally` the store's counts (hidden words already left out), `answers`
    every student's answer counted."""
    truth = payload["truth"]
    answer, guesses = truth["answer"], [(g, p) for g, p in truth["guesses"]]
    words = [_as_typed(g) for g, _ in guesses]
    rank = words.index(answer) + 1 if answer and answer in words else None
    return BlankReveal(answers=answers, top=tally.most_common(SHOWN), right=tally.get(answer, 0) if answer else None,
                       answer=answer,
                       model_top=guesses[0] if guesses else ("", 0.0), model_rank=rank,
                       model_p=guesses[rank - 1][1] if rank else None, model_k=len(guesses))


KINDS = {"blank": normal_word}  # kind → how a typed answer becomes the string the store keeps


def normal_answer(kind: str, text: str) -> str:
    if kind not in KINDS:
        raise InputError(f"no question kind {kind!r}")
    return KINDS[kind](text)
