"""The view's shared state and the caches every page uses.

`app.py` reads the sidebar and stores a `Context`; pages call `prepare()` for the loaded model and the encoded
input, or get a friendly message and a stop. Models: `st.cache_resource` (shared by all sessions, never
mutated). Results: `st.cache_data`, keyed by model name, device and text, so switching models never returns
a stale result.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from explainers import attention as att
from explainers import embeddings as emb
from explainers.encoding import EncodedInput, encode_text
from explainers.errors import require
from explainers.model import LoadedModel
from ui.pairs import encode_or_stop, heldout_packed, special_mask  # noqa: F401  (pages read them here)
from ui.text import t

# English, whoever imports this first: the built-in models read English. And a module must not read the session at
# import time: Streamlit may stop a script run there (a fast rerun), and the half-imported module then fails the
# import in another run (tests/test_imports.py)
DEFAULT_A = t("sidebar.sentence_a_default", "en")
DEFAULT_B = ""


@dataclass(frozen=True)
class Context:
    model_name: str
    device: str
    text_a: str
    text_b: str


def set_context(ctx: Context) -> None:
    st.session_state["_context"] = ctx


def context() -> Context:
    return st.session_state.get("_context") or Context("built-in", "cpu", DEFAULT_A, DEFAULT_B)


def get_model(name: str, device: str) -> LoadedModel:
    """The sidebar's model, as the server's model-loading policy allows (`ui.models`)."""
    from ui import models

    return models.load(name, device)


@st.cache_data(max_entries=128, show_spinner=False)
def encoded(name: str, device: str, text_a: str, text_b: str) -> EncodedInput:
    lm = get_model(name, device)
    return encode_text(lm.tokenizer, text_a, text_b, max_length=lm.max_positions)


def prepare() -> tuple[LoadedModel, EncodedInput]:
    """Model and input for this view, or a friendly message and `st.stop()`."""
    ctx = context()
    lm = get_model(ctx.model_name, ctx.device)
    return lm, encode_or_stop(lambda: encoded(ctx.model_name, ctx.device, ctx.text_a, ctx.text_b))


def follow_input(key: str, derived_from, default, keep=None) -> None:
    """A picker whose options come from the input (a position, a token, a head) re-derives when the input
    changes: when `derived_from` (e.g. the tokens) differs from what the picker was last drawn for, its value is
    set to `default`, the new input's opening choice, so that it never names a piece of the old input ("8 ·
    board" beside charts of another sentence). `keep(value)`: a value still meaningful for the new input stays
    (a layer the user chose). The first run of a session (a link opened) keeps the address's value. Call it
    before the widget is drawn."""
    seen = st.session_state.get(f"_from_{key}")
    if seen is not None and seen != derived_from and key in st.session_state:
        if keep is None or not keep(st.session_state[key]):
            st.session_state[key] = default
    st.session_state[f"_from_{key}"] = derived_from


def _to_device(enc: EncodedInput, device: str):
    return (enc.input_ids.to(device), enc.attention_mask.to(device), enc.token_type_ids.to(device))


@st.cache_data(max_entries=64, show_spinner=False)
def embedding_parts(name: str, device: str, text_a: str, text_b: str) -> emb.EmbeddingParts:
    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    ids, _, types = _to_device(enc, device)
    return emb.embedding_parts(lm.encoder, ids, types)


@st.cache_data(max_entries=16, show_spinner=False)
def position_cosine(name: str, device: str, n: int) -> np.ndarray:
    return emb.position_cosine(get_model(name, device).encoder, n)


@st.cache_data(max_entries=8, show_spinner=False)  # up to 6·12·512² floats (75 MB) an entry
def attention(name: str, device: str, text_a: str, text_b: str) -> np.ndarray:
    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    return att.attention_probs(lm.encoder, *_to_device(enc, device))


@st.cache_data(max_entries=64, show_spinner=False)
def head_stats(name: str, device: str, text_a: str, text_b: str) -> att.HeadStats:
    enc = encoded(name, device, text_a, text_b)
    seps = [i for i, t in enumerate(enc.tokens) if t == get_model(name, device).tokenizer.sep_token]
    return att.head_stats(attention(name, device, text_a, text_b), seps)


# Both bertviz views ship every layer and head: 6 × 12 × 48² ≈ 166k weights ≈ 1 MB of HTML. They do not depend
# on the page's layer/head sliders, so a slider move does not rebuild them.
HEAD_VIEW_MAX_TOKENS = 48
MODEL_VIEW_MAX_TOKENS = 48


@st.cache_data(max_entries=32, show_spinner=False)
def head_view_html(name: str, device: str, text_a: str, text_b: str, layer: int, head: int | None, lang: str) -> str:
    """`lang`: the page's words (its layer selector's label) are part of the cache key, and named, not read from the
    session: the download's page is made on a thread of Streamlit's that has none."""
    from ui.bertviz_offline import head_view_html as build

    enc = encoded(name, device, text_a, text_b)
    return build(attention(name, device, text_a, text_b), enc.tokens, HEAD_VIEW_MAX_TOKENS, layer, head, lang)


@st.cache_data(max_entries=32, show_spinner=False)
def model_view_html(name: str, device: str, text_a: str, text_b: str) -> str:
    from ui.bertviz_offline import model_view_html as build

    enc = encoded(name, device, text_a, text_b)
    return build(attention(name, device, text_a, text_b), enc.tokens, MODEL_VIEW_MAX_TOKENS)


# ------------------------------------------------------------------------------------------------ masking
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


def _masked(name: str, device: str, text_a: str, text_b: str, rate: float, p_mask: float, p_random: float,
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

    lm, enc, special, m = _masked(name, device, text_a, text_b, rate, p_mask, p_random, seed, whole_word, every)
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
    distillation chapter quote (`training/cards.py`, written beside the student), or None for another model."""
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


