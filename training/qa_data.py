"""Extractive question answering data (SQuAD's format: passage, question, answer text, answer start), written
from WordNet and from stories the project makes up, because no SQuAD-like set installs on this offline machine.

Sources:
* `wordnet-base` (Debian): WordNet 3.0, *instance* nouns only (pointer `@i`: Paris, Einstein, the Nile, the
  battle of Jutland). A gloss becomes a sentence ("Albert Einstein (1879-1955) was a physicist born in Germany
  who formulated the special theory of relativity ...") and questions come from patterns checked on the gloss:
  the years in "(1879-1955)", "born in <Place>", "the capital of <Country>", "a city in <Place>", the first
  noun phrase ("Who was X?"), the instance hypernym ("What was X's profession?") and the "who ..." clause
  ("Which physicist formulated ...?"). A pattern that does not give a short span found verbatim is not asked.
  WordNet 3.0 licence (BSD-like): "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved."
  with permission to use, copy, modify and distribute.
* Stories this project writes (this project's): two or three people, each given the same kinds of fact (a
  job, a home town from `training/everyday.COUNTRIES`, a year, an age, a count, a pet, a colour, a day) in one
  of several sentence frames, and questions in several phrasings (who / what / when / where / how many /
  which / what is).
* `HANDWRITTEN`: a few passages and questions written by hand about everyday life, history and science, never
  trained on: the model card's "hand-written" numbers.

Why distractors: a question is only worth asking if the passage has to be read to answer it. Every WordNet
passage therefore joins 3-5 sentences of the *same* category (people with people, places with places), so a
question about one birth year sits next to several other years; in a story every person gets the same kinds
of fact, and a question is kept only when the passage holds another value of its answer's type (another name,
year, city, number ...), so the model has to match the question to the right sentence, not spot the one year.

Split: by passage source (a WordNet synset group, a story), never by example, with `build_corpus`'s rule: a
group is held out when the first byte of the SHA-1 of its key is below 256 * test_share, so the split does not
depend on file order, and no passage (nor any of its synsets) is in both splits.

    python -m training.qa_data --out ~/.cache/inside-bert/qa
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import string
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from training.build_corpus import WORDNET, in_test_split
from training.everyday import COUNTRIES

KINDS = ("who", "what", "when", "where", "how_many", "which", "what_is")


@dataclass(frozen=True)
class QAExample:
    id: str
    source: str  # "wordnet" | "stories" | "handwritten"
    group: str  # split key: every example of one passage source lands in the same split
    passage: str
    question: str
    answer: str  # a short span of the passage, exactly as written there
    answer_start: int  # character offset: passage[answer_start:answer_start + len(answer)] == answer
    kind: str  # one of KINDS

    def __post_init__(self):
        span = self.passage[self.answer_start:self.answer_start + len(self.answer)]
        assert span == self.answer, f"{self.id}: passage has {span!r} at {self.answer_start}, not {self.answer!r}"
        assert self.kind in KINDS, f"{self.id}: unknown kind {self.kind!r}"


def _example(source: str, group: str, passage: str, question: str, answer: str, start: int, kind: str):
    uid = hashlib.sha1(f"{group}\n{question}".encode()).hexdigest()[:12]
    return QAExample(f"{source}-{uid}", source, group, passage, question, answer, start, kind)


def _fill(template: str, **values) -> tuple[str, dict[str, int]]:
    """`template.format(**values)` and where each field starts in the result."""
    text, at = "", {}
    for literal, field, _, _ in string.Formatter().parse(template):
        text += literal
        if field is not None:
            at.setdefault(field, len(text))
            text += str(values[field])
    return text, at


def _a(word: str) -> str:
    """The indefinite article for `word`: 'an English writer', 'a United States writer', 'an orange car'."""
    w = word.lower()
    if w[0] == "u":
        return "an" if re.match(r"u(n|p|m|l|z|s[^aeiu])", w) and not w.startswith("uni") else "a"
    if w.startswith(("eu", "one")) or (w[0] in "aeio"):
        return "a" if w.startswith(("eu", "one")) else "an"
    return "an" if w.startswith(("hour", "honest", "honor", "honour", "heir")) else "a"


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


# ---------------------------------------------------------------- WordNet ----------------------------------------
_CAP = r"[A-Z][\w.'-]*"
PROPER = rf"{_CAP}(?: (?:of (?:the )?|de |del |la )?{_CAP})*"  # "Gulf of Mexico", "United States"
_ENDS = r"(?=$|[,;.)]| (?:in|on|at|near|and|located|situated|who|whose|that|which|where|to|of|with|for|from|off|"\
        r"between|noted|known|famous|is|was|but|during)\b)"  # a name ends here, not before "province", "Sea"
PLACE = rf"(?:(?:north|south|east|west|central|upper|lower)[a-z]*[ -])*{PROPER}{_ENDS}"  # "south central Idaho"
YEARS = re.compile(r"\s*\((?:(?P<b>\d{3,4})-(?P<d>\d{3,4})|born (?:in )?(?P<b2>\d{4})|died (?:in )?(?P<d2>\d{3,4}))\)$")
OTHER_DATES = re.compile(r"\s*\(([^()]*\d[^()]*)\)$")  # "(384-322 BC)", "(circa 1500)": kept, not asked
_HEAD_WORDS = ("who whose whom which that where in on at for from to with by known noted remembered famous best born "
               "considered regarded during after under between near located founded off south north east west having "
               "since until as said called named thought believed sometimes often usually especially now formerly "
               "later also notorious renowned celebrated active responsible important prominent influential popular "
               "distinguished honored acclaimed admired credited devoted dedicated involved instrumental").split()
_PARTICIPLE = r" [a-z]+ed (?:with|for|by|to|in|as|at|on|from)\b"  # "goddess associated with", "honored for"
HEAD_END = re.compile(rf" (?:{'|'.join(_HEAD_WORDS + ['of'])})\b|[,;(]|{_PARTICIPLE}")  # where a noun phrase ends
RUN_END = re.compile(rf" (?:{'|'.join(_HEAD_WORDS)})\b|[,;(]|{_PARTICIPLE}")  # ... and where its "of" phrase ends
THE_FIRST = {"largest", "smallest", "biggest", "highest", "longest", "oldest", "eldest", "youngest", "greatest",
             "earliest", "brightest", "best", "most", "chief", "principal", "main", "capital", "first", "second",
             "third", "fourth", "last", "only", "leading"}  # "the eldest son of Noah", never "an eldest son"
KIN = {"son", "daughter", "wife", "husband", "father", "mother", "brother", "sister", "widow", "founder"}
OF_NOUNS = KIN | {"consort", "disciple", "pupil", "student", "follower", "companion", "friend", "successor", "nephew",
                  "niece", "uncle", "aunt", "grandson", "granddaughter", "cousin", "twin", "personification",
                  "mother-in-law", "father-in-law", "mistress", "lover", "ally", "enemy", "rival"}  # "X of Y"
NOT_JOBS = {"deity", "god", "goddess", "character", "being", "saint", "king", "queen", "prophet", "pope", "emperor",
            "ruler", "prince", "princess", "martyr", "apostle", "patriarch", "hero", "giant", "monster", "titan",
            "angel", "demigod", "spirit", "woman", "man", "person", "pharaoh", "tsar", "czar", "sultan", "caliph",
            "chieftain", "tribe", "people", "brother", "sister", "child", "leader", "disciple", "evangelist",
            "heroine", "socialist", "communist", "anarchist", "center", "forward", "guard", "defender", "pioneer",
            "prophetess", "antipope", "duke"}  # not an answer to "What was X's profession?"
VAGUE = {"wife", "husband", "son", "daughter", "woman", "man", "person", "god", "goddess", "one", "member",
         "hero", "king", "queen", "leader"}  # "Who was Agrippina?" "wife" is no answer
OCCUPATIONS = {"worker", "professional", "creator", "scientist", "intellectual", "performer", "entertainer",
               "leader", "serviceman", "athlete", "expert", "adventurer", "businessman", "capitalist", "clergyman",
               "writer", "journalist", "artist", "politician", "official", "educator", "musician", "traveler",
               "employee"}  # what "What was X's profession?" may answer: a physicist (-> scientist), a poet (-> writer)
PLACE_KINDS = {"city", "town", "port", "national capital", "state capital", "provincial capital", "port of entry",
               "river", "island", "country", "state", "American state", "Australian state", "Canadian province",
               "French region", "Italian region", "lake", "volcano", "village", "county", "district",
               "national park", "mountain peak", "geographical area", "region", "peninsula", "desert", "borough"}
THE_PLACES = {"river"}  # "the Mississippi"
CAPITAL_OF = {"national capital": "country", "state capital": "state", "provincial capital": "province"}
BATTLES = {"pitched battle", "naval battle", "battle", "siege"}


@dataclass(frozen=True)
class _Synset:
    offset: str
    lexfile: str
    lemmas: tuple[str, ...]  # with spaces: ("Einstein", "Albert Einstein")
    hypernyms: tuple[str, ...]  # first lemma of each instance hypernym, '*' if a job: ("*physicist",), ("city",)
    gloss: str


@dataclass(frozen=True)
class _Fact:
    """One sentence of a passage and the questions it answers: (kind, question, answer, start in sentence)."""
    key: str
    names: tuple[str, ...]  # the names the sentence uses: no two sentences of a passage may share one
    sentence: str
    questions: tuple[tuple[str, str, str, int], ...]


def _synsets(path: Path) -> list[_Synset]:
    """Every instance noun of `data.noun`; a hypernym that descends from one of OCCUPATIONS (physicist ->
    scientist) is marked with a leading '*', so "What was X's profession?" is never asked of a liar or a dragon."""
    lemma_of, parents, rows = {}, {}, []
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  ") or " | " not in line:
            continue  # licence header
        fields, gloss = line.split(" | ", 1)
        parts = fields.split()
        n = int(parts[3], 16)
        lemmas = tuple(re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).replace("_", " ") for i in range(n))
        lemma_of[parts[0]] = lemmas[0]
        pointers = parts[4 + 2 * n + 1:]
        parents[parts[0]] = [pointers[i + 1] for i in range(0, len(pointers), 4) if pointers[i] == "@"]
        hyper = [pointers[i + 1] for i in range(0, len(pointers), 4) if pointers[i] == "@i"]
        if hyper:
            rows.append((parts[0], parts[1], lemmas, hyper, gloss.strip()))

    def is_job(offset: str, depth: int = 0) -> bool:
        return lemma_of.get(offset) in OCCUPATIONS or (depth < 12 and any(is_job(p, depth + 1)
                                                                         for p in parents.get(offset, ())))
    return [_Synset(o, lex, lem, tuple(("*" if is_job(h) else "") + lemma_of[h] for h in hyp), g)
            for o, lex, lem, hyp, g in rows]


def _tidy(body: str) -> str:
    """WordNet's own slips: 'a highest mountain peak' -> 'the highest mountain peak'."""
    return re.sub(rf"^an? (?=(?:{'|'.join(THE_FIRST)}) )", "the ", body)


