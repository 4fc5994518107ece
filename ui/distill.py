"""The Distillation chapter's caches: the teacher/student pair and the results the page shows.

Models: `st.cache_resource`, keyed by the two names and the device. Results: `st.cache_data`, keyed by names,
device, text and controls. Logits at the masked positions are cached, so the temperature slider only reruns a
softmax. The speed meter's last measurement of each text is kept for the whole server (`speed`): the meter opens
on it at once, and its button measures again.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from functools import lru_cache

import streamlit as st
import torch
from transformers import AutoModelForMaskedLM

from explainers import builtin
from explainers import distillation as dist
from explainers.masking import IGNORE_INDEX, mask_tokens
from explainers.mlm import encode, mlm_head
from explainers.encoding import EncodedInput
from explainers.model import BUILTIN_DIR, BUILTIN_NAME, LoadedModel, ModelLoadError
from ui.pairs import encode_for_pair, heldout_packed, load_pair, special_mask

STUDENT_DIR = builtin.folder("student")
SPEED_KEPT = 64  # speed measurements kept (pairs × texts), the oldest dropped first


def get_pair(teacher_name: str, student_name: str, device: str) -> tuple[LoadedModel, LoadedModel]:
    """Both models, checked to make a pair (`ui.pairs.load_pair`) of one width: DistilBERT's cosine loss compares
    hidden vectors."""
    teacher, student = load_pair((teacher_name, student_name), device, (BUILTIN_DIR, STUDENT_DIR),
                                 (AutoModelForMaskedLM, AutoModelForMaskedLM),
                                 lambda a, b: ModelLoadError("distillation_vocabularies", teacher=a.name,
                                                             student=b.name))
    if teacher.config.hidden_size != student.config.hidden_size:
        raise ModelLoadError("distillation_widths", teacher=teacher_name, student=student_name,
                             teacher_width=teacher.config.hidden_size, student_width=student.config.hidden_size)
    return teacher, student


@st.cache_data(max_entries=128, show_spinner=False)
def encoded(teacher_name: str, student_name: str, device: str, text_a: str, text_b: str) -> EncodedInput:
    return encode_for_pair(*get_pair(teacher_name, student_name, device), text_a, text_b)


@dataclass(frozen=True)
class MaskedPair:
    """The sentence masked once (15 %-style, seeded); both models' logits at the masked positions."""

    tokens: list[str]  # [T] original pieces
    shown: list[str]  # [T] what both models read
    action: list[int]  # [T] explainers.masking.Action
    positions: list[int]  # [N]
    teacher_logits: torch.Tensor  # [N, V]
    student_logits: torch.Tensor  # [N, V]
    maskable: int
    # at each masked position (`explainers.distillation.per_position`, `lead`): computed once per masked
    # sentence and cached with it, so moving back to a rate seen before runs no tensor code
    teacher_top: list[str]  # [N] the teacher's first guess
    student_top: list[str]  # [N] the student's
    agrees: list[bool]  # [N]
    kls: list[float]  # [N] KL(teacher ‖ student) at T = 1
    leads: list[float]  # [N] the teacher's p(first guess) − p(second guess)
    teacher_entropy: list[float]  # [N] the teacher's entropy (nats) at T = 1: what a higher T spreads out from
    surest: int  # the masked position (index into `positions`) where the teacher's first guess is likeliest
    loss: dict[str, float] | None  # the triple loss's terms on this sentence (None: nothing masked)
    settings: dist.LossSettings  # the loss settings it was computed with
    settings_known: bool  # True: the student's own (its training.json); False: the paper's, for a foreign student


def _student_folder(student_name: str):
    """Where a student's training.json would be: the built-in student's folder, or the name as typed."""
    return STUDENT_DIR if student_name in ("", BUILTIN_NAME) else student_name


