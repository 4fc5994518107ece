from ui.boot import require_app

require_app()

import html  # noqa: E402

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from explainers import family  # noqa: E402
from explainers.family.spanbert import span_length_probs  # noqa: E402
from explainers.family.unilm import UNILM_KINDS  # noqa: E402
from ui import present, prose, state  # noqa: E402
from ui import family as fam  # noqa: E402
from ui.figures import arrow, chart, paper_table  # noqa: E402
from ui.html import masked_chips, md_escape, token_labels, unit_chips  # noqa: E402
from ui.lens import lens_columns  # noqa: E402
from ui.text import t  # noqa: E402

T = prose.sections("family")
show = present.steps("family", T["title"], T["intro"])
ctx = state.context()
args = (ctx.model_name, ctx.device, ctx.text_a, ctx.text_b)


def family_map() -> None:
    """In presenter mode the table alone: no "Shown" column (its "§1 below" are the normal page's sections), no
    note on the sources (the narration says whose numbers they are), no links to other chapters (→ is the way
    on there)."""
    if present.on():
        paper_table("family_map", columns=-1)
        return
    st.markdown(T["map"])
    paper_table("family_map")
    st.caption(t("family.map_source"))
    c1, c2, c3 = st.columns(3)
    c1.page_link("pages/electra.py", label=t("chapters.electra"), icon=":material/policy:")
    c2.page_link("pages/distillation.py", label=t("chapters.distillation"), icon=":material/school:")
    c3.page_link("pages/masking.py", label=t("chapters.masking"), icon=":material/theater_comedy:")


