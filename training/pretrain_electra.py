"""Train the built-in ELECTRA pair: a small generator and a discriminator, jointly, by replaced-token detection.

* discriminator: `ElectraForPreTraining`, 6 layers × 384 (12 heads), its encoder layers copied from the built-in
  teacher (the same BERT layout under `electra.*`); embeddings of size 256 projected up to 384, as
  ELECTRA-Small does, so that two fp16 folders fit the size budget (60 MB). The 256-d embeddings are fitted to
  reproduce the teacher's embedding output first (`init_from_teacher`).
* generator: `ElectraForMaskedLM`, hidden 192 (1/2 of the discriminator's), 4 layers of 3 heads, new;
  its output layer tied to the shared token embeddings.
* one embedding layer (token, position, segment, LayerNorm) shared by both: `explainers.electra.share_embeddings`.

Two stages, one schedule. First `distill_steps` steps distil the generator from the teacher's masked-LM
distribution (`explainers.electra.generator_distillation_loss`: T²·KL at the masked positions + α·MLM), with
the discriminator and the shared embeddings held still (learning rate × 0), so that its samples are words a
class would call plausible before the discriminator ever sees them. Then every step is
`explainers.electra.corrupt` (masking by `explainers.masking.mask_tokens`, all chosen → [MASK],
sampling at T = 1) and `explainers.electra.electra_loss` (MLM + 50 · discriminator BCE): what the ELECTRA
chapter shows. bf16 autocast; resumable `<run>/ckpt.pt`.

    python -m training.pretrain_electra --run ~/.cache/inside-bert/runs/electra
    # the built-in pair: the earlier pair continued, the generator distilled for 1,200 steps, then 1,000 joint
    python -m training.pretrain_electra --run runs/electra3 --init <copy of assets/models> --distill-steps 1200 \
        --steps 2200 --threads 1
    python -m training.pretrain_electra --run ~/.cache/inside-bert/runs/electra --export assets/models
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer, BertForMaskedLM, ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

from explainers.builtin import TEACHER_DIR
from explainers.corpus import load_packed
from explainers.errors import BuildError, require
from explainers.electra import (LAMBDA, corrupt, electra_loss, generator_distillation_loss, share_embeddings,
                                teacher_kl)
from explainers.electra_heldout import function_pieces, heldout_scores, roc
from explainers.masking import content_pieces
from explainers.model import file_sha256
from training.loop import Step, checkpoint_facts, cli, load_checkpoint, param_groups, save_model_folder, train_loop

GENERATOR, DISCRIMINATOR = "electra-generator", "electra-discriminator"
SHARED = ("electra.embeddings.",)  # token, position, segment embeddings and their LayerNorm (not the projections)


@dataclass(frozen=True)
class Config:
    run: Path
    teacher: Path = TEACHER_DIR  # the discriminator's encoder layers start here
    corpus: Path = Path.home() / ".cache/inside-bert/corpus"
    embedding_size: int = 256  # 128 fits the teacher's embedding output at cosine 0.75 only, 256 at 0.88
    fit_steps: int = 300  # Adam steps fitting those embeddings to the teacher's (`init_from_teacher`)
    generator_hidden: int = 192
    generator_layers: int = 4
    generator_heads: int = 3
    steps: int = 900  # what the built-in pair got: ~1 CPU-hour on one core
    batch_size: int = 32
    seq_len: int = 128
    lr: float = 2e-4  # the discriminator (pretrained) and the shared embeddings
    generator_lr: float = 5e-4  # the generator's own layers and head (new)
    warmup: int = 100
    weight_decay: float = 0.01
    rate: float = 0.15
    lam: float = LAMBDA
    temperature: float = 1.0
    distill_steps: int = 0  # first stage: the generator distilled from the teacher, the discriminator held still
    distill_temperature: float = 1.0  # T of that stage's soft targets
    distill_alpha_mlm: float = 1.0  # weight of the generator's own MLM loss beside the KL in that stage
    joint_kl: float = 0.0  # in the joint steps, β · T² · KL(teacher ‖ generator) added to the generator's loss
    init: str = ""  # a folder holding an earlier pair (electra-generator, electra-discriminator) to continue from
    generator_init: str = ""  # a BERT or DistilBERT masked-LM folder: the generator takes its layers and their shape
    seed: int = 0
    eval_every: int = 100
    save_every: int = 50
    eval_sequences: int = 256
    threads: int = 2
    bf16: bool = True


def layers_of(folder: str) -> dict:
    """The encoder shape of a BERT or DistilBERT folder, in ElectraConfig's names."""
    c = AutoConfig.from_pretrained(folder, local_files_only=True)
    if c.model_type == "distilbert":
        return dict(hidden_size=c.dim, num_hidden_layers=c.n_layers, num_attention_heads=c.n_heads,
                    intermediate_size=c.hidden_dim)
    return dict(hidden_size=c.hidden_size, num_hidden_layers=c.num_hidden_layers,
                num_attention_heads=c.num_attention_heads, intermediate_size=c.intermediate_size)


