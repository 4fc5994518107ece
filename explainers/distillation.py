r"""
# Distillation: a small student learns from a large teacher

DistilBERT (Sanh et al., 2019) trains a student with half the teacher's layers on three signals at once.

**Soft targets.** The teacher's output distribution carries more than its top answer: that "sofa" is likelier
than "banana" for *I sat on the ___* is knowledge too. A temperature $T$ spreads it out:

$$p_i^{(T)} = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}$$

$T = 1$ is the ordinary softmax; larger $T$ flattens it (higher entropy), revealing the teacher's ranking of
the unlikely words.

**The triple loss**, with the weights of DistilBERT's recipe $\alpha_{ce} = 5$, $\alpha_{mlm} = 2$,
$\alpha_{cos} = 1$ and $T = 2$:

$$\mathcal{L} = \alpha_{ce}\, T^2\, \mathrm{KL}\big(p_\text{teacher}^{(T)} \,\|\, p_\text{student}^{(T)}\big)
 + \alpha_{mlm}\, \mathcal{L}_\text{MLM} + \alpha_{cos}\, \big(1 - \cos(h_\text{student}, h_\text{teacher})\big)$$

The MLM term is taken at the masked positions, the cosine term at every real token, and the KL either at every
real token (`soft_at="all"`, the default of DistilBERT's training code) or at the masked positions only
(`soft_at="masked"`). The KL is averaged over positions (`reduction="batchmean"`), not over the vocabulary;
the factor $T^2$ keeps its gradients on the same scale as the hard-label loss when $T$ changes (Hinton et al.,
2015). The cosine term pulls the student's last hidden states towards the teacher's, position by position.

**Initialisation.** The student keeps every other teacher layer (0, 2, 4 of 6), its embeddings and its MLM
head, and drops what DistilBERT does not have: the token-type (segment) embeddings and the pooler. The
segment-A row that BERT adds to every single-sentence input is folded into the position embeddings, so for
such inputs the student's embedding layer computes exactly what the teacher's did.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import BertForMaskedLM, DistilBertConfig, DistilBertForMaskedLM
from explainers.errors import require


def soft_targets(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """softmax(z / T) over the last dimension."""
    require(temperature > 0, f"temperature must be positive, got {temperature}")
    return (logits.float() / temperature).softmax(-1)


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Entropy in nats over the last dimension."""
    return -(probs * probs.clamp_min(1e-12).log()).sum(-1)


def t_squared(kl, temperature: float):
    """The soft-target term: T² · KL. Softening by T shrinks the gradients by 1/T²; T² gives them back."""
    return kl * temperature ** 2


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T² · KL(teacher_T ‖ student_T), averaged over the N rows of `[N, V]` logits (batchmean)."""
    log_student = F.log_softmax(student_logits.float() / temperature, dim=-1)
    teacher = soft_targets(teacher_logits, temperature)
    return t_squared(F.kl_div(log_student, teacher, reduction="batchmean"), temperature)


def cosine_loss(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cos(student, teacher) over the rows of `[N, d]` hidden states."""
    return (1 - F.cosine_similarity(student_hidden.float(), teacher_hidden.float(), dim=-1)).mean()


@dataclass(frozen=True)
class DistillationLoss:
    total: torch.Tensor  # α_ce·soft + α_mlm·mlm + α_cos·cos
    soft: torch.Tensor  # T²·KL at the masked positions (or at every real token: soft_at="all")
    mlm: torch.Tensor  # cross-entropy against the original tokens at the masked positions
    cos: torch.Tensor  # 1 - cosine of last hidden states at every real (non-padding) position


@dataclass(frozen=True)
class LossSettings:
    """The knobs of `triple_loss`. `PAPER` is Sanh et al. (2019); `trained_with` reads a student's own."""

    temperature: float = 2.0
    alpha_ce: float = 5.0
    alpha_mlm: float = 2.0
    alpha_cos: float = 1.0
    soft_at: str = "masked"


