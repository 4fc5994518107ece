from ui.boot import require_app

require_app()

import math  # noqa: E402
from dataclasses import replace  # noqa: E402

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import electra  # noqa: E402
from ui import electra as E  # noqa: E402
from ui import prose, state  # noqa: E402
from ui.html import masked_chips, md_escape, score_chips, stacked_bar  # noqa: E402
from ui.pairs import choose_pair, encode_or_stop  # noqa: E402
from ui.text import table  # noqa: E402

T = prose.sections("electra")
st.markdown(T["title"])
st.markdown(T["intro"])
ctx = state.context()
K = 5
THRESHOLD = 0.5  # the detection threshold's default, for the game and for "Try to fool it"


gen_name, disc_name = choose_pair("The ELECTRA pair", ("Generator", "Discriminator"), ("e_gen", "e_disc"),
                                  T["pair"], T["no-pair"], lambda g, d: E.get_pair(g, d, ctx.device))
gen, disc = E.get_pair(gen_name, disc_name, ctx.device)
pair_args = (gen_name, disc_name, ctx.device)
enc = encode_or_stop(lambda: E.encoded(*pair_args, ctx.text_a, ctx.text_b))
special = set(gen.tokenizer.all_special_tokens)
st.caption(f"Generator: {gen.model.config.num_hidden_layers} layers × {gen.model.config.hidden_size} "
           f"({gen.model.num_parameters() / 1e6:.1f} M parameters) · discriminator: "
           f"{disc.model.config.num_hidden_layers} layers × {disc.model.config.hidden_size} "
           f"({disc.model.num_parameters() / 1e6:.1f} M) · width ratio "
           f"{gen.model.config.hidden_size / disc.model.config.hidden_size:.2f}")


def _resample() -> None:
    st.session_state["e_seed"] = (int(st.session_state.get("e_seed", 0)) + 1) % 10_000


def _controls() -> tuple[int, float, int]:
    # Every slider of this page gets its default as `value=`: Streamlit keeps a bound widget's value out of the URL
    # when it equals that default and ignores a URL value equal to it, so a default set any other way would lose
    # the slider's minimum from a shared link. A URL value out of range or not a number falls back to `value=`.
    c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
    rate = c1.slider("Rate: share of pieces masked (%)", 1, 60, value=15, key="e_rate", bind="query-params")
    temp = c2.slider("Sampling temperature", 0.1, 3.0, value=1.0, step=0.1, key="e_temp", bind="query-params",
                     help="Divides the generator's logits before the softmax it samples from. Training used 1.")
    seed = c3.number_input("Seed", 0, 9999, key="e_seed", bind="query-params")
    c4.button("Resample", icon=":material/casino:", on_click=_resample, help="Draw again: the next seed.")
    return int(rate), float(temp), int(seed)


def _generator_table(r: E.Round) -> None:
    d = r.d
    st.dataframe(
        {"position": d.positions,
         "original": [r.tokens[i] for i in d.positions],
         "generator's top guesses": [" · ".join(f"{t} {p:.0%}" for t, p in zip(ts, ps))
                                     for ts, ps in zip(r.top_tokens, d.top_probs)],
         "sampled": r.sampled,
         "result": ["original (sampled the same piece)" if d.replaced[i] == 0 else "replaced" for i in d.positions]},
        hide_index=True, column_config={"generator's top guesses": st.column_config.TextColumn(width="large")})


def _confusion(p: list[float], truth: list[int], tokens: list[str], threshold: float) -> dict[str, int]:
    real = [i for i, t in enumerate(tokens) if t not in special]
    flag = {i: p[i] >= threshold for i in real}
    return {"caught": sum(flag[i] and truth[i] for i in real), "missed": sum(not flag[i] and truth[i] for i in real),
            "false alarms": sum(flag[i] and not truth[i] for i in real),
            "originals passed": sum(not flag[i] and not truth[i] for i in real)}