# DistilBERT's names for the pieces of a BERT layer (the same computation: post-LayerNorm, GELU)
DISTILBERT_LAYER = {"attention.q_lin": "attention.self.query", "attention.k_lin": "attention.self.key",
                    "attention.v_lin": "attention.self.value", "attention.out_lin": "attention.output.dense",
                    "sa_layer_norm": "attention.output.LayerNorm", "ffn.lin1": "intermediate.dense",
                    "ffn.lin2": "output.dense", "output_layer_norm": "output.LayerNorm"}


def generator_from_layers(gen: ElectraForMaskedLM, disc: ElectraForPreTraining, folder: str) -> dict:
    """Start the generator from a trained masked LM's encoder layers (the built-in student: the teacher's layers
    0, 2 and 4, distilled), reading the shared embeddings through a copy of the discriminator's projection, which
    was fitted to reproduce the teacher's embedding output. Its prediction head stays new. Returns facts."""
    weights = load_file(Path(folder) / "model.safetensors")
    layers = {}
    for k, v in weights.items():
        for prefix in ("distilbert.transformer.layer.", "bert.encoder.layer."):
            if k.startswith(prefix):
                i, rest = k[len(prefix):].split(".", 1)
                for old, new in DISTILBERT_LAYER.items():
                    if rest.startswith(old + "."):
                        rest = new + rest[len(old):]
                layers[f"{i}.{rest}"] = v.float()
    missing, unexpected = gen.electra.encoder.layer.load_state_dict(layers, strict=False)
    require(not missing and not unexpected, (missing, unexpected), BuildError)
    with torch.no_grad():
        gen.electra.embeddings_project.load_state_dict(disc.electra.embeddings_project.state_dict())
    return {"generator_layers_from": str(folder), "generator_layers_sha256": file_sha256(Path(folder) /
                                                                                         "model.safetensors")}


