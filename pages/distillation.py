from ui.boot import require_app

require_app()

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from classroom import questions as CQ  # noqa: E402
from explainers import distillation as dist  # noqa: E402
from explainers.model import BUILTIN_NAME  # noqa: E402
from explainers.speed import against_layers  # noqa: E402
from ui import distill as D  # noqa: E402
from ui import classroom, present, prose, state  # noqa: E402
from ui.figures import arrow, chart  # noqa: E402
from ui.html import masked_chips, paired_bars, stacked_bar  # noqa: E402
from ui.pairs import choose_pair, encode_or_stop  # noqa: E402
from ui.text import t, table  # noqa: E402

T = prose.sections("distillation")
show = present.steps("distillation", T["title"], T["intro"])
ctx = state.context()
K = 10
TEACHER_C, STUDENT_C = "#4263eb", "#f08c00"

# Each slider gets its default as `value=`: Streamlit keeps a bound widget's value out of the URL when it equals
# that default, and ignores a URL value equal to it (so a default passed any other way would lose the slider's
# minimum from a shared link). A URL value out of range or not a number falls back to `value=`.
RATE, TEMP = 15, 1.0  # T = 1: the built-in student's; at DistilBERT's T = 2 the default sentence's soft targets
# are flat (the teacher's top-8 all ≈ 0.004), at T = 1 they show which words it finds plausible
# The default draw, chosen from the built-in pair on the default sentence (seeds 0-39 at 15 %): seed 3 masks five
# pieces, the student agrees at four (teacher's lead 0.42-0.83) and misses "wrote", where the teacher's lead is 0.03;
# its surest position ("question") has entropy 0.55 nats at T = 1 and 8.45 at T = 2. Seed 0 gave three misses, all
# at near ties: no agreement to compare with.
SEED = 3


teacher_name, student_name = choose_pair(t("distillation.pair"),
                                        (t("distillation.teacher"), t("distillation.student")),
                                        ("d_teacher", "d_student"), T["pair"], T["no-pair"],
                                        lambda a, b: D.get_pair(a, b, ctx.device), box=not present.on())
teacher, student = D.get_pair(teacher_name, student_name, ctx.device)
pair_args = (teacher_name, student_name, ctx.device)
enc = encode_or_stop(lambda: D.encoded(*pair_args, ctx.text_a, ctx.text_b))
special = set(teacher.tokenizer.all_special_tokens)


def explain(name: str, where=None) -> None:
    """A section's paragraph: on the page, not in presenter mode, where the step's narration says it."""
    if not present.on():
        (where or st).markdown(T[name])


def n_layers(lm) -> int:
    c = lm.config
    return int(getattr(c, "num_hidden_layers", None) or getattr(c, "n_layers"))


