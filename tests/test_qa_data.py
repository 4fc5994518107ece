"""The question answering data: spans that are where they say, a split by passage, distractors in every story."""
from __future__ import annotations

import hashlib
import json
import re

import pytest

from explainers.errors import BuildError
from training import qa_data, qa_stories
from training.build_corpus import in_test_split
from training.qa_data import HANDWRITTEN, KINDS, QAExample, build, load, save, story_examples, wordnet_examples

HAS_WORDNET = (qa_data.WORDNET / "data.noun").exists()
needs_wordnet = pytest.mark.skipif(not HAS_WORDNET, reason="wordnet-base is not installed (/usr/share/wordnet)")


@pytest.fixture(scope="module")
def split():
    return build(test_share=0.1, seed=0, n_stories=1500)


def test_every_answer_is_at_its_start_in_its_passage(split):
    for e in [*split[0], *split[1], *HANDWRITTEN]:
        assert e.passage[e.answer_start:e.answer_start + len(e.answer)] == e.answer, e
        assert e.answer == e.answer.strip() and e.answer, e


def test_a_wrong_start_is_refused():
    with pytest.raises(BuildError, match="not 'Paris'"):
        QAExample("x", "stories", "g", "Anna lives in Paris.", "Where does Anna live?", "Paris", 0, "where")


def test_no_group_is_in_both_splits_and_each_lands_where_its_hash_says(split):
    train, test = split
    assert not {e.group for e in train} & {e.group for e in test}
    assert all(not in_test_split(e.group, 0.1) for e in train) and all(in_test_split(e.group, 0.1) for e in test)
    assert 0.05 < len(test) / (len(train) + len(test)) < 0.15


def test_the_split_is_the_same_for_the_same_seed(split):
    again = build(test_share=0.1, seed=0, n_stories=1500)
    assert again == split
    assert build(test_share=0.1, seed=1, n_stories=1500)[1] != split[1]


def test_every_kind_appears_in_both_splits(split):
    for part in split:
        assert {e.kind for e in part} == set(KINDS)


def test_no_passage_asks_the_same_question_twice_and_ids_are_unique(split):
    everything = [*split[0], *split[1]]
    assert len({(e.passage, e.question) for e in everything}) == len(everything)
    assert len({e.id for e in everything}) == len(everything)


def test_answers_are_short_spans(split):
    everything = [*split[0], *split[1]]
    assert sum(len(e.answer.split()) <= 6 for e in everything) / len(everything) > 0.99
    assert sum(len(e.answer.split()) <= 3 for e in everything) / len(everything) > 0.9


def _vocabularies() -> dict[str, set[str]]:
    q = qa_stories
    return {"name": set(q.FIRST_NAMES), "surname": set(q.LAST_NAMES), "city": {c for c, _ in q.CITIES},
            "country": {k for _, k in q.CITIES}, "job": {j for j, _ in q.JOBS}, "place": {p for _, p in q.JOBS},
            "pet": {p for pair in q.PETS for p in pair}, "pet_name": set(q.PET_NAMES), "colour": set(q.COLOURS),
            "sport": set(q.SPORTS), "instrument": set(q.INSTRUMENTS), "item": set(q.ITEMS),
            "day": set(q.DAYS) | {d + "s" for d in q.DAYS}}


def _found(pattern: str, text: str) -> set[str]:
    return set(re.findall(pattern, text))


def test_every_story_question_has_a_distractor_of_its_answers_type():
    """Another name, year, number, city, colour ... of the same type stands in the passage, so the question has
    to be matched to its sentence; checked here with the tables and regular expressions, not the generator's
    own bookkeeping."""
    vocab = _vocabularies()
    year = r"\b(?:19|20)\d\d\b"
    number = r"\b(?:\d{1,2}|" + "|".join(qa_stories.NUMBER_WORDS[1:]) + r")\b"
    examples = story_examples(n_stories=600, seed=3)
    for e in examples:
        first = e.answer.split()[0]
        if first in vocab["name"]:
            others = {w for w in vocab["name"] if re.search(rf"\b{w}\b", e.passage)}
        elif re.fullmatch(year, e.answer):
            others = _found(year, e.passage)
        elif re.fullmatch(number, first):
            others = _found(number, e.passage)
        else:
            kind = next(k for k, words in vocab.items() if e.answer in words)
            others = {w for w in vocab[kind] if re.search(rf"\b{re.escape(w)}\b", e.passage)}
        assert len(others) >= 2, (e.passage, e.question, e.answer)
    assert {e.kind for e in examples} == set(KINDS)


def test_stories_mix_two_or_three_people_in_three_to_six_sentences():
    for e in story_examples(n_stories=300, seed=1):
        people = {w for w in qa_stories.FIRST_NAMES if re.search(rf"\b{w}\b", e.passage)}
        assert 2 <= len(people) <= 3 and 3 <= len(re.findall(r"[.?!](?: |$)", e.passage)) <= 6, e.passage


def test_story_examples_are_seeded():
    assert story_examples(50, seed=4) == story_examples(50, seed=4) != story_examples(50, seed=5)


def test_handwritten_examples_are_valid_and_not_generated(split):
    passages = {e.passage for e in HANDWRITTEN}
    assert 12 <= len(passages) <= 20 and len({e.id for e in HANDWRITTEN}) == len(HANDWRITTEN)
    assert {e.source for e in HANDWRITTEN} == {"handwritten"} and {e.kind for e in HANDWRITTEN} == set(KINDS)
    assert not passages & {e.passage for part in split for e in part}


