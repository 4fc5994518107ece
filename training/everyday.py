"""Everyday English the project writes itself: facts a class expects a language model to know.

The other sources (Jane Austen, WordNet, fortunes, Reuters, the Harvard sentences) are rich language but say
little about capitals, animals, jobs, kitchens and weather in plain modern words. This module writes short
documents from small fact tables with varied sentence frames, seeded, so `build_corpus.py` stays reproducible.
The model card says how much of the corpus comes from here.

Two rules keep it honest:
* a document mixes facts of different kinds (no headword repeated to copy from);
* a sentence that *is* a prompt of `shared/eval/cloze_public.tsv` with an answer filled in is dropped
  (`build_corpus.py` filters with `cloze_filter`), so that set measures knowledge, not recall of a frame.
"""
from __future__ import annotations

import random
import re

# country, capital, language, continent, people
COUNTRIES = [
    ("France", "Paris", "French", "Europe", "French"), ("Germany", "Berlin", "German", "Europe", "Germans"),
    ("Japan", "Tokyo", "Japanese", "Asia", "Japanese"), ("China", "Beijing", "Chinese", "Asia", "Chinese"),
    ("Italy", "Rome", "Italian", "Europe", "Italians"), ("Spain", "Madrid", "Spanish", "Europe", "Spanish"),
    ("Russia", "Moscow", "Russian", "Europe", "Russians"), ("England", "London", "English", "Europe", "English"),
    ("Egypt", "Cairo", "Arabic", "Africa", "Egyptians"), ("Kenya", "Nairobi", "Swahili", "Africa", "Kenyans"),
    ("India", "Delhi", "Hindi", "Asia", "Indians"), ("Greece", "Athens", "Greek", "Europe", "Greeks"),
    ("Portugal", "Lisbon", "Portuguese", "Europe", "Portuguese"), ("Poland", "Warsaw", "Polish", "Europe", "Poles"),
    ("Canada", "Ottawa", "English", "North America", "Canadians"),
    ("Mexico", "Mexico City", "Spanish", "North America", "Mexicans"),
    ("Brazil", "Brasilia", "Portuguese", "South America", "Brazilians"),
    ("Argentina", "Buenos Aires", "Spanish", "South America", "Argentinians"),
    ("Peru", "Lima", "Spanish", "South America", "Peruvians"), ("Korea", "Seoul", "Korean", "Asia", "Koreans"),
    ("Thailand", "Bangkok", "Thai", "Asia", "Thais"), ("Vietnam", "Hanoi", "Vietnamese", "Asia", "Vietnamese"),
    ("Turkey", "Ankara", "Turkish", "Asia", "Turks"), ("Iran", "Tehran", "Persian", "Asia", "Iranians"),
    ("Sweden", "Stockholm", "Swedish", "Europe", "Swedes"), ("Norway", "Oslo", "Norwegian", "Europe", "Norwegians"),
    ("Ireland", "Dublin", "English", "Europe", "Irish"), ("Austria", "Vienna", "German", "Europe", "Austrians"),
    ("Australia", "Canberra", "English", "Australia", "Australians"),
    ("Nigeria", "Abuja", "English", "Africa", "Nigerians"), ("Cuba", "Havana", "Spanish", "North America", "Cubans"),
    ("Finland", "Helsinki", "Finnish", "Europe", "Finns"), ("Denmark", "Copenhagen", "Danish", "Europe", "Danes"),
    ("Hungary", "Budapest", "Hungarian", "Europe", "Hungarians"), ("Chile", "Santiago", "Spanish", "South America",
                                                                   "Chileans"),
]
COUNTRY_FRAMES = [
    "{capital} is the capital of {country}.", "The capital of {country} is {capital}.",
    "{capital}, the capital of {country}, is a busy city.", "Most people in {country} speak {language}.",
    "{country} is a country in {continent}.", "Many {people} live in {capital}.",
    "We flew to {capital} for a week in {country}.", "In {country} people speak {language}.",
    "She lives in {capital} and works as a teacher.", "{capital} is a big city in {continent}.",
    "The president of {country} lives in {capital}.", "He learned {language} when he moved to {country}.",
]

