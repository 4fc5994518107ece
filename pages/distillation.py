from ui.boot import require_app

require_app()

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import distillation as dist  # noqa: E402
from explainers.model import BUILTIN_NAME  # noqa: E402
from ui import distill as D  # noqa: E402
from ui import prose, state  # noqa: E402
from ui.html import masked_chips, paired_bars, stacked_bar  # noqa: E402
from ui.pairs import choose_pair, encode_or_stop  # noqa: E402
from ui.text import t, table  # noqa: E402

T = prose.sections("distillation")
st.markdown(T["title"])
st.markdown(T["intro"])
ctx = state.context()
K = 10
TEACHER_C, STUDENT_C = "#4263eb", "#f08c00"

# Each slider gets its default as `value=`: Streamlit keeps a bound widget's value out of the URL when it equals
# that default, and ignores a URL value equal to it (so a default passed any other way would lose the slider's
# minimum from a shared link). A URL value out of range or not a number falls back to `value=`.
RATE, TEMP = 15, 2.0


teacher_name, student_name = choose_pair("The teacher and the student", ("Teacher", "Student"),
                                        ("d_teacher", "d_student"), T["pair"], T["no-pair"],
                                        lambda t, s: D.get_pair(t, s, ctx.device))
teacher, student = D.get_pair(teacher_name, student_name, ctx.device)
pair_args = (teacher_name, student_name, ctx.device)
enc = encode_or_stop(lambda: D.encoded(*pair_args, ctx.text_a, ctx.text_b))
special = set(teacher.tokenizer.all_special_tokens)


def n_layers(lm) -> int:
    c = lm.config
    return int(getattr(c, "num_hidden_layers", None) or getattr(c, "n_layers"))