@needs_wordnet
def test_wordnet_yields_over_a_thousand_examples_in_passages_of_three_to_five():
    examples = wordnet_examples()
    assert len(examples) > 1000 and {e.source for e in examples} == {"wordnet"}
    sizes = {e.group.count("+") + 1 for e in examples}
    assert sizes <= {3, 4, 5}
    einstein = [e for e in examples if e.question == "When was Albert Einstein born?"
                or e.question.endswith("year was Albert Einstein born?")]
    assert all(e.answer == "1879" for e in einstein)


@needs_wordnet
def test_a_wordnet_question_has_one_answer_in_its_passage():
    """Two sentences of a passage never answer the same question, nor give the same answer to one kind."""
    by_group: dict[str, list[QAExample]] = {}
    for e in wordnet_examples(seed=2):
        by_group.setdefault(e.group, []).append(e)
    for group in by_group.values():
        assert len({e.question for e in group}) == len(group)


def test_save_then_load_gives_the_same_examples(tmp_path):
    examples = story_examples(20, seed=0) + HANDWRITTEN
    save(examples, tmp_path / "qa.jsonl")
    assert load(tmp_path / "qa.jsonl") == examples
    first = json.loads((tmp_path / "qa.jsonl").read_text().splitlines()[0])
    assert list(first) == ["id", "source", "group", "passage", "question", "answer", "answer_start", "kind"]


def test_main_writes_both_splits_and_a_manifest_with_their_hashes(tmp_path, capsys):
    manifest = qa_data.main(["--out", str(tmp_path), "--stories", "200"])
    for name in ("train", "test"):
        data = (tmp_path / f"{name}.jsonl").read_bytes()
        assert manifest[name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest[name]["examples"] == len(load(tmp_path / f"{name}.jsonl"))
        assert sum(sum(k.values()) for k in manifest[name]["counts"].values()) == manifest[name]["examples"]
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    assert capsys.readouterr().out.count("  Q: ") == 5


TINY_WORDNET = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
00000010 18 n 01 scientist 0 000 | a person with advanced knowledge of one or more sciences
00000011 18 n 01 physicist 0 001 @ 00000010 n 0000 | a scientist trained in physics
00000012 18 n 01 chemist 0 001 @ 00000010 n 0000 | a scientist who specializes in chemistry
00000013 18 n 01 writer 0 000 | writes (books or stories or articles or the like) professionally (for pay)
00000014 18 n 01 liar 0 000 | a person who has lied or who lies repeatedly
00000020 15 n 01 national_capital 0 000 | the capital city of a nation
00000101 18 n 02 Einstein 0 Albert_Einstein 0 001 @i 00000011 n 0000 | physicist born in Germany who formulated \
the special theory of relativity and the general theory of relativity; Einstein also proposed that light consists of \
discrete quantized bundles of energy (later called photons) (1879-1955)
00000102 18 n 02 Curie 0 Marie_Curie 0 001 @i 00000012 n 0000 | French chemist (born in Poland) who won two Nobel \
Prizes (1867-1934)
00000103 18 n 02 Wister 0 Owen_Wister 0 001 @i 00000013 n 0000 | United States writer (1860-1938)
00000104 18 n 01 Ananias 0 001 @i 00000014 n 0000 | a habitual liar
00000201 15 n 01 Paris 0 001 @i 00000020 n 0000 | the capital and largest city of France; and international \
center of culture and commerce
00000202 15 n 01 Berlin 0 001 @i 00000020 n 0000 | capital of Germany located in eastern Germany
00000203 15 n 01 Rome 0 001 @i 00000020 n 0000 | capital and largest city of Italy; on the Tiber
""".replace("\\\n", "")


def test_wordnet_patterns_give_the_spans_a_teacher_would(tmp_path):
    """A five-line WordNet in a temp folder: the years, the birthplace, the profession, the capital."""
    (tmp_path / "data.noun").write_text(TINY_WORDNET, encoding="latin-1")
    examples = wordnet_examples(seed=0, wordnet=tmp_path, per_fact=10)
    qa = {(e.question, e.answer) for e in examples}
    assert {("Where was Albert Einstein born?", "Germany"), ("Where was Marie Curie born?", "Poland"),
            ("What is the capital of France?", "Paris"), ("What is the capital of Italy?", "Rome")} <= qa
    assert [e.answer for e in examples if e.question.endswith("Albert Einstein die?")] == ["1955"]
    born = [e.answer for e in examples if re.search(r"(When was|year was) Albert Einstein born", e.question)]
    assert born == ["1879"]
    assert any(e.answer == "Albert Einstein" and "formulated the special theory of relativity" in e.question
               for e in examples)
    assert {e.answer for e in examples if e.kind == "what"} <= {"physicist", "chemist", "writer"}  # never "liar"
    assert any(e.answer == "France" and "Paris the capital" in e.question for e in examples)
    for e in examples:  # people and places are never mixed in one passage
        offsets = set(e.group.removeprefix("wordnet/").split("+"))
        assert offsets <= {"00000101", "00000102", "00000103", "00000104"} or offsets <= {"00000201", "00000202",
                                                                                        "00000203"}, e.group
