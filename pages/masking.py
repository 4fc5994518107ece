from ui.boot import require_app

require_app()

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import masking  # noqa: E402
from ui import prose, state  # noqa: E402
from ui.html import masked_chips  # noqa: E402
from ui.text import table  # noqa: E402

T = prose.sections("masking")
st.markdown(T["title"])
st.markdown(T["intro"])
lm, enc = state.prepare()
if not lm.has_mlm_head:
    st.warning(T["no-head"], icon=":material/block:")
    st.stop()
ctx = state.context()
args = (ctx.model_name, ctx.device, ctx.text_a, ctx.text_b)
special = set(lm.tokenizer.all_special_tokens)
K = 5  # guesses shown per position
WHAT = {1: "[MASK]", 2: "random", 3: "unchanged"}

# BERT's settings, as each slider's `value=`: Streamlit keeps a bound widget's value out of the URL when it equals
# that default and ignores a URL value equal to it, so a default set any other way loses the slider's minimum from
# a shared link. A URL value out of range or not a number falls back to `value=`.
DEFAULTS = {"rate": 15, "p_mask": 80, "p_random": 10, "rate_a": 15, "rate_b": 50}


def guesses_figure(tokens: list[str], probs: list[float], title: str, original: str | None = None) -> go.Figure:
    fig = go.Figure(go.Bar(x=probs[::-1], y=[f"{t} " for t in tokens[::-1]], orientation="h",
                           marker_color=["#2f9e44" if t == original else "#748ffc" for t in tokens[::-1]],
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), title=title, xaxis=dict(range=[0, 1]),
                      yaxis=dict(type="category"))
    return fig


@st.fragment
def mask_and_guess() -> None:
    """Rate, split, seed → the masked sentence and the model's guesses. Reruns alone when a control moves."""
    st.markdown(T["controls"])
    c1, c2, c3, c4 = st.columns([3, 3, 3, 2])
    rate = c1.slider("Rate: share of pieces chosen (%)", 1, 60, value=DEFAULTS["rate"], key="rate", bind="query-params")
    p_mask = c2.slider("of which → [MASK] (%)", 0, 100, value=DEFAULTS["p_mask"], key="p_mask", bind="query-params")
    p_random = c3.slider("of which → random piece (%)", 0, 100, value=DEFAULTS["p_random"], key="p_random",
                         bind="query-params")
    seed = c4.number_input("Seed", 0, 9999, key="seed", bind="query-params")
    whole = c4.toggle("Whole words", key="whole", bind="query-params",
                      help="Choose all pieces of a word together (play ##ing), as in whole-word-masking BERT.")
    if p_mask + p_random > 100:
        p_random = 100 - p_mask
        st.caption(f"[MASK] and random cannot exceed 100 % together: using random = {p_random} %.")
    ms = state.masked_sentence(*args, rate / 100, p_mask / 100, p_random / 100, int(seed), bool(whole), K)
    st.caption(f"Chosen at {rate} %: **{len(ms.positions)} of {ms.maskable}** maskable pieces. Of the chosen: "
               f"{p_mask} % [MASK] · {p_random} % random · {100 - p_mask - p_random} % unchanged.")
    st.html(masked_chips(ms.tokens, ms.shown, ms.action, special))

    st.markdown(T["predictions"])
    if ms.maskable == 0:
        st.info("This text has no word pieces that can be masked (special tokens such as [MASK] or [CLS] never "
                "are). Write a sentence with some words in the sidebar.", icon=":material/info:")
        return
    if not ms.positions:
        st.info(f"No piece was chosen at {rate} % with seed {seed} (the sentence has {ms.maskable} maskable "
                f"{'piece' if ms.maskable == 1 else 'pieces'}). Raise the rate or change the seed.",
                icon=":material/casino:")
        return
    if len(ms.positions) == ms.maskable and ms.maskable > 1:
        st.warning("Every piece is chosen: the model has no real context left and can only guess from "
                   "positions and how common words are.", icon=":material/visibility_off:")
    n = len(ms.positions)
    m1, m2 = st.columns(2)
    m1.metric("Recovered (top-1)", f"{sum(r == 0 for r in ms.target_ranks)} of {n}")
    m2.metric(f"Original in the top {K}", f"{sum(r < K for r in ms.target_ranks)} of {n}")
    st.dataframe(
        {"position": ms.positions,
         "original": [ms.tokens[i] for i in ms.positions],
         "model read": [ms.shown[i] if ms.action[i] == 1 else f"{ms.shown[i]} ({WHAT[ms.action[i]]})"
                        for i in ms.positions],
         "top guesses": [" · ".join(f"{t} {p:.0%}" for t, p in zip(ts, ps))
                         for ts, ps in zip(ms.top_tokens, ms.top_probs)],
         "P(original)": ms.target_probs,
         "recovered": ["✓" if r == 0 else f"✗ (rank {r + 1})" for r in ms.target_ranks]},
        hide_index=True,
        column_config={"P(original)": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
                       "top guesses": st.column_config.TextColumn(width="large")})