def architecture() -> None:
    st.markdown(T["architecture"])
    lt, ls = n_layers(teacher), n_layers(student)
    sources, recorded = D.source_layers(student_name, lt, ls)
    fig = go.Figure()
    box = dict(type="rect", line=dict(width=1.5))
    for i in range(lt):
        y = i
        fig.add_shape(**box, x0=0, x1=1.6, y0=y + 0.1, y1=y + 0.9,
                      fillcolor="#dbe4ff" if i in sources else "#f1f3f5", line_color=TEACHER_C)
        fig.add_annotation(x=0.8, y=y + 0.5, text=f"teacher layer {i}", showarrow=False)
    for j in range(ls):
        y = sources[j] + 0.5 if j < len(sources) else 2 * j + 0.5
        fig.add_shape(**box, x0=3, x1=4.6, y0=y - 0.4, y1=y + 0.4, fillcolor="#ffe8cc", line_color=STUDENT_C)
        fig.add_annotation(x=3.8, y=y, text=f"student layer {j}", showarrow=False)
        fig.add_annotation(x=3, y=y, ax=1.6, ay=y, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowwidth=1.5, arrowcolor=STUDENT_C, text="")
    for x, label, colour in ((0.8, "embeddings<br>token + position + segment", TEACHER_C),
                             (3.8, "embeddings<br>token + position", STUDENT_C)):
        fig.add_shape(**box, x0=x - 0.8, x1=x + 0.8, y0=-1.0, y1=-0.2, fillcolor="#f8f9fa", line_color=colour)
        fig.add_annotation(x=x, y=-0.6, text=label, showarrow=False, font=dict(size=11))
    fig.update_xaxes(visible=False, range=[-0.1, 4.7])
    fig.update_yaxes(visible=False, range=[-1.1, lt + 0.1])
    fig.update_layout(height=60 * (lt + 2), margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white")
    c1, c2 = st.columns([1, 1])
    c1.plotly_chart(fig, key="d_arch")
    c1.caption(t("distillation.sources_recorded" if recorded else "distillation.sources_rule",
                 layers=", ".join(map(str, sources))))
    pt, ps = dist.parameter_breakdown(teacher.model), dist.parameter_breakdown(student.model)
    tt, ts = sum(pt.values()), sum(ps.values())
    c2.dataframe({"part": [*pt, "total"], "teacher": [*pt.values(), tt], "student": [*ps.values(), ts]},
                 hide_index=True, column_config={"teacher": st.column_config.NumberColumn(format="localized"),
                                                 "student": st.column_config.NumberColumn(format="localized")})
    enc_t = pt["transformer layers"]
    enc_s = ps["transformer layers"]
    c2.caption(f"Student: **{1 - ts / tt:.0%} fewer parameters** in all, {1 - enc_s / enc_t:.0%} fewer in the "
               f"transformer layers ({lt} → {ls} layers).")
    c2.markdown(T["params"])


# On a slider move the browser redraws this section: plotly charts cost it tens of ms each (measured), so the
# bars are plain HTML, and the one plotly figure is built in one go.Figure(data, layout) call (plotly's
# update_layout / add_hline path parsing cost more than the numbers, measured with py-spy).
def bars(cmp: dist.SoftComparison) -> str:
    labels = teacher.tokenizer.convert_ids_to_tokens(cmp.teacher_top)
    return paired_bars("The teacher's top 10 and the student's probability for each", labels,
                       [("teacher", cmp.teacher_probs, TEACHER_C), ("student", cmp.student_probs, STUDENT_C)],
                       f"probability at T = {cmp.temperature:g}")


ENTROPY_TS = tuple(np.round(np.geomspace(0.25, 20, 25), 3).tolist())
ENTROPY_TICKS = [0.25, 0.5, 1, 2, 5, 10, 20]


def entropy_curve(teacher_entropy: list[float], student_entropy: list[float], vocab: int, temp: float) -> go.Figure:
    uniform = float(np.log(vocab))
    data = [go.Scatter(x=ENTROPY_TS, y=ys, name=name, line=dict(color=colour, dash=dash, shape="spline"),
                       hovertemplate="T %{x}<br>%{y:.2f} nats<extra></extra>")
            for name, ys, colour, dash in (("teacher", teacher_entropy, TEACHER_C, "solid"),
                                           ("student", student_entropy, STUDENT_C, "dot"))]
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, y0=uniform, y1=uniform,
                   line=dict(dash="dash", color="#adb5bd")),
              dict(type="line", yref="paper", x0=temp, x1=temp, y0=0, y1=1, line=dict(color="#212529"))]
    # on a log axis an annotation's x is log10(T)
    notes = [dict(xref="paper", x=0, y=uniform, text="uniform over the vocabulary", showarrow=False,
                  xanchor="left", yanchor="bottom"),
             dict(x=float(np.log10(temp)), y=0.02, yref="paper", text=f"T = {temp:g}", showarrow=False,
                  xanchor="left", xshift=4)]
    return go.Figure(data, dict(
        height=300, margin=dict(l=10, r=10, t=30, b=10), shapes=shapes, annotations=notes,
        xaxis=dict(type="log", title=dict(text="temperature T"), tickvals=ENTROPY_TICKS,
                   ticktext=[f"{t:g}" for t in ENTROPY_TICKS]),
        yaxis=dict(title=dict(text="entropy (nats)")), legend=dict(orientation="h", y=-0.3)))


