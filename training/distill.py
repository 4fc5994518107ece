"""Distil the built-in student: a 3-layer `DistilBertForMaskedLM` from the built-in teacher.

The student starts from `explainers.distillation.init_student` (teacher layers 0, 2, 4, its embeddings and MLM
head; no token types, no pooler). Every batch is masked by `explainers.masking.mask_tokens` (15 %, 80/10/10),
teacher and student read the same masked input, and the loss is `explainers.distillation.triple_loss`: the
functions the Distillation chapter shows. The defaults are the built-in student's loss: the KL at the masked
positions at T = 1, no hard-label (MLM) term, the cosine term (α = 5, 0, 1; see its model card for why). The
vocabulary head runs only where the loss needs it. bf16 autocast; CUDA when there is one. Resumable:
`<run>/ckpt.pt`. `--minutes` fits the step count to a time budget.

    # the first built-in student: 14,487 steps of 128, KL at every token, 16 minutes on an H100
    python -m training.distill --run ~/.cache/inside-bert/runs/student --soft-at all
    # the built-in student now: that one continued from the current teacher, 1,903 steps of 32 on one CPU core
    python -m training.distill --run ~/.cache/inside-bert/runs/student2 --init assets/models/student \
        --batch-size 32 --lr 2e-4 --warmup 100 --minutes 125 --threads 1
    python -m training.distill --run ~/.cache/inside-bert/runs/student2 --export assets/models/student
    python -m training.distill --run runs/paper --temperature 2 --alpha-mlm 2   # the paper's α and T
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertForMaskedLM, DistilBertForMaskedLM

from explainers.builtin import TEACHER_DIR
from explainers.corpus import load_packed
from explainers.distillation import head_rows, heldout_agreement, init_student, student_config, triple_loss
from explainers.masking import mask_tokens
from explainers.mlm import encode, mlm_head
from training.loop import (Step, checkpoint_facts, cli, hardware, load_checkpoint, param_groups, save_model_folder,
                           train_loop)



@dataclass(frozen=True)
class Config:
    run: Path  # checkpoints and logs (outside the repo)
    teacher: Path = TEACHER_DIR
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
    soft_at: str = "masked"  # the KL at the masked positions (the built-in student's re-distillation on the CPU:
    # the vocabulary head at 15 % of the positions), or at every real token ("all", DistilBERT's code default)
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

    def loss(batch: dict, g: torch.Generator, step: int) -> Step:
        m = mask_tokens(batch["input_ids"], batch["special"], mask_token_id=tokenizer.mask_token_id,
                        vocab_size=len(tokenizer), rate=cfg.rate, generator=g)
        ids, att, labels = m.input_ids.to(device), batch["attention_mask"].to(device), m.labels.to(device)
        rows = head_rows(labels, att, cfg.soft_at)  # where the vocabulary head runs
        with torch.no_grad():
            t_hidden = encode(teacher, ids, att)
            t_logits = mlm_head(teacher, t_hidden[rows])
        s_hidden = encode(student, ids, att)
        s_logits = mlm_head(student, s_hidden[rows])
        out = triple_loss(s_logits, t_logits, labels[rows], s_hidden, t_hidden, att, temperature=cfg.temperature,
                          alpha_ce=cfg.alpha_ce, alpha_mlm=cfg.alpha_mlm, alpha_cos=cfg.alpha_cos, soft_at=cfg.soft_at)
        return Step(out.total, {"soft": out.soft, "mlm": out.mlm, "cos": out.cos},
                    lambda: f" (soft {out.soft.item():.3f} mlm {out.mlm.item():.3f} cos {out.cos.item():.3f})")

    train_loop(cfg, {"model": student}, param_groups(student.parameters(), cfg.weight_decay), train_data, loss,
               lambda: compare(student, teacher, tokenizer, test_data), betas=(0.9, 0.98), device=device,
               print_every=10, start_row={}, extra_state={"hardware": hardware(device)}, minutes=cfg.minutes)


def export(cfg: Config, out: Path) -> None:
    """Write the latest checkpoint as an fp16 `from_pretrained` folder with tokenizer and training facts."""
    tokenizer = AutoTokenizer.from_pretrained(cfg.teacher)
    teacher = load_teacher(cfg.teacher)
    state = load_checkpoint(cfg.run)
    student = DistilBertForMaskedLM(student_config(teacher.config, len(cfg.layers)))
    student.load_state_dict(state["model"])
    facts = checkpoint_facts(state, teacher_layers=list(cfg.layers))
    save_model_folder(out, student, tokenizer, facts)
    print(json.dumps(facts, indent=2))


def main(argv: list[str] | None = None) -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/student",
        "write the checkpoint as a model folder and stop", argv)


if __name__ == "__main__":
    main()