def _article(body: str) -> str:
    """'' when the description brings its own determiner, else 'a ', 'an ' or 'the ' (with its space)."""
    words = body.split()
    first = words[0].lower()
    if first in {"a", "an", "the", "one", "any", "either", "both", "his", "her", "its", "their"}:
        return ""
    if first in THE_FIRST or re.fullmatch(r"\d+(st|nd|rd|th)", first) or (first in KIN and words[1:2] == ["of"]):
        return "the "
    return _a(words[0]) + " "


def _head(body: str, extend: bool = False) -> tuple[int, str]:
    """The first noun phrase of a description, without its article: (offset in body, text). With `extend`, a
    lone noun or a title takes its "of" phrase along ("the father of Odysseus", "King of England"), and a head
    that runs on gives "" ("god of blame and mockery", "chief and founder of ...": where would it end?)."""
    start = len(m.group(0)) if (m := re.match(r"(?:a|an|the) ", body)) else 0
    end = m.start() if (m := HEAD_END.search(body, start)) else len(body)
    head = body[start:end].strip()
    if extend and body.startswith(" of ", end):
        if (m := re.match(rf" of (?:the )?{PROPER}(?: and {PROPER})?", body[end:])) and head.split()[-1][0].isupper():
            return start, body[start:end + m.end()]  # "20th President of the United States"
        if " " not in head or head.split()[-1] in OF_NOUNS:  # "the father of Odysseus", "elder brother of Moses"
            end = m.start() if (m := RUN_END.search(body, end + 4)) else len(body)
            head = body[start:end].strip()
        if " and " in head:
            return start, ""  # "Indian chief and founder" (of the Powhatan confederacy): a half answer
    return start, head


def _person_name(s: _Synset) -> str:
    """'Albert Einstein' rather than 'Einstein', 'George VI' rather than 'George': the first lemma of two or more
    words that holds the first lemma."""
    first = s.lemmas[0]
    return next((x for x in s.lemmas if len(x.split()) > 1 and re.search(rf"\b{re.escape(first)}\b", x)), first)


