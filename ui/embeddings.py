"""The input embeddings chapter's caches (`explainers.embeddings`), keyed by model name, device and text."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explainers import embeddings as emb
from ui.state import encoded, get_model, to_device


@st.cache_data(max_entries=64, show_spinner=False)
def embedding_parts(name: str, device: str, text_a: str, text_b: str) -> emb.EmbeddingParts:
    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    ids, _, types = to_device(enc, device)
    return emb.embedding_parts(lm.encoder, ids, types)


@st.cache_data(max_entries=16, show_spinner=False)
def position_cosine(name: str, device: str, n: int) -> np.ndarray:
    return emb.position_cosine(get_model(name, device).encoder, n)