PAPER = LossSettings(soft_at="all")  # the paper's α and T; its code's default puts the KL at every token


def trained_with(folder) -> LossSettings | None:
    """The loss settings in a student folder's `training.json` (written by `training/distill.py`), if any."""
    import json
    from pathlib import Path

    path = Path(folder) / "training.json"
    try:
        cfg = json.loads(path.read_text())["config"]
        settings = LossSettings(float(cfg["temperature"]), float(cfg["alpha_ce"]), float(cfg["alpha_mlm"]),
                                float(cfg["alpha_cos"]), str(cfg.get("soft_at", "masked")))
    except (OSError, KeyError, TypeError, ValueError):  # no file, not JSON, not ours
        return None
    return settings if settings.soft_at in SOFT_AT and settings.temperature > 0 else None


SOFT_AT = ("masked", "all")  # where the soft-target KL is taken: masked positions, or every real token


def head_rows(labels: torch.Tensor, attention_mask: torch.Tensor, soft_at: str) -> torch.Tensor:
    """`[B, T]` bool: the positions where the loss needs the vocabulary head (the soft targets' rows): every real
    token for `soft_at="all"`, the masked ones for `"masked"`. Training runs the head there only."""
    require(soft_at in SOFT_AT, f"soft_at must be one of {SOFT_AT}, got {soft_at!r}")
    return attention_mask.bool() if soft_at == "all" else labels != -100