def _domain(desc: str) -> tuple[str, str] | None:
    """'(Greek mythology) goddess of ...' -> ('In Greek mythology, ', 'goddess of ...'); None for other tags."""
    m = re.match(r"\(([^()]+)\)\s*", desc)
    if not m:
        return "", desc
    tag = m.group(1)
    if re.search(r"(mythology|religion|legend)$", tag):
        return f"In {tag}, ", desc[m.end():]
    if tag.startswith(("Old Testament", "New Testament", "Bible")):
        return f"In the {tag}, ", desc[m.end():]
    return None


def _person(s: _Synset, rng: random.Random) -> _Fact | None:
    pieces = [p.strip() for p in s.gloss.split(";") if p.strip() and not p.strip().startswith('"')]
    if not pieces or not s.lemmas[0][0].isupper():
        return None
    desc, born, died, other = pieces[0], None, None, ""
    if m := YEARS.search(pieces[-1]):
        born, died = m.group("b") or m.group("b2"), m.group("d") or m.group("d2")
        if born and died and int(died) - int(born) not in range(15, 111):
            return None  # "(99-999)": BC dates or a typo
        desc = YEARS.sub("", desc)
    elif m := OTHER_DATES.search(desc):
        other, desc = m.group(1), desc[:m.start()]
    if (dom := _domain(desc)) is None or not dom[1] or len(dom[1].split()) > 30 or re.search(r"[\"`:?]", desc):
        return None
    prefix, body = dom[0], _tidy(dom[1])
    name, short = _person_name(s), s.lemmas[0]
    if not name[0].isupper():
        return None
    verb = "is" if born and not died else "was"
    art = _article(body)
    if born and died:
        frames = ["{name} ({b}-{d}) was {art}{desc}.", "{name}, who lived from {b} to {d}, was {art}{desc}."]
        if short != name:
            frames.append("{name} was {art}{desc}; {short} was born in {b} and died in {d}.")
    elif born:
        frames = ["{name} (born {b}) is {art}{desc}.", "{name}, born in {b}, is {art}{desc}."]
    elif died:
        frames = ["{name} (died {d}) was {art}{desc}.", "{name}, who died in {d}, was {art}{desc}."]
    else:
        frames = ["{name} ({other}) was {art}{desc}." if other else "{name} was {art}{desc}."]
    sentence, at = _fill(prefix + rng.choice(frames), name=name, b=born, d=died, art=art, desc=body, short=short,
                         other=other)
    sentence = sentence[0].upper() + sentence[1:]
    d0 = at["desc"]
    qs = []
    h_at, head = _head(body, extend=True)
    hyper = next((h[1:] for h in s.hypernyms if h.startswith("*") and h[1:].islower()
                  and h[1:].split()[-1] not in NOT_JOBS and re.search(rf"\b{re.escape(h[1:])}$", head)
                  and " and " not in head), None)
    if (head and len(head.split()) <= 6 and head not in VAGUE and head != head.title()  # not "Death" (personified)
            and not (hyper == head and rng.random() < 0.5)):
        qs.append(("what_is", f"Who {verb} {name}?", head, d0 + h_at))
    if hyper:
        q = rng.choice([f"What {verb} {_possessive(name)} profession?", f"What {verb} {_possessive(name)} occupation?",
                        f"What did {name} do for a living?"])
        qs.append(("what", q, hyper, d0 + h_at + len(head) - len(hyper)))
    if m := re.search(r"\b(who|whose) ([^();]+)$", body):
        clause, before = m.group(2).strip(), re.sub(r"\([^()]*\)|born in " + PLACE, "", body[:m.start()])
        subject_first = clause.split()[0] in {"he", "she", "it", "they", "the", "a", "an", "his", "her", "their", "its",
                                              "many", "most", "some", "we", "you"} or clause[0].isupper()
        if 3 <= len(clause.split()) <= 22 and not subject_first and not re.search(r" (of|to|with|by|for|and) ", before):
            if m.group(1) == "whose":
                qs.append(("who", f"Whose {clause}?", name, at["name"]))
            elif hyper and rng.random() < 0.5:
                qs.append(("which", f"Which {hyper} {clause}?", name, at["name"]))
            else:
                qs.append(("who", f"Who {clause}?", name, at["name"]))
    if born and hyper:
        qs.append(("which", f"Which {hyper} was born in {born}?", name, at["name"]))
    if born:
        qs.append(("when", rng.choice([f"When was {name} born?", f"In what year was {name} born?",
                                       f"In which year was {name} born?"]), born, at["b"]))
    if died:
        qs.append(("when", rng.choice([f"When did {name} die?", f"In what year did {name} die?"]), died, at["d"]))
    if m := re.search(rf"\bborn in (?:the )?({PLACE})", body):
        if len(m.group(1).split()) <= 5:
            qs.append(("where", f"Where was {name} born?", m.group(1), d0 + m.start(1)))
    return _Fact(s.offset, (name, short), sentence, tuple(qs))


def _place(s: _Synset, rng: random.Random) -> _Fact | None:
    kind = next((h for h in s.hypernyms if h in PLACE_KINDS or h.endswith(" country")), None)
    body = _tidy(s.gloss.split(";")[0].strip())
    name = s.lemmas[0]
    if (not kind or not name[0].isupper() or re.search(r"[\"`:?()]", body) or len(body.split()) > 30
            or (name.endswith("s") and kind not in {"city", "town", "port", "national capital", "state capital"})):
        return None
    name = f"the {name}" if kind in THE_PLACES and not name.startswith("The ") else name
    art = _article(body)
    sentence, at = _fill("{name} is {art}{desc}.", name=name, art=art, desc=body)
    sentence = sentence[0].upper() + sentence[1:]
    d0, qs = at["desc"], []
    if m := re.match(rf"(?:the )?capital (?:(?:and|largest|city|chief|port|most|populous|commercial|cultural|"
                     rf"industrial|financial)[ ,]+)*of (the )?({PROPER}){_ENDS}", body):
        qs.append(("what_is", f"What is the capital of {m.group(1) or ''}{m.group(2)}?", name, at["name"]))
        if kind in CAPITAL_OF:
            qs.append(("which", rng.choice([f"Which {CAPITAL_OF[kind]} is {name} the capital of?",
                                            f"Of which {CAPITAL_OF[kind]} is {name} the capital?"]),
                       m.group(2), d0 + m.start(2)))
        return _Fact(s.offset, (name,), sentence, tuple(qs))
    h_at, head = _head(body)
    if not head or re.search(r"[^su]s$", head):
        return None  # "Old World: the regions of the world that ..." would read "Old World is the regions"
    rest = body[h_at + len(head):]
    biggest = head.split()[0] in THE_FIRST  # "the largest city of Wisconsin"; but "a holy city of Shiite Muslims"
    m = re.match(rf" (?:in|of) (?:the )?({PLACE})" if biggest else rf" in (?:the )?({PLACE})", rest)
    if m and len(m.group(1).split()) <= 6:
        qs.append(("where", rng.choice([f"Where is {name}?", f"Where is {name} located?"]), m.group(1),
                   d0 + h_at + len(head) + m.start(1)))
    m = re.search(rf"\bflows? (?:[a-z]+ ){{0,2}}into (?:the )?({PROPER})", body)
    if m and re.search(r"\b(River|Sea|Ocean|Gulf|Bay|Lake|Channel|Strait|Sound)\b", m.group(1)):
        qs.append(("which", f"Into which body of water does {name} flow?", m.group(1), d0 + m.start(1)))
    if 2 <= len(head.split()) <= 5 and head.split()[0] not in THE_FIRST:  # "port city", not a bare "town"
        qs.append(("what_is", f"What is {name}?", head, d0 + h_at))
    return _Fact(s.offset, (name,), sentence, tuple(qs))


