"""QA examples from WordNet 3.0's instance nouns (see `training/qa_data.py` for the sources and the split)."""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from training.build_corpus import WORDNET
from training.qa_examples import KINDS, QAExample, _a, _example, _fill, _possessive

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