@st.fragment
def game_and_fool_it() -> None:
    """One fragment: "Try to fool it" judges with the threshold slider of the game above it, so a move of that
    slider must rerun both."""
    game()
    fool_it()


def game() -> None:
    st.markdown(T["game"])
    rate, temp, seed = _controls()
    r = E.play(*pair_args, ctx.text_a, ctx.text_b, rate / 100, temp, seed, K)
    d = r.d
    st.caption(f"Masked at {rate} %: **{len(d.positions)} of {r.maskable}** maskable pieces · seed {seed} · "
               f"T = {temp:.1f}. The generator read:")
    st.html(masked_chips(r.tokens, r.masked, [int(i in d.positions) for i in range(len(r.tokens))], special,
                         legend_actions=(0, 1)))
    if r.maskable == 0:
        st.info("This text has no word pieces that can be masked (special tokens such as [MASK] or [CLS] never "
                "are). Write a sentence with some words in the sidebar.", icon=":material/info:")
        return
    st.markdown(T["generator"])
    if d.positions:
        _generator_table(r)
    else:
        st.info(f"No piece was masked at {rate} % with seed {seed}: nothing was replaced. Raise the rate or press "
                "Resample.", icon=":material/casino:")

    st.markdown(T["detect"])
    thr = st.slider("Threshold: flag a piece as replaced when P(replaced) ≥", 0.05, 0.95, value=THRESHOLD,
                    step=0.05, key="e_thr", bind="query-params")
    st.html(score_chips(r.corrupted, d.p_replaced, d.replaced, thr, special, r.tokens))
    c = _confusion(d.p_replaced, d.replaced, r.corrupted, thr)
    cols = st.columns(4)
    for col, (label, n) in zip(cols, c.items()):
        col.metric(label.capitalize(), n)
    n = sum(d.replaced)
    st.caption(f"{n} {'piece' if n == 1 else 'pieces'} really replaced, of {len(d.positions)} masked.")

    st.markdown(T["loss"])
    lam = st.slider("λ (weight of the discriminator's loss)", 1, 100, value=int(electra.LAMBDA), key="e_lambda",
                    bind="query-params")
    loss_figure(d.loss.with_lambda(lam), len(r.tokens), len(d.positions))


def loss_figure(loss: electra.ElectraLoss, n_tokens: int, n_masked: int) -> None:
    nothing_masked = math.isnan(loss.mlm)
    if nothing_masked:  # no generator loss this round: the bar shows λ · L_disc alone
        loss = replace(loss, mlm=0.0)
    lam, disc = f"{loss.lam:g}", loss.disc
    c1, c2 = st.columns([3, 2])
    c1.html(stacked_bar(  # plain HTML, like the distillation loss: no plotly redraw on a λ move
        f"L = {loss.mlm:.2f} + {lam} × {disc:.3f} = {loss.total:.2f}",
        [("L_MLM", loss.mlm, "#748ffc", f"generator MLM: {loss.mlm:.3f}"),
         (f"λ · L_disc = {lam} × {disc:.3f}", loss.lam * disc, "#ff8787",
          f"λ · discriminator BCE: {loss.lam * disc:.3f}")], "nats"))
    if nothing_masked:
        c1.caption("Nothing was masked, so the generator has no loss this round.")
    c1.markdown(T["signal"])
    sig = go.Figure(go.Bar(x=["generator (MLM)", "discriminator"], y=[n_masked, n_tokens],
                           marker_color=["#748ffc", "#ff8787"], text=[n_masked, n_tokens], textposition="outside",
                           hovertemplate="%{x}: %{y} positions with a loss<extra></extra>"))
    sig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), title="positions that teach, this sentence",
                      yaxis=dict(title="positions", range=[0, n_tokens * 1.25]))
    c2.plotly_chart(sig, key="e_signal")


