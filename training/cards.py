"""Write the model cards of the built-in ELECTRA pair and the distilled student from measured numbers.

Reads `training.json` (written by the `--export` of `pretrain_electra.py` / `distill.py`), measures the exported
fp16 folders (in float32 after the round trip) on the held-out split, and writes `README.md` in each folder.

    python -m training.cards electra assets/models --note "..."
    python -m training.cards student assets/models/student --note "..."
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, ElectraForMaskedLM, ElectraForPreTraining

from explainers.corpus import load_packed
from explainers.distillation import NEAR_TIE, heldout_agreement
from explainers.electra_heldout import compare_fake_makers, function_pieces, heldout_scores, roc, word_swap_scores
from explainers.masking import content_pieces
from explainers.model import MEASURED, ROOT, file_sha256, load_role
from explainers.speed import encoder_latency
from training.evaluate_mlm import cloze_scores, read_cloze
from training.loop import cpu_name
from training.pretrain_electra import DISCRIMINATOR as DISC, GENERATOR as GEN

CORPUS = Path.home() / ".cache/inside-bert/corpus"


def hashes(folder: Path) -> list[str]:
    return [f"- `{p.name}` {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in sorted(folder.iterdir())
            if p.is_file() and p.name not in ("README.md", MEASURED)]


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6


def corpus_line(corpus: Path = CORPUS) -> str:
    m = json.loads((corpus / "manifest.json").read_text())
    sources = ", ".join(f"{name} {src['documents']:,} documents ({src['bytes'] / 1e6:.2f} MB)"
                        for name, src in m.get("sources", {}).items())
    return (f"`training/build_corpus.py`: {sources}; train {m['train']['documents']:,} documents "
            f"(sha256 {m['train']['sha256'][:16]}…), held out by document {m['test']['documents']:,} "
            f"(sha256 {m['test']['sha256'][:16]}…)")


# how the first built-in pair's 256-d embeddings were fitted (its card, commit 3d58514); a pair continued from it
# (`pretrain_electra --init`) keeps those embeddings and trains on
FIRST_FIT = {"embedding_fit_cosine_lstsq": 0.8815, "embedding_fit_cosine": 0.9558, "commit": "3d58514"}


def electra_card(models: Path, sequences: int, note: str, corpus: Path = CORPUS) -> dict:
    gen_dir, disc_dir = models / "electra-generator", models / "electra-discriminator"
    tok = AutoTokenizer.from_pretrained(gen_dir)
    gen = load_role(str(gen_dir), gen_dir, ElectraForMaskedLM).model  # its embeddings: the discriminator's
    disc = ElectraForPreTraining.from_pretrained(disc_dir, dtype=torch.float32).eval()
    packed = load_packed(corpus / "test.txt", tok, max_sequences=sequences)
    t = time.time()
    vocab = tok.get_vocab()
    h = heldout_scores(gen, disc, packed, mask_token_id=tok.mask_token_id, vocab_size=len(tok), seed=1234,
                       content=content_pieces(vocab), function=function_pieces(vocab))
    r = roc(h.scores, h.labels)
    acc = float(((h.scores >= 0.5).long() == h.labels).float().mean())
    words = [i for t, i in tok.vocab.items() if t.isalpha() and len(t) >= 3]  # whole words ("##" is not alpha)
    sw = word_swap_scores(disc, packed, words, seed=0)
    cloze = cloze_scores(gen, tok, read_cloze())
    facts = json.loads((gen_dir / "training.json").read_text())
    teacher_dir = ROOT / facts["config"]["teacher"]
    teacher = AutoModelForMaskedLM.from_pretrained(teacher_dir, dtype=torch.float32).eval()
    makers = compare_fake_makers({"random pieces": None, "the generator": gen, "the teacher": teacher}, disc, packed,
                                 mask_token_id=tok.mask_token_id, vocab=vocab, seed=1234)
    start = facts.get("start", {})
    fit = start if start.get("embedding_fit_cosine") is not None else FIRST_FIT  # a continued pair: the first fit
    cfg = facts["config"]
    distilled = int(cfg.get("distill_steps", 0))
    joint = f"stage 2, steps {distilled + 1:,}–{facts['step']:,}" if distilled else f"{facts['step']:,} steps"
    shared = torch.equal(gen.electra.embeddings.word_embeddings.weight, disc.electra.embeddings.word_embeddings.weight)
    g, d = gen.config, disc.config
    metrics = {"auc": round(r.auc, 4), "accuracy_at_0_5": round(acc, 4), "generator_top1": round(h.generator_top1, 4),
               "replaced_share": round(float(h.labels.float().mean()), 4), "tokens": len(h.labels),
               "masked": h.masked, "word_swaps_flagged": round(float((sw.swapped >= 0.5).float().mean()), 4),
               "untouched_words_flagged": round(float((sw.untouched >= 0.5).float().mean()), 4),
               "generator_cloze_top1": round(cloze["top1"], 4), "generator_cloze_top5": round(cloze["top5"], 4),
               "generator_function_share": round(h.function_share, 4),
               "fake_makers": {m.name: {"top1": round(m.generator_top1, 4), "auc": round(m.auc, 4),
                                        "caught": round(m.caught, 4), "function_share": round(m.function_share, 4)}
                               for m in makers}}
    layers_from = start.get("generator_layers_from") or facts["config"].get("generator_init")
    lines = [
        "# electra-generator and electra-discriminator: the built-in ELECTRA pair", "",
        f"- **discriminator** (`ElectraForPreTraining`): {d.num_hidden_layers} layers × {d.hidden_size}, "
        f"{d.num_attention_heads} heads, {disc.num_parameters() / 1e6:.1f} M parameters. Its encoder layers started "
        "from the built-in teacher's (`assets/models/teacher`, itself from all-MiniLM-L6-v2): the same BERT "
        "layout under `electra.*`. Its embeddings are "
        f"{d.embedding_size}-dimensional (projected up to {d.hidden_size}, as ELECTRA-Small does, so that the two "
        f"folders fit 60 MB). They started from a PCA of the teacher's 384-d embeddings and a least-squares "
        f"projection (mean cosine {fit['embedding_fit_cosine_lstsq']} to the teacher's embedding output); "
        f"then 300 Adam steps fitted them to that output (mean cosine {fit['embedding_fit_cosine']}"
        f"{'' if fit is start else ', when the first pair was built: commit ' + FIRST_FIT['commit']}). "
        "The detection head was new.",
        f"- **generator** (`ElectraForMaskedLM`): {g.num_hidden_layers} layers × {g.hidden_size} "
        f"({g.num_hidden_layers * g.hidden_size ** 2 / (d.num_hidden_layers * d.hidden_size ** 2):.2f} of the "
        f"discriminator's encoder size), {g.num_attention_heads} heads, {gen.num_parameters() / 1e6:.1f} M "
        "parameters; " + (f"its encoder layers started from `{Path(layers_from).name}` ("
                          + (f"sha256 {start['generator_layers_sha256'][:16]}…: " if "generator_layers_sha256" in start
                             else "") + "the built-in student, the teacher's layers 0, "
                          "2 and 4 distilled), read the shared embeddings through a copy of the discriminator's "
                          "projection (`training.pretrain_electra.generator_from_layers`); its prediction head was "
                          "new, its output bias started at log unigram frequencies."
                          if layers_from else "new (random initialisation), its output bias started at log unigram "
                                              "frequencies."),
        f"- shared: one embedding layer (token, position, segment, LayerNorm) for both in training "
        "(`explainers.electra.share_embeddings`). The discriminator's folder stores it; the generator's folder "
        "leaves it out and reads it from there when it loads (`explainers.model.fill_from_base`, which checks the "
        f"discriminator file's sha256 first); loaded, the two are equal: **{shared}**.",
        "- float16; together "
        f"{size_mb(gen_dir) + size_mb(disc_dir):.1f} MB ({size_mb(gen_dir):.1f} + {size_mb(disc_dir):.1f}).", "",
        "## Measured", "",
        "| measure | value |", "|---|---|",
        f"| discriminator ROC-AUC, held-out text corrupted by the generator | **{r.auc:.3f}** |",
        f"| discriminator accuracy at threshold 0.5 | {acc:.1%} |",
        f"| generator masked top-1 (every chosen piece shown as [MASK]) | {h.generator_top1:.1%} |",
        f"| generator samples at masked content words that are punctuation or function words "
        f"(`explainers.electra_heldout.function_pieces`; {h.content_masked:,} such positions) | {h.function_share:.1%} |",
        f"| generator `shared/eval/cloze_public.tsv` top-1 / top-5 ({len(read_cloze())} prompts) | "
        f"{cloze['top1']:.1%} / {cloze['top5']:.1%} |",
        f"| share of pieces replaced | {float(h.labels.float().mean()):.1%} |",
        f"| a random word swapped in for a word of held-out text ({len(sw.swapped)} sequences, one swap each): "
        f"flagged at 0.5 | {float((sw.swapped >= 0.5).float().mean()):.1%} (median P(replaced) "
        f"{float(sw.swapped.median()):.2f}) |",
        f"| another word of the same sequences, left as it was: flagged at 0.5 | "
        f"{float((sw.untouched >= 0.5).float().mean()):.1%} (median {float(sw.untouched.median()):.3f}) |", "",
        f"{sequences} held-out sequences of up to 128 pieces: 15 % masked (`explainers.masking.mask_tokens`, p_mask "
        f"= 1), one sample per masked position at T = 1, seed 1234; {len(h.labels):,} pieces scored "
        f"({r.positives:,} replaced), [CLS]/[SEP]/padding left out. Measured in {time.time() - t:.0f} s, float32 "
        "after the fp16 round trip. Word swaps: a whole word (alphabetic, ≥ 3 letters, one piece) replaced by "
        "another drawn at random from the vocabulary (`explainers.electra_heldout.word_swap_scores`, seed 0): what a person "
        "playing \"Try to fool it\" does, rather than the generator's samples.", "",
        "### A stronger generator, a harder task", "",
        "The same held-out masks (seed 1234) filled by three makers of fakes (`explainers.electra_heldout."
        "compare_fake_makers`): pieces drawn uniformly from the vocabulary (special and unused pieces left out), "
        "this generator, and the teacher the generator was distilled from, sampling at T = 1 as if it were the "
        "generator. The discriminator was trained against its own generator only.", "",
        "| fakes from | masked top-1 | punctuation or function words at content words | ROC-AUC | caught at 0.5 |",
        "|---|---|---|---|---|",
        *[f"| {m.name} | {m.generator_top1:.1%} | {m.function_share:.1%} | {m.auc:.3f} | {m.caught:.1%} |"
          for m in makers], "",
        "## Training", "",
        f"- corpus: {corpus_line(corpus)}",
        *([f"- continued from the previous built-in pair (discriminator sha256 "
           f"{start[f'{DISC}_sha256'][:16]}…" + (f", generator {start[f'{GEN}_sha256'][:16]}…" if f"{GEN}_sha256" in
                                                 start else "; a new generator") + "): at the start, "
           f"discriminator ROC-AUC {start.get('auc')}, generator masked top-1 {start.get('generator_top1')} "
           "(256 held-out sequences)"] if start.get("continued_from") else []),
        *([f"- stage 1, steps 1–{int(cfg['distill_steps']):,}: the generator distilled from the built-in "
           "teacher's masked-LM distribution (`explainers.electra.generator_distillation_loss`: T² · KL(teacher ‖ "
           f"generator) at the masked positions, T = {cfg.get('distill_temperature', '1.0')}, plus "
           f"{cfg.get('distill_alpha_mlm', '1.0')} × its MLM loss), the discriminator and the shared embeddings "
           "held still"]
          if distilled else []),
        f"- {joint}: "
        f"batches of {cfg['batch_size']} sequences × {cfg['seq_len']} pieces, loss "
        f"L_MLM + {cfg['lam']} · L_disc (`explainers.electra.electra_loss`)"
        + (f" + {cfg['joint_kl']} · T² · KL(teacher ‖ generator) at the masked positions for the generator "
           "(`explainers.electra.teacher_kl`, `--joint-kl`: the teacher's distribution kept during the joint "
           "steps)" if float(cfg.get("joint_kl", 0) or 0) else "") + ", both networks trained",
        f"- AdamW (β = 0.9, 0.999, weight decay {cfg['weight_decay']}), peak learning rate {cfg['lr']} "
        f"(discriminator and shared embeddings) and {cfg['generator_lr']} (generator), {cfg['warmup']} warm-up "
        "steps then linear decay to 0 at the last step, gradient clipping 1.0, "
        + ("bf16 autocast" if str(cfg.get("bf16", "True")) == "True" else "float32"),
        f"- {facts['train_seconds'] / 3600:.2f} hours on " + (facts["hardware"] if facts.get("hardware") else
                                                               f"{cpu_name()}, {cfg.get('threads', 1)} torch "
                                                               f"thread(s), torch {torch.__version__}"),
        *([f"- {note}"] if note else []), "",
        "## This pair's files (sha256)", "", "generator:", *hashes(gen_dir), "", "discriminator:",
        *hashes(disc_dir), "",
    ]
    text = "\n".join(lines)
    (gen_dir / "README.md").write_text(text)
    (disc_dir / "README.md").write_text(text)
    return metrics


SOFT_AT_WORDS = {
    "masked": "the soft-target KL and the vocabulary head at the masked positions only",
    "all": "the soft-target KL at every real token (`soft_at=\"all\"`, DistilBERT's code default), so the "
           "vocabulary head runs at every real token",
}


def student_card(folder: Path, sequences: int, note: str, corpus: Path = CORPUS) -> dict:
    tok = AutoTokenizer.from_pretrained(folder)
    # eager attention for both, as the app loads them
    student = AutoModelForMaskedLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    facts = json.loads((folder / "training.json").read_text())
    teacher_dir = ROOT / facts["config"]["teacher"]  # the teacher it was distilled from (its training.json)
    teacher = AutoModelForMaskedLM.from_pretrained(teacher_dir, dtype=torch.float32,
                                                   attn_implementation="eager").eval()
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
        "## This folder's files (sha256)", "", *hashes(folder), "",
    ]
    (folder / "README.md").write_text("\n".join(lines))
    # the one held-out measurement the README, the distillation chapter and the masking chapter quote
    measured = {"measured_with": "training/cards.py student", "sequences": sequences, "seed": 1234, "rate": 0.15,
                "split": "the corpus's held-out split (training/build_corpus.py)",
                "student_sha256": file_sha256(folder / "model.safetensors"),
                "teacher_sha256": file_sha256(teacher_dir / "model.safetensors"), **metrics}
    (folder / MEASURED).write_text(json.dumps(measured, indent=1) + "\n")
    return metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["electra", "student"])
    ap.add_argument("path", type=Path, help="assets/models (electra) or the student's folder")
    ap.add_argument("--sequences", type=int, default=512)
    ap.add_argument("--note", default="")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="the corpus folder (build_corpus.py --out)")
    args = ap.parse_args()
    card = electra_card if args.kind == "electra" else student_card
    print(json.dumps(card(args.path, args.sequences, args.note, args.corpus), indent=2))


if __name__ == "__main__":
    main()
