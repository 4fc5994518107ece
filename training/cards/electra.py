"""The ELECTRA pair's card, one text in both folders (`python -m training.cards electra assets/models`): the
discriminator's ROC-AUC on held-out text its generator corrupted, the generator's top-1 and its fakes at content
words, word swaps, and fakes of rising strength (`explainers.electra_heldout`)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, ElectraForMaskedLM, ElectraForPreTraining

from explainers.corpus import load_packed
from explainers.electra_heldout import compare_fake_makers, function_pieces, heldout_scores, roc, word_swap_scores
from explainers.masking import content_pieces
from explainers.model import ROOT, load_role
from training.cards import CORPUS, corpus_line, held_out_parser, facts_of, hashes, load_mlm, size_mb
from training.evaluate_mlm import cloze_scores, read_cloze
from training.loop import cpu_name
from training.pretrain_electra import DISCRIMINATOR as DISC, GENERATOR as GEN


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
    facts = facts_of(gen_dir)
    teacher = load_mlm(ROOT / facts["config"]["teacher"])
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


def main(argv: list[str] | None = None) -> None:
    args = held_out_parser(__doc__, "the folder holding electra-generator and electra-discriminator").parse_args(argv)
    print(json.dumps(electra_card(args.path, args.sequences, args.note, args.corpus), indent=2))


if __name__ == "__main__":
    main()