@st.fragment
def soft_targets() -> None:
    st.markdown(T["soft"])
    if "B" in enc.segment and student.config.model_type == "distilbert":
        st.caption("Your text is a sentence pair. The teacher adds a segment-B embedding to the second sentence; "
                   "the student has no segment embeddings and reads both sentences alike.")
    c1, c2 = st.columns([3, 1])
    rate = c1.slider("Rate: share of pieces masked (%)", 1, 60, value=RATE, key="d_rate", bind="query-params")
    seed = c2.number_input("Seed", 0, 9999, key="d_seed", bind="query-params")
    mp = D.masked_pair(*pair_args, ctx.text_a, ctx.text_b, rate / 100, int(seed))
    st.caption(f"Masked at {rate} %: **{len(mp.positions)} of {mp.maskable}** maskable pieces · seed {seed}. "
               "Both models read:")
    st.html(masked_chips(mp.tokens, mp.shown, mp.action, special))
    if mp.maskable == 0:
        st.info("This text has no word pieces that can be masked (special tokens such as [MASK] or [CLS] never "
                "are). Write a sentence with some words in the sidebar.", icon=":material/info:")
        return
    if not mp.positions:
        st.info(f"No piece was masked at {rate} % with seed {seed}. Raise the rate or change the seed.",
                icon=":material/casino:")
        return
    t_top, s_top, agrees = mp.teacher_top, mp.student_top, mp.agrees
    n = len(agrees)
    m1, m2, m3 = st.columns(3)
    m1.metric("Student agrees with the teacher", f"{sum(agrees)} of {n}")
    m2.metric("Teacher right", f"{sum(t == mp.tokens[p] for t, p in zip(t_top, mp.positions))} of {n}")
    m3.metric("Student right", f"{sum(s == mp.tokens[p] for s, p in zip(s_top, mp.positions))} of {n}")
    st.dataframe({"position": mp.positions, "original": [mp.tokens[p] for p in mp.positions],
                  "read": [mp.shown[p] for p in mp.positions], "teacher's top-1": t_top, "student's top-1": s_top,
                  "agree": ["✓" if a else "✗" for a in agrees], "teacher's lead": mp.leads,
                  "KL at T = 1 (nats)": mp.kls},
                 hide_index=True, column_config={
                     "teacher's lead": st.column_config.NumberColumn(
                         format="%.2f", help="The teacher's probability for its first guess minus that for its "
                                             f"second. Under {dist.NEAR_TIE:g} the teacher is nearly undecided, and "
                                             "the student's first guess often falls on the other word."),
                     "KL at T = 1 (nats)": st.column_config.NumberColumn(format="%.3f")})

    st.markdown(T["temperature"])
    c1, c2 = st.columns([2, 3])
    j = c1.selectbox("Masked position", range(len(mp.positions)), key="d_pos", bind="query-params",
                     format_func=lambda i: f"{mp.positions[i]} · {mp.tokens[mp.positions[i]]} (read as "
                                           f"{mp.shown[mp.positions[i]]})")
    j = int(j) if j is not None and 0 <= int(j) < len(mp.positions) else 0  # a link made for another sentence
    temp = c2.slider("Temperature T", 0.5, 10.0, value=TEMP, step=0.5, key="d_temp", bind="query-params")
    cmp = dist.compare_soft(mp.teacher_logits[j], mp.student_logits[j], temp, K)
    c1, c2 = st.columns([3, 2])
    c1.html(bars(cmp))
    with c2:
        a, b = st.columns(2)
        a.metric("Teacher entropy", f"{cmp.teacher_entropy:.2f} nats")
        b.metric("Student entropy", f"{cmp.student_entropy:.2f} nats")
        a.metric("KL(teacher ‖ student)", f"{cmp.kl:.3f}")
        b.metric("T² · KL (the loss term)", f"{cmp.soft_term:.3f}")
        curves = D.entropy_curves(*pair_args, ctx.text_a, ctx.text_b, rate / 100, int(seed), j, ENTROPY_TS)
        st.plotly_chart(entropy_curve(*curves, mp.teacher_logits.shape[-1], temp), key="d_entropy")
    loss_now(mp)