def fool_it() -> None:
    st.markdown(T["yours"])
    positions = [i for i, t in enumerate(enc.tokens) if t not in special]
    if not positions:
        st.info("There is no word piece to replace: write a sentence in the sidebar.", icon=":material/info:")
        return
    c1, c2 = st.columns([1, 1])
    middle = positions[min(len(positions) - 1, len(positions) // 2)]
    pos = c1.selectbox("Replace the piece at", positions, index=positions.index(middle), key="e_pos",
                       bind="query-params", format_func=lambda i: f"{i} · {enc.tokens[i]}")
    pos = pos if pos in positions else middle  # a shared link made for another sentence
    word = c2.text_input("with the word", "banana", key="e_word", max_chars=40, bind="query-params").strip()
    if not word:
        st.info("Type a word to put in its place.", icon=":material/edit:")
        return
    ed = E.edit(*pair_args, ctx.text_a, ctx.text_b, int(pos), word)
    thr = float(st.session_state.get("e_thr", THRESHOLD))
    was = [enc.tokens[pos] if i in ed.new_positions else t for i, t in enumerate(ed.tokens)]
    st.html(score_chips(ed.tokens, ed.p_replaced, ed.changed, thr, special, was))
    if not any(ed.changed):
        st.caption(f"“{word}” is the piece that was already there: nothing was replaced.")
        return
    p = max(ed.p_replaced[i] for i in ed.new_positions)
    caught = p >= thr
    verdict = ":material/search: **Caught.**" if caught else ":material/celebration: **You fooled it.**"
    st.markdown(f"{verdict} The discriminator gives your “{md_escape(word)}” P(replaced) = **{p:.2f}** "
                f"(threshold {thr:.2f}).")


def roc_section() -> None:
    st.markdown(T["roc"])
    with st.spinner("Corrupting and scoring held-out text…"):
        r, h = E.heldout_roc(*pair_args)
    if r is None:
        st.info("On the held-out sample every piece came out the same (all original or all replaced), so there "
                "is no curve to draw for this pair.", icon=":material/info:")
        return
    roc_plot(r, h)


@st.fragment
def roc_plot(r: electra.Roc, h: electra.HeldoutScores) -> None:
    thr = st.slider("Operating point: threshold", 0.05, 0.95, value=0.5, step=0.05, key="e_roc_thr",
                    bind="query-params")
    tpr, fpr = r.at(thr)
    step = max(1, len(r.fpr) // 400)  # ship ≤ ~400 points: the curve looks the same
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=r.fpr[::step].tolist() + [1.0], y=r.tpr[::step].tolist() + [1.0], mode="lines",
                             name=f"discriminator (AUC {r.auc:.3f})", line=dict(color="#e03131", width=3),
                             hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="guessing (AUC 0.5)",
                             line=dict(color="#adb5bd", dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[fpr], y=[tpr], mode="markers", marker=dict(size=13, color="#212529"),
                             name=f"threshold {thr:.2f}", hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<extra></extra>"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="false-positive rate "
                      "(originals flagged)", yaxis_title="true-positive rate (replacements caught)",
                      xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1.02]), legend=dict(x=0.45, y=0.1))
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(fig, key="e_roc")
    c2.metric("ROC-AUC", f"{r.auc:.3f}")
    c2.metric(f"Caught at {thr:.2f}", f"{tpr:.1%}", help="true-positive rate")
    c2.metric(f"False alarms at {thr:.2f}", f"{fpr:.1%}", help="false-positive rate")
    c2.caption(f"{h.sequences} held-out sequences · {r.positives:,} replaced and {r.negatives:,} original pieces "
               f"· generator masked top-1 {h.generator_top1:.1%} ({h.masked:,} masked positions) · seed 1234.")


game_and_fool_it()
roc_section()
st.markdown(T["paper"])
rows = table("electra_paper")
st.table({h: [r[j] for r in rows[1:]] for j, h in enumerate(rows[0])}, border="horizontal")
st.markdown(T["paper-after"])
with st.expander("The math, as the code states it (explainers/electra.py)"):
    st.markdown(prose.module_essay(electra))