def architecture() -> None:
    explain("architecture")
    lt, ls = n_layers(teacher), n_layers(student)
    sources, recorded = D.source_layers(student_name, lt, ls)
    fig = go.Figure()
    box = dict(type="rect", line=dict(width=1.5))
    for i in range(lt):
        y = i
        fig.add_shape(**box, x0=0, x1=1.6, y0=y + 0.1, y1=y + 0.9,
                      fillcolor="#dbe4ff" if i in sources else "#f1f3f5", line_color=TEACHER_C)
        fig.add_annotation(x=0.8, y=y + 0.5, text=t("distillation.teacher_layer", i=i), showarrow=False)
    for j in range(ls):
        y = sources[j] + 0.5 if j < len(sources) else 2 * j + 0.5
        fig.add_shape(**box, x0=3, x1=4.6, y0=y - 0.4, y1=y + 0.4, fillcolor="#ffe8cc", line_color=STUDENT_C)
        fig.add_annotation(x=3.8, y=y, text=t("distillation.student_layer", i=j), showarrow=False)
        fig.add_annotation(x=3, y=y, ax=1.6, ay=y, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowwidth=1.5, arrowcolor=STUDENT_C, text="")
    wide = 0.5 if present.on() else 0.0  # projector type: the teacher's three-part label needs a wider box
    for x, label, colour, pad in ((0.8, t("distillation.teacher_embeddings"), TEACHER_C, wide),
                                  (3.8, t("distillation.student_embeddings"), STUDENT_C, 0.0)):
        fig.add_shape(**box, x0=x - 0.8 - pad, x1=x + 0.8 + pad, y0=-1.0, y1=-0.2, fillcolor="#f8f9fa",
                      line_color=colour)
        fig.add_annotation(x=x, y=-0.6, text=label, showarrow=False, font=dict(size=11))
    fig.update_xaxes(visible=False, range=[-0.1 - wide, 4.7])
    fig.update_yaxes(visible=False, range=[-1.1, lt + 0.1])
    fig.update_layout(height=60 * (lt + 2), margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white")
    c1, c2 = st.columns([1, 1])
    chart(fig, key="d_arch", file="distillation-architecture", where=c1)
    c1.caption(t("distillation.sources_rule" if not recorded else  # a slide names no file
                 "distillation.sources_started" if present.on() else "distillation.sources_recorded",
                 layers=", ".join(map(str, sources))))
    pt, ps = dist.parameter_breakdown(teacher.model), dist.parameter_breakdown(student.model)
    tt, ts = sum(pt.values()), sum(ps.values())
    teacher_col, student_col = t("common.teacher"), t("common.student")
    count = st.column_config.NumberColumn(format="localized")
    parts = [*(t(f"distillation.part_{k}") for k in pt), t("distillation.total")]
    c2.dataframe(arrow({t("distillation.part"): parts, teacher_col: [*pt.values(), tt],
                        student_col: [*ps.values(), ts]}), hide_index=True,
                 column_config={teacher_col: count, student_col: count})
    enc_t = pt["layers"]
    enc_s = ps["layers"]
    c2.caption(t("distillation.fewer", fewer=1 - ts / tt, fewer_layers=1 - enc_s / enc_t, teacher_layers=lt,
                 student_layers=ls))
    explain("params", c2)


# On a slider move the browser redraws this section: plotly charts cost it tens of ms each (measured), so the
# bars are plain HTML, and the one plotly figure is built in one go.Figure(data, layout) call (plotly's
# update_layout / add_hline path parsing cost more than the numbers, measured with py-spy).
def bars(cmp: dist.SoftComparison) -> str:
    labels = teacher.tokenizer.convert_ids_to_tokens(cmp.teacher_top)
    return paired_bars(t("distillation.bars_title", k=len(labels)), labels,
                       [(t("common.teacher"), cmp.teacher_probs, TEACHER_C),
                        (t("common.student"), cmp.student_probs, STUDENT_C)],
                       t("distillation.bars_axis", temperature=cmp.temperature))


ENTROPY_TS = tuple(np.round(np.geomspace(0.25, 20, 25), 3).tolist())
ENTROPY_TICKS = [0.25, 0.5, 1, 2, 5, 10, 20]


def entropy_curve(teacher_entropy: list[float], student_entropy: list[float], vocab: int, temp: float) -> go.Figure:
    uniform = float(np.log(vocab))
    data = [go.Scatter(x=ENTROPY_TS, y=ys, name=name, line=dict(color=colour, dash=dash, shape="spline"),
                       hovertemplate=t("distillation.hover_entropy") + "<extra></extra>")
            for name, ys, colour, dash in ((t("common.teacher"), teacher_entropy, TEACHER_C, "solid"),
                                           (t("common.student"), student_entropy, STUDENT_C, "dot"))]
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, y0=uniform, y1=uniform,
                   line=dict(dash="dash", color="#adb5bd")),
              dict(type="line", yref="paper", x0=temp, x1=temp, y0=0, y1=1, line=dict(color="#212529"))]
    # on a log axis an annotation's x is log10(T)
    notes = [dict(xref="paper", x=0, y=uniform, text=t("distillation.uniform"), showarrow=False,
                  xanchor="left", yanchor="bottom"),
             dict(x=float(np.log10(temp)), y=0.02, yref="paper", text=f"T = {temp:g}", showarrow=False,
                  xanchor="left", xshift=4)]
    return go.Figure(data, dict(
        height=300, margin=dict(l=10, r=10, t=30, b=10), shapes=shapes, annotations=notes,
        xaxis=dict(type="log", title=dict(text=t("distillation.axis_temperature")), tickvals=ENTROPY_TICKS,
                   ticktext=[f"{x:g}" for x in ENTROPY_TICKS]),
        yaxis=dict(title=dict(text=t("distillation.axis_entropy"))), legend=dict(orientation="h", y=-0.3)))