def hidden() -> None:
    st.markdown(T["hidden"])
    cos = D.hidden_cosines(*pair_args, ctx.text_a, ctx.text_b).numpy()
    s_n, t_n = cos.shape
    ylab = ["embeddings"] + [f"student layer {i}" for i in range(s_n - 1)]
    xlab = ["embeddings"] + [f"teacher layer {i}" for i in range(t_n - 1)]
    fig = go.Figure(go.Heatmap(z=cos, x=xlab, y=ylab, colorscale="Viridis", zmin=0, zmax=1,
                               texttemplate="%{z:.2f}",
                               hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>",
                               colorbar=dict(title="mean cosine")))
    ratio = (t_n - 1) / max(s_n - 1, 1)
    for i in range(s_n):  # student output i ↔ teacher output round(i · ratio): the same depth of the network
        jx = int(round(i * ratio))
        fig.add_shape(type="rect", x0=jx - 0.5, x1=jx + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line=dict(color="#f03e3e", width=3))
    fig.update_layout(height=140 + 50 * s_n, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
    st.plotly_chart(fig, key="d_cos")
    st.caption(f"Last layers: mean cosine **{cos[-1, -1]:.3f}** over the {len(enc.tokens)} tokens of your text "
               f"(the cosine loss is 1 − this, averaged over tokens: {1 - cos[-1, -1]:.3f}).")


@st.fragment
def speed_meter() -> None:
    st.markdown(T["speed"])
    st.button("Measure again", icon=":material/speed:", key="d_measure")
    with st.spinner("Timing both encoders…"):
        lat = D.speed(*pair_args, ctx.text_a, ctx.text_b)
    t_ms, s_ms = lat["teacher"].median_ms, lat["student"].median_ms
    pt, ps = teacher.model.num_parameters(), student.model.num_parameters()
    c1, c2, c3 = st.columns(3)
    c1.metric("Teacher encoder", f"{t_ms:.1f} ms", help=f"median of {len(lat['teacher'].runs_ms)} runs")
    c2.metric("Student encoder", f"{s_ms:.1f} ms", help=f"median of {len(lat['student'].runs_ms)} runs")
    c3.metric("Student speed-up", f"{t_ms / s_ms:.2f}×", f"{1 - s_ms / t_ms:.0%} less time")
    fig = go.Figure()
    for name, colour in (("teacher", TEACHER_C), ("student", STUDENT_C)):
        fig.add_trace(go.Box(x=lat[name].runs_ms, name=name, marker_color=colour, boxpoints="all",
                             hovertemplate="%{x:.2f} ms<extra></extra>"))
    fig.update_layout(height=200, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="ms per encoder forward",
                      showlegend=False)
    st.plotly_chart(fig, key="d_speed")
    st.caption(f"{len(enc.tokens)} tokens · batch 1 · {ctx.device.upper()} · runs interleaved teacher/student, "
               "2 warm-up runs each. Parameters: "
               f"teacher {pt / 1e6:.1f} M, student {ps / 1e6:.1f} M.")
    claims(t_ms / s_ms, 1 - ps / pt)


def claims(speedup: float, smaller: float) -> None:
    st.markdown(T["claims"])
    with st.spinner("Masking held-out text for both models…"):
        h = D.heldout(*pair_args)
    rows = table("distilbert_claims")
    ours = {"smaller": f"{smaller:.0%} fewer parameters",
            "faster": f"{1 - 1 / speedup:.0%} less encoder time ({speedup:.2f}× throughput), on your text",
            "quality": f"held-out masked top-1 {h['student_top1']:.1%} vs the teacher's {h['teacher_top1']:.1%}: "
                       f"{h['student_top1'] / h['teacher_top1']:.0%} of it; the same first guess as the teacher at "
                       f"{h['agreement']:.0%} of {h['positions']} positions{by_lead(h)}"}
    st.table({rows[0][0]: [r[0] for r in rows[1:]], rows[0][1]: [r[1] for r in rows[1:]],
              "measured here (built-in pair, live)" if (teacher_name, student_name) == (BUILTIN_NAME, BUILTIN_NAME)
              else "measured here (live)": [ours[r[2]] for r in rows[1:]]}, border="horizontal")


def by_lead(h: dict) -> str:
    """The agreement apart where the teacher was sure of its first guess and where it was nearly undecided."""
    if not 0 < h["near_tie_share"] < 1:
        return ""
    return (f" ({h['agreement_clear']:.0%} where the teacher's first guess leads its second by ≥ {dist.NEAR_TIE:g}; "
            f"{h['agreement_near_tie']:.0%} at the {h['near_tie_share']:.0%} of positions where it does not)")


def loss_now(mp: D.MaskedPair) -> None:
    c = mp.settings
    st.markdown(T["loss"])
    where = T["loss-all"] if c.soft_at == "all" else T["loss-masked"]
    st.markdown((T["loss-own"] if mp.settings_known else T["loss-paper"]).format(
        alpha_ce=f"{c.alpha_ce:g}", alpha_mlm=f"{c.alpha_mlm:g}", alpha_cos=f"{c.alpha_cos:g}",
        temperature=f"{c.temperature:g}", where=where))
    st.markdown(T["loss-formula"])
    parts = [(f"{c.alpha_ce:g} · T² · KL", c.alpha_ce * mp.loss["soft"], mp.loss["soft"], TEACHER_C),
             (f"{c.alpha_mlm:g} · MLM", c.alpha_mlm * mp.loss["mlm"], mp.loss["mlm"], "#2f9e44"),
             (f"{c.alpha_cos:g} · (1 − cos)", c.alpha_cos * mp.loss["cos"], mp.loss["cos"], STUDENT_C)]
    st.html(stacked_bar(f"On your masked sentence above, at T = {c.temperature:g}: L = {mp.loss['total']:.2f}",
                        [(n, v, colour, f"{n} = {v:.3f} (the term itself: {raw:.3f})")
                         for n, v, raw, colour in parts], "nats"))
    st.caption(T["loss-terms"].format(soft=f"{mp.loss['soft']:.3f}", mlm=f"{mp.loss['mlm']:.3f}",
                                      cos=f"{mp.loss['cos']:.3f}"))


architecture()
soft_targets()
hidden()
speed_meter()
with st.expander("The math, as the code states it (explainers/distillation.py)"):
    st.markdown(prose.module_essay(dist))
