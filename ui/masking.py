"""The masking chapter's caches: the sidebar sentence masked as training masks it and the model's guesses
(`explainers.masking`, `explainers.mlm`), the rate comparison, fill in the blank, the held-out rate curve."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from explainers.encoding import encode_text
from ui.pairs import heldout_packed, special_mask
from ui.state import encoded, get_model


@dataclass(frozen=True)
class MaskedSentence:
    """The sidebar sentence after `mask_tokens`, with the model's guesses at the selected positions."""

    tokens: list[str]  # original pieces, [T]
    shown: list[str]  # what the model reads, [T]
    action: list[int]  # explainers.masking.Action per position, [T]
    positions: list[int]  # selected positions, [N]
    top_tokens: list[list[str]]  # [N, k]
    top_probs: list[list[float]]  # [N, k]
    target_probs: list[float]  # [N]
    target_ranks: list[int]  # [N]
    maskable: int  # positions that could be selected


def masked(name: str, device: str, text_a: str, text_b: str, rate: float, p_mask: float, p_random: float,
            seed: int, whole_word: bool, every: bool):
    """(model, encoded input, special mask, `MaskingResult`): the sidebar sentence masked as training masks it."""
    from explainers.masking import content_pieces, mask_tokens, word_ids_from_tokens

    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    special = special_mask(enc, lm.tokenizer)
    m = mask_tokens(enc.input_ids, special, mask_token_id=lm.tokenizer.mask_token_id, vocab_size=len(lm.tokenizer),
                    rate=rate, p_mask=p_mask, p_random=p_random, generator=torch.Generator().manual_seed(seed),
                    word_ids=word_ids_from_tokens([enc.tokens]) if whole_word else None,
                    every_occurrence=content_pieces(lm.tokenizer.get_vocab()) if whole_word and every else None)
    return lm, enc, special, m


@st.cache_data(max_entries=256, show_spinner=False)
def masked_sentence(name: str, device: str, text_a: str, text_b: str, rate: float, p_mask: float,
                    p_random: float, seed: int, whole_word: bool, k: int, every: bool = False) -> MaskedSentence:
    """`every`: with whole words, a chosen content word is hidden wherever it occurs (as the teacher trained)."""
    from explainers.mlm import predict

    lm, enc, special, m = masked(name, device, text_a, text_b, rate, p_mask, p_random, seed, whole_word, every)
    positions = m.selected[0].nonzero()[:, 0].tolist()
    shown = lm.tokenizer.convert_ids_to_tokens(m.input_ids[0].tolist())
    base = MaskedSentence(enc.tokens, shown, m.action[0].tolist(), positions, [], [], [], [],
                          int((special == 0).sum()))
    if not positions:
        return base
    ids, att, types = (x.to(device) for x in (m.input_ids, enc.attention_mask, enc.token_type_ids))
    p = predict(lm.model, ids, att, positions, k=k, token_type_ids=types,
                targets=enc.input_ids[0, positions].tolist())
    return MaskedSentence(enc.tokens, shown, m.action[0].tolist(), positions,
                          [lm.tokenizer.convert_ids_to_tokens(row) for row in p.top_ids.tolist()],
                          p.top_probs.tolist(), p.target_probs.tolist(), p.target_ranks.tolist(), base.maskable)


COMPARE_DRAWS = 16  # maskings of the sentence pooled per rate: at 15 % one draw hides 2 or 3 pieces of a sentence


def rate_comparison(name: str, device: str, text_a: str, text_b: str, rate: float, k: int,
                    draws: int = COMPARE_DRAWS) -> tuple[int, int]:
    """(pieces recovered top-1, pieces hidden) over `draws` maskings (seeds 0..draws-1) of the sentence at
    `rate`, BERT's 80/10/10: the words under the rate comparison read these, not one draw's two or three pieces."""
    hits = hidden = 0
    for seed in range(draws):
        m = masked_sentence(name, device, text_a, text_b, rate, 0.8, 0.1, seed, False, k)
        hits += sum(r == 0 for r in m.target_ranks)
        hidden += len(m.positions)
    return hits, hidden