def configs(cfg: Config, teacher_config) -> tuple[ElectraConfig, ElectraConfig]:
    t = teacher_config
    common = dict(vocab_size=t.vocab_size, embedding_size=cfg.embedding_size,
                  max_position_embeddings=t.max_position_embeddings, type_vocab_size=t.type_vocab_size,
                  hidden_act=t.hidden_act, layer_norm_eps=t.layer_norm_eps, pad_token_id=t.pad_token_id,
                  hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    disc = ElectraConfig(hidden_size=t.hidden_size, num_hidden_layers=t.num_hidden_layers,
                         num_attention_heads=t.num_attention_heads, intermediate_size=t.intermediate_size, **common)
    shape = layers_of(cfg.generator_init) if cfg.generator_init else dict(
        hidden_size=cfg.generator_hidden, num_hidden_layers=cfg.generator_layers,
        num_attention_heads=cfg.generator_heads, intermediate_size=4 * cfg.generator_hidden)
    gen = ElectraConfig(**shape, **common)
    return gen, disc


def init_from_teacher(disc: ElectraForPreTraining, teacher: BertForMaskedLM, train_ids: torch.Tensor,
                      fit_steps: int = 300, batch: int = 4096) -> dict:
    """Copy the teacher's encoder layers, then make the smaller embeddings reproduce the teacher's embedding
    output, so that the copied layers read what they were trained on:

    1. the 256-d tables start from a PCA of the teacher's 384-d ones, the 256 → 384 projection from least squares;
    2. then `fit_steps` Adam steps on the mean squared error between project(LN₂₅₆(e)) and the teacher's
       LN₃₈₄(e), over pieces drawn from the corpus (plus uniform ones, so rare pieces are fitted too) at random
       positions. PCA + least squares alone reach a mean cosine of 0.88, and the teacher's masked top-1 falls
       from 49 % to 12 % when it reads them; after the fit, 0.96 and 47 %.
    Returns facts about the fit."""
    with torch.no_grad():
        disc.electra.encoder.load_state_dict(teacher.bert.encoder.state_dict())
        t_emb, d_emb = teacher.bert.embeddings, disc.electra.embeddings
        words = t_emb.word_embeddings.weight
        k = d_emb.word_embeddings.weight.shape[1]
        _, _, v = torch.linalg.svd(words - words.mean(0), full_matrices=False)
        basis = v[:k].T  # [384, k]
        d_emb.word_embeddings.weight.copy_(words @ basis)
        d_emb.position_embeddings.weight.copy_(t_emb.position_embeddings.weight @ basis)
        d_emb.token_type_embeddings.weight.copy_(t_emb.token_type_embeddings.weight @ basis)
        d_emb.LayerNorm.reset_parameters()
    proj = disc.electra.embeddings_project
    g = torch.Generator().manual_seed(0)

    def sample(n: int):
        tok = torch.cat([train_ids[torch.randint(0, len(train_ids), (n,), generator=g)],
                         torch.randint(999, words.shape[0], (n // 4,), generator=g)])  # skip [unused] rows
        pos = torch.randint(0, 128, (len(tok),), generator=g)
        with torch.no_grad():
            target = t_emb.LayerNorm(words[tok] + t_emb.position_embeddings.weight[pos]
                                     + t_emb.token_type_embeddings.weight[0])
        x = d_emb.LayerNorm(d_emb.word_embeddings(tok) + d_emb.position_embeddings(pos)
                            + d_emb.token_type_embeddings.weight[0])
        return x, target

    with torch.no_grad():
        x, target = sample(batch * 4)
        sol = torch.linalg.lstsq(torch.cat([x, torch.ones(len(x), 1)], 1), target).solution  # [k + 1, 384]
        proj.weight.copy_(sol[:-1].T)
        proj.bias.copy_(sol[-1])
        lstsq_cos = float(F.cosine_similarity(proj(x), target, dim=-1).mean())
    opt = torch.optim.Adam([*d_emb.parameters(), *proj.parameters()], lr=1e-3)
    for _ in range(fit_steps):
        x, target = sample(batch)
        loss = F.mse_loss(proj(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        x, target = sample(batch * 4)
        fit_cos = float(F.cosine_similarity(proj(x), target, dim=-1).mean())
    return {"embedding_fit_cosine_lstsq": round(lstsq_cos, 4), "embedding_fit_cosine": round(fit_cos, 4)}


def continue_pair(gen: ElectraForMaskedLM | None, disc: ElectraForPreTraining, folder: Path) -> dict:
    """Continue an earlier pair (`<folder>/electra-discriminator`, `<folder>/electra-generator`, as `export`
    writes them): the discriminator whole, with the embeddings the two share, and the generator's own layers,
    which were trained reading those embeddings (not when `gen` is None: a generator of a new shape). Returns facts
    for the log."""
    facts = {"continued_from": str(folder)}
    for model, name in ((disc, DISCRIMINATOR), (gen, GENERATOR)):
        if model is None:
            continue
        weights = {k: v.float() for k, v in load_file(folder / name / "model.safetensors").items()}
        if model is gen:  # the generator's folder leaves out the shared embeddings (and its tied output layer)
            weights = {k: v for k, v in weights.items() if not k.startswith(SHARED)}
        missing, unexpected = model.load_state_dict(weights, strict=False)
        allowed = (lambda k: False) if model is disc else (
            lambda k: k.startswith(SHARED) or k == "generator_lm_head.weight")
        require(not unexpected and all(allowed(k) for k in missing), (name, missing, unexpected), BuildError)
        facts[f"{name}_sha256"] = file_sha256(folder / name / "model.safetensors")
    return facts


def build(cfg: Config, train_ids: torch.Tensor | None = None, keep_teacher: bool = False):
    teacher = BertForMaskedLM.from_pretrained(cfg.teacher, dtype=torch.float32)
    gen_cfg, disc_cfg = configs(cfg, teacher.config)
    torch.manual_seed(cfg.seed)
    disc = ElectraForPreTraining(disc_cfg)
    gen = ElectraForMaskedLM(gen_cfg)
    share_embeddings(gen, disc)
    if train_ids is not None and cfg.init:
        facts = continue_pair(None if cfg.generator_init else gen, disc, Path(cfg.init))
    else:
        facts = init_from_teacher(disc, teacher, train_ids, cfg.fit_steps) if train_ids is not None else {}
    if train_ids is not None and cfg.generator_init:
        facts |= generator_from_layers(gen, disc, cfg.generator_init)
    if train_ids is not None and (cfg.generator_init or not cfg.init):  # a new generator head: its output bias
        # starts at log unigram frequencies
        counts = torch.bincount(train_ids, minlength=gen_cfg.vocab_size).float() + 1.0
        with torch.no_grad():
            gen.generator_lm_head.bias.copy_((counts / counts.sum()).log())
    if keep_teacher:
        return gen, disc, facts, teacher.eval()
    return gen, disc, facts


def evaluate(gen, disc, tokenizer, packed: dict, *, seed: int = 1234, rate: float = 0.15) -> dict:
    """Held-out text corrupted by the generator (seeded): the discriminator's ROC-AUC over the real tokens
    ([CLS]/[SEP]/padding excluded), its accuracy at 0.5, the generator's masked top-1 and the share of its samples
    at masked content words that are punctuation or function words."""
    gen.eval()
    disc.eval()
    vocab = tokenizer.get_vocab()
    h = heldout_scores(gen, disc, packed, mask_token_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                       rate=rate, seed=seed, content=content_pieces(vocab), function=function_pieces(vocab))
    s, y = h.scores, h.labels
    return {"auc": round(roc(s, y).auc, 4), "accuracy": round(float(((s >= 0.5).long() == y).float().mean()), 4),
            "replaced_share": round(float(y.float().mean()), 4), "generator_top1": round(h.generator_top1, 4),
            "generator_function_share": round(h.function_share, 4) if h.content_masked else None,
            "tokens": len(y)}


def parameters(gen, disc) -> list[torch.nn.Parameter]:
    seen, out = set(), []
    for p in [*disc.parameters(), *gen.parameters()]:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def train(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    cfg.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.teacher)
    train_data = load_packed(cfg.corpus / "train.txt", tokenizer, cfg.seq_len)
    test_data = load_packed(cfg.corpus / "test.txt", tokenizer, cfg.seq_len, max_sequences=cfg.eval_sequences)
    gen, disc, facts, teacher = build(cfg, train_data["input_ids"][train_data["attention_mask"].bool()], True)
    params = parameters(gen, disc)
    shared_or_disc = {id(p) for p in disc.parameters()}
    groups = []  # the discriminator's and the shared embeddings' at `lr`, the generator's own at `generator_lr`
    for own, scale in ((True, 1.0), (False, cfg.generator_lr / cfg.lr)):
        groups += param_groups([p for p in params if (id(p) in shared_or_disc) == own], cfg.weight_decay,
                               scale=scale, discriminator=own)

    def held_still(step: int, group: dict) -> float:
        """× 0 for the discriminator and the shared embeddings while the generator is distilled."""
        return 0.0 if step < cfg.distill_steps and group["discriminator"] else 1.0

    def loss(batch: dict, g: torch.Generator, step: int) -> Step:
        att = batch["attention_mask"]
        if step < cfg.distill_steps:
            d = generator_distillation_loss(gen, teacher, batch["input_ids"], att, batch["special"],
                                            mask_token_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                                            rate=cfg.rate, temperature=cfg.distill_temperature,
                                            alpha_mlm=cfg.distill_alpha_mlm, generator=g)
            return Step(d.loss, {"kl": d.kl, "mlm": d.mlm},
                        lambda: f" (distilling the generator: kl {d.kl.item():.3f} mlm {d.mlm.item():.3f})")
        c = corrupt(gen, batch["input_ids"], att, batch["special"], mask_token_id=tokenizer.mask_token_id,
                    vocab_size=len(tokenizer), rate=cfg.rate, temperature=cfg.temperature, generator=g)
        d_logits = disc(input_ids=c.corrupted_ids, attention_mask=att).logits
        out = electra_loss(c, d_logits, att, cfg.lam)
        if not cfg.joint_kl:
            return Step(out.total, {"mlm": out.mlm, "disc": out.disc},
                        lambda: f" (mlm {out.mlm.item():.3f} disc {out.disc.item():.4f}) "
                                f"replaced {c.replaced[att.bool()].float().mean():.3f}")
        kl = teacher_kl(teacher, c, att, cfg.distill_temperature)
        return Step(out.total + cfg.joint_kl * kl, {"mlm": out.mlm, "disc": out.disc, "kl": kl},
                    lambda: f" (mlm {out.mlm.item():.3f} disc {out.disc.item():.4f} kl {kl.item():.3f}) "
                            f"replaced {c.replaced[att.bool()].float().mean():.3f}")

    train_loop(cfg, {"generator": gen, "discriminator": disc}, groups, train_data, loss,
               lambda: evaluate(gen, disc, tokenizer, test_data), betas=(0.9, 0.999), print_every=10,
               start_row=facts, lr_scale=held_still)


def export(cfg: Config, out: Path) -> None:
    """Write `<out>/electra-generator` and `<out>/electra-discriminator`: fp16 `from_pretrained` folders."""
    tokenizer = AutoTokenizer.from_pretrained(cfg.teacher)
    gen, disc, _ = build(cfg)
    state = load_checkpoint(cfg.run)
    gen.load_state_dict(state["generator"])
    disc.load_state_dict(state["discriminator"])
    first = json.loads((cfg.run / "log.jsonl").read_text().splitlines()[0])  # step 0: the initialisation
    start = ("embedding_fit_cosine_lstsq", "embedding_fit_cosine", "continued_from", f"{DISCRIMINATOR}_sha256",
             f"{GENERATOR}_sha256", "generator_layers_from", "generator_layers_sha256", "auc",
             "generator_top1")  # how the run began
    facts = checkpoint_facts(state, start={k: first[k] for k in start if k in first})
    save_model_folder(out / DISCRIMINATOR, disc, tokenizer, facts)
    # the generator's folder leaves out the embeddings the two share and reads them from the discriminator's
    save_model_folder(out / GENERATOR, gen, tokenizer, facts, base=out / DISCRIMINATOR, shared=SHARED)
    print(json.dumps(facts, indent=2))


def main(argv: list[str] | None = None) -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/electra",
        "folder to write the two model folders into, then stop", argv)


if __name__ == "__main__":
    main()
