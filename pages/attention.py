from ui.boot import require_app

require_app()

import json  # noqa: E402

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import attention as att  # noqa: E402
from ui import attention as A  # noqa: E402
from ui import present, prose, state  # noqa: E402
from ui.chapters import chapter  # noqa: E402
from ui.figures import chart  # noqa: E402
from ui.html import md_table, token_labels  # noqa: E402
from ui.text import current, t  # noqa: E402

T = prose.sections("attention")
show = present.steps("attention", T["title"], T["intro"])
lm, enc = state.prepare()
ctx = state.context()
args = (ctx.model_name, ctx.device, ctx.text_a, ctx.text_b)
probs = A.attention(*args)  # [L, H, T, T]
stats = A.head_stats(*args)
L, H = probs.shape[:2]
labels = token_labels(enc.tokens)
STAT = {k: t(f"attention.stat_{k}") for k in att.STATS}  # each statistic's name, in the reader's language


# The chapter opens on the head with the clearest pattern for this input (a diagonal next to the main one), not
# on layer 0, head 0; it is each slider's `value=`, so a shared link keeps any other choice, layer 0 included.
OPEN_LAYER, OPEN_HEAD, OPEN_PATTERN, OPEN_SHARE = att.clearest_head(stats)


def _valid(key: str, upper: int) -> None:
    """A layer or head left from a bigger model (the Model box changed) is forgotten: the slider opens on the new
    model's clearest head. (Streamlit itself drops a bound URL value outside a slider's range.)"""
    value = st.session_state.get(key)
    if value is not None and (not isinstance(value, int) or not 0 <= value < upper):
        del st.session_state[key]


def _open_clicked_head() -> None:
    points = (st.session_state.get("att_grid") or {}).get("selection", {}).get("points", [])
    if points:
        st.session_state["layer"] = int(points[0]["y"])
        st.session_state["head"] = int(points[0]["x"])


_valid("layer", L)
_valid("head", H)
# a new sentence (or model): sliders left on the old input's opening head move to the new one's; a head the
# reader chose stays
_chosen = (st.session_state.get("layer"), st.session_state.get("head")) != st.session_state.get("_att_open")
for _key, _open in (("layer", OPEN_LAYER), ("head", OPEN_HEAD)):
    state.follow_input(_key, (ctx.model_name, tuple(enc.tokens)), _open, keep=lambda _: _chosen)
st.session_state["_att_open"] = (OPEN_LAYER, OPEN_HEAD)


def head_sliders() -> tuple[int, int]:
    c1, c2 = st.columns(2)
    layer = c1.slider(t("attention.layer"), 0, L - 1, value=OPEN_LAYER, key="layer", bind="query-params",
                      help=t("attention.layer_help"))
    head = c2.slider(t("attention.head"), 0, H - 1, value=OPEN_HEAD, key="head", bind="query-params")
    return layer, head