def random_piece(vocab_size: int, seed: int, position: int) -> int:
    """A random vocabulary id for the "random piece" case, drawn like `mask_tokens` draws (uniform ids)."""
    return int(torch.randint(vocab_size, (1,), generator=torch.Generator().manual_seed(seed * 4099 + position)))


@st.cache_data(max_entries=256, show_spinner=False)
def guesses_with(name: str, device: str, text_a: str, text_b: str, position: int, replacement: int | None,
                 k: int) -> tuple[list[str], list[float], float, int]:
    """Top-k at `position` when the model reads `replacement` there (None: the original token)."""
    from explainers.mlm import predict

    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    ids = enc.input_ids.clone()
    if replacement is not None:
        ids[0, position] = replacement
    p = predict(lm.model, ids.to(device), enc.attention_mask.to(device), [position], k=k,
                token_type_ids=enc.token_type_ids.to(device), targets=[int(enc.input_ids[0, position])])
    return (lm.tokenizer.convert_ids_to_tokens(p.top_ids[0].tolist()), p.top_probs[0].tolist(),
            float(p.target_probs[0]), int(p.target_ranks[0]))


def heldout_batch(name: str, device: str, sequences: int = 32) -> dict:
    lm = get_model(name, device)
    return heldout_packed(f"model:{name}", lm.tokenizer, lm.max_positions, device, sequences)


@st.cache_resource(show_spinner=False)
def shipped_rate_curve(name: str):
    """The built-in teacher's "Why 15 %?" curve, measured at build time (`training/rate_curve.py`), or None: for
    another model, or when the file does not belong to the weights or the held-out text it names."""
    import json

    from explainers.mlm import RateCurve
    from explainers.model import BUILTIN_DIR, BUILTIN_NAME, file_sha256
    from ui.prose import LANG, TEXT_DIR

    path = BUILTIN_DIR / "rate_curve.json"
    if name != BUILTIN_NAME or not path.is_file():
        return None
    facts = json.loads(path.read_text())
    if (facts.get("model_sha256") != file_sha256(BUILTIN_DIR / "model.safetensors")
            or facts.get("heldout_sha256") != file_sha256(TEXT_DIR / LANG / "heldout.txt")):
        return None
    return RateCurve(**facts["curve"])


def shipped_teacher_top1(name: str) -> dict | None:
    """The built-in teacher's held-out masked top-1 from the one measurement the README, the model cards and the
    distillation chapter quote (`training/cards/student.py`, written beside the student), or None for another model."""
    from explainers import builtin
    from explainers.model import BUILTIN_DIR, BUILTIN_NAME, measured_facts

    if name != BUILTIN_NAME:
        return None
    return measured_facts(builtin.folder("student"), teacher=BUILTIN_DIR / "model.safetensors")


@st.cache_data(max_entries=256, show_spinner=False)
def rate_point(name: str, device: str, rate: float, seed: int = 0):
    """Masked top-1 and loss at one masking rate on the held-out batch (one point of the curve)."""
    from explainers.mlm import accuracy_by_rate

    lm, batch = get_model(name, device), heldout_batch(name, device)
    return accuracy_by_rate(lm.model, batch["input_ids"], batch["attention_mask"], batch["special"],
                            mask_token_id=lm.tokenizer.mask_token_id, vocab_size=len(lm.tokenizer),
                            rates=[rate], seed=seed)[0]


@st.cache_data(max_entries=128, show_spinner=False)
def fill_in(name: str, device: str, text: str, k: int) -> tuple[list[str], list[list[str]], list[list[float]]]:
    """Tokens of `text` and the top-k at each literal [MASK]."""
    from explainers.mlm import predict

    lm = get_model(name, device)
    enc = encode_text(lm.tokenizer, text, max_length=lm.max_positions)
    positions = [i for i, t in enumerate(enc.input_ids[0].tolist()) if t == lm.tokenizer.mask_token_id]
    if not positions:
        return enc.tokens, [], []
    p = predict(lm.model, enc.input_ids.to(device), enc.attention_mask.to(device), positions, k=k,
                token_type_ids=enc.token_type_ids.to(device))
    return (enc.tokens, [lm.tokenizer.convert_ids_to_tokens(r) for r in p.top_ids.tolist()], p.top_probs.tolist())
