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
from dataclasses import asdict
from pathlib import Path

from training.build_corpus import WORDNET, in_test_split
from training.qa_examples import HANDWRITTEN, KINDS, QAExample  # noqa: F401  (the data's public names)
from training.qa_stories import story_examples
from training.qa_wordnet import wordnet_examples


# ---------------------------------------------------------------- build, save, load -----------------------------
def build(test_share: float = 0.1, seed: int = 0, n_stories: int = 4000,
          wordnet: bool = True) -> tuple[list[QAExample], list[QAExample]]:
    """(train, test): WordNet and story examples, deduplicated by (passage, question), split by group with
    `build_corpus.in_test_split`, each shuffled (seeded). Without WordNet installed (or `wordnet` False), stories
    only."""
    use_wordnet = wordnet and (WORDNET / "data.noun").exists()
    examples = (wordnet_examples(seed) if use_wordnet else []) + story_examples(n_stories, seed)
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
    ap.add_argument("--no-wordnet", action="store_true", help="stories only (the pipeline's tiny profile)")
    args = ap.parse_args(argv)
    train, test = build(args.test_share, args.seed, args.stories, wordnet=not args.no_wordnet)
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
