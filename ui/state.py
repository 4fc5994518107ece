"""The view's shared state and the caches every page uses.

`app.py` reads the sidebar and stores a `Context`; pages call `prepare()` for the loaded model and the encoded
input, or get a friendly message and a stop. Models: `st.cache_resource` (shared by all sessions, never
mutated). Results: `st.cache_data`, keyed by model name, device and text, so switching models never returns
a stale result.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explainers.encoding import EncodedInput, encode_text
from explainers.model import LoadedModel
from ui.pairs import encode_or_stop
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


def to_device(enc: EncodedInput, device: str):
    return (enc.input_ids.to(device), enc.attention_mask.to(device), enc.token_type_ids.to(device))
