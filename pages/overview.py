from ui.boot import require_app

require_app()

import streamlit as st  # noqa: E402

from ui import present, prose  # noqa: E402
from ui.text import t, table  # noqa: E402

T = prose.sections("overview")
show = present.steps("overview", T["title"], T["intro"])
if show("welcome"):
    st.markdown(T["how"])
    st.markdown(T["chapters"])
    st.page_link("pages/embeddings.py", label=t("overview.start", chapter=t("chapters.embeddings")),
                 icon=":material/stacks:")
    if show.everything:
        st.button(t("overview.tour"), on_click=present.start, icon=":material/slideshow:", type="primary",
                  help=t("present.toggle_help"))
if show.everything:
    st.markdown(T["model"])
    with st.expander(t("overview.glossary"), icon=":material/translate:"):
        rows = table("glossary", "zh")  # one file: the terms the translation uses, as Chinese courses use them
        st.caption(t("overview.glossary_help"))
        st.table({column: [r[i] for r in rows[1:]] for i, column in enumerate(rows[0])}, border="horizontal")