@st.fragment
def why_80_10_10() -> None:
    st.markdown(T["why"])
    maskable = [i for i, t in enumerate(enc.tokens) if t not in special]
    if not maskable:
        st.info("There is no word piece to compare: write a sentence in the sidebar.", icon=":material/info:")
        return
    c1, c2 = st.columns([3, 1])
    pos = c1.selectbox("Position", maskable, index=len(maskable) // 2, key="why_pos", bind="query-params",
                       format_func=lambda i: f"{i} · {enc.tokens[i]}")
    pos = pos if pos in maskable else maskable[len(maskable) // 2]  # a shared link made for another sentence
    draw = c2.number_input("Random draw", 0, 999, 0, key="why_draw", bind="query-params",
                           help="Draw another random piece.")
    random_id = state.random_piece(len(lm.tokenizer), int(draw), int(pos))
    cases = [("reads [MASK]", lm.tokenizer.mask_token_id),
             (f"reads a random piece: “{lm.tokenizer.convert_ids_to_tokens(random_id)}”", random_id),
             ("reads the original (unchanged)", None)]
    for col, (label, replacement) in zip(st.columns(3), cases):
        toks, probs, p_orig, rank = state.guesses_with(*args, int(pos), replacement, 8)
        col.plotly_chart(guesses_figure(toks, probs, label, enc.tokens[pos]), key=f"why_{label[:12]}")
        col.caption(f"P(“{enc.tokens[pos]}”) = **{p_orig:.3f}**, rank {rank + 1}")


@st.fragment
def compare_rates() -> None:
    st.markdown(T["compare"])
    for col, key in zip(st.columns(2), ("rate_a", "rate_b")):
        with col:
            r = st.slider("Rate (%)", 1, 60, value=DEFAULTS[key], key=key, bind="query-params")
            m = state.masked_sentence(*args, r / 100, 0.8, 0.1, 0, False, K)
            st.html(masked_chips(m.tokens, m.shown, m.action, special))
            if m.positions:
                hits = sum(x == 0 for x in m.target_ranks)
                st.caption(f"{len(m.positions)} chosen · recovered {hits} ({hits / len(m.positions):.0%}) · mean "
                           f"P(original) {sum(m.target_probs) / len(m.positions):.2f}")
            else:
                st.caption("Nothing chosen at this rate.")


def rate_curve() -> None:
    st.markdown(T["curve"])
    rates = [r / 100 for r in range(5, 61, 5)]
    bar = st.progress(0.0, text="Masking held-out text at 12 rates…")
    points = []
    for i, r in enumerate(rates):
        points.append(state.rate_point(ctx.model_name, ctx.device, r))
        bar.progress((i + 1) / len(rates), text=f"Masking held-out text at 12 rates… {r:.0%}")
    bar.empty()
    x = [p.rate * 100 for p in points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=[p.top1 for p in points], name="masked top-1 accuracy", mode="lines+markers",
                             hovertemplate="rate %{x}%<br>top-1 %{y:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=[p.loss for p in points], name="loss (nats, right axis)", yaxis="y2",
                             mode="lines+markers", line=dict(dash="dot"),
                             hovertemplate="rate %{x}%<br>loss %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=[p.targets_per_sequence for p in points], yaxis="y3",
                         marker_color="rgba(239,85,59,0.3)",
                         text=[f"{p.targets_per_sequence:.0f}" for p in points], textposition="inside",
                         insidetextanchor="start", textfont=dict(color="#495057"),  # clear of the lines' markers
                         name="predictions per sequence (training signal)",
                         hovertemplate="rate %{x}%<br>%{y:.1f} predictions per sequence<extra></extra>"))
    fig.add_vline(x=15, line_dash="dash", line_color="#e03131", annotation_text="BERT: 15 %")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="masking rate (%)",
                      yaxis=dict(title="top-1 accuracy", tickformat=".0%"),
                      yaxis2=dict(title="loss", overlaying="y", side="right", tickformat=".1f"),
                      yaxis3=dict(overlaying="y", visible=False), legend=dict(orientation="h", y=-0.2))
    st.plotly_chart(fig, key="rate_curve")
    batch = state.heldout_batch(ctx.model_name, ctx.device)
    st.caption(f"{len(batch['input_ids'])} held-out sequences of up to 128 pieces "
               f"({int(batch['special'].eq(0).sum()):,} maskable pieces), BERT's 80/10/10 split, seed 0.")


@st.fragment
def fill_in_the_blank() -> None:
    st.markdown(T["playground"])
    text = st.text_input("Your sentence", "The children went to [MASK] on Monday morning.", key="fill",
                         bind="query-params", max_chars=2000)
    if not text.strip():
        st.info("Type a sentence with [MASK] in it.", icon=":material/edit:")
        return
    tokens, tops, probs = state.fill_in(ctx.model_name, ctx.device, text, 8)
    if not tops:
        st.info("There is no [MASK] in your sentence: write [MASK] where a word should be guessed.",
                icon=":material/edit:")
        return
    cols = st.columns(min(len(tops), 4))
    for j, (toks, ps) in enumerate(zip(tops, probs)):
        cols[j % len(cols)].plotly_chart(guesses_figure(toks, ps, f"[MASK] #{j + 1}"), key=f"fill_{j}")


mask_and_guess()
why_80_10_10()
st.markdown(T["ablation"])
rows = table("bert_masking_ablation")
st.table({h: [r[j] for r in rows[1:]] for j, h in enumerate(rows[0])}, border="horizontal")
compare_rates()
rate_curve()
fill_in_the_blank()
with st.expander("The math, as the code states it (explainers/masking.py)"):
    st.markdown(prose.module_essay(masking))
