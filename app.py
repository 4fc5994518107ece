"""Inside BERT: the frame. Page config, navigation, the shared sidebar (text, model, device). Nothing else.

`st.navigation` comes first, before the heavy imports: on a freshly started server Streamlit's old `pages/`
discovery runs the first request, and the app's own navigation (titles, not file names) must replace it at once.
The sidebar lists the chapters with `st.page_link` (`client.showSidebarNavigation = false` keeps the old
discovery's file-name list from ever showing).
"""
from __future__ import annotations

import streamlit as st

from ui import boot, chapters, classroom, figures, lang, links, present
from ui.text import t

boot.page_config()
ALL_PAGES, PAGE = chapters.pages()
page = st.navigation(ALL_PAGES, position="hidden")
if page.url_path == chapters.JOIN:  # a student's phone: the question alone, nothing of the lecture's frame
    boot.frame_ran()
    page.run()
    st.stop()
with st.sidebar:
    lang.switch()  # English / 中文, first: every string below is in the language it chooses
    st.title(t("sidebar.app_title"))
    for chapter in chapters.CHAPTERS:
        st.page_link(PAGE[chapter.key], label=chapter.title, icon=chapter.icon)
    present.sidebar_toggle()
    classroom.sidebar_toggle()  # Class vs BERT in presenter mode, self-study's "Predict first" outside it
    figures.format_choice()
# The overview needs no model: it is drawn first and the sidebar's text and model boxes after it, so that a fresh
# server's first visitor reads it while torch and transformers load (about 3 s of imports on 2 cores; issue 29's
# cold start). Every other chapter reads the model and the text, which load first.
light = page.url_path in ("", chapters.FRONT, chapters.CHAPTERS[0].key)  # the default page's path is "" here
notice = boot.starting(show=not light)  # a fresh server's first visitor: the title and a progress bar
if notice:
    notice.step(0.15, t("sidebar.starting_torch"))
rest = st.sidebar.container()  # the text, the model and the device: drawn after the page where it needs none
if light:
    boot.frame_ran()
    page.run()

from urllib.parse import quote_plus  # noqa: E402

import torch  # noqa: E402

from explainers.model import BUILTIN_NAME, ModelLoadError, default_device  # noqa: E402
from ui import models, state, warm  # noqa: E402
from ui.html import md_escape  # noqa: E402
from ui.text import error_text, table  # noqa: E402


def _examples() -> dict[str, tuple[str, str]]:
    return {row[0]: (row[1], (row + [""])[2]) for row in table("examples")}


def _load_example() -> None:
    choice = st.session_state.get("example")
    if choice in _examples():
        st.session_state["a"], st.session_state["b"] = _examples()[choice]


def _device() -> str:
    if default_device() == "cpu":
        rest.caption(t("sidebar.device_cpu", threads=torch.get_num_threads()))
        return "cpu"
    choice = rest.radio(t("sidebar.device"), ["cuda", "cpu"], key="device", horizontal=True, bind="query-params")
    return choice if choice in ("cuda", "cpu") else "cuda"


def _model(device: str) -> str:
    policy = models.policy()
    name = rest.text_input(t("sidebar.model"), value=BUILTIN_NAME, key="model", bind="query-params",
                           help=t(f"sidebar.model_help_{policy.level}", cap=policy.max_download_mb,
                                  allow=", ".join(policy.hub_allow) or "*",
                                  dirs=", ".join(map(str, policy.model_dirs)))).strip() or BUILTIN_NAME
    try:
        state.get_model(name, device)
        st.session_state["_good_model"] = name
    except ModelLoadError as err:
        fallback = st.session_state.get("_good_model", BUILTIN_NAME)
        rest.error(t("sidebar.still_using", error=md_escape(error_text(err)), name=md_escape(fallback)))
        if err.reason in models.RETRYABLE:  # the network may be back: a failure is otherwise remembered
            rest.button(t("sidebar.retry"), on_click=models.forget_failure, args=(name,), icon=":material/refresh:")
        name = fallback
    lm = state.get_model(name, device)
    cfg = lm.config
    rest.caption(t("sidebar.model_facts", kind=cfg.model_type,
                   layers=getattr(cfg, "num_hidden_layers", getattr(cfg, "n_layers", "?")),
                   params=lm.encoder.num_parameters() / 1e6))
    return name


# The text travels in the page's address, so a link shows the same sentence; a very long one would make the
# address too long for the server (a reload then fails with HTTP 400), so it stays out of the address.
URL_TEXT_BYTES = 16_000


def _bind(key: str, default: str) -> str | None:
    return "query-params" if len(quote_plus(st.session_state.get(key, default))) <= URL_TEXT_BYTES else None


with rest:
    st.divider()
    st.selectbox(t("sidebar.example"), list(_examples()), index=None, key="example", on_change=_load_example,
                 placeholder=t("sidebar.example_placeholder"))
    bind_a, bind_b = _bind("a", state.DEFAULT_A), _bind("b", state.DEFAULT_B)
    text_a = st.text_area(t("sidebar.sentence_a"), value=state.DEFAULT_A, key="a", bind=bind_a, max_chars=20_000,
                          height=90)
    text_b = st.text_area(t("sidebar.sentence_b"), value=state.DEFAULT_B, key="b", bind=bind_b, max_chars=20_000,
                          height=68, help=t("sidebar.sentence_b_help"))
    if None in (bind_a, bind_b):
        st.caption(t("sidebar.too_long_for_url"))
    links.link_popover("" if page.url_path in ("", chapters.FRONT) else page.url_path)
    boot.close_sidebar_on_phone(page.url_path)
device = _device()
if notice:
    notice.step(0.6, t("sidebar.starting_model"))
if warm.enabled():  # once per server: the built-in models and held-out measurements, in the background
    warm.start(default_device())
model_name = _model(device)
state.set_context(state.Context(model_name, device, text_a or "", text_b or ""))

if notice:
    notice.done()
if not light:
    boot.frame_ran()
    page.run()
