from ui.boot import require_app

require_app()

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from classroom import questions as CQ  # noqa: E402
from explainers import masking  # noqa: E402
from explainers import mlm  # noqa: E402
from explainers.mlm import RateCurve  # noqa: E402
from ui import lens as L  # noqa: E402
from ui import masking as M  # noqa: E402
from ui import classroom, present, prose, state  # noqa: E402
from ui.figures import arrow, chart, paper_table  # noqa: E402
from ui.html import masked_chips  # noqa: E402
from ui.text import t  # noqa: E402

T = prose.sections("masking")
show = present.steps("masking", T["title"], T["intro"])
lm, enc = state.prepare()
if not lm.has_mlm_head:
    st.warning(T["no-head"], icon=":material/block:")
    st.stop()
ctx = state.context()
args = (ctx.model_name, ctx.device, ctx.text_a, ctx.text_b)
special = set(lm.tokenizer.all_special_tokens)
K = 5  # guesses shown per position

# BERT's settings, as each slider's `value=`: Streamlit keeps a bound widget's value out of the URL when it equals
# that default and ignores a URL value equal to it, so a default set any other way loses the slider's minimum from
# a shared link. A URL value out of range or not a number falls back to `value=`.
DEFAULTS = {"rate": 15, "p_mask": 80, "p_random": 10, "rate_a": 15, "rate_b": 50}

def model_read(piece: str, action: int) -> str:
    """A cell of the "model read" column: the piece, and what masking did unless it put [MASK] there."""
    if action == masking.Action.RANDOM:
        return t("masking.read_random", piece=piece)
    return t("masking.read_unchanged", piece=piece) if action == masking.Action.UNCHANGED else piece


def guesses_figure(tokens: list[str], probs: list[float], title: str, original: str | None = None) -> go.Figure:
    fig = go.Figure(go.Bar(x=probs[::-1], y=[f"{piece} " for piece in tokens[::-1]], orientation="h",
                           marker_color=["#2f9e44" if piece == original else "#748ffc" for piece in tokens[::-1]],
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), title=title, xaxis=dict(range=[0, 1]),
                      yaxis=dict(type="category"))
    return fig


def heading(name: str) -> str:
    """A section's heading alone: in presenter mode the step's narration says what its paragraph says."""
    return T[name].partition("\n")[0]


def masked(rate: int, p_mask: int, p_random: int, seed: int, whole: bool, every: bool) -> M.MaskedSentence:
    """The sentence masked at these settings (rate and shares in %, as the sliders give them; `every`: every
    occurrence of a chosen whole word)."""
    return M.masked_sentence(*args, rate / 100, p_mask / 100, p_random / 100, seed, whole, K, every)


def controls() -> tuple[int, int, int, int, bool, bool]:
    """Rate, split, seed and whole-word toggles, drawn; their values as `masked` takes them (the random share
    capped as the caption says)."""
    c1, c2, c3, c4 = st.columns([3, 3, 3, 2.6])
    rate = c1.slider(t("masking.rate"), 1, 60, value=DEFAULTS["rate"], key="rate", bind="query-params")
    p_mask = c2.slider(t("masking.p_mask"), 0, 100, value=DEFAULTS["p_mask"], key="p_mask", bind="query-params")
    p_random = c3.slider(t("masking.p_random"), 0, 100, value=DEFAULTS["p_random"], key="p_random",
                         bind="query-params")
    seed = c4.number_input(t("common.seed"), 0, 9999, key="seed", bind="query-params")
    whole = c4.toggle(t("masking.whole_words"), key="whole", bind="query-params", help=t("masking.whole_words_help"))
    every = c4.toggle(t("masking.every_occurrence"), key="every", bind="query-params", disabled=not whole,
                      help=t("masking.every_occurrence_help"))
    if p_mask + p_random > 100:
        p_random = 100 - p_mask
        st.caption(t("masking.shares_capped", p_random=p_random))
    return rate, p_mask, p_random, int(seed), bool(whole), bool(whole and every)