@lru_cache(maxsize=16)  # read once per student, like the model itself, not on every slider move
def loss_settings(student_name: str) -> tuple[dist.LossSettings, bool]:
    """The settings that trained this student where its folder records them, else the paper's."""
    own = dist.trained_with(_student_folder(student_name))
    return (own, True) if own else (dist.PAPER, False)


@lru_cache(maxsize=16)
def source_layers(student_name: str, teacher_layers: int, student_layers: int) -> tuple[tuple[int, ...], bool]:
    """The teacher layers this student started from (its training.json), or DistilBERT's rule if it does not say."""
    return dist.source_layers(_student_folder(student_name), teacher_layers, student_layers)


@st.cache_data(max_entries=64, show_spinner=False)
def masked_pair(teacher_name: str, student_name: str, device: str, text_a: str, text_b: str, rate: float,
                seed: int) -> MaskedPair:
    teacher, student = get_pair(teacher_name, student_name, device)
    enc = encoded(teacher_name, student_name, device, text_a, text_b)
    tok = teacher.tokenizer
    special = special_mask(enc, tok)
    m = mask_tokens(enc.input_ids, special, mask_token_id=tok.mask_token_id, vocab_size=len(tok), rate=rate,
                    generator=torch.Generator().manual_seed(seed))
    sel = m.labels[0] != IGNORE_INDEX
    positions = sel.nonzero()[:, 0].tolist()
    ids, att, types = m.input_ids.to(device), enc.attention_mask.to(device), enc.token_type_ids.to(device)
    settings, known = loss_settings(student_name)
    on = sel.to(device)
    rows = dist.head_rows(m.labels[0].to(device), att[0], settings.soft_at)  # where the vocabulary head runs
    with torch.no_grad():
        th, sh = encode(teacher.model, ids, att, types), encode(student.model, ids, att, types)
        t_rows, s_rows = mlm_head(teacher.model, th[0, rows]).float(), mlm_head(student.model, sh[0, rows]).float()
    loss = None
    if positions:
        out = dist.triple_loss(s_rows, t_rows, m.labels[0].to(device)[rows], sh, th, att, **asdict(settings))
        loss = {"soft": float(out.soft), "mlm": float(out.mlm), "cos": float(out.cos), "total": float(out.total)}
    masked_rows = on[rows]  # the masked positions among the rows
    t_logits, s_logits = t_rows[masked_rows].cpu(), s_rows[masked_rows].cpu()
    agrees, kls = dist.per_position(t_logits, s_logits, 1.0)
    t_probs = dist.soft_targets(t_logits)
    return MaskedPair(enc.tokens, tok.convert_ids_to_tokens(m.input_ids[0].tolist()), m.action[0].tolist(), positions,
                      t_logits, s_logits, int((special == 0).sum()),
                      tok.convert_ids_to_tokens(t_logits.argmax(-1).tolist()),
                      tok.convert_ids_to_tokens(s_logits.argmax(-1).tolist()), agrees, kls,
                      dist.lead(t_logits).tolist(), dist.entropy(t_probs).tolist(),
                      int(t_probs.amax(-1).argmax()) if positions else 0, loss, settings, known)


@st.cache_data(max_entries=512, show_spinner=False)
def soft_comparison(teacher_name: str, student_name: str, device: str, text_a: str, text_b: str, rate: float,
                    seed: int, j: int, temperature: float, k: int) -> dist.SoftComparison:
    """`explainers.distillation.compare_soft` at masked position `j` of this masking: the temperature and
    position controls' result, computed once per setting (two softmaxes over the vocabulary and a KL otherwise
    ran on every move of the Rate slider too, about 15 ms)."""
    mp = masked_pair(teacher_name, student_name, device, text_a, text_b, rate, seed)
    return dist.compare_soft(mp.teacher_logits[j], mp.student_logits[j], temperature, k)


