"""Make a cold deep link work.

With `st.navigation` *and* a `pages/` folder, a fresh server whose first request is `/attention?…` runs
`pages/attention.py` through Streamlit's old pages-folder discovery, without `app.py`: no sidebar, no
navigation, no shared state. Every page calls `require_app()` first; in that case it switches the old
discovery off and reruns, which runs `app.py`, whose `st.navigation` resolves the same url path (page hashes
are computed from url paths, which match the file names) with the query string kept.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