# ------------------------------------------------------------------------------------------------ RoBERTa
def coverage_figure(static: fam.Epochs, dynamic: fam.Epochs) -> go.Figure:
    x = list(range(1, len(static.coverage) + 1))
    fig = go.Figure()
    for run, name, colour in ((static, t("family.static"), "#868e96"), (dynamic, t("family.dynamic"), "#1c7ed6")):
        fig.add_trace(go.Scatter(x=x, y=run.coverage, name=name, mode="lines+markers", line=dict(color=colour,
                                 shape="hv"), hovertemplate=t("family.hover_coverage") + "<extra></extra>"))
        fig.add_trace(go.Scatter(x=x, y=run.expected, name=t("family.expected", name=name), mode="lines",
                                 line=dict(color=colour, dash="dot"), hoverinfo="skip"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=t("family.axis_epoch"),
                      yaxis=dict(title=t("family.axis_coverage"), tickformat=".0%", range=[0, 1.05]),
                      legend=dict(orientation="h", y=-0.25))
    return fig


EPOCHS = 40  # BERT's schedule as RoBERTa describes it: 40 epochs over 10 masked copies


def epoch_rows(run: fam.Epochs, epochs: range, special: set[str]) -> str:
    """The sentence as each of `epochs` (0-based) masked it, one labelled row of chips an epoch, in one block."""
    return "".join(f'<div style="font-size:.8em;color:#6c757d;margin-top:6px">{html.escape(t("family.epoch", e=e + 1))}'
                   f'</div>{masked_chips(run.tokens, run.shown[e], run.action[e], special, legend_actions=())}'
                   for e in epochs)


def roberta_runs(c1, c2) -> tuple[int, fam.Epochs, fam.Epochs]:
    """The static copies and the seed (in columns `c1`, `c2`), and both runs over every epoch (the Epochs slider
    only picks which rows to show)."""
    copies = c1.segmented_control(t("family.copies"), [1, 10], default=1, key="fam_copies", bind="query-params",
                                  help=t("family.copies_help")) or 1
    seed = c2.number_input(t("common.seed"), 0, 9999, key="fam_seed", bind="query-params")
    return (int(copies), fam.epochs(*args, EPOCHS, False, int(copies), int(seed)),
            fam.epochs(*args, EPOCHS, True, 1, int(seed)))


def roberta() -> None:
    """The static copies and the seed rerun the page (rarely moved); the Epoch slider reruns only its fragment,
    and the chart, which shows every epoch whatever the slider says, stays as drawn. In presenter mode the masks
    (step "roberta", its three inputs in one row and no fragment: nothing else is drawn) and the chart (step
    "roberta-coverage") are two steps."""
    if present.on():
        if show("roberta"):
            c1, c2, c3 = st.columns([2, 1, 4])
            copies, static, dynamic = roberta_runs(c1, c2)
            epoch_columns(static, dynamic, copies, epochs_slider(c3), rows=2)
        if show("roberta-coverage"):
            c1, c2, _ = st.columns([2, 1, 4])
            copies, static, dynamic = roberta_runs(c1, c2)
            chart(coverage_figure(static, dynamic), key="fam_coverage", file="family-roberta-dynamic-masking",
                  present_height=400)
            coverage_outcome(static, dynamic, copies)
        return
    st.markdown(T["roberta"])
    c1, c2 = st.columns([2, 1])
    copies, static, dynamic = roberta_runs(c1, c2)
    roberta_epochs(static, dynamic, copies)
    chart(coverage_figure(static, dynamic), key="fam_coverage", file="family-roberta-dynamic-masking")
    coverage_outcome(static, dynamic, copies)
    st.caption(t("family.coverage_caption"))


def coverage_outcome(static: fam.Epochs, dynamic: fam.Epochs, copies: int) -> None:
    """The chart's last epoch in words, chosen by its numbers."""
    c = fam.coverage_outcome(static, dynamic)
    words = t("family.coverage_higher" if c.direction == "higher" else "family.coverage_same", epochs=c.epochs,
              copies=copies, static=c.static, dynamic=c.dynamic)
    full = (t("family.coverage_full", full=c.dynamic_full) if c.dynamic_full
            else t("family.coverage_not_full", epochs=c.epochs))
    st.caption(f"{words} {full}")


def epochs_slider(where=st) -> int:
    return where.slider(t("family.epochs"), 1, EPOCHS, 10, key="fam_epochs", bind="query-params",
                        help=t("family.epochs_help"))


@st.fragment
def roberta_epochs(static: fam.Epochs, dynamic: fam.Epochs, copies: int) -> None:
    epoch_columns(static, dynamic, copies, epochs_slider())


def epoch_columns(static: fam.Epochs, dynamic: fam.Epochs, copies: int, n: int, rows: int = 3) -> None:
    """Static and dynamic side by side: the last `rows` epochs up to epoch `n`, and what `n` epochs asked."""
    special = set(state.get_model(ctx.model_name, ctx.device).tokenizer.all_special_tokens)
    for col, run, title in zip(st.columns(2), (static, dynamic), (t("family.static_title", copies=copies),
                                                                   t("family.dynamic_title"))):
        col.markdown(f"**{title}**")
        col.html(epoch_rows(run, range(max(0, n - rows), n), special))
        col.caption(t("family.epochs_summary", n=n, distinct=run.distinct[n - 1], covered=run.coverage[n - 1]))


def roberta_paper() -> None:
    """The paper's tables: outside the fragment, since no slider changes them. In presenter mode the tables alone
    (the paragraph is the step's narration)."""
    if not present.on():
        st.markdown(T["roberta-paper"])
    for name in ("roberta_masking", "roberta_nsp", "roberta_batch"):
        paper_table(name)
    st.caption(t("family.roberta_source"))


# ------------------------------------------------------------------------------------------------ SpanBERT
def span_length_figure() -> go.Figure:
    probs = span_length_probs().tolist()
    fig = go.Figure(go.Bar(x=list(range(1, 11)), y=probs, marker_color="#f08c00",
                           text=[f"{p:.0%}" for p in probs], textposition="outside",
                           hovertemplate=t("family.hover_span_length") + "<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(title=t("family.axis_span"),
                      dtick=1), yaxis=dict(title=t("family.axis_share"), tickformat=".0%", range=[0, 0.27]))
    return fig


def selection_table(tokens: list[str], sel: fam.Selection) -> None:
    st.dataframe(arrow({t("common.position"): sel.positions, t("common.original"): [tokens[i] for i in sel.positions],
                        t("family.top_guess"): sel.guesses, t("family.p_original"): sel.p_original}),
                 hide_index=True, column_config={t("family.p_original"): st.column_config.ProgressColumn(
                     min_value=0.0, max_value=1.0, format="%.2f")})


@st.fragment
def spanbert(special: set[str]) -> None:
    """Normal mode: the lengths' chart beside the draw, then the draw. Presenter mode: the chart alone (step
    "spanbert"), then the draw with the count over many draws (step "spanbert-draw"), no per-piece tables."""
    if present.on():
        if show("spanbert"):
            chart(span_length_figure(), key="fam_span_lengths", file="family-spanbert-span-lengths",
                  present_height=500)
            return
        left, right = st.columns([1, 5], vertical_alignment="bottom")
    else:
        st.markdown(T["spanbert"])
        chart_column, right = st.columns([2, 3])
        chart(span_length_figure(), key="fam_span_lengths", file="family-spanbert-span-lengths", where=chart_column)
        chart_column.caption(t("family.span_lengths_caption"))
        left = right
    seed = left.number_input(t("family.draw"), 0, 9999, key="fam_span_seed", bind="query-params")
    s = fam.spans(*args, int(seed))
    if not s.spans.positions:
        right.info(t("common.no_maskable"), icon=":material/info:")
        return
    right.caption(t("family.span_draw", n=len(s.spans.positions), lengths=", ".join(map(str, s.lengths))))
    for col, sel, title in zip(st.columns(2), (s.spans, s.scattered), (t("family.spans"), t("family.scattered"))):
        with col:
            st.markdown(f"**{title}**")
            st.html(masked_chips(s.tokens, sel.shown, sel.action, special, legend_actions=()))
            st.caption(t("family.recovered", hits=sel.hits, n=len(sel.positions)))
            if not present.on():
                selection_table(s.tokens, sel)
    m = s.many
    c1, c2 = st.columns(2)
    c1.metric(t("family.many_top1_spans", draws=m.draws), f"{m.span_top1:.0%}", f"{m.span_top1 - m.scattered_top1:+.0%}",
              help=t("family.many_help", draws=m.draws, pieces=m.pieces))
    c2.metric(t("family.many_top1_scattered", draws=m.draws), f"{m.scattered_top1:.0%}",
              help=t("family.many_help", draws=m.draws, pieces=m.pieces))
    d = fam.span_direction(m)
    words = t("family.many_lower" if d == "lower" else "family.many_same" if d == "same" else "family.many_higher",
              draws=m.draws, spans=m.span_top1, scattered=m.scattered_top1)
    st.caption(t("family.many_caption", draws=m.draws, pieces=m.pieces, span_p=m.span_p, scattered_p=m.scattered_p)
               + " " + words)
    if not present.on():
        st.markdown(T["spanbert-sbo"])


# ------------------------------------------------------------------------------------------------ ERNIE
def _use_example() -> None:
    st.session_state["a"] = t("family.ernie_example")
    st.session_state["b"] = ""
    st.session_state["_fam_example_set"] = True  # the fragment then reruns the whole app, sidebar included


@st.fragment
def ernie(special: set[str]) -> None:
    """Normal mode: the units, the three levels and the probe in turn. Presenter mode: one of them a step
    ("ernie", "ernie-levels", "ernie-probe"); the message that the sentence has no units, and its button, on the
    first, and the example's caption on each."""
    if st.session_state.pop("_fam_example_set", False):
        st.rerun()  # a fragment's rerun would leave the sidebar showing the old sentence
    if not present.on():
        st.markdown(T["ernie"])
    levels = show("ernie-levels")
    left = caption = st  # in presenter mode the draw and the example's caption share a row
    if levels and present.on():
        left, caption = st.columns([1, 5], vertical_alignment="bottom")
    seed = left.number_input(t("family.draw"), 0, 9999, key="fam_ernie_seed", bind="query-params") if levels else 0
    text = ctx.text_a
    u = fam.units(ctx.model_name, ctx.device, text, int(seed))
    if not u.units:
        if show("ernie"):
            st.info(t("family.no_units"), icon=":material/info:")
            st.button(t("family.use_example"), on_click=_use_example, icon=":material/edit_note:")
        text = t("family.ernie_example")
        u = fam.units(ctx.model_name, ctx.device, text, int(seed))
        caption.caption(t("family.example_shown", text=md_escape(text)))
    if show("ernie"):
        st.html(unit_chips(u.tokens, u.units, special))
    if levels:
        for level in ("basic", "phrase", "entity"):
            shown, action = u.levels[level]
            st.caption(t(f"family.level_{level}"))
            st.html(masked_chips(u.tokens, shown, action, special, legend_actions=()))
    if show("ernie-probe"):
        ernie_probe(text, u)


def ernie_probe(text: str, u: fam.Units) -> None:
    if not present.on():
        st.markdown(T["ernie-probe"])
    first = fam.ernie_opening_unit(ctx.model_name, ctx.device, text, u)  # the unit masking whole makes hardest
    fam.follow_input("fam_unit", (ctx.model_name, text, tuple(x.text for x in u.units)), first)
    pick = st.selectbox(t("family.unit"), range(len(u.units)), index=first, key="fam_unit", bind="query-params",
                        format_func=lambda i: f"{u.units[i].text} · {t(f'family.kind_{u.units[i].kind}')}")
    pick = pick if pick is not None and pick < len(u.units) else 0
    p = fam.probe(ctx.model_name, ctx.device, text, u.units[pick])
    alone, whole = t("family.p_alone"), t("family.p_whole")
    bar = dict(min_value=0.0, max_value=1.0, format="%.2f")
    st.dataframe(arrow({t("family.piece"): p.pieces, alone: p.alone_p, t("family.guess_alone"): p.alone_top,
                        whole: p.whole_p, t("family.guess_whole"): p.whole_top}), hide_index=True,
                 column_config={alone: st.column_config.ProgressColumn(**bar),
                                whole: st.column_config.ProgressColumn(**bar)})
    d = fam.probe_direction(p)
    st.caption(t("family.probe_lower" if d == "lower" else "family.probe_same" if d == "same"
                 else "family.probe_higher",
                 unit=md_escape(u.units[pick].text), alone=sum(p.alone_p) / len(p.alone_p),
                 whole=sum(p.whole_p) / len(p.whole_p)))
    s = fam.unit_summary(ctx.model_name, ctx.device, text, u)
    st.caption(t("family.ernie_summary", units=s.units, pieces=s.pieces, alone=s.alone, whole=s.whole) + " "
               + t("family.ernie_summary_lower" if s.direction == "lower" else "family.ernie_summary_same"
                   if s.direction == "same" else "family.ernie_summary_higher"))
    if s.units < len(u.units):
        st.caption(t("family.ernie_summary_first", n=s.units, total=len(u.units)))


# ------------------------------------------------------------------------------------------------ UniLM
def matrix_figure(z, tokens: list[str], title: str, mask: bool, columns: list[str] | None = None) -> go.Figure:
    """A [rows, columns] mask (green: may attend) or attention matrix; `columns`: the keys' pieces when they are
    not the rows' (cross-attention)."""
    names = token_labels(tokens)
    keys = token_labels(columns) if columns else names
    scale = [[0, "#f1f3f5"], [1, "#2f9e44"]] if mask else "Blues"
    fig = go.Figure(go.Heatmap(z=z, x=keys, y=names, colorscale=scale, showscale=False, zmin=0,
                               zmax=1 if mask else None, xgap=1 if mask else 0, ygap=1 if mask else 0,
                               hovertemplate=t("family.hover_mask" if mask else "family.hover_attention")
                               + "<extra></extra>"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), title=html.escape(title),
                      xaxis=dict(title=t("family.axis_key"), tickangle=-60,  # the rows name the pieces
                                 showticklabels=bool(columns) and len(columns) <= 32),
                      yaxis=dict(title=t("family.axis_query"), autorange="reversed", showticklabels=len(tokens) <= 32))
    return fig


def guesses_figure(g: fam.UnderMask, original: str, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=g.probs[::-1], y=[f"{html.escape(x)} " for x in g.guesses[::-1]], orientation="h",
                           marker_color=["#2f9e44" if x == original else "#748ffc" for x in g.guesses[::-1]],
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=40, b=10), title=html.escape(title),
                      xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(type="category"))
    return fig