@st.fragment
def one_head() -> None:
    """A fragment: moving the layer/head sliders reruns this section only (the matrix and its reading), not the
    grid or bertviz's views: the head view below follows the sliders by itself (`ui.bertviz_offline.FOLLOW_JS`)."""
    layer, head = head_sliders()
    left, right = st.columns([3, 2])
    with left:
        # one go.Figure(data, layout) call: plotly's update_layout path parsing costs more than the numbers.
        # Margins sized to the longest label (plotly does not widen them for category labels here); the title
        # sits below the matrix, as the tokens attended to and their axis title take the top.
        longest = min(max(map(len, labels)), 30)
        fig = go.Figure(go.Heatmap(z=probs[layer, head], x=labels, y=labels, colorscale="Blues", zmin=0, zmax=1,
                                   hovertemplate=t("attention.hover_weight") + "<extra></extra>"),
                        dict(height=min(160 + 22 * len(labels), 900) + 6 * longest,
                             margin=dict(l=30 + 7 * longest, r=10, t=40 + 6 * longest, b=40),
                             title=dict(text=t("attention.head_title", layer=layer, head=head), y=0, yref="container",
                                        yanchor="bottom", pad=dict(b=10)),
                             xaxis=dict(type="category", side="top", tickangle=-60,
                                        title=dict(text=t("attention.attended_to"))),
                             yaxis=dict(type="category", autorange="reversed",
                                        title=dict(text=t("attention.attending")))))
        chart(fig, key="att_head_fig", theme=None, file="attention-one-head", present_height=400)
    with right:
        pattern = att.dominant_pattern(stats, layer, head)
        reading = t("attention.broad") if pattern is None else \
            t("attention.mostly", pattern=STAT[pattern[0]].lstrip("→ "), share=pattern[1])
        st.markdown(t("attention.what_it_does", pattern=reading))
        if (layer, head) == (OPEN_LAYER, OPEN_HEAD) and not np.isnan(OPEN_SHARE):
            st.caption(t("attention.opened_on", n=L * H, pattern=STAT[OPEN_PATTERN].lstrip("→ "), share=OPEN_SHARE))
        if not present.on():  # a secondary table: on the projector the sentences above say what it measures
            st.markdown(md_table({
                t("attention.statistic"): [STAT[k] for k in att.STATS],
                t("attention.this_head"): [f"{stats.get(k)[layer, head]:.3f}" for k in att.STATS],
                t("attention.average_head"): [f"{np.nanmean(stats.get(k)):.3f}" for k in att.STATS]}))
        i, j = np.unravel_index(np.argmax(probs[layer, head]), probs.shape[-2:])
        st.caption(t("attention.strongest", source=enc.tokens[i], target=enc.tokens[j],
                     weight=probs[layer, head, i, j]))
        if not present.on():
            head_view_download(layer, head)


def every_head() -> None:
    st.markdown(T["grid"])
    stat = st.segmented_control(t("attention.colour_by"), list(att.STATS), format_func=STAT.get, default="to_next",
                                key="stat", bind="query-params")
    stat = stat if stat in att.STATS else "to_next"
    values = stats.get(stat)
    hx, ly = np.meshgrid(np.arange(H), np.arange(L))
    fig = go.Figure(go.Scatter(
        x=hx.ravel(), y=ly.ravel(), mode="markers",
        marker=dict(symbol="square", size=34, color=values.ravel(), colorscale="Viridis", showscale=True,
                    cmin=0, cmax=None if stat == "entropy" else 1, line=dict(width=2, color="white")),
        customdata=values.ravel(),
        hovertemplate=t("attention.hover_grid", stat=STAT[stat]) + "<extra></extra>"))
    fig.update_layout(height=90 + 48 * L, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis=dict(title=t("attention.axis_head"), dtick=1, range=[-0.6, H - 0.4]),
                      yaxis=dict(title=t("attention.axis_layer"), dtick=1, autorange="reversed"),
                      clickmode="event+select")
    chart(fig, key="att_grid", on_select=_open_clicked_head, selection_mode="points", file="attention-every-head",
          present_height=360)


# Presenter mode gives each bertviz view a step and a fixed height (CSS px) under the step's header: a script in
# the view shrinks it to that height, down to a floor, and a view still taller scrolls inside its frame. The head
# view's words are read, so its floor keeps bertviz's 15 px text at 12 px; the model view is a picture of every
# head and may shrink further, its layer and head numbers grown back to 12 px (not the head a click enlarges).
# Outside presenter mode the frame is as tall as the view.
HEAD_VIEW_HEIGHT, MODEL_VIEW_HEIGHT = 480, 540
MODEL_VIEW_LABELS = "#bertviz-model svg > text:not(.detail)"  # the model view's layer and head numbers
FIT_JS = """<script>
(() => {
  const b = document.body, natural = b.scrollHeight;
  const zoom = Math.min(1, Math.max(%(floor)s, window.innerHeight / natural));
  b.style.zoom = zoom;
  const labels = %(labels)s;
  if (labels && zoom < 1) {
    const css = document.createElement("style");
    css.textContent = `${labels} { font-size: ${(12 / zoom).toFixed(1)}px; }`;
    document.head.appendChild(css);
  }
})();
</script>"""


