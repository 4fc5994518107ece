"""One extractive QA example (SQuAD's fields), the helpers that write them, and the hand-written set.

The generators (`training/qa_wordnet.py`, `training/qa_stories.py`) and the builder (`training/qa_data.py`)
share these."""
from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass

from explainers.errors import BuildError, require


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
        require(span == self.answer,
                f"{self.id}: passage has {span!r} at {self.answer_start}, not {self.answer!r}", BuildError)
        require(self.kind in KINDS, f"{self.id}: unknown kind {self.kind!r}", BuildError)


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