@st.fragment
def unilm(lm, enc) -> None:
    """Normal mode: each mask's column holds the mask, the attention under it and the guesses. Presenter mode: one
    row of them a step ("unilm", "unilm-attention", "unilm-guesses"), under the same three inputs."""
    if not present.on():
        st.markdown(T["unilm"])
    if lm.config.model_type not in ("bert", "electra"):
        st.info(t("family.unilm_needs_bert", kind=lm.config.model_type), icon=":material/block:")
        return
    n = len(enc.tokens)
    if n > fam.UNILM_MAX_PIECES:
        st.info(t("family.unilm_too_long", n=n, limit=fam.UNILM_MAX_PIECES), icon=":material/info:")
        return
    if n < 4:
        st.info(t("common.no_maskable"), icon=":material/info:")
        return
    default_source = fam.unilm_source_default(enc.tokens, lm.tokenizer.sep_token)
    c1, c2, c3 = st.columns([3, 3, 2])
    derived = (ctx.model_name, tuple(enc.tokens))
    fam.follow_input("fam_source", derived, default_source)
    source = c1.slider(t("family.source"), 1, n - 1, default_source, key="fam_source", bind="query-params",
                       help=t("family.source_help"))
    targets = fam.unilm_targets(enc.tokens, lm.tokenizer.sep_token)
    default = fam.unilm_position_default(targets, int(source))
    fam.follow_input("fam_unilm_pos", (derived, int(source)), default)  # a new source: a new hidden piece too
    pos = c2.selectbox(t("family.predict_at"), targets, index=targets.index(default), key="fam_unilm_pos",
                       bind="query-params", format_func=lambda i: f"{i} · {enc.tokens[i]}")
    pos = pos if pos in targets else default
    fam.follow_input("fam_unilm_layer", ctx.model_name, lm.config.num_hidden_layers)
    layer = c3.slider(t("family.layer"), 1, lm.config.num_hidden_layers, lm.config.num_hidden_layers,
                      key="fam_unilm_layer", bind="query-params")
    runs = {kind: fam.under_mask(*args, kind, int(source), int(pos), int(layer) - 1) for kind in UNILM_KINDS}
    shown = list(enc.tokens)
    shown[pos] = lm.tokenizer.mask_token
    for col, kind in zip(st.columns(3), UNILM_KINDS):
        r = runs[kind]
        if show("unilm"):
            chart(matrix_figure([[int(x) for x in row] for row in r.allowed], shown, t(f"family.mask_{kind}"), True),
                  key=f"fam_mask_{kind}", file=f"family-unilm-mask-{kind}", where=col, present_height=470)
        if show("unilm-attention"):
            title = t(f"family.mask_{kind}") if present.on() else t("family.attention_under", layer=layer)
            chart(matrix_figure(r.attention, shown, title, False),
                  key=f"fam_att_{kind}", file=f"family-unilm-attention-{kind}", where=col, present_height=470)
        if show("unilm-guesses"):
            title = t(f"family.mask_{kind}") if present.on() else t("family.guesses_at", piece=enc.tokens[pos])
            chart(guesses_figure(r, enc.tokens[pos], title),
                  key=f"fam_guess_{kind}", file=f"family-unilm-guesses-{kind}", where=col, present_height=300)
            words = t("family.p_of_original", piece=md_escape(enc.tokens[pos]), p=r.p_original, rank=r.rank + 1)
            if kind != "bidirectional":
                bi = runs["bidirectional"]
                d = fam.unilm_direction(r, bi)
                words += " " + t("family.unilm_lower" if d == "lower" else "family.unilm_same" if d == "same"
                                 else "family.unilm_higher", piece=md_escape(enc.tokens[pos]),
                                 p_bi=bi.p_original)
            col.caption(words)
    if show("unilm-guesses"):
        st.caption(t("family.unilm_caption"))


