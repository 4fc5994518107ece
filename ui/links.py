"""The link to the view on the screen: this page's address with the state the page keeps in it (the sentence,
the sliders, presenter mode and its step), for a teacher to paste into a chat or a slide."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit


def view_link(app_url: str, base_path: str, page_path: str, params: dict[str, str | list[str]]) -> str:
    """`app_url`: what the browser reached (`st.context.url`, no query); `base_path`: `server.baseUrlPath`;
    `page_path`: the page's url path ("" for the front page); `params`: the query parameters now."""
    parts = urlsplit(app_url)
    path = "/".join(p.strip("/") for p in (base_path, page_path) if p.strip("/"))
    query = urlencode(params, doseq=True)
    return f"{parts.scheme}://{parts.netloc}/{path}" + (f"?{query}" if query else "")


def link_popover(page_path: str) -> None:
    """A sidebar popover with the link in a code box (its copy button copies it)."""
    import streamlit as st

    from ui.text import t

    params = {k: st.query_params.get_all(k) for k in st.query_params}
    url = view_link(st.context.url or "http://localhost:8501", st.get_option("server.baseUrlPath") or "",
                    page_path, params)
    with st.popover(t("sidebar.link"), icon=":material/link:", use_container_width=True):
        st.caption(t("sidebar.link_help"))
        st.code(url, language=None, wrap_lines=True)
