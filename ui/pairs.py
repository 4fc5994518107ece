"""What the two-model chapters (ELECTRA, Distillation) share: choosing the pair and encoding the sidebar text."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from explainers.model import BUILTIN_NAME, EmptyInputError, EncodedInput, ModelLoadError
from ui.html import md_escape


def choose_pair(title: str, labels: tuple[str, str], keys: tuple[str, str], about: str, missing: str,
                load: Callable[[str, str], object]) -> tuple[str, str]:
    """Two model names from an expander (bound to the URL), checked by `load(a, b)`. A pair that fails to load
    gets its message and the built-in pair is used; without a built-in pair, `missing` is shown and the page
    stops."""
    with st.expander(title, icon=":material/swap_horiz:"):
        st.markdown(about)
        cols = st.columns(2)
        names = tuple(col.text_input(label, BUILTIN_NAME, key=key, bind="query-params").strip() or BUILTIN_NAME
                      for col, label, key in zip(cols, labels, keys))
    try:
        load(*names)
        return names
    except ModelLoadError as err:
        if names == (BUILTIN_NAME, BUILTIN_NAME):
            st.warning(missing, icon=":material/build:")
            st.stop()
        st.error(f"{md_escape(str(err))}\n\nShowing the built-in pair instead.", icon=":material/error:")
        return BUILTIN_NAME, BUILTIN_NAME


def encode_or_stop(encode: Callable[[], EncodedInput]) -> EncodedInput:
    """The encoded sidebar text with its notes shown, or the empty-text message and `st.stop()`."""
    try:
        enc = encode()
    except EmptyInputError as err:
        st.info(str(err), icon=":material/edit:")
        st.stop()
    for note in enc.notes:
        st.warning(note, icon=":material/info:")
    return enc