@st.fragment
def mask_and_guess(guesses: bool = True) -> None:
    """Rate, split, seed → the masked sentence and (`guesses`) the model's guesses. Reruns alone when a control
    moves. Presenter mode draws the guesses as a step of their own (`remembered_guesses`)."""
    st.markdown(T["controls"])
    settings = controls()
    rate, p_mask, p_random = settings[:3]
    ms = masked(*settings)
    st.caption(t("masking.chosen", rate=rate, n=len(ms.positions), maskable=ms.maskable, p_mask=p_mask,
                 p_random=p_random, p_unchanged=100 - p_mask - p_random))
    st.html(masked_chips(ms.tokens, ms.shown, ms.action, special))
    if guesses:
        guess_table(ms, settings)


def remembered_guesses(settings: tuple) -> None:
    """Presenter mode's step after the masking: the model's guesses for the sentence as the previous step masked
    it (`settings`, from the controls drawn unseen on this step), BERT's settings on a step opened by its
    address."""
    ms = masked(*settings)
    st.html(masked_chips(ms.tokens, ms.shown, ms.action, special))
    guess_table(ms, settings)


def guess_table(ms: M.MaskedSentence, settings: tuple) -> None:
    """The model's guesses at every chosen position (`settings` as `masked` takes them), and outside presenter
    mode the logit lens."""
    rate, _, _, seed, _, _ = settings
    if not present.on():  # in presenter mode the guesses are a step, whose title and narration say this
        st.markdown(T["predictions"])
    if ms.maskable == 0:
        st.info(t("common.no_maskable"), icon=":material/info:")
        return
    if not ms.positions:
        st.info(t("masking.none_chosen_one" if ms.maskable == 1 else "masking.none_chosen_other", rate=rate,
                  seed=seed, maskable=ms.maskable), icon=":material/casino:")
        return
    if len(ms.positions) == ms.maskable and ms.maskable > 1:
        st.warning(t("masking.all_chosen"), icon=":material/visibility_off:")
    n = len(ms.positions)
    m1, m2 = st.columns(2)
    m1.metric(t("masking.recovered_top1"), t("common.k_of_n", k=sum(r == 0 for r in ms.target_ranks), n=n))
    m2.metric(t("masking.in_top_k", k=K), t("common.k_of_n", k=sum(r < K for r in ms.target_ranks), n=n))
    p_original, top_guesses = t("masking.p_original"), t("masking.top_guesses")
    st.dataframe(
        arrow({t("common.position"): ms.positions,
               t("common.original"): [ms.tokens[i] for i in ms.positions],
               t("masking.model_read"): [model_read(ms.shown[i], ms.action[i]) for i in ms.positions],
               t("masking.recovered"): [t("masking.hit") if r == 0 else t("masking.miss", rank=r + 1)
                                        for r in ms.target_ranks],
               p_original: ms.target_probs,
               # last: on a narrow page it is the column cut at the right edge, and its tail holds the least
               # likely guesses (the whole row shows on hover)
               top_guesses: [" · ".join(f"{tok} {p:.0%}" for tok, p in zip(ts, ps))
                             for ts, ps in zip(ms.top_tokens, ms.top_probs)]}),
        hide_index=True,
        column_config={p_original: st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
                       top_guesses: st.column_config.TextColumn(width="large")})
    if present.on():  # the lens is the family chapter's step; here it would push the table off the screen
        return
    rate, p_mask, p_random, seed, whole, every = settings
    # a toggle, not an expander: a collapsed expander still runs its content on every move of the sliders above
    if st.toggle(t("masking.lens_title"), key="lens", bind="query-params", help=t("masking.lens_toggle_help")):
        logit_lens(ms, (rate / 100, p_mask / 100, p_random / 100, seed, whole, every))


