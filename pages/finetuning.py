from ui.boot import require_app

require_app()

import html  # noqa: E402

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import finetune as ft  # noqa: E402
from explainers import qa  # noqa: E402
from explainers.model import BUILTIN_NAME, EmptyInputError, ExplainerError, ModelLoadError  # noqa: E402
from ui import finetune as F  # noqa: E402
from ui import present, prose, state  # noqa: E402
from ui.figures import chart  # noqa: E402
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


def _verdict(col, title: str, p: list[float], colour: str) -> None:
    label = t("finetuning.is_next") if p[1] >= 0.5 else t("finetuning.not_next")
    col.markdown(f"**{title}**")
    col.metric(t("finetuning.p_is_next"), f"{p[1]:.0%}", label, delta_color="off", delta_arrow="off")
    col.html(f'<div style="height:.7em;border-radius:.3em;background:#f1f3f5;overflow:hidden">'
             f'<div style="width:{100 * p[1]:.1f}%;height:100%;background:{colour}"></div></div>')


def pair_section(c: F.Classifier) -> None:
    st.markdown(T["pair"])
    _example_pairs()
    try:
        v = F.next_sentence(ctx.device, ctx.text_a, ctx.text_b)
    except EmptyInputError as err:  # sentence A: nothing left to read
        st.info(error_text(err), icon=":material/edit:")
        return
    for note in v.notes:
        st.warning(note_text(note), icon=":material/info:")
    if "B" not in v.segments:
        st.info(t("finetuning.need_pair"), icon=":material/edit:")
        return
    st.html(token_chips(v.tokens, v.ids, v.segments, set(c.tokenizer.all_special_tokens)))
    layers = ", ".join(_layer_label(k) for k in c.probe_layers)
    left, right = st.columns(2)
    _verdict(left, t("finetuning.feature_based_title", layers=layers), v.probe, PROBE_COLOUR)
    _verdict(right, t("finetuning.finetuned_title"), v.finetuned, TUNED_COLOUR)
    st.caption(t("finetuning.builtin_only"))
    one_step()


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