def every_other(teacher_layers: int, student_layers: int) -> tuple[int, ...]:
    """DistilBERT's initialisation rule: student layer j starts from teacher layer j · L_t / L_s (0, 2, 4 of 6)."""
    return tuple(j * teacher_layers // student_layers for j in range(student_layers))


def source_layers(folder, teacher_layers: int, student_layers: int) -> tuple[tuple[int, ...], bool]:
    """(the teacher layers a student started from, True) as its `training.json` records them, else
    (`every_other`, False) for a student that does not say."""
    import json
    from pathlib import Path

    try:
        layers = tuple(int(i) for i in json.loads((Path(folder) / "training.json").read_text())["teacher_layers"])
    except (OSError, KeyError, TypeError, ValueError):
        return every_other(teacher_layers, student_layers), False
    ok = len(layers) == student_layers and all(0 <= i < teacher_layers for i in layers)
    return (layers, True) if ok else (every_other(teacher_layers, student_layers), False)


def triple_loss(student_logits, teacher_logits, labels, student_hidden, teacher_hidden, attention_mask, *,
                temperature: float = 2.0, alpha_ce: float = 5.0, alpha_mlm: float = 2.0,
                alpha_cos: float = 1.0, soft_at: str = "masked") -> DistillationLoss:
    """DistilBERT's loss. Logits `[B, T, V]` with labels `[B, T]`, or rows `[N, V]` already picked out, with
    labels `[N]`; labels are -100 where there is no MLM target; hidden `[B, T, d]`; attention_mask `[B, T]`.

    `soft_at="masked"`: the KL at the masked positions only (DistilBERT's `--restrict_ce_to_mask`);
    `"all"`: at every row given (for `[B, T, V]`: every real token), the default of DistilBERT's training code.
    The MLM term is always at the masked positions; the cosine term at every real token."""
    require(soft_at in SOFT_AT, f"soft_at must be one of {SOFT_AT}, got {soft_at!r}")
    if student_logits.dim() == 3:
        rows = head_rows(labels, attention_mask, soft_at)
        student_logits, teacher_logits, labels = student_logits[rows], teacher_logits[rows], labels[rows]
    masked = labels != -100
    if soft_at == "all":
        soft = soft_target_loss(student_logits, teacher_logits, temperature)
    else:
        soft = soft_target_loss(student_logits[masked], teacher_logits[masked], temperature)
    mlm = F.cross_entropy(student_logits[masked].float(), labels[masked])
    real = attention_mask.bool()
    cos = cosine_loss(student_hidden[real], teacher_hidden[real])
    return DistillationLoss(alpha_ce * soft + alpha_mlm * mlm + alpha_cos * cos, soft, mlm, cos)


LAYER_MAP = {  # DistilBERT name ← BERT name, inside one transformer layer
    "attention.q_lin": "attention.self.query",
    "attention.k_lin": "attention.self.key",
    "attention.v_lin": "attention.self.value",
    "attention.out_lin": "attention.output.dense",
    "sa_layer_norm": "attention.output.LayerNorm",
    "ffn.lin1": "intermediate.dense",
    "ffn.lin2": "output.dense",
    "output_layer_norm": "output.LayerNorm",
}


def student_config(teacher_config, n_layers: int) -> DistilBertConfig:
    c = teacher_config
    require(c.hidden_act in ("gelu", "relu"), f"DistilBERT supports gelu/relu, the teacher uses {c.hidden_act}")
    return DistilBertConfig(vocab_size=c.vocab_size, max_position_embeddings=c.max_position_embeddings,
                            dim=c.hidden_size, n_layers=n_layers, n_heads=c.num_attention_heads,
                            hidden_dim=c.intermediate_size, activation=c.hidden_act, dropout=c.hidden_dropout_prob,
                            attention_dropout=c.attention_probs_dropout_prob, pad_token_id=c.pad_token_id,
                            sinusoidal_pos_embds=False, tie_word_embeddings=True)


@torch.no_grad()
def init_student(teacher: BertForMaskedLM, layers: tuple[int, ...] = (0, 2, 4)) -> DistilBertForMaskedLM:
    """A `DistilBertForMaskedLM` with the teacher's embeddings, MLM head and the given encoder layers."""
    require(isinstance(teacher, BertForMaskedLM), "the teacher must be a BertForMaskedLM")
    require(all(0 <= i < teacher.config.num_hidden_layers for i in layers), f"no such teacher layers: {layers}")
    student = DistilBertForMaskedLM(student_config(teacher.config, len(layers))).eval()
    t_emb, s_emb = teacher.bert.embeddings, student.distilbert.embeddings
    s_emb.word_embeddings.weight.copy_(t_emb.word_embeddings.weight)
    # fold the segment-A row into every position: BERT adds it to each token of a single sentence
    s_emb.position_embeddings.weight.copy_(t_emb.position_embeddings.weight + t_emb.token_type_embeddings.weight[0])
    s_emb.LayerNorm.load_state_dict(t_emb.LayerNorm.state_dict())
    for s_layer, t_index in zip(student.distilbert.transformer.layer, layers):
        t_layer = teacher.bert.encoder.layer[t_index]
        for s_name, t_name in LAYER_MAP.items():
            s_layer.get_submodule(s_name).load_state_dict(t_layer.get_submodule(t_name).state_dict())
    head = teacher.cls.predictions
    student.vocab_transform.load_state_dict(head.transform.dense.state_dict())
    student.vocab_layer_norm.load_state_dict(head.transform.LayerNorm.state_dict())
    student.vocab_projector.bias.copy_(head.bias)
    require(student.vocab_projector.weight is student.distilbert.embeddings.word_embeddings.weight, "head not tied")
    return student


# --------------------------------------------------------------------------------------------- looking at a pair
@dataclass(frozen=True)
class SoftComparison:
    """Teacher and student at one masked position, both softened by the same temperature T."""

    temperature: float
    teacher_top: list[int]  # [k] the teacher's most probable ids at T (the order does not depend on T)
    teacher_probs: list[float]  # [k] their teacher probabilities at T
    student_probs: list[float]  # [k] the student's probabilities for the same ids at T
    student_top: list[int]  # [k] the student's own most probable ids
    teacher_entropy: float  # nats, at T
    student_entropy: float
    kl: float  # KL(teacher_T ‖ student_T), nats
    agree: bool  # same arg-max (true at every T)

    @property
    def soft_term(self) -> float:
        """T² · KL: what this position adds to the soft-target loss (before α_ce)."""
        return t_squared(self.kl, self.temperature)


def compare_soft(teacher_logits: torch.Tensor, student_logits: torch.Tensor, temperature: float,
                 k: int = 10) -> SoftComparison:
    """Compare two `[V]` logit vectors at temperature T: the soft targets the student is trained to match."""
    pt, ps = soft_targets(teacher_logits, temperature), soft_targets(student_logits, temperature)
    top_t = pt.topk(k).indices
    kl = float((pt * (pt.clamp_min(1e-12).log() - ps.clamp_min(1e-12).log())).sum())
    return SoftComparison(temperature, top_t.tolist(), pt[top_t].tolist(), ps[top_t].tolist(),
                          ps.topk(k).indices.tolist(), float(entropy(pt)), float(entropy(ps)), kl,
                          bool(teacher_logits.argmax() == student_logits.argmax()))


def per_position(teacher_logits: torch.Tensor, student_logits: torch.Tensor,
                 temperature: float = 1.0) -> tuple[list[bool], list[float]]:
    """For `[N, V]` logits at N positions: does the student's arg-max equal the teacher's, and
    KL(teacher_T ‖ student_T) in nats, row by row (what `compare_soft` gives for one row)."""
    log_t = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    log_s = F.log_softmax(student_logits.float() / temperature, dim=-1)
    kl = (log_t.exp() * (log_t - log_s)).sum(-1)
    return (teacher_logits.argmax(-1) == student_logits.argmax(-1)).tolist(), kl.tolist()


def entropy_by_temperature(logits: torch.Tensor, temperatures: list[float]) -> list[float]:
    """Entropy (nats) of softmax(z / T) of one `[V]` logit vector at each temperature."""
    t = torch.tensor(temperatures, dtype=torch.float32)[:, None]
    log_p = F.log_softmax(logits.float()[None, :] / t, dim=-1)  # one pass: no clamp-and-log of the probabilities
    return (-(log_p.exp() * log_p).sum(-1)).tolist()


def layer_cosines(student_hidden, teacher_hidden, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity over real tokens between every student layer's output and every teacher layer's.

    `*_hidden`: `output_hidden_states` tuples (embeddings first) of `[1, T, d]`. Returns `[S + 1, L + 1]`."""
    real = attention_mask[0].bool()
    s = torch.stack([h[0, real].float() for h in student_hidden])  # [S+1, n, d]
    t = torch.stack([h[0, real].float() for h in teacher_hidden])  # [L+1, n, d]
    s, t = F.normalize(s, dim=-1), F.normalize(t, dim=-1)
    return torch.einsum("snd,lnd->sln", s, t).mean(-1)


NEAR_TIE = 0.05  # the teacher's two best guesses within this much probability (T = 1) of each other


def lead(logits: torch.Tensor) -> torch.Tensor:
    """For `[N, V]` logits: p(first guess) − p(second guess) at T = 1, row by row."""
    top2 = F.softmax(logits.float(), dim=-1).topk(2, dim=-1).values
    return top2[:, 0] - top2[:, 1]


def near_ties(teacher_logits: torch.Tensor, margin: float = NEAR_TIE) -> torch.Tensor:
    """Is the teacher's `lead` under `margin`? Where it is, the teacher is nearly undecided between two words,
    and a student's arg-max may fall on either."""
    return lead(teacher_logits) < margin


@torch.no_grad()
def heldout_agreement(student, teacher, packed: dict, *, mask_token_id: int, vocab_size: int, seed: int = 1234,
                      batch_size: int = 32) -> dict:
    """Held-out masked positions (15 %, 80/10/10, seeded; both models read the same masked input): each model's
    top-1, their top-1 agreement and the mean KL(teacher ‖ student) at T = 1; and the agreement apart where the
    teacher is nearly undecided (`near_ties`) and where it is not."""
    from explainers.masking import IGNORE_INDEX, mask_tokens
    from explainers.mlm import encode, mlm_head

    g = torch.Generator().manual_seed(seed)
    n = s_ok = t_ok = agree = ties = agree_ties = 0
    kl = 0.0
    for i in range(0, len(packed["input_ids"]), batch_size):
        ids, att, special = (packed[k][i:i + batch_size] for k in ("input_ids", "attention_mask", "special"))
        m = mask_tokens(ids.cpu(), special.cpu(), mask_token_id=mask_token_id, vocab_size=vocab_size, generator=g)
        sel = (m.labels != IGNORE_INDEX).to(ids.device)
        masked = m.input_ids.to(ids.device)
        s = mlm_head(student, encode(student, masked, att)[sel]).float()
        t = mlm_head(teacher, encode(teacher, masked, att)[sel]).float()
        target = m.labels.to(ids.device)[sel]
        n += len(target)
        s_ok += int((s.argmax(-1) == target).sum())
        t_ok += int((t.argmax(-1) == target).sum())
        same = s.argmax(-1) == t.argmax(-1)
        tie = near_ties(t)
        agree += int(same.sum())
        ties += int(tie.sum())
        agree_ties += int((same & tie).sum())
        kl += float(soft_target_loss(s, t, 1.0)) * len(target)
    clear = n - ties
    return {"student_top1": s_ok / n, "teacher_top1": t_ok / n, "agreement": agree / n, "kl": kl / n,
            "positions": n, "near_tie_share": ties / n,
            "agreement_near_tie": agree_ties / ties if ties else float("nan"),
            "agreement_clear": (agree - agree_ties) / clear if clear else float("nan")}


def parameter_breakdown(model) -> dict[str, int]:
    """Parameters by part: "token", "position", "segment" (0 for DistilBERT), "layernorm" (of the embeddings),
    "layers" (the transformer layers), "pooler", "head" (the MLM head besides a tied output matrix, which is
    counted once, under "token")."""
    base = model.base_model
    emb = base.embeddings
    segments = getattr(emb, "token_type_embeddings", None)  # DistilBERT has none
    parts = {"token": emb.word_embeddings.weight.numel(),
             "position": emb.position_embeddings.weight.numel(),
             "segment": segments.weight.numel() if segments is not None else 0,
             "layernorm": sum(p.numel() for p in emb.LayerNorm.parameters())}
    layers = base.encoder.layer if hasattr(base, "encoder") else base.transformer.layer
    parts["layers"] = sum(p.numel() for p in layers.parameters())
    parts["pooler"] = sum(p.numel() for p in base.pooler.parameters()) if getattr(base, "pooler", None) else 0
    total = sum(p.numel() for p in model.parameters())
    parts["head"] = total - sum(parts.values())
    return parts


def lead_split(leads: list[float], agrees: list[bool]) -> tuple[float | None, float | None]:
    """The teacher's mean lead where the student agrees with its first guess and where it does not (None for an
    empty group): "where the lead is small, the student most often picks the other word" holds on a sentence when
    the second is the smaller."""
    yes = [x for x, a in zip(leads, agrees) if a]
    no = [x for x, a in zip(leads, agrees) if not a]
    return (sum(yes) / len(yes) if yes else None), (sum(no) / len(no) if no else None)


PAPER_QUALITY = 0.97  # DistilBERT kept 97 % of BERT-base's GLUE dev score (Sanh et al., 2019)


def quality_vs_paper(share: float, paper: float = PAPER_QUALITY, near: float = 0.90) -> str:
    """Where a measured share of the teacher's quality stands against the paper's: "paper" (as close or closer),
    "near" (at least `near`), "short"."""
    if share >= paper:
        return "paper"
    return "near" if share >= near else "short"