# ------------------------------------------------------------------------------------------------ MASS
def fragment_figure(f: fam.Fragment) -> go.Figure:
    x = [f"{i + 1} {html.escape(p)}" for i, p in enumerate(f.targets)]
    fig = go.Figure([go.Bar(x=x, y=f.all_masked, name=t("family.all_masked"), marker_color="#adb5bd"),
                     go.Bar(x=x, y=f.earlier_shown, name=t("family.earlier_shown"), marker_color="#1c7ed6")])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), barmode="group",
                      yaxis=dict(title=t("family.p_original"), tickformat=".0%", range=[0, 1]),
                      xaxis=dict(type="category", title=t("family.axis_fragment")),
                      legend=dict(orientation="h", y=-0.35))
    return fig


@st.fragment
def mass(lm, enc, special: set[str]) -> None:
    """Normal mode: everything under the two sliders. Presenter mode, under the same sliders: what the encoder and
    the decoder read ("mass"), the two bars a piece ("mass-bars"), the two attention masks ("mass-masks")."""
    if not present.on():
        st.markdown(T["mass"])
    sentence = [i for i, tok in enumerate(enc.tokens) if tok not in special and enc.token_type_ids[0, i] == 0]
    if len(sentence) < 2:
        st.info(t("family.mass_too_short"), icon=":material/info:")
        return
    if len(enc.tokens) > fam.UNILM_MAX_PIECES:  # a fragment of k pieces costs k + 1 passes over the input
        st.info(t("family.mass_too_long", n=len(enc.tokens), limit=fam.UNILM_MAX_PIECES), icon=":material/info:")
        return
    first, m = sentence[0], len(sentence)
    c1, c2 = st.columns(2)
    derived = (ctx.model_name, tuple(enc.tokens))
    fam.follow_input("fam_mass_k", derived, max(1, m // 2))
    k = c1.slider(t("family.fragment_length"), 1, m, max(1, m // 2), key="fam_mass_k", bind="query-params", help=t("family.k_help"))
    fam.follow_input("fam_mass_start", (derived, int(k)), first + (m - k) // 2)
    start = c2.slider(t("family.fragment_start"), first, first + m - k, first + (m - k) // 2, key="fam_mass_start",
                      bind="query-params")
    start = min(max(start, first), first + m - k)
    f = fam.fragment(*args, int(start), int(start) + int(k))
    action = [1 if start <= i < start + k else 0 for i in range(len(f.tokens))]
    if show("mass"):
        st.caption(t("family.encoder_reads"))
        st.html(masked_chips(f.tokens, f.encoder, action, special, legend_actions=()))
        st.dataframe(arrow({t("family.decoder_reads"): f.decoder, t("family.decoder_predicts"): f.targets,
                            t("family.all_masked"): f.all_masked, t("family.earlier_shown"): f.earlier_shown}),
                     hide_index=True, column_config={c: st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                                        format="%.2f")
                                                     for c in (t("family.all_masked"), t("family.earlier_shown"))})
    if show("mass-bars"):
        chart(fragment_figure(f), key="fam_fragment", file="family-mass-fragment", present_height=360)
    if show("mass-masks"):
        c1, c2 = st.columns([2, 3])
        chart(matrix_figure([[int(x) for x in row] for row in f.decoder_self], f.decoder, t("family.decoder_self"),
                            True), key="fam_mass_self", file="family-mass-decoder-mask", where=c1, present_height=440)
        chart(matrix_figure([[int(x) for x in row] for row in f.cross], f.decoder, t("family.cross"), True, f.encoder),
              key="fam_mass_cross", file="family-mass-cross-attention", where=c2, present_height=440)
    if show("mass-bars"):
        o = fam.fragment_outcome(f)
        d = o.direction
        words = (t("family.mass_lower" if d == "lower" else "family.mass_same" if d == "same" else "family.mass_higher",
                   all=o.all_masked, earlier=o.earlier_shown, rises=o.rises,
                   pieces=o.pieces) if o.pieces else t("family.mass_single"))
        st.caption(words + " " + t("family.mass_caption", k=k, m=m, all=o.all_masked, earlier=o.earlier_shown))


# ------------------------------------------------------------------------------------------------ the lens
@st.fragment
def lens(lm, enc, special: set[str]) -> None:
    if not present.on():
        st.markdown(T["lens"])
    maskable = [i for i, tok in enumerate(enc.tokens) if tok not in special]
    if not maskable:
        st.info(t("common.no_maskable"), icon=":material/info:")
        return
    where, visibility = st, "visible"
    if present.on():  # the label beside the box, so that the figures' captions fit under them
        label, where = st.columns([1, 4], vertical_alignment="center")
        label.markdown(t("family.hide"))
        visibility = "collapsed"
    opening = fam.lens_opening(*args)  # measured: a word whose guess is seen forming into the hidden piece
    fam.follow_input("fam_lens_pos", (ctx.model_name, tuple(enc.tokens)), opening)
    pos = where.selectbox(t("family.hide"), maskable, index=maskable.index(opening), key="fam_lens_pos", bind="query-params",
                          format_func=lambda i: f"{i} · {enc.tokens[i]}", label_visibility=visibility)
    pos = pos if pos in maskable else opening
    lens_columns(ctx.model_name, lambda student: fam.lens_hiding(*args, int(pos), student), "fam_lens",
                 "family-logit-lens")
    lens_outcomes(int(pos))
    if not present.on():
        st.page_link("pages/masking.py", label=t("family.lens_link"), icon=":material/layers:")


def lens_outcomes(pos: int) -> None:
    """Under each lens, in words from its numbers: from which layer the top guess is the hidden piece, if ever."""
    from explainers.model import BUILTIN_NAME, ModelLoadError

    readers = (False, True) if ctx.model_name == BUILTIN_NAME else (False,)
    for col, student in zip(st.columns(2), readers):
        try:
            o = fam.lens_outcome(*args, pos, student)
        except ModelLoadError:
            continue  # lens_columns said why
        hidden = md_escape(o.hidden)  # the final answer and its P are in the caption above, lens_columns'
        if o.settles_at is not None:
            col.caption(t("family.lens_settles", hidden=hidden, layer=o.settles_at))
        elif o.hidden_layers:
            col.caption(t("family.lens_passes", hidden=hidden, at=", ".join(map(str, o.hidden_layers))))
        else:
            col.caption(t("family.lens_never", hidden=hidden))


if show("map"):
    family_map()
if show.everything or show.now != "map":
    lm, enc = state.prepare()
    if not lm.has_mlm_head:
        st.warning(t("family.no_head"), icon=":material/block:")
        st.stop()
    special = set(lm.tokenizer.all_special_tokens)
    if show("roberta") or show("roberta-coverage"):
        roberta()
    if show("roberta-paper"):
        roberta_paper()
    if show("spanbert") or show("spanbert-draw"):
        spanbert(special)
    if show("ernie") or show("ernie-levels") or show("ernie-probe"):
        ernie(special)
    if show("unilm") or show("unilm-attention") or show("unilm-guesses"):
        unilm(lm, enc)
    if show("mass") or show("mass-bars") or show("mass-masks"):
        mass(lm, enc, special)
    if show("lens"):
        lens(lm, enc, special)
present.chapter_end("family", (family, "fam_math"))
