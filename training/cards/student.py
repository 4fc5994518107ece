"""The distilled student's card and `measured.json` (`python -m training.cards student <folder>`): top-1 agreement
with the teacher it was distilled from on held-out masked positions (`explainers.distillation.heldout_agreement`),
both models' top-1, and the encoder speed-up at 128 tokens."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer

from explainers.corpus import load_packed
from explainers.distillation import NEAR_TIE, heldout_agreement
from explainers.model import MEASURED, ROOT, file_sha256
from explainers.speed import encoder_latency
from training.cards import CORPUS, corpus_line, held_out_parser, facts_of, files_section, load_mlm, size_mb
from training.loop import cpu_name


SOFT_AT_WORDS = {
    "masked": "the soft-target KL and the vocabulary head at the masked positions only",
    "all": "the soft-target KL at every real token (`soft_at=\"all\"`, DistilBERT's code default), so the "
           "vocabulary head runs at every real token",
}


def student_card(folder: Path, sequences: int, note: str, corpus: Path = CORPUS) -> dict:
    tok = AutoTokenizer.from_pretrained(folder)
    # eager attention for both, as the app loads them
    student = load_mlm(folder, eager=True)
    facts = facts_of(folder)
    teacher_dir = ROOT / facts["config"]["teacher"]  # the teacher it was distilled from (its training.json)
    teacher = load_mlm(teacher_dir, eager=True)
    packed = load_packed(corpus / "test.txt", tok, max_sequences=sequences)
    t = time.time()
    a = heldout_agreement(student, teacher, packed, mask_token_id=tok.mask_token_id, vocab_size=len(tok))
    seconds = time.time() - t
    ids = torch.randint(1000, tok.vocab_size, (1, 128), generator=torch.Generator().manual_seed(0))
    lat = encoder_latency({"teacher": teacher, "student": student}, ids, torch.ones_like(ids), repeats=31)
    speed = lat["teacher"].median_ms / lat["student"].median_ms
    cfg = facts["config"]
    metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in a.items()}
    metrics["encoder_speedup_128"] = round(speed, 3)
    lines = [
        "# student: the built-in DistilBERT student", "",
        f"A `DistilBertForMaskedLM` with {student.config.n_layers} layers × {student.config.dim} "
        f"({student.num_parameters() / 1e6:.1f} M parameters; the teacher has "
        f"{teacher.num_parameters() / 1e6:.1f} M), "
        f"no segment embeddings and no pooler, float16 ({size_mb(folder):.1f} MB). It started from teacher layers "
        f"{', '.join(map(str, facts['teacher_layers']))} with the teacher's embeddings and MLM head "
        "(`explainers.distillation.init_student`; the teacher's segment-A row folded into the position "
        f"embeddings) and was distilled from `{cfg['teacher']}` by "
        "`training/distill.py`.", "",
        "## Measured", "",
        "| measure | value |", "|---|---|",
        f"| top-1 agreement with the teacher, held-out masked positions | **{a['agreement']:.1%}** |",
        f"| … where the teacher's first guess leads its second by ≥ {NEAR_TIE:g} probability "
        f"({1 - a['near_tie_share']:.1%} of positions) | {a['agreement_clear']:.1%} |",
        f"| … where it leads by less: a near tie ({a['near_tie_share']:.1%} of positions) | "
        f"{a['agreement_near_tie']:.1%} |",
        f"| student held-out masked top-1 | **{a['student_top1']:.1%}** |",
        f"| teacher held-out masked top-1 (same positions) | {a['teacher_top1']:.1%} |",
        f"| student top-1 ÷ teacher top-1 | **{a['student_top1'] / a['teacher_top1']:.1%}** |",
        f"| KL(teacher ‖ student) at T = 1, mean per position | {a['kl']:.3f} nats |",
        f"| encoder speed, batch 1 × 128 tokens, teacher ÷ student median (31 interleaved runs) | "
        f"**{speed:.2f}×** |",
        "", f"{sequences} held-out sequences of up to 128 pieces, masked at 15 % (80/10/10, seed 1234; both models "
        f"read the same masked input): {a['positions']:,} positions, measured in {seconds:.0f} s in float32 after "
        f"the fp16 round trip. Speed measured on {cpu_name()}, {torch.get_num_threads()} threads, load average "
        f"{os.getloadavg()[0]:.1f}; `python benchmarks/bench.py` measures it at 16–512 tokens.", "",
        "## Training", "",
        f"- corpus: {corpus_line(corpus)}",
        f"- {facts['step']:,} steps of {cfg['batch_size']} sequences × {cfg['seq_len']} pieces, masked at "
        f"{float(cfg['rate']):.0%} (80/10/10) by `explainers.masking.mask_tokens`; loss "
        "`explainers.distillation.triple_loss` "
        f"with α_ce = {cfg['alpha_ce']}, α_mlm = {cfg['alpha_mlm']}, α_cos = {cfg['alpha_cos']}, T = "
        f"{cfg['temperature']}, {SOFT_AT_WORDS[cfg.get('soft_at', 'masked')]}; AdamW (β = 0.9, 0.98), peak "
        f"learning rate {cfg['lr']}, {cfg['warmup']} warm-up steps then linear decay, gradient clipping 1.0, bf16 "
        "autocast",
        f"- {facts['train_seconds'] / 60:.0f} minutes of training on {facts['hardware']}",
        *([f"- Schedule: {facts['schedule']}"] if facts.get("schedule") else []),
        *([f"- {note}"] if note else []), "",
        *files_section(folder),
    ]
    (folder / "README.md").write_text("\n".join(lines))
    # the one held-out measurement the README, the distillation chapter and the masking chapter quote
    measured = {"measured_with": "python -m training.cards student", "sequences": sequences, "seed": 1234, "rate": 0.15,
                "split": "the corpus's held-out split (training/build_corpus.py)",
                "student_sha256": file_sha256(folder / "model.safetensors"),
                "teacher_sha256": file_sha256(teacher_dir / "model.safetensors"), **metrics}
    (folder / MEASURED).write_text(json.dumps(measured, indent=1) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> None:
    args = held_out_parser(__doc__, "the student's folder").parse_args(argv)
    print(json.dumps(student_card(args.path, args.sequences, args.note, args.corpus), indent=2))


if __name__ == "__main__":
    main()