def masking_controls() -> tuple[int, int]:
    c1, c2 = st.columns([3, 1])
    rate = c1.slider(t("common.rate_masked"), 1, 60, value=RATE, key="d_rate", bind="query-params")
    seed = c2.number_input(t("common.seed"), 0, 9999, value=SEED, key="d_seed", bind="query-params")
    return rate, seed


@st.fragment
def soft_targets() -> None:
    """The masked sentence (step "soft"), the temperature (step "temperature") and the loss (step "loss"): one
    fragment on the page, three steps in presenter mode, where the later two read the masking left on the first."""
    if show("soft"):
        explain("soft")
        if "B" in enc.segment and student.config.model_type == "distilbert":
            st.caption(t("distillation.pair_input"))
        rate, seed = masking_controls()
    else:  # presenter mode's later steps: the controls drawn unseen keep the masking the "soft" step left, in the
        with present.unseen("distillation"):  # session and in the address
            rate, seed = masking_controls()
    mp = D.masked_pair(*pair_args, ctx.text_a, ctx.text_b, rate / 100, int(seed))
    if show("soft") or (present.on() and show("loss")):  # the loss's step shows the sentence it is computed on
        st.caption(t("distillation.masked", rate=rate, n=len(mp.positions), maskable=mp.maskable, seed=seed))
        st.html(masked_chips(mp.tokens, mp.shown, mp.action, special))
    if mp.maskable == 0:
        st.info(t("common.no_maskable"), icon=":material/info:")
        return
    if not mp.positions:
        st.info(t("distillation.none_masked", rate=rate, seed=seed), icon=":material/casino:")
        return
    if show("soft"):
        agreement(mp)
    if show("temperature"):
        temperature(mp, rate, int(seed))
    if show("loss"):
        loss_now(mp)


def class_question(mp: D.MaskedPair, k: int) -> dict:
    """Class vs BERT on this step: at masked position `k`, will the student's first guess be the teacher's? The
    sentence as both models read it, that position as the blank and the other [MASK]s as "___"."""
    words: list[str] = []
    for i, piece in enumerate(mp.shown):
        if i == mp.positions[k]:
            piece = "[MASK]"
        elif piece in special:
            piece = "___" if piece == teacher.tokenizer.mask_token else ""
        if piece.startswith("##") and words:
            words[-1] += piece[2:]
        elif piece:
            words.append(piece)
    return CQ.agree(" ".join(words), mp.teacher_top[k], mp.student_top[k])


def asked_position(mp: D.MaskedPair) -> int | None:
    """The [MASK] where the teacher is least sure of its first guess (the likeliest place for the student to
    differ); None when every chosen piece was read as a random or unchanged piece."""
    at_mask = [j for j, p in enumerate(mp.positions) if mp.shown[p] == teacher.tokenizer.mask_token]
    return min(at_mask, key=lambda j: mp.leads[j]) if at_mask else None


