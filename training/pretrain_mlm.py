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

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertForMaskedLM

from explainers.masking import continuation_flags, mask_tokens, word_ids_from_ids
from explainers.mlm import masked_lm_loss
from explainers.corpus import load_packed
from training.evaluate_mlm import evaluate



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


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def build_model(cfg: Config, tokenizer, train_ids: torch.Tensor) -> BertForMaskedLM:
    model = BertForMaskedLM.from_pretrained(cfg.init, dtype=torch.float32, attn_implementation="sdpa")
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight, "head not tied"
    # start the output bias at log unigram frequencies: the head begins by predicting common words
    if not cfg.unigram_bias:
        return model
    counts = torch.bincount(train_ids.flatten(), minlength=model.config.vocab_size).float() + 1.0
    with torch.no_grad():
        model.cls.predictions.bias.copy_((counts / counts.sum()).log())
    return model


def lr_at(cfg: Config, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - cfg.warmup))


def batch_at(cfg: Config, data: dict, step: int) -> dict:
    """Deterministic batch for `step`: epoch-seeded permutation, so a resumed run sees the same data."""
    n = len(data["input_ids"])
    per_epoch = n // cfg.batch_size
    epoch, k = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 1000 + epoch))
    idx = order[k * cfg.batch_size:(k + 1) * cfg.batch_size]
    return {key: v[idx] for key, v in data.items()}


def save_checkpoint(run: Path, cfg, step: int, seconds: float, **state) -> None:
    """`<run>/ckpt.pt`, written atomically (a kill mid-write leaves the previous checkpoint)."""
    tmp = run / "ckpt.tmp"
    torch.save({**state, "step": step, "seconds": seconds,
                "config": {k: str(v) for k, v in asdict(cfg).items()}}, tmp)
    os.replace(tmp, run / "ckpt.pt")


def checkpoint_facts(state: dict, **extra) -> dict:
    """What `training.json` records about an exported checkpoint (the model cards quote it)."""
    return {"step": state["step"], "train_seconds": round(state["seconds"]), "config": state["config"], **extra,
            "hardware": state.get("hardware") or hardware()}


def save_model_folder(folder: Path, model, tokenizer, facts: dict) -> None:
    """An fp16 `from_pretrained` folder: weights (safetensors), tokenizer and `training.json` (the facts)."""
    folder.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    (folder / "training.json").write_text(json.dumps(facts, indent=2))


def hardware(device: torch.device | None = None) -> str:
    """Where training runs: the GPU's name, or the CPU's with its core and thread counts."""
    if device is not None and device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    return f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def cli(doc: str, config_class, train_fn, export_fn, default_run: Path, export_help: str) -> None:
    """The command line every training script shares: train (resumable) or `--export` the checkpoint. Every
    scalar field of the config is a flag (`--batch-size 64`, `--soft-at all`, `--bf16 false`)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=default_run)
    ap.add_argument("--export", type=Path, default=None, help=export_help)
    names = []
    for f in fields(config_class):
        default = f.default
        if f.name == "run" or not isinstance(default, (bool, int, float, str, Path)):
            continue
        kind = type(default)
        if kind is bool:
            kind = lambda v: {"true": True, "false": False}[v.lower()]  # noqa: E731
        ap.add_argument("--" + f.name.replace("_", "-"), type=kind, default=default)
        names.append(f.name)
    args = ap.parse_args()
    cfg = config_class(run=args.run, **{name: getattr(args, name) for name in names})
    export_fn(cfg, args.export) if args.export else train_fn(cfg)


def train(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    cfg.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.init)
    t0 = time.time()
    train_data = load_packed(cfg.corpus / "train.txt", tokenizer, cfg.seq_len)
    test_data = load_packed(cfg.corpus / "test.txt", tokenizer, cfg.seq_len, max_sequences=cfg.eval_sequences)
    print(f"packed {len(train_data['input_ids'])} train sequences in {time.time() - t0:.0f}s", flush=True)
    model = build_model(cfg, tokenizer, train_data["input_ids"][train_data["attention_mask"].bool()])
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    step, seconds = 0, 0.0
    ckpt_path = cfg.run / "ckpt.pt"
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, seconds = state["step"], state["seconds"]
        print(f"resumed at step {step}", flush=True)
    log = (cfg.run / "log.jsonl").open("a")
    continuation = continuation_flags(tokenizer.get_vocab())
    while step < cfg.steps:
        t = time.time()
        model.train()
        batch = batch_at(cfg, train_data, step)
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        words = word_ids_from_ids(batch["input_ids"], continuation) if cfg.whole_word else None
        m = mask_tokens(batch["input_ids"], batch["special"], mask_token_id=tokenizer.mask_token_id,
                        vocab_size=len(tokenizer), rate=cfg.rate, generator=g, word_ids=words)
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            out = masked_lm_loss(model, m.input_ids, batch["attention_mask"], m.labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seconds += time.time() - t
        if step % 20 == 0:
            print(f"step {step} loss {out.loss.item():.3f} lr {lr_at(cfg, step):.2e} {seconds / step:.2f}s/step",
                  flush=True)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                metrics = evaluate(model, tokenizer, test_data)
            row = {"step": step, "train_seconds": round(seconds), "train_loss": round(out.loss.item(), 4), **metrics}
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(row, flush=True)
        if step % cfg.save_every == 0 or step == cfg.steps:
            save_checkpoint(cfg.run, cfg, step, seconds, model=model.state_dict(), opt=opt.state_dict())


def export(cfg: Config, out: Path) -> None:
    """Write the latest checkpoint as an fp16 `from_pretrained` folder with tokenizer and training facts."""
    tokenizer = AutoTokenizer.from_pretrained(cfg.init)
    state = torch.load(cfg.run / "ckpt.pt", weights_only=False)
    model = BertForMaskedLM.from_pretrained(cfg.init, dtype=torch.float32)
    model.load_state_dict(state["model"])
    facts = checkpoint_facts(state)
    save_model_folder(out, model, tokenizer, facts)
    print(json.dumps(facts, indent=2))


def main() -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/teacher",
        "write the checkpoint as a model folder and stop")


if __name__ == "__main__":
    main()