# animal (plural), legs, sound, food, home, young
ANIMALS = [
    ("dogs", "four", "bark", "meat", "kennels", "puppies"), ("cats", "four", "meow", "fish", "houses", "kittens"),
    ("cows", "four", "moo", "grass", "fields", "calves"), ("horses", "four", "neigh", "hay", "stables", "foals"),
    ("sheep", "four", "bleat", "grass", "fields", "lambs"), ("pigs", "four", "oink", "corn", "farms", "piglets"),
    ("birds", "two", "sing", "seeds", "nests", "chicks"), ("chickens", "two", "cluck", "grain", "coops", "chicks"),
    ("ducks", "two", "quack", "bread", "ponds", "ducklings"), ("lions", "four", "roar", "meat", "the grasslands",
                                                               "cubs"),
    ("spiders", "eight", None, "insects", "webs", "spiderlings"), ("bees", "six", "buzz", "nectar", "hives",
                                                                    "larvae"),
    ("ants", "six", None, "sugar", "nests", "larvae"), ("frogs", "four", "croak", "flies", "ponds", "tadpoles"),
    ("owls", "two", "hoot", "mice", "trees", "owlets"), ("wolves", "four", "howl", "meat", "forests", "pups"),
    ("monkeys", "four", "chatter", "bananas", "trees", "babies"), ("rabbits", "four", None, "carrots", "burrows",
                                                                  "kits"),
    ("goats", "four", "bleat", "grass", "hills", "kids"), ("mice", "four", "squeak", "cheese", "holes", "pups"),
]
ANIMAL_FRAMES = [
    "{animal} have {legs} legs.", "Most {animal} eat {food}.", "At night the {animal} began to {sound}.",
    "Young {animal} are called {young}.", "Many {animal} live in {home}.", "The farmer fed {food} to the {animal}.",
    "I heard the {animal} {sound} outside the window.", "Like all {animal}, it had {legs} legs.",
]

# job, workplace, action, object
JOBS = [
    ("teacher", "school", "teaches children", "books"), ("doctor", "hospital", "treats patients", "medicine"),
    ("nurse", "hospital", "cares for the sick", "medicine"), ("pilot", "airport", "flies planes", "the plane"),
    ("farmer", "farm", "grows crops", "a tractor"), ("baker", "bakery", "bakes bread", "flour"),
    ("chef", "kitchen", "cooks meals", "knives"), ("judge", "court", "decides cases", "the law"),
    ("mechanic", "garage", "repairs cars", "tools"), ("police officer", "police station", "catches thieves", "a car"),
    ("driver", "bus station", "drives the bus", "the bus"), ("waiter", "restaurant", "serves food", "plates"),
    ("dentist", "clinic", "fixes teeth", "a drill"), ("librarian", "library", "lends books", "books"),
    ("fisherman", "harbour", "catches fish", "a boat"), ("painter", "studio", "paints pictures", "brushes"),
    ("soldier", "army", "guards the border", "a rifle"), ("singer", "concert", "sings songs", "a microphone"),
    ("writer", "office", "writes stories", "a pen"), ("carpenter", "workshop", "makes furniture", "wood"),
]
JOB_FRAMES = [
    "A {job} {action}.", "The {job} went to the {place} early in the morning.", "She works as a {job} at the {place}.",
    "Every {job} needs {thing}.", "My father is a {job}, so he works at the {place}.",
    "The {job} {action} every day.", "Ask the {job} at the {place}.",
]

