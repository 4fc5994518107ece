from ui.boot import require_app

require_app()

import html  # noqa: E402

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from classroom import questions as CQ  # noqa: E402
from explainers import finetune as ft  # noqa: E402
from explainers import qa  # noqa: E402
from explainers.encoding import EmptyInputError  # noqa: E402
from explainers.errors import ExplainerError  # noqa: E402
from explainers.model import BUILTIN_NAME, ModelLoadError  # noqa: E402
from ui import finetune as F  # noqa: E402
from ui import classroom, present, prose, state  # noqa: E402
from ui.figures import chart, paper_table  # noqa: E402
from ui.html import md_escape, start_end_chips, token_chips  # noqa: E402
from ui.text import error_text, note_text, t, table  # noqa: E402

T = prose.sections("finetuning")
ctx = state.context()
PROBE_COLOUR, TUNED_COLOUR, FROZEN_COLOUR = "#4263eb", "#e8590c", "#dee2e6"
LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
show = present.steps("finetuning", T["title"], T["intro"])
if show("cls"):
    st.markdown(T["cls"])
    st.page_link("pages/embeddings.py", label=t("finetuning.cls_link", chapter=t("chapters.embeddings")),
                 icon=":material/stacks:")


# ------------------------------------------------------------------------------ 1 · two classifiers, one pair
def _use_pair(a: str, b: str) -> None:
    st.session_state["a"], st.session_state["b"] = a, b


def _example_pairs() -> None:
    rows = table("finetuning_pairs")
    cols = st.columns(len(rows) - 1)
    for col, (label, a, b) in zip(cols, rows[1:]):
        col.button(label, on_click=_use_pair, args=(a, b), icon=":material/input:", use_container_width=True,
                   help=f"A: {a}\nB: {b}")


def _heading(section: str) -> str:
    """A prose section's first line (its heading): what a presenter step keeps of a long section, whose point
    the step's narration already makes."""
    return section.split("\n", 1)[0]


def the_pair() -> tuple[str, str]:
    """The pair the classifiers read: the sidebar's; in presenter mode, while sentence B is empty, the first
    example pair (so the step opens with a verdict; the buttons load another pair into the sidebar)."""
    if present.on() and not ctx.text_b.strip():
        return F.default_pair()
    return ctx.text_a, ctx.text_b


def _verdict(col, title: str, p: list[float], colour: str) -> None:
    label = t("finetuning.is_next") if p[1] >= 0.5 else t("finetuning.not_next")
    col.markdown(f"**{title}**")
    col.metric(t("finetuning.p_is_next"), f"{p[1]:.0%}", label, delta_color="off", delta_arrow="off")
    col.html(f'<div style="height:.7em;border-radius:.3em;background:#f1f3f5;overflow:hidden">'
             f'<div style="width:{100 * p[1]:.1f}%;height:100%;background:{colour}"></div></div>')


def pair_verdict(draw: bool) -> F.PairVerdict | None:
    """The pair's verdicts, or None (with its message when `draw`) when there is no pair to judge."""
    a, b = the_pair()
    try:
        v = F.next_sentence(ctx.device, a, b)
    except EmptyInputError as err:  # sentence A: nothing left to read
        if draw:
            st.info(error_text(err), icon=":material/edit:")
        return None
    if draw:
        for note in v.notes:
            st.warning(note_text(note), icon=":material/info:")
    if "B" not in v.segments:
        if draw:
            st.info(t("finetuning.need_pair"), icon=":material/edit:")
        return None
    return v


def pair_section(c: F.Classifier) -> bool:
    """The two verdicts on the pair; False when there is no pair (then no step of training either)."""
    st.markdown(T["pair"])
    _example_pairs()
    if present.on() and not ctx.text_b.strip():
        st.caption(t("finetuning.default_pair"))
    v = pair_verdict(draw=True)
    if v is None:
        return False
    if present.on():  # the pair as text: ids and positions are chapter 1's, not this step's
        a, b = the_pair()
        st.markdown(t("finetuning.pair_line", a=md_escape(a), b=md_escape(b)))
    else:
        st.html(token_chips(v.tokens, v.ids, v.segments, set(c.tokenizer.all_special_tokens)))
    layers = ", ".join(_layer_label(k) for k in c.probe_layers)
    left, right = st.columns(2)
    _verdict(left, t("finetuning.feature_based_title", layers=layers), v.probe, PROBE_COLOUR)
    _verdict(right, t("finetuning.finetuned_title"), v.finetuned, TUNED_COLOUR)
    if not present.on():
        st.caption(t("finetuning.builtin_only"))
    return True


