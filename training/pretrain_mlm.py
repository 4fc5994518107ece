"""Train the built-in teacher: `BertForMaskedLM` from the MiniLM encoder, with our own masking.

Every batch is masked by `explainers.masking.mask_tokens` (the function the Masking chapter shows) and the
loss is `explainers.mlm.masked_lm_loss` (head on selected positions only). bf16 autocast on CPUs that have
it. Resumable: `<run>/ckpt.pt` is written every `save_every` steps; rerunning the same command continues.
Logs one JSON line per eval to `<run>/log.jsonl` (what the model card quotes).

    python training/build_corpus.py
    python -m training.pretrain_mlm --run ~/.cache/inside-bert/runs/teacher
    python -m training.pretrain_mlm --run ~/.cache/inside-bert/runs/teacher --export assets/models/teacher
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertForMaskedLM

from explainers.masking import content_pieces, continuation_flags, mask_tokens, word_ids_from_ids
from explainers.mlm import masked_lm_loss
from explainers.corpus import load_packed
from explainers.errors import BuildError, require
from training.evaluate_mlm import CLOZE, evaluate
from training.loop import (Step, checkpoint_facts, cli, load_checkpoint, param_groups, save_model_folder,
                           train_loop)


@dataclass(frozen=True)
class Config:
    run: Path  # checkpoints and logs (outside the repo)
    init: Path = Path.home() / ".cache/inside-bert/minilm-l6"  # encoder to start from (import_minilm.py)
    corpus: Path = Path.home() / ".cache/inside-bert/corpus"
    steps: int = 3600  # optimiser steps (linear decay ends here)
    batch_size: int = 32  # sequences per step
    seq_len: int = 128  # tokens per sequence
    lr: float = 3e-4  # peak learning rate; a fresh head on a trained encoder
    warmup: int = 200  # linear warm-up steps
    weight_decay: float = 0.01
    rate: float = 0.15  # masking rate (BERT's)
    seed: int = 0
    eval_every: int = 200
    save_every: int = 100
    eval_sequences: int = 256  # held-out sequences used during training (the card uses more)
    threads: int = 2
    bf16: bool = True
    unigram_bias: bool = True  # start the output bias at log unigram frequencies (False: keep init's head)
    whole_word: bool = False  # select whole words (all pieces of a word together), as the chapter shows
    every_occurrence: bool = False  # with whole_word: a chosen content word is hidden wherever it occurs
    alone: float = 0.0  # share of documents given a row of their own (BERT's short sequences; corpus.pack)
    cloze: Path = CLOZE  # the cloze prompts each evaluation scores (top-5)


def build_model(cfg: Config, tokenizer, train_ids: torch.Tensor) -> BertForMaskedLM:
    model = BertForMaskedLM.from_pretrained(cfg.init, dtype=torch.float32, attn_implementation="sdpa")
    require(model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight,
            "head not tied", BuildError)
    # start the output bias at log unigram frequencies: the head begins by predicting common words
    if not cfg.unigram_bias:
        return model
    counts = torch.bincount(train_ids.flatten(), minlength=model.config.vocab_size).float() + 1.0
    with torch.no_grad():
        model.cls.predictions.bias.copy_((counts / counts.sum()).log())
    return model


def train(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    cfg.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.init)
    t0 = time.time()
    train_data = load_packed(cfg.corpus / "train.txt", tokenizer, cfg.seq_len, alone=cfg.alone, seed=cfg.seed)
    test_data = load_packed(cfg.corpus / "test.txt", tokenizer, cfg.seq_len, max_sequences=cfg.eval_sequences)
    print(f"packed {len(train_data['input_ids'])} train sequences in {time.time() - t0:.0f}s", flush=True)
    model = build_model(cfg, tokenizer, train_data["input_ids"][train_data["attention_mask"].bool()])
    continuation = continuation_flags(tokenizer.get_vocab())
    content = content_pieces(tokenizer.get_vocab()) if cfg.whole_word and cfg.every_occurrence else None

    def loss(batch: dict, g: torch.Generator, step: int) -> Step:
        words = word_ids_from_ids(batch["input_ids"], continuation) if cfg.whole_word else None
        m = mask_tokens(batch["input_ids"], batch["special"], mask_token_id=tokenizer.mask_token_id,
                        vocab_size=len(tokenizer), rate=cfg.rate, generator=g, word_ids=words,
                        every_occurrence=content)
        return Step(masked_lm_loss(model, m.input_ids, batch["attention_mask"], m.labels).loss)

    train_loop(cfg, {"model": model}, param_groups(model.parameters(), cfg.weight_decay), train_data, loss,
               lambda: evaluate(model, tokenizer, test_data, cloze=cfg.cloze), betas=(0.9, 0.98), print_every=20)


def export(cfg: Config, out: Path) -> None:
    """Write the latest checkpoint as an fp16 `from_pretrained` folder with tokenizer and training facts."""
    tokenizer = AutoTokenizer.from_pretrained(cfg.init)
    state = load_checkpoint(cfg.run)
    model = BertForMaskedLM.from_pretrained(cfg.init, dtype=torch.float32)
    model.load_state_dict(state["model"])
    facts = checkpoint_facts(state)
    save_model_folder(out, model, tokenizer, facts)
    print(json.dumps(facts, indent=2))


def main(argv: list[str] | None = None) -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/teacher",
        "write the checkpoint as a model folder and stop", argv)


if __name__ == "__main__":
    main()
