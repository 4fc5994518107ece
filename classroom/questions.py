"""The questions of Class vs BERT, kind by kind: what the students' page shows, which answers it accepts (as the
one string a store keeps per student), and what the reveal computes from the class's answers and the model's.

* **blank** (masked LM): a sentence with one `[MASK]`; a student types one word; the reveal counts the words
  and ranks the right one in the model's guesses.
* **fake** (ELECTRA): a corrupted sentence; a student taps the pieces that look replaced (or none); the reveal
  gives, piece by piece, the share of the class that flagged it beside the discriminator's P(replaced) and the
  truth.
* **span** (question answering): a passage and a question; a student taps the words of the answer; the reveal
  counts the spans chosen beside the model's best span.
* **agree** (distillation): a masked sentence and the teacher's first guess; a student says whether the
  3-layer student's first guess will be the same; the reveal gives the class's yes/no beside what happened.

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


# ------------------------------------------------------------------------------------------------- fake
def positions(text: str, n: int) -> str:
    """A set of piece positions (0 ≤ i < n) as the store keeps it: sorted, comma-separated; "none" for none."""
    if (text or "").strip() == "none":
        return "none"
    try:
        chosen = sorted({int(x) for x in (text or "").split(",") if x.strip()})
    except ValueError:
        raise InputError("positions are numbers") from None
    require(chosen, "an empty answer")
    require(all(0 <= i < n for i in chosen), f"a position outside 0…{n - 1}")
    return ",".join(map(str, chosen))


def fake(pieces: list[str], replaced: list[int], p_replaced: list[float], threshold: float = 0.5) -> dict:
    """A real-or-replaced question: `pieces` the corrupted sentence as shown (no [CLS]/[SEP]), `replaced` the
    positions the generator changed, `p_replaced` the discriminator's P(replaced) at every piece."""
    require(len(pieces) == len(p_replaced) and pieces, "one probability a piece")
    return {"kind": "fake", "ask": {"pieces": list(pieces)},
            "truth": {"replaced": sorted(replaced), "p": [float(p) for p in p_replaced], "threshold": threshold}}


@dataclass(frozen=True)
class FakeReveal:
    answers: int
    flagged: list[float]  # per piece: the share of the class that flagged it
    replaced: list[int]
    p: list[float]  # the discriminator's P(replaced) per piece
    class_caught: int  # replaced pieces a majority of the class flagged
    class_false: int  # real pieces a majority flagged
    model_caught: int  # replaced pieces at or above the threshold
    model_false: int
    threshold: float


def reveal_fake(payload: dict, tally: Counter, answers: int) -> FakeReveal:
    n = len(payload["ask"]["pieces"])
    truth = payload["truth"]
    votes = [0] * n
    for answer, count in tally.items():
        if answer != "none":
            for i in map(int, answer.split(",")):
                votes[i] += count
    flagged = [v / answers if answers else 0.0 for v in votes]
    replaced, p, th = set(truth["replaced"]), truth["p"], truth["threshold"]
    majority = {i for i, f in enumerate(flagged) if f > 0.5}
    model = {i for i, x in enumerate(p) if x >= th}
    return FakeReveal(answers, flagged, sorted(replaced), p, len(majority & replaced), len(majority - replaced),
                      len(model & replaced), len(model - replaced), th)


# ------------------------------------------------------------------------------------------------- span
def span_answer(text: str, n: int) -> str:
    """A span of words `i-j` (0 ≤ i ≤ j < n), from the positions a student tapped (their first to their last)."""
    chosen = positions(text, n)
    require(chosen != "none", "an empty answer")
    idx = list(map(int, chosen.split(",")))
    return f"{idx[0]}-{idx[-1]}"


def span(question: str, words: list[str], best: tuple[int, int], score: float) -> dict:
    """A question-answering question: the passage as `words`, the model's best span (word positions, inclusive)
    and its score."""
    require(words and 0 <= best[0] <= best[1] < len(words), "the model's span lies in the passage")
    return {"kind": "span", "ask": {"question": question, "words": list(words)},
            "truth": {"best": [int(best[0]), int(best[1])], "score": float(score)}}


def span_in_passage(question: str, passage: str, start: int, end: int, score: float) -> dict:
    """A question-answering question from the model's best span as character offsets [start, end) of `passage`:
    the passage's words (split at spaces) and the words that span touches."""
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\S+", passage)]
    touched = [k for k, (a, b) in enumerate(bounds) if a < end and b > start]
    require(touched, "the model's span lies in the passage")
    return span(question, [passage[a:b] for a, b in bounds], (touched[0], touched[-1]), score)


@dataclass(frozen=True)
class SpanReveal:
    answers: int
    top: list[tuple[str, int]]  # the spans chosen, as text, most common first
    model: str  # the model's answer
    agree: int  # students who chose the model's span exactly


def span_text(words: list[str], answer: str) -> str:
    i, j = map(int, answer.split("-"))
    return " ".join(words[i:j + 1])


def reveal_span(payload: dict, tally: Counter, answers: int) -> SpanReveal:
    words, (i, j) = payload["ask"]["words"], payload["truth"]["best"]
    texts = Counter()
    for answer, count in tally.items():
        texts[span_text(words, answer)] += count
    return SpanReveal(answers, texts.most_common(SHOWN), " ".join(words[i:j + 1]), tally.get(f"{i}-{j}", 0))


# ------------------------------------------------------------------------------------------------ agree
def yes_no(text: str) -> str:
    require((text or "").strip().lower() in ("yes", "no"), "yes or no")
    return text.strip().lower()


def agree(sentence: str, teacher: str, student: str) -> dict:
    """Will the student's first guess at the [MASK] be the teacher's? `teacher`, `student`: their first guesses."""
    require(sentence.count("[MASK]") >= 1, "a sentence with a [MASK]")
    return {"kind": "agree", "ask": {"sentence": sentence, "teacher": teacher},
            "truth": {"student": student, "agree": teacher == student}}


@dataclass(frozen=True)
class AgreeReveal:
    answers: int
    yes: int
    agree: bool
    teacher: str
    student: str


def reveal_agree(payload: dict, tally: Counter, answers: int) -> AgreeReveal:
    truth = payload["truth"]
    return AgreeReveal(answers, tally.get("yes", 0), bool(truth["agree"]), payload["ask"]["teacher"],
                       truth["student"])


# ------------------------------------------------------------------------------------------------ kinds
def normal_answer(kind: str, text: str, payload: dict) -> str:
    """A student's answer to a question of `kind` (its `payload`), as the store keeps it; InputError if the
    question cannot take it."""
    if kind == "blank":
        return normal_word(text)
    if kind == "fake":
        return positions(text, len(payload["ask"]["pieces"]))
    if kind == "span":
        return span_answer(text, len(payload["ask"]["words"]))
    if kind == "agree":
        return yes_no(text)
    raise InputError(f"no question kind {kind!r}")


REVEALS = {"blank": reveal_blank, "fake": reveal_fake, "span": reveal_span, "agree": reveal_agree}


def reveal(payload: dict, tally: Counter, answers: int):
    """The reveal of any kind of question (`BlankReveal`, `FakeReveal`, `SpanReveal`, `AgreeReveal`)."""
    return REVEALS[payload["kind"]](payload, tally, answers)