def _battle(s: _Synset, rng: random.Random) -> _Fact | None:
    body = s.gloss.split(";")[0].strip()
    years = re.findall(r"\b\d{4}\b", body)
    if not set(s.hypernyms) & BATTLES or not re.match(r"(?:(?:a|an|the) )?(?:[\w-]+ ){0,3}battle\b", body) \
            or len(years) != 1 or "BC" in body or re.search(r"[\"`:?]", body):
        return None
    named = next((x for x in s.lemmas if x.lower().startswith("battle of ")), f"battle of {s.lemmas[0]}")
    name = "the Battle" + named[len("battle"):]
    body = re.sub(r" \((\d{4})\)$", r" in \1", body)  # "in World War I (1916)" -> "in World War I in 1916"
    sentence, at = _fill("{name} was {art}{desc}.", name=name, art=_article(body), desc=body)
    sentence = sentence[0].upper() + sentence[1:]
    year = re.search(r"\b\d{4}\b", body)
    qs = [("when", rng.choice([f"In what year was {name} fought?", f"When was {name} fought?"]), year.group(0),
           at["desc"] + year.start())]
    if m := re.search(r"\b(?:in|during|of) the ((?:[A-Z][\w'-]* )+Wars?(?: I+)?|World War I+)\b", body):
        qs.append(("which", f"In which war was {name} fought?", m.group(1), at["desc"] + m.start(1)))
    return _Fact(s.offset, (name,), sentence, tuple(qs))


def _chunks(facts: list[_Fact], rng: random.Random, sizes=(3, 5), max_words: int = 100) -> list[list[_Fact]]:
    """Consecutive facts, 3-5 a passage, skipping ahead past one whose name another fact already uses."""
    pool, out = list(facts), []
    while len(pool) >= sizes[0]:
        want, chunk, words, i = rng.randint(*sizes), [], 0, 0
        while i < len(pool) and i < 30 and len(chunk) < want:
            f, n = pool[i], len(pool[i].sentence.split())
            names = {x for c in chunk for x in c.names}
            if not names & set(f.names) and words + n <= max_words:
                chunk.append(pool.pop(i))
                words += n
            else:
                i += 1
        if len(chunk) < sizes[0]:
            break  # the last few facts: too few for a passage with distractors
        out.append(chunk)
    return out


def wordnet_examples(seed: int = 0, wordnet: Path = WORDNET, per_fact: int = 2) -> list[QAExample]:
    """Passages of 3-5 WordNet instances of one category (people, places, battles) and up to `per_fact`
    questions a sentence, the rarer kinds (who, which) drawn first."""
    rng = random.Random(seed)
    by_category: dict[str, list[_Fact]] = {"person": [], "place": [], "battle": []}
    for s in _synsets(wordnet / "data.noun"):
        if s.lexfile == "18":
            fact, cat = _person(s, rng), "person"
        elif s.lexfile == "04":
            fact, cat = _battle(s, rng), "battle"
        elif s.lexfile in ("15", "17"):
            fact, cat = _place(s, rng), "place"
        else:
            continue
        if fact and fact.questions:
            by_category[cat].append(fact)
    out, counts = [], Counter({k: 0 for k in KINDS})
    for cat, facts in by_category.items():
        rng.shuffle(facts)
        for chunk in _chunks(facts, rng):
            group = "wordnet/" + "+".join(sorted(f.key for f in chunk))
            passage, offsets = "", []
            for f in chunk:
                passage += (" " if passage else "")
                offsets.append(len(passage))
                passage += f.sentence
            seen = Counter(q for f in chunk for _, q, _, _ in f.questions)
            answers = Counter(ka for f in chunk for ka in {(k, a.lower()) for k, _, a, _ in f.questions})
            for f, at in zip(chunk, offsets):
                ok = [(k, q, f.sentence[i:i + len(a)], i) for k, q, a, i in f.questions  # as capitalised there
                      if seen[q] == 1 and answers[(k, a.lower())] == 1]  # one answer in the passage
                for _ in range(min(per_fact, len(ok))):
                    weights = [1 / (1 + counts[k]) ** 2 for k, _, _, _ in ok]
                    kind, question, answer, start = ok.pop(rng.choices(range(len(ok)), weights)[0])
                    counts[kind] += 1
                    out.append(_example("wordnet", group, passage, question, answer, at + start, kind))
    return out


# ---------------------------------------------------------------- stories ----------------------------------------
FIRST_NAMES = ["Anna", "Tom", "Maria", "David", "Sara", "Omar", "Lucy", "Peter", "Elena", "Ravi", "Mei", "Fatima",
               "Nina", "Yusuf", "Hannah", "Kenji", "Olga", "Samuel", "Grace", "Leo", "Amara", "Ivan", "Chloe",
               "Daniel", "Priya", "Marco", "Ingrid", "Kofi", "Zoe", "Felix", "Aisha", "Pablo", "Ella", "Hugo", "Lena",
               "Mateo", "Julia", "Noah", "Sofia", "Ahmed", "Rosa", "Victor", "Laura", "Kwame", "Ali", "Emma"]
LAST_NAMES = ["Berg", "Lopez", "Novak", "Okafor", "Chen", "Smith", "Silva", "Kowalski", "Haddad", "Tanaka", "Rossi",
              "Petrov", "Nguyen", "Khan", "Murphy", "Larsen", "Costa", "Fischer", "Brown", "Garcia", "Kim", "Singh",
              "Dubois", "Jansen", "Moreau", "Ortiz", "Walker", "Mensah", "Sato", "Meyer"]
