"""Build the pretraining corpus from Debian packages and the project's own text, reproducibly.

Sources (install with `apt-get install wordnet-base fortunes fortunes-min r-cran-janeaustenr r-cran-tm
r-cran-stringr r-cran-modeldata`; the R packages are read once through `Rscript`, which they pull in):

* `r-cran-janeaustenr`: Jane Austen's six novels, one document a paragraph, held out by chapter. Texts public
  domain; package MIT.
* `r-cran-tm`: 70 Reuters-21578 newswire stories (`crude`, `acq`), one document a story. Reuters-21578: free for
  research use; package GPL-3.
* `r-cran-stringr`: the 720 Harvard sentences (IEEE 1969), everyday phonetically balanced sentences, ten a
  document. Public domain; package MIT.
* `r-cran-modeldata`: `small_fine_foods`, 5,000 Amazon fine food reviews (McAuley & Leskovec 2013, Stanford
  SNAP; as packaged by modeldata, MIT), one document a review: everyday written English about food, drink,
  shopping, pets and the home.
* `wordnet-base`: WordNet 3.0, every example sentence a document of its own, and a quarter of the noun glosses
  ("dwarf: a plant or animal that is atypically small."; `gloss_share`, chosen by hash). WordNet 3.0 licence
  (BSD-like).
* `fortunes`, `fortunes-min`: the `fortune` databases, one document a fortune (ASCII art skipped). BSD / public
  domain.
* `training/everyday.py`: everyday facts and scenes written by the project (capitals, animals, jobs, opposites,
  home life). This project's.

Why this mix: glosses were 56 % of the second corpus (8.4 of 15 MB), so the teacher learned dictionary
language while a class asks about everyday things: the third corpus keeps a quarter of them and adds the reviews.
The first corpus (WordNet + fortunes only) taught the teacher to copy a noun from its sentence,
because a WordNet line repeated its headword in every example right after the gloss. Glosses and examples are
now separate documents and the documents are shuffled (seeded) before packing, so neighbours in a sequence are
unrelated; Austen, Reuters and the Harvard sentences bring running prose, and `everyday.py` the plain facts a
class asks about. Documents holding a prompt of `shared/eval/cloze_public.tsv` or of the model card's
`training/classroom.tsv` with an answer filled in are dropped from every source, and the project's own sentences
that are close variants of one (an answer beside the prompt's words next to the blank,
`everyday.near_prompt_filter`) are never written: the card's numbers would measure recall of its own text.

Documents are whitespace-normalised and deduplicated (exact match, case-insensitive), then split by *group*
(a document, or an Austen chapter): a group goes to the held-out test split when the first byte of the SHA-1 of
its key is below 256 * test_share, so the split does not depend on file order. Output: `<out>/train.txt`,
`<out>/test.txt`, one document a line, and `<out>/manifest.json` with counts per source and sha256 of both
files. The first `sample` held-out documents are also written to `assets/text/en/heldout.txt`: the small
held-out batch the chapters measure live.

    python -m training.build_corpus --out ~/.cache/inside-bert/corpus
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from explainers.errors import BuildError, require
from training import everyday

WORDNET = Path("/usr/share/wordnet")
FORTUNES = Path("/usr/share/games/fortunes")
SKIP_FORTUNES = {"art", "ascii-art"}
ROOT = Path(__file__).resolve().parents[1]
CLOZE = ROOT.parent / "shared/eval/cloze_public.tsv"
CLASSROOM = ROOT / "training/classroom.tsv"


@dataclass(frozen=True)
class Config:
    out: Path
    test_share: float = 0.02  # fraction of documents held out
    min_chars: int = 20  # drop fragments shorter than this
    sample: int = 400  # held-out documents shipped with the app
    sample_out: Path = ROOT / "assets/text/en/heldout.txt"
    seed: int = 0  # document shuffle and the everyday text's draws
    gloss_share: float = 0.25  # share of WordNet's noun glosses kept (by hash of the synset)
    only: tuple[str, ...] = ()  # these sources alone (the pipeline's tiny profile: "everyday"); () all of them
    max_documents: int = 0  # the first documents of each split after the shuffle (0: all)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def wordnet_documents(gloss_share: float = 1.0) -> list[tuple[str, str]]:
    """(split key, document): a synset's gloss and examples are split by the synset's old one-line document
    ("lemma: gloss. Example."), so every one lands in the split the first corpus put it in (the shipped models
    never trained on a held-out line). A noun's gloss is kept when the synset's hash falls in `gloss_share`."""
    docs = []
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (WORDNET / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or " | " not in line:
                continue  # licence header
            fields, gloss = line.split(" | ", 1)
            parts = fields.split()
            lemma = re.sub(r"\(.*\)$", "", parts[4]).replace("_", " ")
            pieces = [p.strip() for p in gloss.split(";") if p.strip()]
            definition = [p for p in pieces if not p.startswith('"')]
            examples = [p.strip('" ') for p in pieces if p.startswith('"')]
            sentences = [f"{e[0].upper() + e[1:]}{'' if e[-1] in '.!?' else '.'}" for e in examples if e]
            head = f"{lemma}: {'; '.join(definition)}."
            key = _clean(" ".join([head, *sentences]))
            if pos == "noun" and _hash_share(f"gloss:{key}") < gloss_share:  # nouns only: the rest made the
                # corpus mostly dictionary
                docs.append((key, _clean(head)))
            docs += [(key, _clean(e)) for e in sentences]
    return docs


def _hash_share(key: str) -> float:
    """A number in [0, 1) fixed by `key`: which documents a share keeps does not depend on file order."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:4], "big") / 2 ** 32


