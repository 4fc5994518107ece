"""Distil the built-in student: a 3-layer `DistilBertForMaskedLM` from the built-in teacher.

The student starts from `explainers.distillation.init_student` (teacher layers 0, 2, 4, its embeddings and MLM
head; no token types, no pooler). Every batch is masked by `explainers.masking.mask_tokens` (15 %, 80/10/10),
teacher and student read the same masked input, and the loss is `explainers.distillation.triple_loss`: the
functions the Distillation chapter shows. The defaults are the built-in student's settings: the KL at every
real token at T = 1, no hard-label (MLM) term, the cosine term (α = 5, 0, 1; see its model card for why). The
vocabulary head runs only where the loss needs it. bf16 autocast; CUDA when there is one. Resumable:
`<run>/ckpt.pt`. `--minutes` fits the step count to a time budget.

    # 14,487 steps: 16 minutes on an H100; 28 s a step on 2 CPU cores
    python -m training.distill --run ~/.cache/inside-bert/runs/student
    python -m training.distill --run ~/.cache/inside-bert/runs/student --export assets/models/student
    python -m training.distill --run runs/paper --soft-at masked --temperature 2 --alpha-mlm 2   # the paper's α, T
    python -m training.distill --run runs/more --init assets/models/student --lr 1e-4   # continue the built-in one
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertForMaskedLM, DistilBertForMaskedLM

from explainers.corpus import load_packed
from explainers.distillation import heldout_agreement, init_student, student_config, triple_loss
from explainers.masking import IGNORE_INDEX, mask_tokens
from explainers.mlm import encode, mlm_head
from training.pretrain_mlm import (batch_at, checkpoint_facts, cli, hardware, lr_at, save_checkpoint,
                                   save_model_folder)

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Config:
    run: Path  # checkpoints and logs (outside the repo)
    teacher: Path = ROOT / "assets/models/teacher"
    corpus: Path = Path.home() / ".cache/inside-bert/corpus"
    layers: tuple[int, ...] = (0, 2, 4)  # teacher layers the student starts from
    steps: int = 14487  # what the built-in student got (one run in two GPU calls: see its model card)
    batch_size: int = 128
    seq_len: int = 128
    lr: float = 5e-4
    warmup: int = 200
    weight_decay: float = 0.01
    rate: float = 0.15
    temperature: float = 1.0  # the paper: 2
    alpha_ce: float = 5.0
    alpha_mlm: float = 0.0  # the paper: 2
    alpha_cos: float = 1.0
    seed: int = 0
    eval_every: int = 500
    save_every: int = 500
    eval_sequences: int = 256
    threads: int = 2
    bf16: bool = True
    soft_at: str = "all"  # the KL at every real token (DistilBERT's code default), or at the "masked" ones
    device: str = "auto"  # cuda when there is one
    minutes: float = 0.0  # > 0: fit `steps` to this much training time, measured over the first steps
    init: str = ""  # a student folder to continue from instead of the teacher's layers (e.g. assets/models/student)


def load_teacher(path: Path) -> BertForMaskedLM:
    teacher = BertForMaskedLM.from_pretrained(path, dtype=torch.float32, attn_implementation="sdpa").eval()
    teacher.requires_grad_(False)
    return teacher


def compare(student, teacher, tokenizer, packed: dict, *, seed: int = 1234) -> dict:
    """Held-out masked positions (15 %, 80/10/10, fixed seed): each model's top-1, their top-1 agreement, and
    the soft-target KL (T = 1) of the student from the teacher (`explainers.distillation.heldout_agreement`)."""
    student.eval()
    out = heldout_agreement(student, teacher, packed, mask_token_id=tokenizer.mask_token_id,
                            vocab_size=len(tokenizer), seed=seed)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def train(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    cfg.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.teacher)
    teacher = load_teacher(cfg.teacher)
    if cfg.init:  # continue an earlier student (a fresh optimizer and schedule)
        student = DistilBertForMaskedLM.from_pretrained(cfg.init, dtype=torch.float32).train()
    else:
        student = init_student(teacher, cfg.layers).train()
    teacher.to(device)
    student.to(device)
    t0 = time.time()
    train_data = load_packed(cfg.corpus / "train.txt", tokenizer, cfg.seq_len)
    test_data = load_packed(cfg.corpus / "test.txt", tokenizer, cfg.seq_len, max_sequences=cfg.eval_sequences)
    test_data = {k: v.to(device) for k, v in test_data.items()}
    print(f"packed {len(train_data['input_ids'])} train sequences in {time.time() - t0:.0f}s; {device}", flush=True)
    decay = [p for p in student.parameters() if p.dim() >= 2]
    no_decay = [p for p in student.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    step, seconds = 0, 0.0
    ckpt_path = cfg.run / "ckpt.pt"
    log = (cfg.run / "log.jsonl").open("a")
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False, map_location=device)
        student.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, seconds = state["step"], state["seconds"]
        print(f"resumed at step {step}", flush=True)
    else:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            row = {"step": 0, "train_seconds": 0, **compare(student, teacher, tokenizer, test_data)}
        log.write(json.dumps(row) + "\n")
        log.flush()
        print(row, flush=True)
    first_step, started = step, time.time()
    while step < cfg.steps:
        if cfg.minutes > 0 and step - first_step in (30, 300):  # fit the schedule to the time budget
            per_step = (time.time() - started) / (step - first_step)
            left = cfg.minutes * 60 - (time.time() - started)
            cfg = replace(cfg, steps=step + max(1, int(left / per_step)))
            print(f"{per_step:.3f}s/step: training to step {cfg.steps}", flush=True)
        t = time.time()
        student.train()
        batch = batch_at(cfg, train_data, step)
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        m = mask_tokens(batch["input_ids"], batch["special"], mask_token_id=tokenizer.mask_token_id,
                        vocab_size=len(tokenizer), rate=cfg.rate, generator=g)
        ids, att, labels = m.input_ids.to(device), batch["attention_mask"].to(device), m.labels.to(device)
        rows = att.bool() if cfg.soft_at == "all" else labels != IGNORE_INDEX  # where the vocabulary head runs
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, step)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            with torch.no_grad():
                t_hidden = encode(teacher, ids, att)
                t_logits = mlm_head(teacher, t_hidden[rows])
            s_hidden = encode(student, ids, att)
            s_logits = mlm_head(student, s_hidden[rows])
            loss = triple_loss(s_logits, t_logits, labels[rows], s_hidden, t_hidden, att,
                               temperature=cfg.temperature, alpha_ce=cfg.alpha_ce, alpha_mlm=cfg.alpha_mlm,
                               alpha_cos=cfg.alpha_cos, soft_at=cfg.soft_at)
        opt.zero_grad(set_to_none=True)
        loss.total.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        step += 1
        seconds += time.time() - t
        if step % 10 == 0:
            print(f"step {step} loss {loss.total.item():.3f} (soft {loss.soft.item():.3f} mlm {loss.mlm.item():.3f} "
                  f"cos {loss.cos.item():.3f}) lr {lr_at(cfg, step):.2e} {seconds / step:.2f}s/step", flush=True)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                metrics = compare(student, teacher, tokenizer, test_data)
            row = {"step": step, "train_seconds": round(seconds), "train_loss": round(loss.total.item(), 4),
                   "soft": round(loss.soft.item(), 4), "mlm": round(loss.mlm.item(), 4),
                   "cos": round(loss.cos.item(), 4), **metrics}
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(row, flush=True)
        if step % cfg.save_every == 0 or step == cfg.steps:
            save_checkpoint(cfg.run, cfg, step, seconds, model=student.state_dict(), opt=opt.state_dict(),
                            hardware=hardware(device))


def export(cfg: Config, out: Path) -> None:
    """Write the latest checkpoint as an fp16 `from_pretrained` folder with tokenizer and training facts."""
    tokenizer = AutoTokenizer.from_pretrained(cfg.teacher)
    teacher = load_teacher(cfg.teacher)
    state = torch.load(cfg.run / "ckpt.pt", weights_only=False, map_location="cpu")
    student = DistilBertForMaskedLM(student_config(teacher.config, len(cfg.layers)))
    student.load_state_dict(state["model"])
    facts = checkpoint_facts(state, teacher_layers=list(cfg.layers))
    save_model_folder(out, student, tokenizer, facts)
    print(json.dumps(facts, indent=2))


def main() -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/student",
        "write the checkpoint as a model folder and stop")


if __name__ == "__main__":
    main()