# (sentence): everyday scenes the project wrote by hand, one fact or habit each
SCENES = """\
She made a cup of tea and sat by the window.
He boiled water in the kettle for coffee.
We ate dinner together at the kitchen table.
The children played football in the park after school.
It was raining, so she took her umbrella.
He was cold, so he put on a warm jacket.
The baby slept in her mother's arms.
They went to the beach in the summer.
Snow covered the streets in winter.
In spring the trees are full of flowers.
The sun rises in the east and sets in the west.
The moon shines at night.
She washed the dishes in the sink.
He took a shower before breakfast.
I brush my teeth every morning and every night.
She combed her hair in front of the mirror.
The bus was late, so we walked to work.
The shop opens at nine in the morning.
He bought bread, milk and eggs at the supermarket.
She read a book in bed before she fell asleep.
The phone rang while we were eating.
He wrote a letter to his grandmother.
She sent a message to her friend.
The doctor told him to rest for a week.
We watched a film at the cinema on Friday.
The students listened to the teacher.
The teacher wrote the date on the board.
The boy did his homework at his desk.
She cut the cake with a knife.
He drank a glass of cold water.
The dog chased the ball across the garden.
The cat slept on the sofa all afternoon.
They planted vegetables in the garden.
The farmer milked the cows at dawn.
The train left the station at noon.
We waited for the plane at the airport.
He drove his car to the office.
She rode her bike to school.
The river flows into the sea.
Fish swim in the water.
Birds fly in the sky.
Ice melts when it gets warm.
Water freezes when it is very cold.
Fire is hot and ice is cold.
Grass is green and the sky is blue.
Bananas are yellow and tomatoes are red.
The nights are long in winter.
It is dark at night and light during the day.
He paid for the meal with his credit card.
She locked the door when she left the house.
They opened the windows to let in fresh air.
The kettle is in the kitchen and the bed is in the bedroom.
She hung her coat in the hall.
He cleaned the floor with a mop.
We cooked soup in a large pot.
The kids built a snowman in the yard.
Her birthday party had a big chocolate cake with candles.
He wore a hat and gloves because it was freezing.
The waiter brought us the menu.
The nurse gave him some medicine for the pain.
The patient stayed in the hospital for three days.
The thief was sent to prison for five years.
The firefighters put out the fire.
She swam across the lake.
He caught three fish in the river.
The mailman brought a package to the door.
The dog barked at the mailman.
The clock on the wall said it was midnight.
She set her alarm for seven o'clock.
A week has seven days and a year has twelve months.
A triangle has three sides and a square has four.
Two plus two is four.
The library was quiet and full of books.
He fixed the broken chair with a hammer and nails.
She wiped the table with a cloth.
They crossed the street at the traffic lights.
The baby drank warm milk from a bottle.
We had eggs and toast for breakfast.
At lunch he ate a sandwich and an apple.
She washed her hands with soap and water.
The flowers need water and sunlight to grow.
The wind blew the leaves off the trees.
In autumn the leaves turn red and yellow.
The little girl was afraid of the dark.
Everyone laughed at his joke.
She smiled when she saw the present.
He was tired, so he went to bed early.
They were hungry after the long walk.
The soup was too hot to eat.
The road was wet after the rain.
The room was dark, so she turned on the light.
He opened the door with his key.
She put the milk back in the fridge.
The bread is baked in an oven.
The farmer drove his tractor across the field.
The ship sailed across the ocean.
The plane landed safely at the airport.
The students wrote their names on the paper.
The team won the game in the last minute.
The singer sang a beautiful song.
""".splitlines()

OPPOSITES = [
    ("big", "small"), ("hot", "cold"), ("day", "night"), ("up", "down"), ("old", "young"), ("fast", "slow"),
    ("happy", "sad"), ("light", "dark"), ("open", "closed"), ("rich", "poor"), ("early", "late"),
    ("tall", "short"), ("full", "empty"), ("wet", "dry"), ("hard", "soft"), ("left", "right"), ("black", "white"),
    ("good", "bad"), ("strong", "weak"), ("win", "lose"), ("buy", "sell"), ("love", "hate"), ("start", "finish"),
]
OPPOSITE_FRAMES = ["The opposite of {a} is {b}.", "{A} is the opposite of {b}.", "It is not {a}; it is {b}."]