def _count(n: int) -> str:
    return f"{n / 1e6:.2f} M" if n >= 100_000 else f"{n:,}"


def _layer_label(k: int) -> str:
    """Hidden state k: 0 is the embedding output, k the output of layer k."""
    return t("finetuning.layer_short", k=k) if k else t("finetuning.embeddings_short")


def weights_figure(c: F.Classifier) -> go.Figure:
    """Which weights each approach trains: one row per part, one column per approach."""
    shared = tuple(c.facts["base"]["shared"])
    counts, frozen = {}, set()
    for name, p in c.finetuned.named_parameters():
        counts[F.part(name)] = counts.get(F.part(name), 0) + p.numel()
        if name.startswith(shared):
            frozen.add(F.part(name))
    probe = t("finetuning.part_probe")
    counts[probe] = c.probe.weight.numel() + c.probe.bias.numel()
    rows = list(counts)
    approaches = [t("finetuning.feature_based"), t("finetuning.finetuning")]
    trained = {approaches[0]: {probe}, approaches[1]: set(rows) - frozen - {probe}}
    read = {t("finetuning.part_embeddings"), *(t("finetuning.part_layer", k=k)
                                                for k in range(1, max(c.probe_layers) + 1))}
    used = {approaches[0]: read | {probe}, approaches[1]: set(rows) - {probe}}  # the probe reads up to its layer
    z, text = [], []
    for row in rows:
        z.append([2 if row in trained[a] else (1 if row in used[a] else 0) for a in approaches])
        text.append([_count(counts[row]) if row in used[a] else "" for a in approaches])
    fig = go.Figure(go.Heatmap(z=z, x=approaches, y=rows, text=text, texttemplate="%{text}", showscale=False,
                               zmin=0, zmax=2, xgap=4, ygap=4, hoverinfo="skip",
                               colorscale=[[0, "white"], [0.5, FROZEN_COLOUR], [1, TUNED_COLOUR]]))
    fig.update_layout(height=60 + 34 * len(rows), margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white",
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top"), font=dict(size=14))
    return fig


def step_sentence(s: F.OneStep, label: int) -> str:
    """What this step did, in words chosen by its numbers: which way P(IsNext) moved, and which part moved most."""
    name = t("finetuning.is_next") if label else t("finetuning.not_next")
    direction = F.step_direction(s, label)
    pp = 100 * (s.after - s.before)
    if direction == "still":
        moved = t("finetuning.step_still")
    else:
        moved = t("finetuning.step_towards" if direction == "towards" else "finetuning.step_away", pp=pp, label=name)
    first, x, second, y = F.moved_most(s)
    if y > 0:
        moved += " " + t("finetuning.step_most", part=F.part_label(first), x=x, second=F.part_label(second),
                         ratio=x / y)
    return moved


@st.fragment
def one_step() -> None:
    a, b = the_pair()
    st.markdown(_heading(T["one_step"]) if present.on() else T["one_step"])  # the narration makes the point
    if present.on():  # the step shows no verdict above it: name the pair it trains on
        st.markdown(t("finetuning.pair_line", a=md_escape(a), b=md_escape(b)))
    c1, c2 = st.columns(2)
    label = c1.radio(t("finetuning.step_label"), [1, 0], key="f_label", horizontal=True, bind="query-params",
                     format_func=lambda v: t("finetuning.is_next") if v else t("finetuning.not_next"))
    lr = c2.select_slider(t("finetuning.step_lr"), options=LEARNING_RATES, value=F.STEP_LR, key="f_lr",
                          bind="query-params", format_func=lambda v: f"{v:g}")
    label = label if label in (0, 1) else 1
    lr = lr if lr in LEARNING_RATES else F.STEP_LR
    s = F.one_step(ctx.device, a, b, int(label), float(lr))
    if present.on():  # the numbers stacked beside the figure: one screen
        numbers, where = st.columns([1, 3])
        m1 = m2 = m3 = numbers
    else:
        m1, m2, m3 = st.columns(3)
        where = None
    m1.metric(t("finetuning.step_before"), f"{s.before:.1%}")
    m2.metric(t("finetuning.step_after"), f"{s.after:.1%}", t("finetuning.step_change", pp=100 * (s.after - s.before)))
    m3.metric(t("finetuning.step_loss"), f"{s.loss:.3f}")
    parts = list(s.moved)
    fig = go.Figure(go.Bar(x=[F.part_label(k) for k in parts], y=[s.moved[k] for k in parts], marker_color=TUNED_COLOUR,
                           hovertemplate="%{x}: %{y:.2e}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white", font=dict(size=14),
                      yaxis=dict(type="log", title=t("finetuning.moved_axis")), title=t("finetuning.moved_title"))
    if present.on():  # one label a decade: a log axis's small 2…9 between them are under projector size
        fig.update_yaxes(dtick=1, exponentformat="power")
    chart(fig, key="f_moved", file="finetuning-one-step-moved", where=where, present_height=320)
    st.markdown(step_sentence(s, int(label)))
    if not present.on():
        st.caption(t("finetuning.step_caption", trained=sum(s.trainable.values()), lr=lr))


def weights_section(c: F.Classifier) -> None:
    st.markdown(T["weights"])
    left, right = st.columns([2, 3])
    chart(weights_figure(c), key="f_weights", file="finetuning-trained-weights", where=left)
    right.markdown(T["weights_legend"])


def comparison_sentence(cmp: dict, layer: str) -> str:
    """The build's fine-tuned classifier against its best probe, in words chosen by their numbers."""
    if cmp["winner"] == "tie":
        said = t("finetuning.compare_tie", tuned=cmp["tuned"], n=cmp["n"], layer=layer)
    else:
        said = t("finetuning.compare_tuned" if cmp["winner"] == "tuned" else "finetuning.compare_probe",
                 tuned=cmp["tuned"], probe=cmp["probe"], n=cmp["n"], pp=100 * abs(cmp["tuned"] - cmp["probe"]),
                 layer=layer)
    (t_low, t_high), (p_low, p_high) = cmp["tuned_ci"], cmp["probe_ci"]
    return said + " " + t("finetuning.compare_overlap" if cmp["overlap"] else "finetuning.compare_apart",
                          t_low=t_low, t_high=t_high, p_low=p_low, p_high=p_high)


def measured_section(c: F.Classifier) -> None:
    facts = c.facts
    st.markdown(T["measured"])
    probes = facts["probes"]
    names = [k for k in probes if k.startswith("layer:")] + ["last4_concat"]
    labels = [_layer_label(int(k.split(":")[1])) if k.startswith("layer:") else t("finetuning.last4")
              for k in names]
    curve = [row for row in facts["finetune_curve"] if "test_accuracy" in row]
    tuned = curve[-1]["test_accuracy"]
    bars = go.Figure(go.Bar(x=labels, y=[probes[k]["test_accuracy"] for k in names], marker_color=PROBE_COLOUR,
                            text=[f"{probes[k]['test_accuracy']:.1%}" for k in names], textposition="outside",
                            name=t("finetuning.feature_based")))
    bars.add_hline(y=tuned, line_dash="dash", line_color=TUNED_COLOUR,
                   annotation_text=t("finetuning.finetuned_line", acc=tuned), annotation_position="top left")
    bars.add_hline(y=0.5, line_dash="dot", line_color="#868e96", annotation_text=t("finetuning.chance"),
                   annotation_position="bottom right")
    bars.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(range=[0.4, 1.0],
                       tickformat=".0%", title=t("finetuning.heldout_accuracy")), plot_bgcolor="white",
                       title=t("finetuning.by_layer_title"), font=dict(size=14))
    best = probes[facts["best_probe"]]["curve"]
    lines = go.Figure()
    lines.add_scatter(x=[r["step"] for r in curve], y=[r["test_accuracy"] for r in curve], mode="lines+markers",
                      name=t("finetuning.finetuning"), line_color=TUNED_COLOUR)
    lines.add_scatter(x=best["steps"], y=best["test"], mode="lines+markers", line_color=PROBE_COLOUR,
                      name=t("finetuning.probe_curve", setting=labels[names.index(facts["best_probe"])]
                             if facts["best_probe"] in names else facts["best_probe"]))
    lines.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white",
                        title=t("finetuning.curves_title"), xaxis_title=t("finetuning.steps"),
                        yaxis=dict(tickformat=".0%", title=t("finetuning.heldout_accuracy")),
                        legend=dict(orientation="h", y=-0.25), font=dict(size=14))
    a, b = st.columns(2)
    chart(bars, key="f_layers", file="finetuning-probe-per-layer", where=a, present_height=400)
    chart(lines, key="f_curves", file="finetuning-learning-curves", where=b, present_height=400)
    st.markdown(comparison_sentence(F.build_comparison(facts), labels[names.index(facts["best_probe"])]
                                    if facts["best_probe"] in names else facts["best_probe"]))
    if present.on():  # the build's facts and the paper's table: for the page, not the projector
        return
    cfg = facts["config"]
    st.caption(t("finetuning.measured_caption", train=facts["pairs"]["train"], probe_train=facts["probe_pairs"],
                 test=facts["pairs"]["test"], steps=facts["step"], batch=cfg["batch_size"],
                 minutes=facts["train_seconds"] / 60, probe_seconds=facts["probe_seconds"],
                 hardware=facts["hardware"]))
    st.markdown(T["paper"])
    paper_table("bert_feature_based")


