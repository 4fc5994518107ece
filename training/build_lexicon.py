"""Build the phrase and entity list that the family chapter's ERNIE demo masks by, from WordNet 3.0.

ERNIE (Sun et al., 2019) masks whole *phrases* and *entities* instead of single pieces; it found them with a
lexical analyser and an entity recogniser. This app finds them by lookup in WordNet (`wordnet-base`, WordNet
3.0 licence, BSD-like: the notice is kept at the top of the output):

* a *phrase* is a multi-word lemma written in lower case ("living_room", "ice_cream", "pick_up"), 2–4 words,
  taxonomic names ("genus_…", "family_…") left out;
* an *entity* is a noun lemma written with capitals ("Paris", "New_York", "Jane_Austen"): every word
  capitalised but the joining words (of, the, de, …), 1–4 words, single letters and Latin binomials left out.

Output: `assets/lexicon/wordnet_units.tsv.gz`, one `kind<TAB>words` a line (words joined by spaces), sorted, so
the build is byte-for-byte reproducible (gzip written with mtime 0).

    python -m training.build_lexicon
"""
from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assets/lexicon/wordnet_units.tsv.gz"
JOINERS = {"of", "the", "de", "la", "le", "du", "des", "del", "von", "van", "and", "y", "al", "el", "da", "di"}
TAXONOMIC = ("genus_", "family_", "order_", "class_", "phylum_", "subfamily_", "suborder_", "superfamily_",
             "subclass_", "subgenus_", "tribe_", "division_")
NOTICE = """# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES,
# EXPRESS OR IMPLIED. (The full licence: /usr/share/doc/wordnet-base/copyright, or wordnet.princeton.edu/license)
# Built by training/build_lexicon.py: kind<TAB>words
"""


def lemmas(pos: str) -> list[str]:
    """Every lemma of `data.<pos>` as written (adjective markers such as "(a)" dropped)."""
    out = []
    for line in (WORDNET / f"data.{pos}").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # the licence header
            continue
        fields = line.split()
        for i in range(int(fields[3], 16)):
            out.append(re.sub(r"\(.*\)$", "", fields[4 + 2 * i]))
    return out


def is_entity(lemma: str) -> bool:
    words = lemma.split("_")
    if not 1 <= len(words) <= 4 or len(lemma) < 2 or not re.fullmatch(r"[A-Za-z][A-Za-z'.-]*", lemma.replace("_", "")):
        return False
    return words[0][0].isupper() and all(w[0].isupper() or w in JOINERS for w in words)


def is_phrase(lemma: str) -> bool:
    words = lemma.split("_")
    return (2 <= len(words) <= 4 and lemma.islower() and not lemma.startswith(TAXONOMIC)
            and all(re.fullmatch(r"[a-z][a-z'-]*", w) for w in words))


def build(out: Path = OUT) -> dict[str, int]:
    units = set()
    for pos in ("noun", "verb", "adj", "adv"):
        for lemma in lemmas(pos):
            if pos == "noun" and is_entity(lemma):
                units.add(("entity", lemma.replace("_", " ")))
            elif is_phrase(lemma):
                units.add(("phrase", lemma.replace("_", " ")))
    out.parent.mkdir(parents=True, exist_ok=True)
    body = NOTICE + "".join(f"{kind}\t{words}\n" for kind, words in sorted(units))
    with open(out, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(body.encode("utf-8"))
    return {kind: sum(k == kind for k, _ in units) for kind in ("phrase", "entity")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