def _fitted(view: str, floor: float, labels: str = "") -> str:
    """A bertviz page that shrinks itself to its frame's height, not below `floor`; text matching the CSS selector
    `labels` stays 12 px on screen."""
    return view.replace("</body>", FIT_JS % {"floor": floor, "labels": json.dumps(labels)} + "</body>")


def head_view() -> None:
    if len(enc.tokens) > A.HEAD_VIEW_MAX_TOKENS:
        st.caption(t("attention.first_tokens", shown=A.HEAD_VIEW_MAX_TOKENS, total=len(enc.tokens)))
    if present.on():  # the sliders are on the chapter's first step, not above this one
        st.caption(t("attention.head_view_present", layer=st.session_state.get("layer", OPEN_LAYER),
                     head=st.session_state.get("head", OPEN_HEAD),
                     step=present.narration(chapter("attention"), "one-head")[0]))
    else:
        st.caption(t("attention.head_view_one"))
    # one frame per sentence, made for the opening head: it reads the sliders' layer and head from the page's
    # address and redraws itself, so a slider move neither reruns this part of the page nor reloads the frame
    view = A.head_view_html(*args, OPEN_LAYER, OPEN_HEAD, current())
    if present.on():
        st.iframe(_fitted(view, 0.8), height=HEAD_VIEW_HEIGHT, alt=t("attention.head_view_alt"))
        return
    st.iframe(view, height="content", alt=t("attention.head_view_alt"))


def head_view_download(layer: int, head: int) -> None:
    """The head view of the chosen head as a file: its page (450 kB) is made when the button is pressed, on a thread
    of Streamlit's, not on every move of the sliders."""
    lang = current()  # read here: the button's thread has no session
    st.download_button(t("attention.download_head_view", layer=layer, head=head),
                       lambda: A.head_view_html(*args, layer, head, lang),
                       file_name=f"inside-bert-head-view-{layer}-{head}.html", mime="text/html",
                       icon=":material/download:", key="dl_head_view", on_click="ignore",
                       help=t("attention.download_view_help"))


def model_view() -> None:
    view = A.model_view_html(*args)
    if present.on():
        if len(enc.tokens) > A.MODEL_VIEW_MAX_TOKENS:
            st.caption(t("attention.first_tokens", shown=A.MODEL_VIEW_MAX_TOKENS, total=len(enc.tokens)))
        st.iframe(_fitted(view, 0.6, MODEL_VIEW_LABELS), height=MODEL_VIEW_HEIGHT, alt=t("attention.model_view_alt"))
        return
    st.caption(T["model-view-cap"].format(cap=A.MODEL_VIEW_MAX_TOKENS))
    st.iframe(view, height="content", alt=t("attention.model_view_alt"))
    st.download_button(t("attention.download_view"), lambda: view, file_name="inside-bert-model-view.html",
                       mime="text/html", icon=":material/download:", key="dl_model_view", on_click="ignore",
                       help=t("attention.download_view_help"))


def model_view_section() -> None:
    """Outside presenter mode: the model view in an expander that is drawn only while open (every head of every
    layer is the largest element of the chapter); whether it is open is in the link."""
    st.markdown(T["model-view"])
    box = st.expander(t("attention.model_view"), key="att_model", on_change="rerun", bind="query-params")
    if box.open:
        with box:
            model_view()


if show("one-head"):
    st.markdown(T["one-head"])
    one_head()
    if show.everything:  # the page: bertviz's head view of the same head, under the sliders it follows
        st.markdown(T["bertviz"])
        head_view()
else:  # presenter mode's other steps: the sliders are drawn unseen, so that the head they chose stays in the session
    with present.unseen("head"):  # and the address, as the head view step shows it
        head_sliders()
if show("grid"):
    every_head()
if show.everything:  # the page: the head view is drawn in one_head, the model view on request
    model_view_section()
elif show("bertviz"):
    head_view()
elif show("model-view"):
    model_view()
present.chapter_end("attention", (att, "att_math"))