def agreement(mp: D.MaskedPair) -> None:
    t_top, s_top, agrees = mp.teacher_top, mp.student_top, mp.agrees
    n = len(agrees)
    k = asked_position(mp) if classroom.on() else None
    if k is not None and classroom.ask("distillation/soft", lambda: class_question(mp, k)):
        return  # Class vs BERT: the class bets before the two models' guesses are shown
    if not present.on():  # on a projector the sentence under the table gives the agreement, the table the rest
        m1, m2, m3 = st.columns(3)
        m1.metric(t("distillation.agrees"), t("common.k_of_n", k=sum(agrees), n=n))
        m2.metric(t("distillation.teacher_right"),
                  t("common.k_of_n", k=sum(a == mp.tokens[p] for a, p in zip(t_top, mp.positions)), n=n))
        m3.metric(t("distillation.student_right"),
                  t("common.k_of_n", k=sum(b == mp.tokens[p] for b, p in zip(s_top, mp.positions)), n=n))
    lead, kl = t("distillation.lead"), t("distillation.kl_t1")
    st.dataframe(arrow({t("common.position"): mp.positions,
                        t("common.original"): [mp.tokens[p] for p in mp.positions],
                        t("distillation.read"): [mp.shown[p] for p in mp.positions],
                        t("distillation.teacher_top1"): t_top, t("distillation.student_top1"): s_top,
                        t("distillation.agree"): ["✓" if a else "✗" for a in agrees], lead: mp.leads, kl: mp.kls}),
                 hide_index=True, column_config={
                     lead: st.column_config.NumberColumn(format="%.2f",
                                                         help=t("distillation.lead_help", near_tie=dist.NEAR_TIE)),
                     kl: st.column_config.NumberColumn(format="%.3f")})
    k = sum(agrees)
    lead_yes, lead_no = dist.lead_split(mp.leads, agrees)
    if k == n:
        st.caption(t("distillation.agree_all", n=n, lead_yes=lead_yes))
    elif k == 0:
        st.caption(t("distillation.agree_none", n=n, lead_no=lead_no))
    else:
        st.caption(t("distillation.agree_split" if lead_no < lead_yes else "distillation.agree_split_not", k=k, n=n,
                     lead_no=lead_no, lead_yes=lead_yes))


def temperature(mp: D.MaskedPair, rate: int, seed: int) -> None:
    explain("temperature")
    c1, c2 = st.columns([2, 3])
    # it opens on the position where the teacher is surest: raising T then visibly spreads its distribution
    surest = mp.surest
    state.follow_input("d_pos", (*pair_args, tuple(mp.tokens), tuple(mp.positions)), surest)  # another masking
    j = c1.selectbox(t("distillation.masked_position"), range(len(mp.positions)), index=surest, key="d_pos",
                     bind="query-params",
                     format_func=lambda i: t("distillation.read_as", position=mp.positions[i],
                                             piece=mp.tokens[mp.positions[i]], shown=mp.shown[mp.positions[i]]))
    j = int(j) if j is not None and 0 <= int(j) < len(mp.positions) else 0  # a link made for another sentence
    temp = c2.slider(t("distillation.temperature"), 0.5, 10.0, value=TEMP, step=0.5, key="d_temp", bind="query-params")
    cmp = D.soft_comparison(*pair_args, ctx.text_a, ctx.text_b, rate / 100, seed, j, float(temp), K)
    c1, c2 = st.columns([3, 2])
    c1.html(bars(cmp))
    with c2:
        a, b = st.columns(2)
        a.metric(t("distillation.teacher_entropy"), t("common.nats_value", value=cmp.teacher_entropy))
        b.metric(t("distillation.student_entropy"), t("common.nats_value", value=cmp.student_entropy))
        a.metric(t("distillation.kl"), f"{cmp.kl:.3f}")
        b.metric(t("distillation.soft_term"), f"{cmp.soft_term:.3f}")
        h1 = mp.teacher_entropy[j]
        moved = cmp.teacher_entropy - h1
        st.caption(t("distillation.spread_more" if moved > 0.005 else "distillation.spread_less", temperature=temp,
                     entropy=cmp.teacher_entropy, entropy_1=h1) if abs(moved) > 0.005 else
                   t("distillation.spread_same", entropy_1=h1))
        curves = D.entropy_curves(*pair_args, ctx.text_a, ctx.text_b, rate / 100, seed, j, ENTROPY_TS)
        chart(entropy_curve(*curves, mp.teacher_logits.shape[-1], temp), key="d_entropy",
              file="distillation-entropy-vs-temperature", present_height=240)  # under the spread's sentence


