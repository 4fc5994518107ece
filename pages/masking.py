from ui.boot import require_app

require_app()

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import masking  # noqa: E402
from ui import prose, state  # noqa: E402
from ui.html import masked_chips  # noqa: E402
from ui.prose import LANG, TEXT_DIR  # noqa: E402

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


# Defaults via session state: a value from a shared URL that is out of range or not a number then falls back
# to BERT's settings (with `value=` Streamlit would clamp it to the slider's minimum instead).
for key, default in (("rate", 15), ("p_mask", 80), ("p_random", 10), ("seed", 0), ("rate_b", 50)):
    st.session_state.setdefault(key, default)
# -- mask the sentence
st.markdown(T["controls"])
c1, c2, c3, c4 = st.columns([3, 3, 3, 2])
rate = c1.slider("Rate: share of pieces chosen (%)", 1, 60, key="rate", bind="query-params")
p_mask = c2.slider("of which → [MASK] (%)", 0, 100, key="p_mask", bind="query-params")
p_random = c3.slider("of which → random piece (%)", 0, 100, key="p_random", bind="query-params")
seed = c4.number_input("Seed", 0, 9999, key="seed", bind="query-params")
whole = c4.toggle("Whole words", key="whole", bind="query-params",
                  help="Choose all pieces of a word together (play ##ing), as in whole-word-masking BERT.")
if p_mask + p_random > 100:
    p_random = 100 - p_mask
    st.caption(f"[MASK] and random cannot exceed 100 % together: using random = {p_random} %.")
st.caption(f"Of the chosen pieces: **{p_mask} %** [MASK] · **{p_random} %** random · "
           f"**{100 - p_mask - p_random} %** unchanged.")
k = 5
ms = state.masked_sentence(*args, rate / 100, p_mask / 100, p_random / 100, int(seed), bool(whole), k)
st.html(masked_chips(ms.tokens, ms.shown, ms.action, special))

# -- predictions
st.markdown(T["predictions"])
if ms.maskable == 0:
    st.info("This text has no word pieces that can be masked (special tokens such as [MASK] or [CLS] never "
            "are). Write a sentence with some words in the sidebar.", icon=":material/info:")
elif not ms.positions:
    st.info(f"No piece was chosen at {rate} % with seed {seed} (the sentence has {ms.maskable} maskable "
            "pieces). Raise the rate or change the seed.", icon=":material/casino:")
else:
    if len(ms.positions) == ms.maskable and ms.maskable > 1:
        st.warning("Every piece is chosen: the model has no real context left and can only guess from "
                   "positions and how common words are.", icon=":material/visibility_off:")
    recovered = sum(r == 0 for r in ms.target_ranks)
    m1, m2, m3 = st.columns(3)
    m1.metric("Chosen pieces", f"{len(ms.positions)} of {ms.maskable}")
    m2.metric("Recovered (top-1)", f"{recovered} of {len(ms.positions)}")
    m3.metric(f"In the top {k}", f"{sum(r < k for r in ms.target_ranks)} of {len(ms.positions)}")
    what = {1: "[MASK]", 2: "random", 3: "unchanged"}
    st.dataframe(
        {"position": ms.positions,
         "original": [ms.tokens[i] for i in ms.positions],
         "model read": [f"{ms.shown[i]} ({what[ms.action[i]]})" for i in ms.positions],
         "top guesses": [" · ".join(f"{t} {p:.0%}" for t, p in zip(ts, ps))
                         for ts, ps in zip(ms.top_tokens, ms.top_probs)],
         "P(original)": ms.target_probs,
         "recovered": ["✓" if r == 0 else f"✗ (rank {r + 1})" for r in ms.target_ranks]},
        hide_index=True,
        column_config={"P(original)": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
                       "top guesses": st.column_config.TextColumn(width="large")})

