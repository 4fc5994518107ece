"""The link to the view on the screen: this page's address with the state the page keeps in it (the sentence,
the sliders, presenter mode and its step), for a teacher to paste into a chat or a slide.

The address bar is the truth: every bound widget writes itself there, also from a fragment's rerun, which does
not redraw the sidebar. So the link shown and copied is read from the address bar in the page (`LIVE_LINK`) when
the popover is used; the server's own reckoning (`view_link`) is only its first value."""
from __future__ import annotations

import html
import json
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
        st.html(LIVE_LINK % {"url": html.escape(url, quote=True), "copy": html.escape(t("sidebar.link_copy")),
                             "copied": json.dumps(t("sidebar.link_copied"))}, unsafe_allow_javascript=True)


# The link box: the page's address as it is now (read again every half second while the box is on screen), and a
# button that copies it (the clipboard API where the page is a secure context, else the selected text).
LIVE_LINK = """<div class="inside-bert-link">
<input readonly value="%(url)s" aria-label="link" style="width:100%%;font:13px monospace;padding:6px;
 border:1px solid #ced4da;border-radius:6px;box-sizing:border-box">
<button type="button" style="margin-top:6px;padding:4px 12px;border:1px solid #ced4da;border-radius:6px;
 background:#fff;cursor:pointer">%(copy)s</button></div>
<script>
(() => {
  const w = window;
  if (!w.__insideBertLink) {
    w.__insideBertLink = setInterval(() => {
      for (const box of document.querySelectorAll('.inside-bert-link input'))
        if (box.value !== location.href) box.value = location.href;
    }, 500);
  }
  for (const root of document.querySelectorAll('.inside-bert-link')) {
    const box = root.querySelector('input'), button = root.querySelector('button');
    box.value = location.href;
    if (button.dataset.ready) continue;
    button.dataset.ready = '1';
    const label = button.textContent;
    button.addEventListener('click', async () => {
      box.value = location.href;
      try { await navigator.clipboard.writeText(box.value); }
      catch (err) { box.focus(); box.select(); document.execCommand('copy'); }
      button.textContent = %(copied)s;
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
})();
</script>"""