@dataclass(frozen=True)
class LensView:
    """`explainers.lens.logit_lens` at one masked position, in pieces: what the Masking chapter's lens draws."""

    layers: list[int]  # [L+1]: 0 = embeddings
    top_tokens: list[list[str]]  # [L+1, k]
    top_probs: list[list[float]]  # [L+1, k]
    final_token: str  # the last layer's top-1
    final_ranks: list[int]  # [L+1] its rank at each layer (0 = top-1)
    final_probs: list[float]  # [L+1] its probability at each layer


@st.cache_data(max_entries=128, show_spinner=False)
def lens_at(name: str, device: str, text_a: str, text_b: str, rate: float, p_mask: float, p_random: float,
            seed: int, whole_word: bool, every: bool, position: int, student: bool = False, k: int = 3) -> LensView:
    """The logit lens at `position` of the sidebar sentence masked as `masked_sentence` masks it, read with the
    sidebar's model, or (`student`) with the built-in student, which shares the built-in teacher's vocabulary."""
    from explainers.lens import logit_lens

    lm, enc, _, m = _masked(name, device, text_a, text_b, rate, p_mask, p_random, seed, whole_word, every)
    if student:
        from explainers.model import BUILTIN_NAME
        from ui.distill import get_pair

        require(name == BUILTIN_NAME, "the built-in student reads the built-in teacher's vocabulary only")
        lm = get_pair(BUILTIN_NAME, BUILTIN_NAME, device)[1]
    lens = logit_lens(lm.model, m.input_ids.to(device), enc.attention_mask.to(device), position, k=k,
                      token_type_ids=enc.token_type_ids.to(device))
    return lens_view(lens, lm.tokenizer)


def lens_view(lens, tokenizer) -> LensView:
    """An `explainers.lens.Lens` in the tokenizer's pieces, as the lens figure draws it."""
    tokens = tokenizer.convert_ids_to_tokens
    return LensView(lens.layers, [tokens(row) for row in lens.top_ids.tolist()], lens.top_probs.tolist(),
                    tokens(lens.final_id), lens.final_ranks.tolist(), lens.final_probs.tolist())