# --------------------------------------------------------------------------------------------- 2 · live probe
def probe_figure(results: dict, layer: int, build: dict) -> go.Figure:
    """Each layer's cross-validated accuracy with its 95 % interval; the build's per-layer accuracy beside it."""
    done = sorted(results)
    acc = [results[k].accuracy for k in done]
    fig = go.Figure(go.Bar(
        x=[_layer_label(k) for k in done], y=acc, name=t("finetuning.probe_live_legend", n=results[done[0]].n),
        marker_color=[TUNED_COLOUR if k == layer else PROBE_COLOUR for k in done],
        error_y=dict(type="data", array=[results[k].interval[1] - a for k, a in zip(done, acc)],
                     arrayminus=[a - results[k].interval[0] for k, a in zip(done, acc)], color="#495057"),
        hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    if build:
        first = next(iter(build.values()))
        fig.add_scatter(x=[_layer_label(k) for k in done if k in build], y=[build[k][0] for k in done if k in build],
                        mode="markers", marker=dict(symbol="diamond", size=11, color="#212529"),
                        name=t("finetuning.probe_build_legend", test=first[1], train=first[2]),
                        hovertemplate="%{x}: %{y:.1%}<extra></extra>")
    fig.add_hline(y=0.5, line_dash="dot", line_color="#868e96")
    low = min(r.interval[0] for r in results.values())
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      yaxis=dict(range=[min(0.4, low - 0.05), 1.0], tickformat=".0%"), font=dict(size=14),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def probe_sentences(r, layer: int, build) -> list[str]:
    """What the numbers say, chosen by them: the interval against chance, and against the build's accuracy."""
    low, high = r.interval
    verdict = F.probe_verdict(r)
    said = [t("finetuning.probe_above" if verdict == "above" else
              "finetuning.probe_below" if verdict == "below" else "finetuning.probe_chance",
              layer=layer, n=r.n, low=low, high=high)]
    if build is not None:
        where = F.build_verdict(r, build[0])
        said.append(t("finetuning.build_inside" if where == "inside" else
                      "finetuning.build_higher" if where == "higher" else "finetuning.build_lower",
                      build=build[0], test=build[1], train=build[2], live=r.train_pairs))
    return said


@st.fragment
def live_probe() -> None:
    st.markdown(T["probe"])
    lm = state.get_model(ctx.model_name, ctx.device)
    n_layers = lm.config.num_hidden_layers
    if st.session_state.get("f_layer", 0) > n_layers:  # a layer of the previous model, which had more
        st.session_state["f_layer"] = min(F.PROBE_LAYER, n_layers)
    layer = st.slider(t("finetuning.probe_layer"), 0, n_layers, value=min(F.PROBE_LAYER, n_layers), key="f_layer",
                      bind="query-params", help=t("finetuning.probe_layer_help"))
    bar = st.empty()  # the first visit of a model: features once, then one probe a layer (about half a second each)
    results = F.probe_by_layer(ctx.model_name, ctx.device, progress=lambda k, n: bar.progress(
        k / n, text=t("finetuning.training_probe", layer=k, layers=n - 1)))
    bar.empty()
    r = results[layer]
    build = {k: b for k in results if (b := F.build_probe_accuracy(ctx.model_name, k)) is not None}
    low, high = r.interval
    result, where = st.columns([2, 3])
    result.metric(t("finetuning.probe_result", layer=layer), f"{r.accuracy:.1%}",
                  t("finetuning.probe_interval", low=low, high=high, n=r.n), delta_color="off", delta_arrow="off")
    for line in probe_sentences(r, layer, build.get(layer)):
        result.markdown(line)
    chart(probe_figure(results, layer, build), key="f_live", file="finetuning-live-probe", where=where,
          present_height=320)
    if not present.on():
        st.caption(t("finetuning.probe_caption", n=r.n, docs=r.n_docs, folds=r.folds, train=r.train_pairs,
                     steps=F.PROBE_STEPS))


# ----------------------------------------------------------------------------------- 3 · question answering
def qa_model() -> str:
    if present.on():  # no model picker on the projector: the address's model (set on the page), else the built-in
        name = str(st.query_params.get("qa_model", "")).strip() or BUILTIN_NAME
    else:
        with st.expander(t("finetuning.qa_model"), icon=":material/swap_horiz:", key="f_qa_open",
                         bind="query-params"):
            st.markdown(T["qa_model"])
            name = st.text_input(t("finetuning.qa_model_box"), BUILTIN_NAME, key="qa_model",
                                 bind="query-params").strip() or BUILTIN_NAME
    try:
        F.get_qa(name, ctx.device)
        return name
    except ModelLoadError as err:
        if name == BUILTIN_NAME:
            st.warning(T["no_qa_model"], icon=":material/build:")
            st.stop()
        st.error(t("finetuning.builtin_qa_instead", error=md_escape(error_text(err))), icon=":material/error:")
        return BUILTIN_NAME


def _load_qa_example() -> None:
    """Load the chosen example into the passage and question boxes, then show the placeholder again: the
    selector is an action like the pair buttons, so it never names an example the boxes no longer hold."""
    rows = {r[0]: r for r in table("qa_examples")[1:]}
    choice = st.session_state.get("qa_example")
    if choice in rows:
        st.session_state["qa_p"], st.session_state["qa_q"] = rows[choice][1], rows[choice][2]
    st.session_state["qa_example"] = None


def highlighted(r: qa.QAResult) -> str:
    """The passage with the best span marked (everything escaped)."""
    best, p, offsets = r.best, r.input.passage, r.input.offsets
    start, end = offsets[best.start][0], offsets[best.end][1]
    return (f'<div style="font-size:1.1em;line-height:1.7">{html.escape(p[:start])}<mark style="background:#ffd43b;'
            f'padding:0 .15em;border-radius:.2em;font-weight:600">{html.escape(p[start:end])}</mark>'
            f"{html.escape(p[end:])}</div>")


def span_figure(r: qa.QAResult, window: int = 60) -> go.Figure:
    """S·T_i + E·T_j over the passage (at most `window` pieces around the best span), the best span marked."""
    first, last, best = r.input.first, r.input.last, r.best
    lo = max(first, min(best.start - window // 2, last + 1 - window))
    hi = min(last, lo + window - 1)
    idx = list(range(lo, hi + 1))
    labels = [f"{i}·{r.input.tokens[i]}" for i in idx]
    z = r.scores[lo:hi + 1, lo:hi + 1]
    z = [[v if v != float("-inf") else None for v in row] for row in z.tolist()]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, colorscale="Viridis",
                               colorbar=dict(title=t("finetuning.span_score")),
                               hovertemplate=t("finetuning.span_hover")))
    fig.add_scatter(x=[labels[best.end - lo]], y=[labels[best.start - lo]], mode="markers", showlegend=False,
                    marker=dict(symbol="square-open", size=16, color="#fa5252", line=dict(width=3)),
                    hoverinfo="skip")
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(title=t("finetuning.end_j"),
                      tickangle=-60), yaxis=dict(title=t("finetuning.start_i"), autorange="reversed"),
                      font=dict(size=12))
    return fig


def vectors_figure(S, E) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=[S.tolist(), E.tolist()], y=["S", "E"], colorscale="RdBu", zmid=0,
                               hovertemplate=t("finetuning.vector_hover")))
    fig.update_layout(height=170, margin=dict(l=10, r=10, t=10, b=30), xaxis_title=t("finetuning.dimension"),
                      yaxis=dict(autorange="reversed"), font=dict(size=14))
    return fig


