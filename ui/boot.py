"""Make a cold deep link work, with Streamlit's public API only.

With `st.navigation` *and* a `pages/` folder, a freshly started server runs its first request(s) through
Streamlit's old pages-folder discovery until some script calls `st.navigation`. A first request for `/` runs
`app.py`, which calls `st.navigation` before anything else. A first request for `/attention?…` runs
`pages/attention.py` alone, without `app.py`: no sidebar, no shared state. Every page calls `require_app()`
first; when the frame did not run it in this script run (`app.py` leaves a token right before `page.run()`,
which the page takes), it declares the app's navigation (`st.navigation`, which
ends the old discovery for the whole server) and reruns: the rerun runs `app.py`, whose navigation resolves
the same url path (Streamlit hashes pages by url path, and ours match the file names; `/overview` has its own
hidden page), with the query string kept.
"""
from __future__ import annotations

import streamlit as st

from ui import lang  # noqa: F401  installs the session's language for ui.text, on a cold deep link too

_FRAME = "_frame_ran"


def page_config() -> None:
    """The app's title, icon and layout. Also set on a cold deep link before its rerun: without it, that first
    page shows its chapter's material icon as the favicon, which the browser fetches from a font CDN."""
    from ui.present import on
    from ui.text import t

    st.set_page_config(page_title=t("sidebar.app_title"), page_icon="assets/icon.png", layout="wide",
                       initial_sidebar_state="collapsed" if on() else "auto")  # presenter mode: sidebar closed


def frame_ran() -> None:
    """Called by `app.py` right before it runs the page."""
    st.session_state[_FRAME] = True


def require_app() -> None:
    if not st.session_state.pop(_FRAME, False):
        from ui.chapters import pages

        page_config()
        st.navigation(pages()[0], position="hidden")
        st.rerun()


# On a phone the sidebar covers the page: after a chapter is chosen there it closes, as a phone's menu does. Only
# when the page changed (typing in the sidebar reruns the same page and must not close it), and only on a narrow
# screen. The script runs in the page (st.html with JavaScript); it reads nothing and sends nothing.
PHONE_WIDTH = 640
_CLOSE_ON_PHONE = """<script>
(() => {
  const page = %s, w = window;
  if (w.__insideBertPage !== undefined && w.__insideBertPage !== page && w.innerWidth < %d) {
    const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (close) close.click();
  }
  w.__insideBertPage = page;
})();
</script>"""


def close_sidebar_on_phone(page_key: str) -> None:
    """Called by `app.py` in the sidebar, with the page about to run."""
    import json

    st.html(_CLOSE_ON_PHONE % (json.dumps(page_key), PHONE_WIDTH), unsafe_allow_javascript=True, width="content")


# A fresh server's first visitor waits for PyTorch, Transformers and the built-in model (seconds on a laptop):
# the title and a progress bar show at once instead of an empty page. Once per server process: `ready()` is
# called when the first model is loaded, and every later run draws no notice.
_READY = False


class Starting:
    """The notice in the main area while the process loads what every chapter needs."""

    def __init__(self, box) -> None:
        from ui.text import t

        self._box = box
        with self._box.container():
            st.title(t("sidebar.app_title"))
            self._bar = st.progress(0.05, text=t("sidebar.starting"))

    def step(self, fraction: float, text: str) -> None:
        """`text` comes translated (`t("sidebar.starting_…")` at the call, where the catalogue test reads it)."""
        self._bar.progress(fraction, text=text)

    def done(self) -> None:
        global _READY
        _READY = True
        self._box.empty()


def starting(show: bool = True) -> Starting | None:
    """The notice, or None once the process is ready (or where the page is drawn before it loads: `show`)."""
    # the empty box is drawn on every run, the notice in it only on the first: the main area's elements keep
    # their places from run to run (a notice drawn on the first run only moved every element after it by one,
    # and a fragment whose place moved stopped answering its sliders after the next full run)
    box = st.empty()
    return None if _READY or not show else Starting(box)
