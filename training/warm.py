"""A stage's warm start: a shipped model folder as it was at a commit, named by the sha256 of its weights.

The pipeline never copies a folder to continue from it: it names the version (commit, folder, sha256 of
`model.safetensors`), and this script writes that version's files out of git into the cache, then checks the
weights' sha256. Run again, it finds the folder already there and checks it.

    python -m training.warm --commit 1a70795 --folder assets/models/teacher --sha256 c18204c8… \
        --out ~/.cache/inside-bert/warm/teacher-c18204c87bb2
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from explainers.errors import BuildError, require
from explainers.model import file_sha256

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = "model.safetensors"


def materialise(commit: str, folder: str, digest: str, out: Path, repo: Path = ROOT) -> Path:
    """`out` holding `folder`'s files at `commit`, its weights' sha256 checked against `digest`."""
    if not (out / WEIGHTS).exists() or file_sha256(out / WEIGHTS) != digest:
        names = subprocess.run(["git", "-C", str(repo), "ls-tree", "--name-only", commit, folder.rstrip("/") + "/"],
                               check=True, capture_output=True, text=True).stdout.split()
        require(names, f"{folder} holds no files at {commit}", BuildError)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            blob = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{name}"], check=True,
                                  capture_output=True).stdout
            (out / Path(name).name).write_bytes(blob)
    found = file_sha256(out / WEIGHTS)
    require(found == digest, f"{folder} at {commit}: weights' sha256 is {found}, not {digest}", BuildError)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--folder", required=True, help="the folder in the repository, e.g. assets/models/teacher")
    ap.add_argument("--sha256", required=True, help="sha256 of the folder's model.safetensors at that commit")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    print(materialise(args.commit, args.folder, args.sha256, args.out))


if __name__ == "__main__":
    main()