def qa_inputs() -> tuple[str, str]:
    """(passage, question): an example to load, the passage and the question. In presenter mode in one row, the
    passage in a pop-over (the passage itself is on the screen, with the answer marked)."""
    examples = [r[0] for r in table("qa_examples")[1:]]
    first = table("qa_examples")[1]

    def example(where) -> None:
        where.selectbox(t("finetuning.qa_example"), examples, index=None, key="qa_example",
                        on_change=_load_qa_example, placeholder=t("sidebar.example_placeholder"))

    def passage_box(where, **size) -> str:
        return where.text_area(t("finetuning.passage"), first[1], key="qa_p", bind="query-params",
                               max_chars=20_000, **(size or {"height": 120}))

    def question_box(where) -> str:
        return where.text_input(t("finetuning.question"), first[2], key="qa_q", bind="query-params",
                                max_chars=2_000)

    if not present.on():
        example(st)
        return passage_box(st), question_box(st)
    left, middle, right = st.columns([2, 3, 1.3], vertical_alignment="bottom")
    example(left)
    question = question_box(middle)
    with right.popover(t("finetuning.edit_passage"), icon=":material/edit:", use_container_width=True):
        passage = passage_box(st, height=220, width=640)
    return passage, question


@st.fragment  # a new question reruns this section only, not the classifiers' figures above
def qa_section(name: str, part: str | None = None) -> None:
    """The question's answer: where it starts and ends (`part` "qa"), every span's score ("spans"); both
    outside presenter mode (None)."""
    lm = F.get_qa(name, ctx.device)
    if part is not None:
        st.markdown(_heading(T["qa"] if part == "qa" else T["qa_spans"]))
    passage, question = qa_inputs()
    try:
        r = F.answer(name, ctx.device, question, passage)
    except ExplainerError as err:
        st.info(error_text(err), icon=":material/edit:")
        return
    for note in r.input.notes:
        st.warning(note_text(note), icon=":material/info:")
    best = r.best
    if part == "qa" and classroom.on():  # Class vs BERT (or self-study): answered before the model's answer shows
        span = (r.input.offsets[best.start][0], r.input.offsets[best.end][1])
        if classroom.ask("finetuning/qa", lambda: CQ.span_in_passage(question, passage, *span, best.score)):
            return
    st.markdown(t("finetuning.answer", answer=md_escape(best.text), score=best.score, i=best.start, j=best.end))
    if part in (None, "qa"):
        answer_part(r, lm)
    if part in (None, "spans"):
        spans_part(r)


