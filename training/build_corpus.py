"""Build the pretraining corpus from Debian packages, reproducibly.

Sources (install with `apt-get install wordnet-base fortunes fortunes-min`):
* WordNet 3.0 glosses and their example sentences (`/usr/share/wordnet/data.*`), one document per synset:
  "dwarf: a plant or animal that is atypically small." followed by its examples;
* the `fortune` databases (`/usr/share/games/fortunes/*`), one document per fortune (ASCII art skipped).

Documents are whitespace-normalised and deduplicated (exact match, case-insensitive), then split by document:
a document goes to the held-out test split when the first byte of its SHA-1 is below 256 * test_share,
so the split does not depend on file order. Output: `<out>/train.txt`, `<out>/test.txt`, one document a line,
and `<out>/manifest.json` with counts and sha256 of both files. The first `sample` held-out documents are also
written to `assets/text/en/heldout.txt`: the small held-out batch the Masking chapter measures live.

    python training/build_corpus.py --out ~/.cache/inside-bert/corpus
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
FORTUNES = Path("/usr/share/games/fortunes")
SKIP_FORTUNES = {"art", "ascii-art"}


@dataclass(frozen=True)
class Config:
    out: Path
    test_share: float = 0.02  # fraction of documents held out
    min_chars: int = 20  # drop fragments shorter than this
    sample: int = 400  # held-out documents shipped with the app
    sample_out: Path = Path(__file__).resolve().parents[1] / "assets/text/en/heldout.txt"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def wordnet_documents() -> list[str]:
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
            text = f"{lemma}: {'; '.join(definition)}."
            text += "".join(f" {e[0].upper() + e[1:]}{'' if e[-1] in '.!?' else '.'}" for e in examples if e)
            docs.append(_clean(text))
    return docs


def fortune_documents() -> list[str]:
    docs = []
    for path in sorted(FORTUNES.iterdir()):
        if path.suffix or path.name in SKIP_FORTUNES or not path.is_file():
            continue
        for chunk in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            docs.append(_clean(chunk.replace("\t", " ")))
    return docs


def in_test_split(doc: str, share: float) -> bool:
    return hashlib.sha1(doc.encode()).digest()[0] < 256 * share


def build(cfg: Config) -> dict:
    seen, train, test = set(), [], []
    for doc in wordnet_documents() + fortune_documents():
        key = doc.lower()
        if len(doc) < cfg.min_chars or key in seen:
            continue
        seen.add(key)
        (test if in_test_split(doc, cfg.test_share) else train).append(doc)
    cfg.out.mkdir(parents=True, exist_ok=True)
    manifest = {"config": {k: str(v) for k, v in asdict(cfg).items()}}
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/inside-bert/corpus")
    ap.add_argument("--test-share", type=float, default=Config.test_share)
    args = ap.parse_args()
    print(json.dumps(build(Config(out=args.out, test_share=args.test_share)), indent=2))


if __name__ == "__main__":
    main()