CITIES = [(capital, country) for country, capital, *_ in COUNTRIES]  # ("Paris", "France")
JOBS = [("teacher", "school"), ("nurse", "hospital"), ("doctor", "clinic"), ("pilot", "airport"), ("farmer", "farm"),
        ("baker", "bakery"), ("chef", "restaurant"), ("judge", "court"), ("mechanic", "garage"),
        ("librarian", "library"), ("fisherman", "harbour"), ("painter", "studio"), ("carpenter", "workshop"),
        ("engineer", "factory"), ("cashier", "supermarket"), ("pharmacist", "pharmacy"),
        ("police officer", "police station"), ("waiter", "cafe"), ("banker", "bank"), ("journalist", "newspaper"),
        ("dentist", "dental practice"), ("architect", "design office"), ("gardener", "botanical garden")]
PETS = [("dog", "dogs"), ("cat", "cats"), ("rabbit", "rabbits"), ("parrot", "parrots"), ("hamster", "hamsters"),
        ("horse", "horses"), ("tortoise", "tortoises"), ("goat", "goats")]
PET_NAMES = ["Rex", "Luna", "Bella", "Milo", "Coco", "Rocky", "Daisy", "Pepper", "Biscuit", "Shadow", "Ziggy",
             "Mango", "Bruno", "Nala", "Toffee", "Pickles", "Fluffy", "Snowy"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "grey", "orange", "purple", "brown", "pink", "silver"]
OBJECTS = [("car", "drives"), ("bike", "rides"), ("coat", "wears"), ("scarf", "wears"), ("umbrella", "carries"),
           ("bag", "carries"), ("kite", "flies"), ("boat", "sails"), ("hat", "wears")]