def answer_part(r: qa.QAResult, lm) -> None:
    st.html(highlighted(r))
    if not present.on():  # SQuAD 2.0's "no answer" and the whole input: for the page, not the projector
        no_answer = t("finetuning.no_answer_higher" if r.no_answer > r.best.score else "finetuning.no_answer_lower",
                      null=r.no_answer, best=r.best.score)
        st.caption(no_answer)
        with st.expander(t("finetuning.input_pieces", n=len(r.input.tokens)), key="f_pieces", bind="query-params"):
            segments = ["A" if s == 0 else "B" for s in r.input.token_type_ids[0].tolist()]
            st.html(token_chips(r.input.tokens, r.input.input_ids[0].tolist(), segments,
                                set(lm.tokenizer.all_special_tokens)))
    st.markdown(T["qa_probs"])
    passage = r.input.tokens[r.input.first:r.input.last + 1]
    st.html(start_end_chips(passage, r.start_probs.tolist(), r.end_probs.tolist(), t("finetuning.p_start"),
                            t("finetuning.p_end")))


def _short(text: str, n: int = 36) -> str:
    """A long span cut in its middle at word boundaries (its first and last words kept), so that a row of the top
    spans stays about one line on the projector."""
    words = text.split()
    if len(text) <= n or len(words) < 3:
        return text
    head, tail = [words.pop(0)], [words.pop()]
    while words and len(" ".join(head + words[:1])) <= n // 2:
        head.append(words.pop(0))
    while words and len(" ".join(words[-1:] + tail)) <= n // 2:
        tail.insert(0, words.pop())
    return " ".join(head + ["…"] + tail) if words else text