@st.cache_data(max_entries=256, show_spinner=False)
def entropy_curves(teacher_name: str, student_name: str, device: str, text_a: str, text_b: str, rate: float,
                   seed: int, j: int, temperatures: tuple[float, ...]) -> tuple[list[float], list[float]]:
    """Entropy of the teacher's and the student's soft targets at masked position `j`, at each temperature:
    the same for every temperature the slider picks, so computed once."""
    mp = masked_pair(teacher_name, student_name, device, text_a, text_b, rate, seed)
    return (dist.entropy_by_temperature(mp.teacher_logits[j], list(temperatures)),
            dist.entropy_by_temperature(mp.student_logits[j], list(temperatures)))


def _hidden_states(model, ids, att, types):
    kwargs = dict(input_ids=ids, attention_mask=att, output_hidden_states=True)
    if model.config.model_type != "distilbert":  # DistilBERT has no segments
        kwargs["token_type_ids"] = types
    return model.base_model(**kwargs).hidden_states


@st.cache_data(max_entries=64, show_spinner=False)
def hidden_cosines(teacher_name: str, student_name: str, device: str, text_a: str, text_b: str) -> torch.Tensor:
    teacher, student = get_pair(teacher_name, student_name, device)
    enc = encoded(teacher_name, student_name, device, text_a, text_b)
    ids, att = enc.input_ids.to(device), enc.attention_mask.to(device)
    with torch.no_grad():
        th, sh = (_hidden_states(lm.model, ids, att, enc.token_type_ids.to(device)) for lm in (teacher, student))
    return dist.layer_cosines(sh, th, att).cpu()


@st.cache_data(max_entries=16, show_spinner=False)
def heldout(teacher_name: str, student_name: str, device: str) -> dict:
    teacher, student = get_pair(teacher_name, student_name, device)
    batch = heldout_packed(f"distill:{teacher_name}|{student_name}", teacher.tokenizer, teacher.max_positions, device)
    return dist.heldout_agreement(student.model, teacher.model, batch, mask_token_id=teacher.tokenizer.mask_token_id,
                                  vocab_size=len(teacher.tokenizer))


def shipped(teacher_name: str, student_name: str) -> dict | None:
    """The built-in pair's held-out numbers as measured when the student was made (`training/cards/student.py`: the
    corpus's held-out split, the numbers of the model cards and the README), or None for any other pair."""
    from explainers.model import measured_facts

    if (teacher_name, student_name) != (BUILTIN_NAME, BUILTIN_NAME):
        return None
    return measured_facts(STUDENT_DIR, student=STUDENT_DIR / "model.safetensors",
                          teacher=BUILTIN_DIR / "model.safetensors")


@st.cache_resource(show_spinner=False)
def _measurements() -> tuple[threading.Lock, OrderedDict]:
    """The server's last measurement of each pair, device and text, shared by every session, and the lock that
    keeps two measurements from running at once (each would slow the other)."""
    return threading.Lock(), OrderedDict()


def speed(teacher_name: str, student_name: str, device: str, text_a: str, text_b: str, *, again: bool = False):
    """The last measurement of this pair on this text, made now if there is none or `again` (the page's "Measure
    again"): the step opens at once on the numbers, and a measurement is still one the reader asked for or the
    server made (15 runs each; 7 for long text, to keep the page quick)."""
    from explainers.speed import encoder_latency

    lock, latest = _measurements()
    key = (teacher_name, student_name, device, text_a, text_b)
    with lock:
        if again or key not in latest:
            teacher, student = get_pair(teacher_name, student_name, device)
            enc = encoded(teacher_name, student_name, device, text_a, text_b)
            latest[key] = encoder_latency({"teacher": teacher.model, "student": student.model},
                                          enc.input_ids.to(device), enc.attention_mask.to(device),
                                          repeats=15 if len(enc.tokens) <= 128 else 7)
        latest.move_to_end(key)
        while len(latest) > SPEED_KEPT:
            latest.popitem(last=False)
        return latest[key]