SPORTS = ["tennis", "football", "basketball", "golf", "volleyball", "badminton", "hockey", "rugby", "table tennis"]
INSTRUMENTS = ["piano", "violin", "guitar", "drums", "flute", "cello", "trumpet", "saxophone", "harp"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ITEMS = ["apples", "oranges", "eggs", "bananas", "lemons", "tomatoes", "potatoes", "onions", "pencils", "notebooks",
         "candles", "cups", "plates", "tickets", "stamps", "postcards"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve"]
NOW = 2024  # the year the stories' ages count from


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    born: int


@dataclass(frozen=True)
class _Say:
    """A sentence frame about one person, its values and each value's type, and its questions:
    (kind, question, answer field) where the field may be a (first, last) pair spanning several fields."""
    person: _Person
    template: str
    values: dict
    types: dict
    questions: tuple


class _Draw:
    """Values drawn without replacement within one story, so that every question has exactly one answer."""

    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set()

    def pick(self, pool: list):
        value = self.rng.choice([v for v in pool if v not in self.used])
        self.used.add(value)
        return value

    def number(self, lo: int, hi: int) -> int:
        return self.pick([n for n in range(lo, max(lo, hi) + 1)])

    def say(self, n: int) -> str:
        """'three' or '3' for a count: a word up to three, above that a word more often than not."""
        return NUMBER_WORDS[n] if n <= 3 or (n < len(NUMBER_WORDS) and self.rng.random() < 0.6) else str(n)


def _job(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    job, place = d.pick(JOBS)
    art = _a(job)
    v, t = {"art": art, "job": job, "place": place}, {"job": "job", "place": "place"}
    qs = [("what", rng.choice([f"What is {p.first}'s job?", f"What does {p.first} do for a living?",
                               f"What does {p.first} work as?"]), "job"),
          ("who", rng.choice([f"Who works as {art} {job}?", f"Who is {art} {job}?"]), "name"),
          ("which", f"Which profession does {p.first} have?", "job")]
    form = rng.randrange(4)
    if form == 0:
        qs.append(("where", f"Where does {p.first} work?", "place"))
        return _Say(p, "{name} works as {art} {job} at the {place}.", v, t, tuple(qs))
    if form == 1:
        return _Say(p, "{name} is {art} {job}.", v, t, tuple(qs))
    if form == 2:
        n = d.number(2, min(30, NOW - p.born - 20))
        v["years"], t["years"] = d.say(n), "number"
        qs.append(("how_many", rng.choice([f"How many years has {p.first} worked as {art} {job}?",
                                           f"For how many years has {p.first} worked as {art} {job}?"]), "years"))
        return _Say(p, "{name} has worked as {art} {job} for {years} years.", v, t, tuple(qs))
    v["year"], t["year"] = d.number(p.born + 20, NOW - 1), "year"
    qs.append(("when", rng.choice([f"When did {p.first} become {art} {job}?",
                                   f"In what year did {p.first} become {art} {job}?"]), "year"))
    return _Say(p, "{name} became {art} {job} in {year}.", v, t, tuple(qs))


def _home(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    city, country = d.pick(CITIES)
    v, t = {"city": city, "country": country}, {"city": "city", "country": "country"}
    f = p.first
    live = [("where", f"Where does {f} live?", "city"), ("who", f"Who lives in {city}?", "name"),
            ("which", f"In which city does {f} live?", "city")]
    capital = [("what_is", f"What is the capital of {country}?", "city"),
               ("which", f"Which country is {city} the capital of?", "country")]
    form = rng.randrange(5)
    if form == 0:
        return _Say(p, "{name} lives in {city}.", v, t, tuple(live))
    if form == 1:
        return _Say(p, "{name} lives in {city}, the capital of {country}.", v, t, tuple(live + capital))
    if form == 2:
        other, _ = d.pick(CITIES)
        v["born_in"], t["born_in"] = other, "city"
        return _Say(p, "{name} was born in {born_in} but now lives in {city}.", v, t, tuple(live + [
            ("where", f"Where was {f} born?", "born_in"), ("who", f"Who was born in {other}?", "name"),
            ("which", f"In which city was {f} born?", "born_in")]))
    grew = [("where", f"Where did {f} grow up?", "city"), ("who", f"Who grew up in {city}?", "name"),
            ("which", f"In which city did {f} grow up?", "city")]
    if form == 3:
        return _Say(p, "{name} grew up in {city}.", v, t, tuple(grew))
    return _Say(p, "{name} grew up in {city}, the capital of {country}.", v, t, tuple(grew + capital))


def _move(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    city, _ = d.pick(CITIES)
    year = d.number(p.born + 18, NOW - 1)
    v, t, f = {"city": city, "year": year}, {"city": "city", "year": "year"}, p.first
    form = rng.randrange(4)
    if form == 3:
        return _Say(p, "{name} has lived in {city} since {year}.", v, t, (
            ("where", f"Where does {f} live?", "city"), ("who", f"Who has lived in {city} since {year}?", "name"),
            ("when", rng.choice([f"Since when has {f} lived in {city}?", f"Since what year has {f} lived in {city}?"]),
             "year"), ("which", f"In which city has {f} lived since {year}?", "city")))
    qs = [("which", f"Which city did {f} move to in {year}?", "city"),
          ("where", f"Where did {f} move to in {year}?", "city"),
          ("when", rng.choice([f"When did {f} move to {city}?", f"In what year did {f} move to {city}?"]), "year"),
          ("who", f"Who moved to {city}?", "name")]
    if form == 0:
        return _Say(p, "In {year}, {name} moved to {city}.", v, t, tuple(qs))
    if form == 1:
        return _Say(p, "{name} moved to {city} in {year}.", v, t, tuple(qs))
    other, _ = d.pick(CITIES)
    v["left"], t["left"] = other, "city"
    qs.append(("which", f"Which city did {f} leave in {year}?", "left"))
    return _Say(p, "{name} left {left} in {year} and moved to {city}.", v, t, tuple(qs))


def _born(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    f = p.first
    qs = [("when", rng.choice([f"When was {f} born?", f"In what year was {f} born?", f"In which year was {f} born?"]),
           "year"), ("who", f"Who was born in {p.born}?", "name")]
    if rng.random() < 0.7:
        return _Say(p, "{name} was born in {year}.", {"year": p.born}, {"year": "year"}, tuple(qs))
    day = d.pick(DAYS)
    qs.append(("which", f"On which day of the week was {f} born?", "day"))
    return _Say(p, "{name} was born on a {day} in {year}.", {"year": p.born, "day": day},
                {"year": "year", "day": "day"}, tuple(qs))


def _age(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    age, f = NOW - p.born, p.first  # ages were reserved when the people were drawn
    form = rng.randrange(3)
    if form == 2:
        return _Say(p, "{name} will be {age} next year.", {"age": age + 1}, {"age": "number"}, (
            ("how_many", f"How old will {f} be next year?", "age"),
            ("who", f"Who will be {age + 1} next year?", "name")))
    frame = ["{name} is {age} years old.", "{name} turned {age} last month."][form]
    who = [f"Who is {age} years old?", f"Who turned {age} last month?"][form]
    return _Say(p, frame, {"age": age}, {"age": "number"}, (("how_many", f"How old is {f}?", "age"),
                                                          ("who", who, "name")))


def _siblings(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    f, v, t, qs, parts = p.first, {}, {}, [], []
    kinds = rng.choice([("brother", "sister"), ("brother",), ("sister",), ("child",)])
    for kin in kinds:
        n = d.number(1, 6)
        plural = {"brother": "brothers", "sister": "sisters", "child": "children"}[kin]
        v[kin], t[kin] = d.say(n), "number"
        noun = kin if n == 1 else plural
        parts.append(f"{{{kin}}} {noun}")
        qs += [("how_many", f"How many {plural} does {f} have?", kin), ("who", f"Who has {v[kin]} {noun}?", "name")]
    return _Say(p, "{name} has " + " and ".join(parts) + ".", v, t, tuple(qs))


def _pet(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    (pet, pets), f = d.pick(PETS), p.first
    if rng.random() < 0.3:
        n = d.number(2, 9)
        v = {"n": d.say(n), "pets": pets}
        return _Say(p, "{name} has {n} {pets}.", v, {"n": "number", "pets": "pet"}, (
            ("how_many", f"How many {pets} does {f} have?", "n"), ("who", f"Who has {v['n']} {pets}?", "name")))
    pet_name = d.pick(PET_NAMES)
    v, t = {"art": _a(pet), "pet": pet, "pet_name": pet_name}, {"pet": "pet", "pet_name": "pet_name"}
    qs = [("what_is", rng.choice([f"What is the name of {f}'s {pet}?", f"What is {f}'s {pet} called?"]), "pet_name"),
          ("what", f"What kind of animal is {pet_name}?", "pet")]
    if rng.random() < 0.5:
        qs.append(("who", f"Who has {_a(pet)} {pet} called {pet_name}?", "name"))
        return _Say(p, "{name} has {art} {pet} called {pet_name}.", v, t, tuple(qs))
    qs.append(("who", f"Whose {pet} is named {pet_name}?", "name"))
    return _Say(p, "{name}'s {pet} is named {pet_name}.", v, t, tuple(qs))


def _colour(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    (thing, verb), colour, f = rng.choice(OBJECTS), d.pick(COLOURS), p.first
    v, t = {"thing": thing, "verb": verb, "art": _a(colour), "colour": colour}, {"colour": "colour"}
    what = ("what", f"What colour is {f}'s {thing}?", "colour")
    a_thing = f"{_a(colour)} {colour} {thing}"
    form = rng.randrange(4)
    if form == 0:
        return _Say(p, "{name}'s {thing} is {colour}.", v, t, (what, ("who", f"Whose {thing} is {colour}?", "name")))
    if form == 1:
        return _Say(p, "{name} {verb} {art} {colour} {thing}.", v, t, (what, ("who", f"Who {verb} {a_thing}?", "name")))
    if form == 2:
        return _Say(p, "{name} has {art} {colour} {thing}.", v, t, (what, ("who", f"Who has {a_thing}?", "name")))
    return _Say(p, "Last week {name} bought {art} {colour} {thing}.", v, t, (
        ("what", f"What colour is the {thing} that {f} bought?", "colour"),
        ("who", f"Who bought {a_thing} last week?", "name")))


def _sport(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    sport, day, f = d.pick(SPORTS), d.pick(DAYS), p.first
    qs = (("what", f"What sport does {f} play?", "sport"), ("which", f"Which sport does {f} play?", "sport"),
          ("when", f"When does {f} play {sport}?", "day"), ("which", f"On which day does {f} play {sport}?", "day"),
          ("who", f"Who plays {sport}?", "name"))
    t = {"sport": "sport", "day": "day"}
    form = rng.randrange(3)
    if form == 0:
        return _Say(p, "{name} plays {sport} every {day}.", {"sport": sport, "day": day}, t, qs)
    frame = ["On {day}, {name} plays {sport}.", "{name} plays {sport} on {day}."][form - 1]
    return _Say(p, frame, {"sport": sport, "day": day + "s"}, t, qs)


def _instrument(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    inst, f = d.pick(INSTRUMENTS), p.first
    v, t = {"inst": inst}, {"inst": "instrument"}
    form = rng.randrange(4)
    if form == 2:
        return _Say(p, "{name} is learning to play the {inst}.", v, t, (
            ("which", f"Which instrument is {f} learning to play?", "inst"),
            ("what", f"What instrument is {f} learning?", "inst"),
            ("who", f"Who is learning to play the {inst}?", "name")))
    qs = [("which", f"Which instrument does {f} play?", "inst"), ("what", f"What instrument does {f} play?", "inst"),
          ("who", f"Who plays the {inst}?", "name")]
    if form == 3:
        v["year"], t["year"] = d.number(p.born + 6, NOW - 1), "year"
        qs.append(("when", rng.choice([f"Since when has {f} played the {inst}?",
                                       f"Since what year has {f} played the {inst}?"]), "year"))
        return _Say(p, "{name} has played the {inst} since {year}.", v, t, tuple(qs))
    return _Say(p, ["{name} plays the {inst}.", "{name} plays the {inst} in a band."][form], v, t, tuple(qs))


def _shopping(p: _Person, d: _Draw, rng: random.Random) -> _Say:
    day, item, n, f = d.pick(DAYS), d.pick(ITEMS), d.number(2, 20), p.first
    v = {"day": day, "item": item, "n": d.say(n)}
    qs = (("how_many", f"How many {item} did {f} buy?", "n"), ("when", f"When did {f} buy the {item}?", "day"),
          ("which", f"On which day did {f} buy {item}?", "day"), ("what", f"What did {f} buy on {day}?", ("n", "item")),
          ("who", f"Who bought {v['n']} {item}?", "name"))
    frame = rng.choice(["On {day}, {name} bought {n} {item} at the market.", "{name} bought {n} {item} on {day}.",
                        "{name} went to the market on {day} and bought {n} {item}."])
    return _Say(p, frame, v, {"day": "day", "item": "item", "n": "number"}, qs)


FACTS = {"job": _job, "home": _home, "move": _move, "born": _born, "age": _age, "siblings": _siblings, "pet": _pet,
         "colour": _colour, "sport": _sport, "instrument": _instrument, "shopping": _shopping}
EXCLUSIVE = [{"home", "move"}, {"born", "age"}]  # "lives in Rome" and "moved to Oslo" would contradict each other


def _story(rng: random.Random) -> tuple[str, list[tuple[str, str, str, int, str]]]:
    """A passage of 3-6 sentences about 2-3 people, each given the same kinds of fact, and every question it
    answers as (kind, question, answer, start, answer type)."""
    n_people = rng.choice([2, 2, 3])
    n_kinds = rng.choice([2, 3]) if n_people == 2 else rng.choice([1, 2])
    kinds: list[str] = []
    while len(kinds) < n_kinds:
        k = rng.choice(sorted(FACTS))
        if k not in kinds and not any(k in e and e & set(kinds) for e in EXCLUSIVE):
            kinds.append(k)
    d = _Draw(rng)
    people = []
    for _ in range(n_people):
        born = d.number(1946, 1998)
        d.used.update({NOW - born, NOW - born + 1})  # its age now and next year: no count may equal them
        people.append(_Person(d.pick(FIRST_NAMES), d.pick(LAST_NAMES), born))
    says = [[FACTS[k](p, d, rng) for k in kinds] for p in people]
    order = rng.choice(["person", "kind", "shuffled"])
    flat = [s for row in says for s in row] if order != "kind" else [s for col in zip(*says) for s in col]
    if order == "shuffled":
        rng.shuffle(flat)
    passage, spans, questions, named = "", [], [], set()
    for s in flat:
        p, full = s.person, s.person.first not in named
        named.add(p.first)
        sentence, at = _fill(s.template, name=f"{p.first} {p.last}" if full else p.first, **s.values)
        start = len(passage) + (1 if passage else 0)
        passage += (" " if passage else "") + sentence
        spans.append(("name", p.first))
        spans += [(typ, str(s.values[field])) for field, typ in s.types.items() if field in at]
        if full:
            spans.append(("surname", p.last))
            q = rng.choice([f"What is {p.first}'s surname?", f"What is {p.first}'s last name?",
                            f"What is {p.first}'s family name?"])
            questions.append(("what_is", q, p.last, start + at["name"] + len(p.first) + 1, "surname"))
        for kind, q, field in s.questions:
            first, last = field if isinstance(field, tuple) else (field, field)
            value = (f"{p.first} {p.last}" if full else p.first) if first == "name" else str(s.values[first])
            a, b = start + at[first], start + at[last] + len(str(s.values[last])) if last != "name" else None
            answer = passage[a:b] if b else value
            questions.append((kind, q, answer, a, "name" if first == "name" else s.types[first]))
    distinct = Counter(typ for typ, _ in set(spans))
    return passage, [q for q in questions if distinct[q[4]] >= 2]


def story_examples(n_stories: int = 4000, seed: int = 0, per_story: tuple[int, int] = (3, 5)) -> list[QAExample]:
    """`n_stories` stories and 3-5 of the questions each answers, the kinds drawn towards balance."""
    rng = random.Random(seed)
    counts, out = Counter({k: 0 for k in KINDS}), []
    for _ in range(n_stories):
        passage, candidates = _story(rng)
        asked = Counter(q for _, q, _, _, _ in candidates)
        candidates = [c for c in candidates if asked[c[1]] == 1]
        group = "stories/" + hashlib.sha1(passage.encode()).hexdigest()[:16]
        for _ in range(min(rng.randint(*per_story), len(candidates))):
            weights = [1 / (1 + counts[c[0]]) ** 2 for c in candidates]
            kind, question, answer, start, _ = candidates.pop(rng.choices(range(len(candidates)), weights)[0])
            counts[kind] += 1
            out.append(_example("stories", group, passage, question, answer, start, kind))
    return out


# ---------------------------------------------------------------- hand-written -----------------------------------
def _by_hand(i: int, passage: str, qas: list[tuple[str, str, str]]) -> list[QAExample]:
    """(kind, question, answer) for one passage; the answer's first occurrence is the one meant."""
    return [_example("handwritten", f"handwritten/{i}", passage, q, a, passage.index(a), kind) for kind, q, a in qas]


_PASSAGES = [
    ("Marie Curie was born in Warsaw in 1867 and moved to Paris to study physics. In 1903 she shared the Nobel Prize "
     "in Physics with Pierre Curie and Henri Becquerel. In 1911 she won a second Nobel Prize, this time in Chemistry, "
     "for the discovery of radium and polonium.",
     [("when", "In which year did Marie Curie win the Nobel Prize in Chemistry?", "1911"),
      ("where", "Where was Marie Curie born?", "Warsaw")]),
    ("Apollo 11 landed on the Moon on 20 July 1969. Neil Armstrong and Buzz Aldrin walked on the surface, while "
     "Michael Collins stayed in orbit in the command module Columbia. The lunar module was called Eagle.",
     [("who", "Who stayed in orbit while the others walked on the Moon?", "Michael Collins"),
      ("what_is", "What was the name of the lunar module?", "Eagle")]),
    ("Plants make their own food by photosynthesis. Inside the chloroplasts, the green pigment chlorophyll captures "
     "sunlight, which the plant uses to turn water and carbon dioxide into sugar. Oxygen is released as a by-product.",
     [("which", "Which gas is released as a by-product of photosynthesis?", "Oxygen")]),
    ("At sea level, pure water freezes at 0 degrees Celsius and boils at 100 degrees Celsius. High in the mountains "
     "the air pressure is lower, so water boils at a lower temperature and pasta takes longer to cook.",
     [("what", "At what temperature does water boil at sea level?", "100 degrees Celsius")]),
    ("The Eiffel Tower was built for the World's Fair held in Paris in 1889, a hundred years after the French "
     "Revolution began. Many artists called it ugly at first, but it soon became the symbol of the city.",
     [("when", "When was the World's Fair for which the Eiffel Tower was built?", "1889")]),
    ("Lena opens her bakery at six o'clock every morning. She sells rye bread, croissants and apple cake. On "
     "Saturdays the bakery closes at two, and on Sundays it stays closed all day.",
     [("when", "When does the bakery close on Saturdays?", "at two")]),
    ("The human heart has four chambers. The two upper chambers are the atria, and the two lower chambers are the "
     "ventricles. The right side pumps blood to the lungs and the left side pumps it to the rest of the body.",
     [("how_many", "How many chambers does the human heart have?", "four"),
      ("what_is", "What are the two lower chambers of the heart called?", "ventricles")]),
    ("Mercury is the planet closest to the Sun, and Jupiter is the largest planet in the solar system. Mars is often "
     "called the Red Planet because iron oxide in its soil gives it a reddish colour.",
     [("which", "Which planet is known as the Red Planet?", "Mars")]),
    ("Around 1440, Johannes Gutenberg, a goldsmith in Mainz, developed a printing press with movable metal type. "
     "Books could now be printed far faster than monks could copy them by hand.",
     [("where", "In which city did Gutenberg work?", "Mainz")]),
    ("In 1928 Alexander Fleming returned to his laboratory at St Mary's Hospital in London after a holiday and "
     "noticed that a mould had killed the bacteria growing in one of his dishes. The substance the mould made "
     "was later named penicillin.",
     [("who", "Who noticed that a mould had killed the bacteria?", "Alexander Fleming")]),
    ("The Nile flows north through Egypt and empties into the Mediterranean Sea. Cairo, the capital of Egypt, lies "
     "on its banks, and every summer the river used to flood the fields along it.",
     [("which", "Into which sea does the Nile flow?", "Mediterranean Sea")]),
    ("To make twelve pancakes you need 200 grams of flour, two eggs and 300 millilitres of milk. Whisk them into a "
     "smooth batter and let it rest for half an hour before frying.",
     [("how_many", "How many eggs do you need for the pancakes?", "two")]),
    ("The Berlin Wall was built in 1961 and divided the city for 28 years. On 9 November 1989 the border crossings "
     "were opened, and crowds began to pull the wall down.",
     [("when", "When were the border crossings of the Berlin Wall opened?", "9 November 1989")]),
    ("In AD 79 Mount Vesuvius erupted and buried the Roman towns of Pompeii and Herculaneum under ash. The ruins "
     "were rediscovered in the eighteenth century.",
     [("what", "What buried Pompeii and Herculaneum?", "ash"),
      ("which", "Which volcano erupted in AD 79?", "Mount Vesuvius")]),
    ("Sam has maths on Mondays and Wednesdays, art on Thursdays and swimming on Fridays. His favourite subject is "
     "art because the teacher lets the class paint outside.",
     [("when", "On which day does Sam have art?", "Thursdays")]),
    ("A honey bee colony has one queen, thousands of female workers and, in summer, a few hundred male bees called "
     "drones. The workers collect nectar and pollen and look after the young.",
     [("what_is", "What are the male bees called?", "drones")]),
    ("In 1876 Alexander Graham Bell received a patent for the telephone. A few days later he spoke the first words "
     "over it to his assistant, Thomas Watson, who was waiting in the next room.",
     [("who", "Who was Bell's assistant?", "Thomas Watson")]),
]
HANDWRITTEN: list[QAExample] = [e for i, (p, qas) in enumerate(_PASSAGES) for e in _by_hand(i, p, qas)]


# ---------------------------------------------------------------- build, save, load -----------------------------
def build(test_share: float = 0.1, seed: int = 0, n_stories: int = 4000) -> tuple[list[QAExample], list[QAExample]]:
    """(train, test): WordNet and story examples, deduplicated by (passage, question), split by group with
    `build_corpus.in_test_split`, each shuffled (seeded). Without WordNet installed, stories only."""
    examples = (wordnet_examples(seed) if (WORDNET / "data.noun").exists() else []) + story_examples(n_stories, seed)
    seen, train, test = set(), [], []
    for e in examples:
        key = (e.passage.lower(), e.question.lower())
        if key not in seen:
            seen.add(key)
            (test if in_test_split(e.group, test_share) else train).append(e)
    rng = random.Random(seed)
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def save(examples: list[QAExample], path: Path) -> None:
    """JSON lines, one example a line, fields in QAExample's order."""
    Path(path).write_text("".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in examples),
                          encoding="utf-8")


def load(path: Path) -> list[QAExample]:
    return [QAExample(**json.loads(line)) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


def counts(examples: list[QAExample]) -> dict:
    """{source: {kind: n}}: what the manifest and the model card report."""
    out: dict[str, dict[str, int]] = {}
    for e in examples:
        out.setdefault(e.source, {k: 0 for k in KINDS})[e.kind] += 1
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/inside-bert/qa")
    ap.add_argument("--test-share", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stories", type=int, default=4000)
    args = ap.parse_args(argv)
    train, test = build(args.test_share, args.seed, args.stories)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = {"config": {"test_share": args.test_share, "seed": args.seed, "stories": args.stories},
                "handwritten": len(HANDWRITTEN)}
    for name, split in (("train", train), ("test", test)):
        path = args.out / f"{name}.jsonl"
        save(split, path)
        manifest[name] = {"examples": len(split), "passages": len({e.group for e in split}),
                          "counts": counts(split), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for name in ("train", "test"):
        print(f"{name}: {manifest[name]['examples']} examples, {manifest[name]['passages']} passages")
        for source, by_kind in manifest[name]["counts"].items():
            print(f"  {source:8} " + "  ".join(f"{k} {n}" for k, n in by_kind.items()))
    for e in random.Random(args.seed).sample(train + test, 5):
        print(f"\n{e.passage}\n  Q: {e.question}\n  A: {e.answer}  ({e.kind}, {e.source})")
    return manifest


if __name__ == "__main__":
    main()