def hidden() -> None:
    explain("hidden")
    cos = D.hidden_cosines(*pair_args, ctx.text_a, ctx.text_b).numpy()
    s_n, t_n = cos.shape
    ylab = [t("distillation.embeddings")] + [t("distillation.student_layer", i=i) for i in range(s_n - 1)]
    xlab = [t("distillation.embeddings")] + [t("distillation.teacher_layer", i=i) for i in range(t_n - 1)]
    fig = go.Figure(go.Heatmap(z=cos, x=xlab, y=ylab, colorscale="Viridis", zmin=0, zmax=1,
                               texttemplate="%{z:.2f}",
                               hovertemplate=t("distillation.hover_cosine") + "<extra></extra>",
                               colorbar=dict(title=t("distillation.mean_cosine"))))
    ratio = (t_n - 1) / max(s_n - 1, 1)
    for i in range(s_n):  # student output i ↔ teacher output round(i · ratio): the same depth of the network
        jx = int(round(i * ratio))
        fig.add_shape(type="rect", x0=jx - 0.5, x1=jx + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line=dict(color="#f03e3e", width=3))
    fig.update_layout(height=140 + 50 * s_n, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
    chart(fig, key="d_cos", file="distillation-hidden-cosine")
    st.caption(t("distillation.last_layers", cosine=cos[-1, -1], n=len(enc.tokens), loss=1 - cos[-1, -1]))


def latency(again: bool = False) -> dict:
    with st.spinner(t("distillation.timing")):
        return D.speed(*pair_args, ctx.text_a, ctx.text_b, again=again)


@st.fragment
def speed_meter() -> None:
    explain("speed")
    again = st.button(t("distillation.measure_again"), icon=":material/speed:", key="d_measure")
    lat = latency(again)  # the last measurement of this text, shown at once; the button measures anew
    t_ms, s_ms = lat["teacher"].median_ms, lat["student"].median_ms
    pt, ps = teacher.model.num_parameters(), student.model.num_parameters()
    c1, c2, c3 = st.columns(3)
    c1.metric(t("distillation.teacher_encoder"), t("distillation.ms", ms=t_ms),
              help=t("distillation.median_of", n=len(lat["teacher"].runs_ms)))
    c2.metric(t("distillation.student_encoder"), t("distillation.ms", ms=s_ms),
              help=t("distillation.median_of", n=len(lat["student"].runs_ms)))
    c3.metric(t("distillation.speedup"), t("distillation.speedup_value", speedup=t_ms / s_ms),
              t("distillation.less_time", less=1 - s_ms / t_ms) if s_ms <= t_ms else
              t("distillation.more_time", more=s_ms / t_ms - 1),
              delta_color="normal" if s_ms <= t_ms else "inverse")  # more time: an arrow up in red
    fig = go.Figure()
    for role, name, colour in (("teacher", t("common.teacher"), TEACHER_C),
                               ("student", t("common.student"), STUDENT_C)):
        fig.add_trace(go.Box(x=lat[role].runs_ms, name=name, marker_color=colour, boxpoints="all",
                             hovertemplate=t("distillation.hover_ms") + "<extra></extra>"))
    fig.update_layout(height=200, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=t("distillation.axis_ms"),
                      showlegend=False)
    chart(fig, key="d_speed", file="distillation-speed", present_height=280)
    verdict = against_layers(t_ms / s_ms, n_layers(teacher) / n_layers(student))
    st.markdown(t("distillation.speed_about" if verdict == "about" else "distillation.speed_less" if verdict == "less"
                  else "distillation.speed_more" if verdict == "more" else "distillation.speed_slower",
                  speedup=t_ms / s_ms, layers=n_layers(teacher) / n_layers(student)))
    st.caption(t("distillation.timed", n=len(enc.tokens), device=ctx.device.upper(), teacher=pt / 1e6,
                 student=ps / 1e6))
    if show("claims"):  # on the page the claims follow the meter, and a new measurement updates them
        claims(lat)


def claims(lat: dict) -> None:
    speedup = lat["teacher"].median_ms / lat["student"].median_ms
    smaller = 1 - student.model.num_parameters() / teacher.model.num_parameters()
    st.markdown(T["claims"])
    h = D.shipped(teacher_name, student_name)  # the built-in pair: the model card's measurement, not a second one
    if h is None:
        with st.spinner(t("distillation.masking_heldout")):
            h = D.heldout(*pair_args)
    rows = table("distilbert_claims")
    ours = {"smaller": t("distillation.ours_smaller", smaller=smaller),
            "faster": t("distillation.ours_faster", less=1 - 1 / speedup, speedup=speedup) if speedup >= 1 else
                      t("distillation.ours_slower", more=1 / speedup - 1, speedup=speedup),
            "quality": t("distillation.ours_quality", student=h["student_top1"], teacher=h["teacher_top1"],
                         share=h["student_top1"] / h["teacher_top1"], agreement=h["agreement"],
                         positions=h["positions"], by_lead=by_lead(h))}
    builtin = (teacher_name, student_name) == (BUILTIN_NAME, BUILTIN_NAME)
    st.table({rows[0][0]: [r[0] for r in rows[1:]], rows[0][1]: [r[1] for r in rows[1:]],
              t("distillation.measured_builtin" if builtin else "distillation.measured"):
                  [ours[r[2]] for r in rows[1:]]},
             border="horizontal")
    share = h["student_top1"] / h["teacher_top1"]
    level = dist.quality_vs_paper(share)
    st.markdown(t("distillation.quality_paper" if level == "paper" else "distillation.quality_near" if level == "near"
                  else "distillation.quality_short", share=share, agreement=h["agreement"]))
    if "measured_with" in h:
        st.caption(t("distillation.quality_from_card_present" if present.on() else "distillation.quality_from_card",
                     sequences=h["sequences"], positions=h["positions"], seed=h["seed"]))


def by_lead(h: dict) -> str:
    """The agreement apart where the teacher was sure of its first guess and where it was nearly undecided."""
    if not 0 < h["near_tie_share"] < 1:
        return ""
    return t("distillation.by_lead", clear=h["agreement_clear"], near_tie=dist.NEAR_TIE,
             near_tie_agreement=h["agreement_near_tie"], near_tie_share=h["near_tie_share"])


def loss_now(mp: D.MaskedPair) -> None:
    c = mp.settings
    if present.on():  # the step's title and narration say what the settings paragraph and the essay say
        st.markdown(T["loss-formula"].split("\n\n")[0])  # the formula, its first paragraph
    else:
        st.markdown(T["loss"])
        where = T["loss-all"] if c.soft_at == "all" else T["loss-masked"]
        st.markdown((T["loss-own"] if mp.settings_known else T["loss-paper"]).format(
            alpha_ce=f"{c.alpha_ce:g}", alpha_mlm=f"{c.alpha_mlm:g}", alpha_cos=f"{c.alpha_cos:g}",
            temperature=f"{c.temperature:g}", where=where))
        st.markdown(T["loss-formula"])
    parts = [(f"{c.alpha_ce:g} · T² · KL", c.alpha_ce * mp.loss["soft"], mp.loss["soft"], TEACHER_C),
             (f"{c.alpha_mlm:g} · MLM", c.alpha_mlm * mp.loss["mlm"], mp.loss["mlm"], "#2f9e44"),
             (f"{c.alpha_cos:g} · (1 − cos)", c.alpha_cos * mp.loss["cos"], mp.loss["cos"], STUDENT_C)]
    st.html(stacked_bar(t("distillation.loss_title", temperature=c.temperature, total=mp.loss["total"]),
                        [(n, v, colour, t("distillation.loss_part", name=n, value=v, raw=raw))
                         for n, v, raw, colour in parts], t("common.nats")))
    name, value, _, _ = max(parts, key=lambda part: part[1])
    if mp.loss["total"] > 0:
        st.caption(t("distillation.loss_largest", name=name, share=value / mp.loss["total"]))
    st.caption(T["loss-terms"].format(soft=f"{mp.loss['soft']:.3f}", mlm=f"{mp.loss['mlm']:.3f}",
                                      cos=f"{mp.loss['cos']:.3f}"))


if show("architecture"):
    architecture()
if show("soft") or show("temperature") or show("loss"):
    soft_targets()
if show("hidden"):
    hidden()
if show("speed"):
    speed_meter()
elif show("claims"):  # presenter mode: the claims on a step of their own, next to the last measurement
    claims(latency())
present.chapter_end("distillation", (dist, "d_math"))