# -- why 80/10/10
st.markdown(T["why"])
maskable = [i for i, t in enumerate(enc.tokens) if t not in special]
if maskable:
    default_pos = ms.positions[0] if ms.positions else maskable[len(maskable) // 2]
    pos = st.selectbox("Position", maskable, index=maskable.index(default_pos),
                       format_func=lambda i: f"{i} · {enc.tokens[i]}", key="why_pos")
    random_id = state.random_piece(len(lm.tokenizer), int(seed), pos)
    cases = [("reads [MASK]", lm.tokenizer.mask_token_id),
             (f"reads a random piece: “{lm.tokenizer.convert_ids_to_tokens(random_id)}”", random_id),
             ("reads the original (unchanged)", None)]
    cols = st.columns(3)
    for col, (label, replacement) in zip(cols, cases):
        toks, probs, p_orig, rank = state.guesses_with(*args, pos, replacement, 8)
        fig = go.Figure(go.Bar(x=probs[::-1], y=[f"{t} " for t in toks[::-1]], orientation="h",
                               marker_color=["#2f9e44" if t == enc.tokens[pos] else "#748ffc" for t in toks[::-1]],
                               hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
        fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), title=label, xaxis=dict(range=[0, 1]),
                          yaxis=dict(type="category"))
        col.plotly_chart(fig, key=f"why_{replacement}")
        col.caption(f"P(“{enc.tokens[pos]}”) = **{p_orig:.3f}**, rank {rank + 1}")
st.markdown(T["ablation"])
rows = [r.split("\t") for r in (TEXT_DIR / LANG / "bert_masking_ablation.tsv").read_text().splitlines()
        if r and not r.startswith("#")]
st.dataframe({h: [r[j] for r in rows[1:]] for j, h in enumerate(rows[0])}, hide_index=True)

# -- two rates
st.markdown(T["compare"])
left, right = st.columns(2)
left.markdown(f"**{rate} %**, the rate above")
rate_b = right.slider("Second rate (%)", 1, 60, key="rate_b", bind="query-params")
for col, r in ((left, rate), (right, rate_b)):
    with col:
        m = state.masked_sentence(*args, r / 100, p_mask / 100, p_random / 100, int(seed), bool(whole), k)
        st.html(masked_chips(m.tokens, m.shown, m.action, special))
        if m.positions:
            st.caption(f"{len(m.positions)} chosen · recovered {sum(x == 0 for x in m.target_ranks)} "
                       f"({sum(x == 0 for x in m.target_ranks) / len(m.positions):.0%}) · mean P(original) "
                       f"{sum(m.target_probs) / len(m.positions):.2f}")
        else:
            st.caption("Nothing chosen at this rate and seed.")

# -- the curve
st.markdown(T["curve"])
rates = [r / 100 for r in range(5, 61, 5)]
bar = st.progress(0.0, text="Masking held-out text at 12 rates…")
points = []
for i, r in enumerate(rates):
    points.append(state.rate_point(ctx.model_name, ctx.device, r))
    bar.progress((i + 1) / len(rates), text=f"Masking held-out text at 12 rates… {r:.0%}")
bar.empty()
fig = go.Figure()
fig.add_trace(go.Scatter(x=[p.rate * 100 for p in points], y=[p.top1 for p in points], name="masked top-1 accuracy",
                         mode="lines+markers", hovertemplate="rate %{x}%<br>top-1 %{y:.1%}<extra></extra>"))
fig.add_trace(go.Scatter(x=[p.rate * 100 for p in points], y=[p.loss for p in points], name="loss (nats)",
                         yaxis="y2", mode="lines+markers", line=dict(dash="dot"),
                         hovertemplate="rate %{x}%<br>loss %{y:.2f}<extra></extra>"))
fig.add_trace(go.Bar(x=[p.rate * 100 for p in points], y=[p.targets_per_sequence for p in points], yaxis="y3",
                     name="predictions per sequence (training signal)", opacity=0.25,
                     hovertemplate="rate %{x}%<br>%{y:.1f} predictions per 128-token sequence<extra></extra>"))
fig.add_vline(x=15, line_dash="dash", line_color="#e03131", annotation_text="BERT: 15 %")
fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="masking rate (%)",
                  yaxis=dict(title="top-1 accuracy", tickformat=".0%"),
                  yaxis2=dict(title="loss", overlaying="y", side="right"),
                  yaxis3=dict(overlaying="y", visible=False), legend=dict(orientation="h", y=-0.2))
st.plotly_chart(fig, key="rate_curve")
batch = state.heldout_batch(ctx.model_name, ctx.device)
st.caption(f"{len(batch['input_ids'])} held-out sequences of up to 128 pieces, {int(batch['special'].eq(0).sum()):,} "
           "maskable pieces in all, BERT's 80/10/10 split, seed 0.")

# -- fill in the blank
st.markdown(T["playground"])
text = st.text_input("Your sentence", "The children went to [MASK] on Monday morning.", key="fill",
                     bind="query-params", max_chars=2000)
if not text.strip():
    st.info("Type a sentence with [MASK] in it.", icon=":material/edit:")
else:
    tokens, tops, probs = state.fill_in(ctx.model_name, ctx.device, text, 8)
    if not tops:
        st.info("There is no [MASK] in your sentence: write [MASK] where a word should be guessed.",
                icon=":material/edit:")
    else:
        cols = st.columns(min(len(tops), 4))
        for j, (toks, ps) in enumerate(zip(tops, probs)):
            fig = go.Figure(go.Bar(x=ps[::-1], y=[f"{t} " for t in toks[::-1]], orientation="h",
                                   marker_color="#748ffc", hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
            fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), title=f"[MASK] #{j + 1}",
                              xaxis=dict(range=[0, 1]), yaxis=dict(type="category"))
            cols[j % len(cols)].plotly_chart(fig, key=f"fill_{j}")

with st.expander("The math, as the code states it (explainers/masking.py)"):
    st.markdown(prose.module_essay(masking))