NAMES = ["Anna", "Tom", "Maria", "David", "Li Wei", "Sara", "James", "Emma", "Omar", "Lucy", "my mother",
         "our teacher", "the old man", "my little brother"]
NAME_FRAMES = ["{name} said that {s}", "Yesterday {name} told us that {s}", "{name} knows that {s}"]


def _lower_first(s: str) -> str:
    """'The dog barked.' -> 'the dog barked.' for use inside a sentence; names and 'I' keep their capital."""
    first = s.split()[0]
    proper = {"I"} | {c for row in COUNTRIES for c in row[:2]}
    return s if first in proper else s[0].lower() + s[1:]


def sentences(rng: random.Random) -> list[str]:
    out = []
    for country, capital, language, continent, people in COUNTRIES:
        for f in COUNTRY_FRAMES:
            out.append(f.format(country=country, capital=capital, language=language, continent=continent,
                                people=people))
    for animal, legs, sound, food, home, young in ANIMALS:
        for f in ANIMAL_FRAMES:
            if sound is None and "{sound}" in f:
                continue  # no everyday word for the sound it makes
            s = f.format(animal=animal, legs=legs, sound=sound, food=food, home=home, young=young)
            out.append(s[0].upper() + s[1:])
    for job, place, action, thing in JOBS:
        for f in JOB_FRAMES:
            out.append(f.format(job=job, place=place, action=action, thing=thing))
    for a, b in OPPOSITES:
        for x, y in ((a, b), (b, a)):
            for f in OPPOSITE_FRAMES:
                out.append(f.format(a=x, A=x.capitalize(), b=y))
    scenes = [s for s in SCENES if s.strip()]
    out += scenes
    for s in scenes:
        frame = rng.choice(NAME_FRAMES)
        said = frame.format(name=rng.choice(NAMES), s=_lower_first(s))
        out.append(said[0].upper() + said[1:])
    return out


def documents(seed: int = 0, repeats: int = 10, per_doc: tuple[int, int] = (3, 6), keep=None) -> list[str]:
    """Documents of 3-6 sentences drawn without replacement from every kind, `repeats` shuffles of the pool:
    the same fact appears in several different contexts, never twice in one document. `keep`: a predicate on a
    sentence (`near_prompt_filter`); the sentences it refuses never enter the pool."""
    rng = random.Random(seed)
    pool = [s for s in sentences(rng) if keep is None or keep(s)]
    docs = []
    for _ in range(repeats):
        order = pool[:]
        rng.shuffle(order)
        i = 0
        while i < len(order):
            k = rng.randint(*per_doc)
            docs.append(" ".join(order[i:i + k]))
            i += k
    return docs


def cloze_filter(prompts_and_answers: list[tuple[str, list[str]]]):
    """A predicate that is False for a document containing a cloze prompt with one of its answers filled in."""
    filled = {p.replace("[MASK]", a).lower() for p, answers in prompts_and_answers for a in answers}

    def keep(doc: str) -> bool:
        low = doc.lower()
        return not any(f in low for f in filled)
    return keep


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def near_prompt_filter(prompts_and_answers: list[tuple[str, list[str]]], context: int = 3):
    """A predicate that is False for a sentence that is a close variant of an evaluation prompt: it holds one of
    the prompt's answers next to the `context` words (at least two) that stand beside the blank, as "rises in the
    east" for "The sun rises in the [MASK].". For the text this project writes itself: an evaluation sentence,
    or its fact in the same words, written into the corpus measures nothing once the model has trained on it."""
    patterns = set()
    for prompt, answers in prompts_and_answers:
        if prompt.count("[MASK]") != 1:
            continue
        left, right = (_words(side) for side in prompt.split("[MASK]"))
        for answer in answers:
            a = _words(answer)
            if len(left) >= 2:
                patterns.add(" ".join(left[-context:] + a))
            if len(right) >= 2:
                patterns.add(" ".join(a + right[:context]))

    def keep(sentence: str) -> bool:
        text = " " + " ".join(_words(sentence)) + " "
        return not any(f" {p} " in text for p in patterns)
    return keep
