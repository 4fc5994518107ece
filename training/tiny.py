"""The tiny profile's from-scratch teacher: a randomly initialised `BertForMaskedLM` of width 32 with the shipped
teacher's WordPiece tokenizer, so that every later stage (ELECTRA's embedding fit, distillation from layers 0, 2
and 4, the fine-tuning heads) runs on it exactly as on the real one, in seconds.

    python -m training.tiny --out /tmp/tiny/init/teacher
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from explainers.builtin import TEACHER_DIR


def write(out: Path, tokenizer_from: Path = TEACHER_DIR, seed: int = 0) -> Path:
    tok = AutoTokenizer.from_pretrained(tokenizer_from)
    torch.manual_seed(seed)
    model = BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=6,
                                       num_attention_heads=2, intermediate_size=64, max_position_embeddings=512))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(write(args.out, seed=args.seed))


if __name__ == "__main__":
    main()
