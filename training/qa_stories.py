"""QA examples from stories the project writes (see `training/qa_data.py` for the sources and the split)."""
from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass

from training.everyday import COUNTRIES
from training.qa_examples import KINDS, QAExample, _a, _example, _fill

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