def fortune_documents() -> list[str]:
    docs = []
    for path in sorted(FORTUNES.iterdir()):
        if path.suffix or path.name in SKIP_FORTUNES or not path.is_file():
            continue
        for chunk in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            docs.append(_clean(chunk.replace("\t", " ")))
    return docs


def _rscript(code: str) -> str:
    return subprocess.run(["Rscript", "-e", code], check=True, capture_output=True, text=True).stdout


def austen_documents() -> list[tuple[str, str]]:
    """(chapter key, paragraph) for every paragraph of the six novels; title pages and headings skipped."""
    out = _rscript('library(janeaustenr); b <- austen_books(); '
                   'writeLines(paste(as.character(b$book), b$text, sep="\\t"))')
    docs, para, book, chapter = [], [], "", 0

    def flush():
        text = _clean(" ".join(para))
        if chapter and text:
            docs.append((f"{book}/{chapter}", text.replace("_", "")))
        para.clear()
    for line in out.splitlines():
        name, _, text = line.partition("\t")
        if name != book:
            flush()
            book, chapter = name, 0
        if re.match(r"^\s*(CHAPTER|Chapter) [0-9IVXLC]+", text):
            flush()
            chapter += 1
        elif text.strip():
            para.append(text)
        else:
            flush()
    flush()
    return docs


def reuters_documents() -> list[str]:
    out = _rscript('suppressMessages(library(tm)); data(crude); data(acq); '
                   'for (d in c(as.list(crude), as.list(acq))) '
                   'writeLines(gsub("\\\\s+", " ", paste(content(d), collapse=" ")))')
    return [_clean(re.sub(r"\s+Reuter\s*$", "", line)) for line in out.splitlines()]


def review_documents() -> list[str]:
    out = _rscript('library(modeldata); data(small_fine_foods); '
                   'writeLines(gsub("\\\\s+", " ", c(training_data$review, testing_data$review)))')
    return [_clean(html.unescape(re.sub(r"<br\s*/?>", " ", line))) for line in out.splitlines()]


def harvard_documents() -> list[str]:
    lines = _rscript("library(stringr); writeLines(sentences)").splitlines()
    return [" ".join(lines[i:i + 10]) for i in range(0, len(lines), 10)]


def cloze_pairs(path: Path = CLOZE) -> list[tuple[str, list[str]]]:
    if not path.exists():
        return []
    rows = [r.split("\t") for r in path.read_text(encoding="utf-8").splitlines() if r and not r.startswith("#")]
    return [(p, a.split(",")) for p, a in rows]


def in_test_split(key: str, share: float) -> bool:
    return hashlib.sha1(key.encode()).digest()[0] < 256 * share


def sources(cfg: Config) -> dict[str, list[tuple[str, str]]]:
    """Every source as (split key, document) pairs."""
    plain = lambda docs: [(d, d) for d in docs]  # noqa: E731
    near = everyday.near_prompt_filter(cloze_pairs() + cloze_pairs(CLASSROOM))
    readers = {"austen": austen_documents, "reuters": lambda: plain(reuters_documents()),
               "harvard": lambda: plain(harvard_documents()), "reviews": lambda: plain(review_documents()),
               "wordnet": lambda: wordnet_documents(cfg.gloss_share), "fortunes": lambda: plain(fortune_documents()),
               "everyday": lambda: plain(everyday.documents(cfg.seed, keep=near))}
    unknown = set(cfg.only) - set(readers)
    require(not unknown, f"unknown sources {sorted(unknown)}; known: {sorted(readers)}", BuildError)
    return {name: read() for name, read in readers.items() if not cfg.only or name in cfg.only}


def build(cfg: Config) -> dict:
    keep = everyday.cloze_filter(cloze_pairs() + cloze_pairs(CLASSROOM))
    seen, train, test, counts = set(), [], [], {}
    for name, docs in sources(cfg).items():
        n = {"documents": 0, "bytes": 0, "dropped_cloze": 0}
        for key, doc in docs:
            low = doc.lower()
            if len(doc) < cfg.min_chars or low in seen:
                continue
            if not keep(doc):
                n["dropped_cloze"] += 1
                continue
            seen.add(low)
            (test if in_test_split(key, cfg.test_share) else train).append(doc)
            n["documents"] += 1
            n["bytes"] += len(doc.encode()) + 1
        counts[name] = n
    rng = random.Random(cfg.seed)
    rng.shuffle(train)
    rng.shuffle(test)
    if cfg.max_documents:
        train, test = train[:cfg.max_documents], test[:cfg.max_documents]
    cfg.out.mkdir(parents=True, exist_ok=True)
    manifest = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "sources": counts}
    for name, docs in (("train", train), ("test", test)):
        path = cfg.out / f"{name}.txt"
        path.write_text("\n".join(docs) + "\n", encoding="utf-8")
        manifest[name] = {
            "documents": len(docs),
            "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    (cfg.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    cfg.sample_out.write_text("\n".join(test[: cfg.sample]) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/inside-bert/corpus")
    ap.add_argument("--test-share", type=float, default=Config.test_share)
    ap.add_argument("--gloss-share", type=float, default=Config.gloss_share)
    ap.add_argument("--sample-out", type=Path, default=Config.sample_out,
                    help="where the held-out sample the chapters measure goes (default: the app's)")
    ap.add_argument("--only", default="", help="comma-separated sources to read alone (default: all)")
    ap.add_argument("--max-documents", type=int, default=0, help="keep the first N documents of each split")
    args = ap.parse_args(argv)
    print(json.dumps(build(Config(out=args.out, test_share=args.test_share, gloss_share=args.gloss_share,
                                  sample_out=args.sample_out, only=tuple(filter(None, args.only.split(","))),
                                  max_documents=args.max_documents)), indent=2))


if __name__ == "__main__":
    main()
