"""Inside BERT: the frame. Page config, the shared sidebar (text, model, device), navigation. Nothing else."""
from __future__ import annotations

from urllib.parse import quote_plus

import streamlit as st
import torch

from explainers.model import BUILTIN_NAME, ModelLoadError, default_device
from ui import state
from ui.html import md_escape
from ui.prose import TEXT_DIR, LANG

st.set_page_config(page_title="Inside BERT", page_icon="assets/icon.png", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", url_path="overview", default=True),
    st.Page("pages/embeddings.py", title="1 · Input embeddings", icon=":material/stacks:", url_path="embeddings"),
    st.Page("pages/attention.py", title="2 · Attention heads", icon=":material/visibility:", url_path="attention"),
    st.Page("pages/masking.py", title="3 · Masking", icon=":material/theater_comedy:", url_path="masking"),
    st.Page("pages/electra.py", title="4 · ELECTRA", icon=":material/policy:", url_path="electra"),
    st.Page("pages/distillation.py", title="5 · Distillation", icon=":material/school:", url_path="distillation"),
]


def _examples() -> dict[str, tuple[str, str]]:
    rows = (TEXT_DIR / LANG / "examples.tsv").read_text(encoding="utf-8").splitlines()
    cells = [r.split("\t") + [""] for r in rows if r and not r.startswith("#")]
    return {c[0]: (c[1], c[2]) for c in cells}


def _load_example() -> None:
    choice = st.session_state.get("example")
    if choice in _examples():
        st.session_state["a"], st.session_state["b"] = _examples()[choice]


def _device() -> str:
    if default_device() == "cpu":
        st.sidebar.caption(f"Device: **CPU** ({torch.get_num_threads()} threads) · float32")
        return "cpu"
    choice = st.sidebar.radio("Device", ["cuda", "cpu"], key="device", horizontal=True, bind="query-params")
    return choice if choice in ("cuda", "cpu") else "cuda"


def _model(device: str) -> str:
    name = st.sidebar.text_input(
        "Model", value=BUILTIN_NAME, key="model", bind="query-params",
        help="`built-in` (ships with the app, works offline), a Hugging Face Hub id such as "
             "`bert-base-uncased`, or a local folder saved with `save_pretrained`.").strip() or BUILTIN_NAME
    try:
        state.get_model(name, device)
        st.session_state["_good_model"] = name
    except ModelLoadError as err:
        fallback = st.session_state.get("_good_model", BUILTIN_NAME)
        st.sidebar.error(f"{md_escape(str(err))}\n\nStill using **{md_escape(fallback)}**.")
        name = fallback
    lm = state.get_model(name, device)
    cfg = lm.config
    st.sidebar.caption(f"{cfg.model_type} · {getattr(cfg, 'num_hidden_layers', getattr(cfg, 'n_layers', '?'))} "
                       f"layers · {lm.encoder.num_parameters() / 1e6:.1f} M parameters")
    return name


# The text travels in the page's address, so a link shows the same sentence; a very long one would make the
# address too long for the server (a reload then fails with HTTP 400), so it stays out of the address.
URL_TEXT_BYTES = 16_000


def _bind(key: str, default: str) -> str | None:
    return "query-params" if len(quote_plus(st.session_state.get(key, default))) <= URL_TEXT_BYTES else None


with st.sidebar:
    st.title("Inside BERT")
    st.selectbox("Load an example", list(_examples()), index=None, key="example", on_change=_load_example,
                 placeholder="Choose an example…")
    bind_a, bind_b = _bind("a", state.DEFAULT_A), _bind("b", state.DEFAULT_B)
    text_a = st.text_area("Sentence A", value=state.DEFAULT_A, key="a", bind=bind_a, max_chars=20_000, height=90)
    text_b = st.text_area("Sentence B (optional)", value=state.DEFAULT_B, key="b", bind=bind_b, max_chars=20_000,
                          height=68, help="A second sentence makes a pair: segment B.")
    if None in (bind_a, bind_b):
        st.caption("This text is too long for the page's address: a copied link or a reload will not keep it.")
device = _device()
model_name = _model(device)
state.set_context(state.Context(model_name, device, text_a or "", text_b or ""))

st.navigation(PAGES).run()
