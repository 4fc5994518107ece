from ui.boot import require_app

require_app()

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import embeddings as emb  # noqa: E402
from ui import embeddings as EM  # noqa: E402
from ui import present, prose, state  # noqa: E402
from ui.figures import chart  # noqa: E402
from ui.html import token_chips, token_labels  # noqa: E402
from ui.text import t  # noqa: E402

T = prose.sections("embeddings")
show = present.steps("embeddings", T["title"], T["intro"])
lm, enc = state.prepare()
ctx = state.context()
args = (ctx.model_name, ctx.device, ctx.text_a, ctx.text_b)
parts = EM.embedding_parts(*args)
labels = token_labels(enc.tokens)

special = set(lm.tokenizer.all_special_tokens)
# (chart key, label, [T, hidden]); the keys keep their English names
rows = [("token", t("embeddings.row_token"), parts.token), ("segment", t("embeddings.row_segment"), parts.segment),
        ("position", t("embeddings.row_position"), parts.position), ("sum", t("embeddings.row_sum"), parts.summed),
        ("LayerNorm(sum)", t("embeddings.row_normed"), parts.normed)]
rows = [(key, name, a) for key, name, a in rows if a is not None]
HOVER = t("embeddings.hover_value") + "<extra></extra>"


def _limit(a: np.ndarray) -> float:
    """Colour range ±98th percentile of |value|: a few outlier dimensions would otherwise wash out the rest."""
    return float(np.percentile(np.abs(a), 98)) or 1.0


# -- word pieces
if show("tokens"):
    st.markdown(T["tokens"])
    st.html(token_chips(enc.tokens, enc.input_ids[0].tolist(), enc.segment, special))
    if not present.on():  # the reasons are the lecturer's to say; the step keeps the pieces of a long input
        st.markdown(T["why"])

# -- one token: parts and sum
if show("sum"):
    st.markdown(T["sum"])
    # presenter mode: the token box and the three norms share one row above the figure, so the step fits a screen
    top = st.columns([2, 1, 1, 1], vertical_alignment="bottom") if present.on() else None
    state.follow_input("emb_token", (ctx.model_name, tuple(enc.tokens)), min(1, len(enc.tokens) - 1))
    i = (top[0] if top else st).selectbox(t("embeddings.token"), range(len(enc.tokens)),
                                          format_func=lambda k: f"{k} · {enc.tokens[k]}",
                                          index=min(1, len(enc.tokens) - 1), key="emb_token", bind="query-params")
    i = int(i) if i is not None and 0 <= int(i) < len(enc.tokens) else 0
    z = np.stack([a[i] for _, _, a in rows])
    fig = go.Figure(go.Heatmap(z=z, y=[n for _, n, _ in rows], colorscale="RdBu_r", zmin=-_limit(z), zmax=_limit(z),
                               hovertemplate=HOVER))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=30), xaxis_title=t("embeddings.dimension_clipped"),
                      yaxis=dict(autorange="reversed"))
    chart(fig, key="emb_sum_fig", file="embeddings-one-token-sum", present_height=340)
    c1, c2, c3 = top[1:] if top else st.columns(3)
    c1.metric(t("embeddings.norm_token"), f"{np.linalg.norm(parts.token[i]):.2f}")
    c2.metric(t("embeddings.norm_position"), f"{np.linalg.norm(parts.position[i]):.2f}")
    if parts.segment is not None:
        c3.metric(t("embeddings.norm_segment"), f"{np.linalg.norm(parts.segment[i]):.2f}")
    else:
        c3.metric(t("embeddings.segment"), t("embeddings.no_segment"), help=t("embeddings.no_segment_help"))
    mean = round(float(parts.normed[i].mean()), 3) + 0.0  # + 0.0: no "-0.000"
    st.caption(t("embeddings.layernorm", mean=mean, std=parts.normed[i].std()))

