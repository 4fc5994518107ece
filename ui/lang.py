"""The reader's language: English or 中文, chosen in the sidebar and kept in the address (`?lang=zh`), else the
browser's language (`st.context.locale`). `ui.text.t` asks `current()` for every string; a translation is a folder
(`assets/text/zh/`), not a code change.

Model tokens, code names and numbers stay as they are; the sentences the models read stay English (the built-in
models read English), with a Chinese gloss where the Chinese UI offers them.
"""
from __future__ import annotations

import streamlit as st

from ui import text

LANGS = {"en": "English", "zh": "中文"}
KEY = "lang"


def from_locale(locale: str | None) -> str:
    """"zh-CN", "zh-TW", "zh" → "zh"; anything else (or nothing) → "en"."""
    return "zh" if (locale or "").lower().replace("_", "-").split("-")[0] == "zh" else "en"


def current() -> str:
    """This session's language: the switch, else the address, else the browser's; English outside a session
    (the warm-up thread, scripts)."""
    try:
        chosen = st.session_state.get(KEY) or st.query_params.get(KEY)  # the switch, else the address
        return chosen if chosen in LANGS else _browser()
    except Exception:  # no script run context: not a reader's session
        return text.LANG


def _browser() -> str:
    """The language of the reader's browser (English outside a session)."""
    try:
        return from_locale(st.context.locale)
    except Exception:
        return text.LANG


def switch() -> None:
    """The sidebar's English / 中文 switch (`app.py`). The address says the language (`?lang=`) whenever it is not
    English for an English browser, also when it came from the browser, so that a copied link opens in the
    language it was copied in."""
    if st.session_state.get(KEY) not in LANGS:
        st.session_state[KEY] = current()
    st.segmented_control(text.t("sidebar.language"), list(LANGS), format_func=LANGS.get, key=KEY, required=True,
                         label_visibility="collapsed")
    chosen = st.session_state[KEY]
    if chosen != text.LANG or chosen != _browser():  # English for an English browser: the address stays clean
        if st.query_params.get(KEY) != chosen:
            st.query_params[KEY] = chosen
    elif KEY in st.query_params:
        del st.query_params[KEY]


text.set_language_source(current)
