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

from explainers import attention as att
from explainers import embeddings as emb
from explainers.model import EmptyInputError, EncodedInput, LoadedModel, encode_text, load_model

DEFAULT_A = "The teacher wrote a question on the board, and the students answered it."
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


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(name: str, device: str) -> LoadedModel:
    return load_model(name, device)


@st.cache_data(max_entries=128, show_spinner=False)
def encoded(name: str, device: str, text_a: str, text_b: str) -> EncodedInput:
    lm = get_model(name, device)
    return encode_text(lm.tokenizer, text_a, text_b, max_length=lm.max_positions)


def prepare() -> tuple[LoadedModel, EncodedInput]:
    """Model and input for this view, or a friendly message and `st.stop()`."""
    ctx = context()
    lm = get_model(ctx.model_name, ctx.device)
    try:
        enc = encoded(ctx.model_name, ctx.device, ctx.text_a, ctx.text_b)
    except EmptyInputError as err:
        st.info(str(err), icon=":material/edit:")
        st.stop()
    for note in enc.notes:
        st.warning(note, icon=":material/info:")
    return lm, enc


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


@st.cache_data(max_entries=64, show_spinner=False)
def attention(name: str, device: str, text_a: str, text_b: str) -> np.ndarray:
    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    return att.attention_probs(lm.encoder, *_to_device(enc, device))


@st.cache_data(max_entries=64, show_spinner=False)
def head_stats(name: str, device: str, text_a: str, text_b: str) -> att.HeadStats:
    enc = encoded(name, device, text_a, text_b)
    seps = [i for i, t in enumerate(enc.tokens) if t == get_model(name, device).tokenizer.sep_token]
    return att.head_stats(attention(name, device, text_a, text_b), seps)


HEAD_VIEW_MAX_TOKENS = 128  # one layer: 12 heads × 128² weights ≈ 1 MB of HTML
MODEL_VIEW_MAX_TOKENS = 40  # every layer and head: 6 × 12 × 40² ≈ 115k weights ≈ 0.8 MB of HTML


@st.cache_data(max_entries=32, show_spinner=False)
def head_view_html(name: str, device: str, text_a: str, text_b: str, layer: int) -> str:
    from ui.bertviz_offline import head_view_html as build

    enc = encoded(name, device, text_a, text_b)
    n = min(len(enc.tokens), HEAD_VIEW_MAX_TOKENS)
    probs = attention(name, device, text_a, text_b)[:, :, :n, :n]
    return build(probs, enc.tokens[:n], layers=[layer], layer=layer)


@st.cache_data(max_entries=32, show_spinner=False)
def model_view_html(name: str, device: str, text_a: str, text_b: str) -> str:
    from ui.bertviz_offline import model_view_html as build

    enc = encoded(name, device, text_a, text_b)
    return build(attention(name, device, text_a, text_b), enc.tokens, MODEL_VIEW_MAX_TOKENS)