@st.fragment
def one_step() -> None:
    st.markdown(T["one_step"])
    c1, c2 = st.columns(2)
    label = c1.radio(t("finetuning.step_label"), [1, 0], key="f_label", horizontal=True,
                     format_func=lambda v: t("finetuning.is_next") if v else t("finetuning.not_next"))
    lr = c2.select_slider(t("finetuning.step_lr"), options=LEARNING_RATES, value=1e-3, key="f_lr",
                          format_func=lambda v: f"{v:g}")
    s = F.one_step(ctx.device, ctx.text_a, ctx.text_b, int(label), float(lr))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("finetuning.step_before"), f"{s.before:.1%}")
    m2.metric(t("finetuning.step_after"), f"{s.after:.1%}", t("finetuning.step_change", pp=100 * (s.after - s.before)))
    m3.metric(t("finetuning.step_loss"), f"{s.loss:.3f}")
    parts = list(s.moved)
    fig = go.Figure(go.Bar(x=parts, y=[s.moved[k] for k in parts], marker_color=TUNED_COLOUR,
                           hovertemplate="%{x}: %{y:.2e}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white", font=dict(size=14),
                      yaxis=dict(type="log", title=t("finetuning.moved_axis")), title=t("finetuning.moved_title"))
    chart(fig, key="f_moved", file="finetuning-one-step-moved")
    st.caption(t("finetuning.step_caption", trained=sum(s.trainable.values()), lr=lr))


def measured_section(c: F.Classifier) -> None:
    st.markdown(T["weights"])
    left, right = st.columns([2, 3])
    chart(weights_figure(c), key="f_weights", file="finetuning-trained-weights", where=left)
    right.markdown(T["weights_legend"])
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
    chart(bars, key="f_layers", file="finetuning-probe-per-layer", where=a)
    chart(lines, key="f_curves", file="finetuning-learning-curves", where=b)
    cfg = facts["config"]
    st.caption(t("finetuning.measured_caption", train=facts["pairs"]["train"], probe_train=facts["probe_pairs"],
                 test=facts["pairs"]["test"], steps=facts["step"], batch=cfg["batch_size"],
                 minutes=facts["train_seconds"] / 60, probe_seconds=facts["probe_seconds"],
                 hardware=facts["hardware"]))
    st.markdown(T["paper"])
    rows = table("bert_feature_based")
    st.table({h: [r[j] for r in rows[1:]] for j, h in enumerate(rows[0])}, border="horizontal")


# --------------------------------------------------------------------------------------------- 2 · live probe
@st.fragment
def live_probe() -> None:
    st.markdown(T["probe"])
    lm = state.get_model(ctx.model_name, ctx.device)
    n_layers = lm.config.num_hidden_layers
    c1, c2 = st.columns([3, 2])
    layer = c1.slider(t("finetuning.probe_layer"), 0, n_layers, value=n_layers, key="f_layer",
                      bind="query-params", help=t("finetuning.probe_layer_help"))
    run = c2.button(t("finetuning.train_probe"), icon=":material/play_arrow:", type="primary")
    history = st.session_state.setdefault("f_probes", {})
    key = (ctx.model_name, layer)
    if run:
        bar = st.progress(0.0, text=t("finetuning.reading_features"))
        data = F.probe_data(ctx.model_name, ctx.device)
        x, y, train = data.hidden[:, layer], data.labels, data.train
        result = ft.train_probe(x[train], y[train], x[~train], y[~train], steps=200, seed=0,
                                progress=lambda i, n: bar.progress(i / n, text=t("finetuning.training_probe",
                                                                                 step=i, steps=n)))
        bar.empty()
        history[key] = (result.final_test_accuracy, result.train_accuracy[-1], int(train.sum()),
                        int((~train).sum()), data.n_docs)
    mine = {k: v for k, v in history.items() if k[0] == ctx.model_name}
    if not mine:
        st.caption(t("finetuning.probe_hint"))
        return
    if key in mine:
        acc, train_acc, n_train, n_test, n_docs = mine[key]
        st.metric(t("finetuning.probe_result", layer=layer), f"{acc:.1%}",
                  t("finetuning.probe_train_acc", acc=train_acc), delta_color="off")
        st.caption(t("finetuning.probe_caption", train=n_train, test=n_test, docs=n_docs))
    done = sorted(k[1] for k in mine)
    fig = go.Figure(go.Bar(x=[_layer_label(k) for k in done], y=[mine[(ctx.model_name, k)][0]
                    for k in done], marker_color=[TUNED_COLOUR if k == layer else PROBE_COLOUR for k in done]))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#868e96")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      yaxis=dict(range=[0.4, 1.0], tickformat=".0%"), font=dict(size=14))
    chart(fig, key="f_live", file="finetuning-live-probe")


# ----------------------------------------------------------------------------------- 3 · question answering
def qa_model() -> str:
    with st.expander(t("finetuning.qa_model"), icon=":material/swap_horiz:"):
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
    rows = {r[0]: r for r in table("qa_examples")[1:]}
    choice = st.session_state.get("qa_example")
    if choice in rows:
        st.session_state["qa_p"], st.session_state["qa_q"] = rows[choice][1], rows[choice][2]


def highlighted(r: qa.QAResult) -> str:
    """The passage with the best span marked (everything escaped)."""
    best, p, offsets = r.best, r.input.passage, r.input.offsets
    start, end = offsets[best.start][0], offsets[best.end][1]
    return (f'<div style="font-size:1.1rem;line-height:1.7">{html.escape(p[:start])}<mark style="background:#ffd43b;'
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


@st.fragment  # a new question reruns this section only, not the classifiers' figures above
def qa_section(name: str) -> None:
    lm = F.get_qa(name, ctx.device)
    st.selectbox(t("finetuning.qa_example"), [r[0] for r in table("qa_examples")[1:]], index=None,
                 key="qa_example", on_change=_load_qa_example, placeholder=t("sidebar.example_placeholder"))
    first = table("qa_examples")[1]
    passage = st.text_area(t("finetuning.passage"), first[1], key="qa_p", bind="query-params", max_chars=20_000,
                           height=120)
    question = st.text_input(t("finetuning.question"), first[2], key="qa_q", bind="query-params", max_chars=2_000)
    try:
        r = F.answer(name, ctx.device, question, passage)
    except ExplainerError as err:
        st.info(error_text(err), icon=":material/edit:")
        return
    for note in r.input.notes:
        st.warning(note_text(note), icon=":material/info:")
    best = r.best
    st.markdown(t("finetuning.answer", answer=md_escape(best.text), score=best.score, i=best.start, j=best.end))
    st.html(highlighted(r))
    no_answer = t("finetuning.no_answer_higher" if r.no_answer > best.score else "finetuning.no_answer_lower",
                  null=r.no_answer, best=best.score)
    st.caption(no_answer)
    with st.expander(t("finetuning.input_pieces", n=len(r.input.tokens))):
        segments = ["A" if s == 0 else "B" for s in r.input.token_type_ids[0].tolist()]
        st.html(token_chips(r.input.tokens, r.input.input_ids[0].tolist(), segments,
                            set(lm.tokenizer.all_special_tokens)))
    st.markdown(T["qa_probs"])
    passage = r.input.tokens[r.input.first:r.input.last + 1]
    st.html(start_end_chips(passage, r.start_probs.tolist(), r.end_probs.tolist(), t("finetuning.p_start"),
                            t("finetuning.p_end")))
    st.markdown(T["qa_spans"])
    left, right = st.columns([1, 1])
    chart(span_figure(r), key="f_spans", file="finetuning-span-scores", where=left)
    right.table({t("finetuning.span"): [s.text for s in r.top],  # a static table: cheap to redraw
                 "i": [s.start for s in r.top], "j": [s.end for s in r.top],
                 t("finetuning.score"): [f"{s.score:.2f}" for s in r.top],
                 t("finetuning.start_score"): [f"{float(r.start_logits[s.start]):.2f}" for s in r.top],
                 t("finetuning.end_score"): [f"{float(r.end_logits[s.end]):.2f}" for s in r.top]}, border="horizontal")
    right.caption(t("finetuning.top_caption", max_len=30))


def vectors_section(name: str) -> None:
    """S and E: the same for every question, so outside the question's fragment (not redrawn on a new one)."""
    S, E, _, _ = qa.start_end_vectors(F.get_qa(name, ctx.device).model)
    S, E = S.detach().float().cpu(), E.detach().float().cpu()
    st.markdown(T["qa_vectors"])
    chart(vectors_figure(S, E), key="f_vectors", file="finetuning-start-end-vectors")
    st.caption(t("finetuning.vectors_caption", d=len(S), norm_s=float(S.norm()), norm_e=float(E.norm()),
                 cos=float((S @ E) / (S.norm() * E.norm()))))


try:
    _, classifier = F.get_classifier(ctx.device)
except ModelLoadError as err:
    st.warning(T["no_classifier"] + "\n\n" + md_escape(error_text(err)), icon=":material/build:")
    classifier = None
if classifier is not None and show("pair"):
    pair_section(classifier)
if classifier is not None and show("measured"):
    measured_section(classifier)
if show("probe"):
    live_probe()
if show("qa") or show("vectors"):
    st.markdown(T["qa"])
    qa_name = qa_model()
    if show("qa"):
        qa_section(qa_name)
    if show("vectors"):
        vectors_section(qa_name)
if show.everything:
    st.markdown(T["data"])
    with st.expander(t("common.math", file="explainers/finetune.py")):
        st.markdown(prose.module_essay(ft))
    with st.expander(t("common.math", file="explainers/qa.py")):
        st.markdown(prose.module_essay(qa))
present.next_link("finetuning")
