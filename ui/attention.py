"""The attention chapter's caches: every head's weights (`explainers.attention`), their statistics, and
bertviz's two views drawn offline (`ui.bertviz_offline`)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explainers import attention as att
from ui.state import encoded, get_model, to_device


@st.cache_data(max_entries=8, show_spinner=False)  # up to 6·12·512² floats (75 MB) an entry
def attention(name: str, device: str, text_a: str, text_b: str) -> np.ndarray:
    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    return att.attention_probs(lm.encoder, *to_device(enc, device))


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