def spans_part(r: qa.QAResult) -> None:
    if not present.on():
        st.markdown(T["qa_spans"])
    span_text = _short if present.on() else str
    left, right = st.columns([1, 1])
    chart(span_figure(r, window=24 if present.on() else 60), key="f_spans", file="finetuning-span-scores",
          where=left, present_height=420)
    right.table({t("finetuning.span"): [span_text(s.text) for s in r.top],  # a static table: cheap to redraw
                 "i": [s.start for s in r.top], "j": [s.end for s in r.top],
                 t("finetuning.score"): [f"{s.score:.2f}" for s in r.top],
                 t("finetuning.start_score"): [f"{float(r.start_logits[s.start]):.2f}" for s in r.top],
                 t("finetuning.end_score"): [f"{float(r.end_logits[s.end]):.2f}" for s in r.top]}, border="horizontal")
    if not present.on():  # the rule the narration gives: for the page
        right.caption(t("finetuning.top_caption", max_len=30))


def vectors_section(name: str) -> None:
    """S and E: the same for every question, so outside the question's fragment (not redrawn on a new one)."""
    S, E, _, _ = qa.start_end_vectors(F.get_qa(name, ctx.device).model)
    S, E = S.detach().float().cpu(), E.detach().float().cpu()
    st.markdown(T["qa_vectors"])
    chart(vectors_figure(S, E), key="f_vectors", file="finetuning-start-end-vectors", present_height=300)
    st.caption(t("finetuning.vectors_caption", d=len(S), norm_s=float(S.norm()), norm_e=float(E.norm()),
                 cos=float((S @ E) / (S.norm() * E.norm()))))


try:
    _, classifier = F.get_classifier(ctx.device)
except ModelLoadError as err:
    st.warning(T["no_classifier"] + "\n\n" + md_escape(error_text(err)), icon=":material/build:")
    classifier = None
if classifier is not None:
    has_pair = show("pair") and pair_section(classifier)
    if show("step") and (has_pair or present.on() and pair_verdict(draw=True) is not None):
        one_step()
    if show("weights"):
        weights_section(classifier)
    if show("measured"):
        measured_section(classifier)
if show("probe"):
    live_probe()
if show("qa") or show("spans") or show("vectors"):
    if not present.on():
        st.markdown(T["qa"])
    qa_name = qa_model()
    if show.everything:
        qa_section(qa_name)
    elif show("qa") or show("spans"):
        qa_section(qa_name, "qa" if show("qa") else "spans")
    if show("vectors"):
        vectors_section(qa_name)
if show.everything:
    st.markdown(T["data"])
present.chapter_end("finetuning", (ft, "f_math"), (qa, "f_qa_math"))