def logit_lens(ms: M.MaskedSentence, settings: tuple) -> None:
    """The logit lens at one masked position: the sidebar's model, and beside the built-in teacher its student."""
    st.caption(t("masking.lens_explain"))
    state.follow_input("lens_pos", (ctx.model_name, tuple(ms.tokens), tuple(ms.positions)), ms.positions[0])
    pos = st.selectbox(t("masking.lens_position"), ms.positions, key="lens_pos", bind="query-params",
                       format_func=lambda i: f"{i} · {ms.tokens[i]} → {ms.shown[i]}")
    pos = pos if pos in ms.positions else ms.positions[0]  # a shared link made for another masking
    L.lens_columns(ctx.model_name, lambda student: L.lens_at(*args, *settings, int(pos), student), "lens",
                 "masking-logit-lens")
    st.page_link("pages/family.py", label=t("masking.lens_family_link"), icon=":material/family_history:")


@st.fragment
def why_80_10_10() -> None:
    # presenter mode: the reasons are the lecturer's to say; the screen keeps the comparison
    st.markdown(T["why"] if present.on() else f"{T['why']}\n\n{T['why-reasons']}")
    maskable = [i for i, t in enumerate(enc.tokens) if t not in special]
    if not maskable:
        st.info(t("masking.nothing_to_compare"), icon=":material/info:")
        return
    c1, c2 = st.columns([3, 1])
    state.follow_input("why_pos", (ctx.model_name, tuple(enc.tokens)), maskable[len(maskable) // 2])
    pos = c1.selectbox(t("masking.position"), maskable, index=len(maskable) // 2, key="why_pos", bind="query-params",
                       format_func=lambda i: f"{i} · {enc.tokens[i]}")
    pos = pos if pos in maskable else maskable[len(maskable) // 2]  # a shared link made for another sentence
    draw = c2.number_input(t("masking.random_draw"), 0, 999, 0, key="why_draw", bind="query-params",
                           help=t("masking.random_draw_help"))
    random_id = M.random_piece(len(lm.tokenizer), int(draw), int(pos))
    cases = [("mask", t("masking.reads_mask"), lm.tokenizer.mask_token_id),
             ("random", t("masking.reads_random", piece=lm.tokenizer.convert_ids_to_tokens(random_id)), random_id),
             ("original", t("masking.reads_original"), None)]
    for col, (case, label, replacement) in zip(st.columns(3), cases):
        toks, probs, p_orig, rank = M.guesses_with(*args, int(pos), replacement, 8)
        chart(guesses_figure(toks, probs, label, enc.tokens[pos]), key=f"why_{case}",
              file=f"masking-why-80-10-10-{case}", where=col, present_height=330)
        col.caption(t("masking.p_of_original", piece=enc.tokens[pos], p=p_orig, rank=rank + 1))


@st.fragment
def compare_rates() -> None:
    st.markdown(heading("compare") if present.on() else T["compare"])
    rates = []
    for col, key in zip(st.columns(2), ("rate_a", "rate_b")):
        with col:
            r = st.slider(t("masking.rate_short"), 1, 60, value=DEFAULTS[key], key=key, bind="query-params")
            rates.append(int(r))
            m = M.masked_sentence(*args, r / 100, 0.8, 0.1, 0, False, K)
            st.html(masked_chips(m.tokens, m.shown, m.action, special))
            if m.positions:
                hits = sum(x == 0 for x in m.target_ranks)
                st.caption(t("masking.compared", n=len(m.positions), hits=hits, share=hits / len(m.positions),
                             p=sum(m.target_probs) / len(m.positions)))
            else:
                st.caption(t("masking.nothing_chosen"))
    # what the narration argues, measured on this sentence over many draws (one draw hides two or three pieces)
    lo, hi = min(rates), max(rates)
    if lo == hi:
        return
    (h_lo, n_lo), (h_hi, n_hi) = (M.rate_comparison(*args, r / 100, K) for r in (lo, hi))
    if not n_lo or not n_hi:
        return
    fields = dict(draws=M.COMPARE_DRAWS, lo=lo, hi=hi, s_lo=h_lo / n_lo, s_hi=h_hi / n_hi, n_lo=n_lo, n_hi=n_hi)
    if h_hi / n_hi < h_lo / n_lo:
        st.markdown(t("masking.compare_fewer", **fields))
    else:
        st.markdown(t("masking.compare_not_fewer", **fields))


def _measure_live() -> None:
    st.session_state["curve_for"] = ctx.model_name


def rate_curve() -> None:
    st.markdown(heading("curve") if present.on() else T["curve"])
    rates = [r / 100 for r in range(5, 61, 5)]
    curve = M.shipped_rate_curve(ctx.model_name)
    batch = M.heldout_batch(ctx.model_name, ctx.device)
    if curve is None and st.session_state.get("curve_for") != ctx.model_name:
        # another model: measured on request, so that the rest of the chapter does not wait for it
        st.button(t("masking.curve_measure"), on_click=_measure_live, icon=":material/monitoring:",
                  help=t("masking.curve_measure_help"))
        return
    if curve is None:
        bar = st.progress(0.0, text=t("masking.curve_progress", n=len(rates)))
        points = []
        for i, r in enumerate(rates):
            points.append(M.rate_point(ctx.model_name, ctx.device, r))
            bar.progress((i + 1) / len(rates), text=t("masking.curve_progress_at", n=len(rates), rate=r))
        bar.empty()
        curve = RateCurve(rates=[p.rate for p in points], seeds=[0], top1=[[p.top1 for p in points]],
                          loss=[[p.loss for p in points]], targets_per_sequence=[p.targets_per_sequence for p in points],
                          sequences=len(batch["input_ids"]))
    x = [r * 100 for r in curve.rates]
    spread = len(curve.seeds) > 1
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=curve.mean("top1"), name=t("masking.curve_top1"), mode="lines+markers",
                             error_y=dict(type="data", array=curve.std("top1"), visible=spread),
                             hovertemplate=t("masking.hover_top1") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=curve.mean("loss"), name=t("masking.curve_loss"), yaxis="y2",
                             mode="lines+markers", line=dict(dash="dot"),
                             error_y=dict(type="data", array=curve.std("loss"), visible=spread),
                             hovertemplate=t("masking.hover_loss") + "<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=curve.targets_per_sequence, yaxis="y3",
                         marker_color="rgba(239,85,59,0.3)",
                         text=[f"{n:.0f}" for n in curve.targets_per_sequence], textposition="inside",
                         insidetextanchor="start", textfont=dict(color="#495057"),  # clear of the lines' markers
                         name=t("masking.curve_predictions"),
                         hovertemplate=t("masking.hover_predictions") + "<extra></extra>"))
    # BERT's rate as a shape and its label in the one layout call: add_vline cost about a third of every move of
    # the rate slider, which reruns this figure (py-spy, benchmarks/profile_sliders.py)
    fig.update_layout(shapes=[dict(type="line", x0=15, x1=15, yref="paper", y0=0, y1=1,
                                   line=dict(dash="dash", color="#e03131"))],
                      annotations=[dict(x=15, yref="paper", y=1, text=t("masking.bert_rate"), showarrow=False,
                                        xanchor="left", yanchor="top")],
                      height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=t("masking.axis_rate"),
                      yaxis=dict(title=t("masking.axis_top1"), tickformat=".0%"),
                      yaxis2=dict(title=t("masking.axis_loss"), overlaying="y", side="right", tickformat=".1f"),
                      yaxis3=dict(overlaying="y", visible=False), legend=dict(orientation="h", y=-0.2))
    chart(fig, key="rate_curve", file="masking-why-15-percent", present_height=400)
    top1, n = curve.mean("top1"), curve.targets_per_sequence
    fields = dict(first=top1[0], r0=x[0], last=top1[-1], r1=x[-1], n0=n[0], n1=n[-1])
    trend = mlm.trend(top1)  # the words follow the measured points
    if trend == "falls_steadily":
        st.markdown(t("masking.curve_falls_steadily", **fields))
    elif trend == "falls":
        st.markdown(t("masking.curve_falls", **fields))
    else:
        st.markdown(t("masking.curve_does_not_fall", **fields))
    if present.on():  # what was measured, and how, is for the reader of the page
        return
    facts = dict(sequences=curve.sequences, length=batch["input_ids"].shape[1],
                 maskable=int(batch["special"].eq(0).sum()))
    if spread:
        st.caption(t("masking.heldout_seeds", seeds=len(curve.seeds), **facts))
    else:
        st.caption(t("masking.heldout", **facts))
    card = M.shipped_teacher_top1(ctx.model_name)
    if card:
        at15 = curve.mean("top1")[min(range(len(curve.rates)), key=lambda i: abs(curve.rates[i] - 0.15))]
        st.caption(t("masking.card_top1", top1=card["teacher_top1"], sequences=card["sequences"],
                     positions=card["positions"], seed=card["seed"], here=at15, n=curve.sequences))


@st.fragment
def class_vs_bert(text: str, tops: list[list[str]], probs: list[list[float]]) -> bool:
    """The playground as a question for the class: one [MASK], and the word it hides if the presenter types it
    (the reveal then scores the class and ranks that word in the model's guesses). True while the model's
    guesses must stay hidden."""
    if len(tops) != 1:
        st.caption(t("masking.class_one_mask"))
        return False
    answer = ""  # self-study: the reader typed the sentence, so the question is what BERT will guess
    if present.on():
        answer = st.text_input(t("masking.class_answer"), key="fill_answer", max_chars=CQ.MAX_WORD_CHARS,
                               placeholder=t("masking.class_answer_placeholder"), help=t("masking.class_answer_help"))
    return classroom.ask("masking/playground", lambda: CQ.blank(text, answer or "", list(zip(tops[0], probs[0]))))


def fill_in_the_blank() -> None:
    st.markdown(T["playground"])
    text = st.text_input(t("masking.your_sentence"), t("masking.your_sentence_default"), key="fill",
                         bind="query-params", max_chars=2000)
    if not text.strip():
        st.info(t("masking.type_a_sentence"), icon=":material/edit:")
        return
    tokens, tops, probs = M.fill_in(ctx.model_name, ctx.device, text, 8)
    if not tops:
        st.info(t("masking.no_mask"), icon=":material/edit:")
        return
    if classroom.on() and class_vs_bert(text, tops, probs):
        return  # the class (or the reader, in self-study) is answering: the model's guesses wait for the reveal
    cols = st.columns(min(len(tops), 4))
    for j, (toks, ps) in enumerate(zip(tops, probs)):
        chart(guesses_figure(toks, ps, f"[MASK] #{j + 1}"), key=f"fill_{j}", file=f"masking-fill-in-{j + 1}",
              where=cols[j % len(cols)])


if show("mask"):
    mask_and_guess(guesses=show("guesses"))  # outside presenter mode the guesses stay under their sentence
else:  # presenter mode's other steps: the controls are drawn unseen, so that their values stay in the session and
    with present.unseen("masking"):  # the address (the guesses step shows what they chose)
        kept = controls()
    if show("guesses"):  # the guesses as a step of their own
        remembered_guesses(kept)
if show("why"):
    why_80_10_10()
if show("ablation"):
    st.markdown(T["ablation"])
    paper_table("bert_masking_ablation")
if show("compare"):
    compare_rates()
if show("curve"):
    rate_curve()
if show("playground"):
    fill_in_the_blank()
present.chapter_end("masking", (masking, "mask_math"))