# -- every token
if show("rows"):
    st.markdown(T["rows"])
    tabs = st.tabs([name for _, name, _ in rows], key="emb_rows", bind="query-params")  # the tab shown is in the link
    for tab, (key, _, a) in zip(tabs, rows):
        with tab:
            fig = go.Figure(go.Heatmap(z=a, y=labels, colorscale="RdBu_r", zmin=-_limit(a), zmax=_limit(a),
                                       hovertemplate=HOVER))
            fig.update_layout(height=min(120 + 18 * len(labels), 900), margin=dict(l=10, r=10, t=10, b=30),
                              xaxis_title=t("embeddings.dimension"), yaxis=dict(autorange="reversed", type="category"))
            chart(fig, key=f"emb_rows_{key}", file=f"embeddings-every-token-{key}", present_height=370)
    steps = emb.row_steps(parts)
    if steps is not None:  # the words follow the numbers: smooth only where neighbours are the more alike
        fields = dict(next=steps.position_next, far=steps.far, far_cos=steps.position_far, token=steps.token_next)
        st.caption(t("embeddings.rows_smooth", **fields) if steps.position_next > steps.position_far
                   else t("embeddings.rows_not_smooth", **fields))

# -- position similarity
if show("positions"):
    st.markdown(T["positions"])
    n = st.slider(t("embeddings.positions"), min_value=8, max_value=lm.max_positions, value=min(64, lm.max_positions),
                  step=8, key="emb_n", bind="query-params")
    cos = EM.position_cosine(ctx.model_name, ctx.device, int(n))
    fig = go.Figure(go.Heatmap(z=cos, colorscale="Viridis", zmin=-1, zmax=1,
                               hovertemplate=t("embeddings.hover_cosine") + "<extra></extra>"))
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=10, b=30),  # constrain: a square without empty bands
                      xaxis=dict(title=dict(text=t("common.position")), constrain="domain"),
                      yaxis=dict(title=dict(text=t("common.position")), autorange="reversed", scaleanchor="x",
                                 constrain="domain"))
    # presenter mode: 310 px leaves room for the measured caption under the figure
    chart(fig, key="emb_pos_fig", file="embeddings-position-similarity", present_height=310)
    by = emb.similarity_by_distance(cos)
    a, b = max(2, len(by) // 8), len(by) // 2  # 8 and 32 apart at N = 64
    fields = dict(last=len(by) - 1, d1=by[1], a=a, da=by[a], b=b, db=by[b])
    if by[1] > by[a] > by[b]:
        st.caption(t("embeddings.positions_fade", **fields))
    elif by[1] > max(by[a], by[b]):
        st.caption(t("embeddings.positions_near_only", **fields))
    else:
        st.caption(t("embeddings.positions_not_near", **fields))

# -- PCA of the input's token embeddings
if show("pca"):
    st.markdown(T["pca"])
    if len(enc.tokens) < 3:
        st.info(t("embeddings.pca_too_few"))
    else:
        proj = emb.pca_2d(parts.token)
        colours = ["#adb5bd" if t in special else ("#4361ee" if s == "A" else "#f77f00")
                   for t, s in zip(enc.tokens, enc.segment)]
        fig = go.Figure(go.Scatter(x=proj.points[:, 0], y=proj.points[:, 1], mode="markers+text",
                                   text=[lab.split(" · ", 1)[1] for lab in labels], textposition="top center",
                                   marker=dict(size=10, color=colours), customdata=labels,
                                   hovertemplate="%{customdata}<extra></extra>"))
        fig.update_layout(height=480, margin=dict(l=10, r=10, t=10, b=30),
                          xaxis_title=t("embeddings.pc", n=1, share=proj.explained[0]),
                          yaxis_title=t("embeddings.pc", n=2, share=proj.explained[1]))
        chart(fig, key="emb_pca_fig", file="embeddings-pca", present_height=360)
        kept = emb.map_neighbours(parts.token, proj.points)
        fields = dict(share=float(proj.explained.sum()), n=len(enc.tokens), k=kept, d=parts.token.shape[1])
        st.caption(t("embeddings.pca_keeps", **fields) if 2 * kept >= len(enc.tokens)
                   else t("embeddings.pca_rough", **fields))

present.chapter_end("embeddings", (emb, "emb_math"))
