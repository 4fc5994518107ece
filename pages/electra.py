from ui.boot import require_app

require_app()

import math  # noqa: E402
from dataclasses import replace  # noqa: E402

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from classroom import questions as CQ  # noqa: E402
from explainers import electra, electra_heldout  # noqa: E402
from ui import electra as E  # noqa: E402
from ui import classroom, present, prose, state  # noqa: E402
from ui.figures import arrow, chart, paper_table  # noqa: E402
from ui.html import masked_chips, md_escape, score_chips, stacked_bar  # noqa: E402
from ui.pairs import choose_pair, encode_or_stop  # noqa: E402
from ui.text import t  # noqa: E402

T = prose.sections("electra")
show = present.steps("electra", T["title"], T["intro"])
ctx = state.context()
K = 5
THRESHOLD = 0.5  # the detection threshold's default, for the game and for "Try to fool it"


gen_name, disc_name = choose_pair(t("electra.pair"), (t("electra.generator"), t("electra.discriminator")),
                                  ("e_gen", "e_disc"), T["pair"], T["no-pair"],
                                  lambda g, d: E.get_pair(g, d, ctx.device), box=not present.on())
gen, disc = E.get_pair(gen_name, disc_name, ctx.device)
pair_args = (gen_name, disc_name, ctx.device)
enc = encode_or_stop(lambda: E.encoded(*pair_args, ctx.text_a, ctx.text_b))
special = set(gen.tokenizer.all_special_tokens)
if not present.on():  # sizes are for the reader at a desk; a presenter's step keeps its screen for the game
    st.caption(t("electra.sizes", gen_layers=gen.config.num_hidden_layers, gen_width=gen.config.hidden_size,
                 gen_params=gen.model.num_parameters() / 1e6, disc_layers=disc.config.num_hidden_layers,
                 disc_width=disc.config.hidden_size, disc_params=disc.model.num_parameters() / 1e6,
                 ratio=(gen.config.num_hidden_layers * gen.config.hidden_size ** 2)
                 / (disc.config.num_hidden_layers * disc.config.hidden_size ** 2)))


def explain(name: str, where=None) -> None:
    """A section's paragraph: on the page, not in presenter mode, where the step's narration says it."""
    if not present.on():
        (where or st).markdown(T[name])


# The game's default draw, chosen from the built-in pair's behaviour on the default sentence (seeds 0-39 at 15 %,
# T = 1): two pieces replaced, "question" → "different" caught (P = 0.79 with the pair of December 2026) and "and" →
# "when", a plausible fake, passing (0.08), with no original flagged: both halves of the game in one draw.
SEED = 16


def _resample() -> None:
    st.session_state["e_seed"] = (int(st.session_state.get("e_seed", SEED)) + 1) % 10_000


def _controls() -> tuple[int, float, int]:
    # Every slider of this page gets its default as `value=`: Streamlit keeps a bound widget's value out of the URL
    # when it equals that default and ignores a URL value equal to it, so a default set any other way would lose
    # the slider's minimum from a shared link. A URL value out of range or not a number falls back to `value=`.
    c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
    rate = c1.slider(t("common.rate_masked"), 1, 60, value=15, key="e_rate", bind="query-params")
    temp = c2.slider(t("electra.temperature"), 0.1, 3.0, value=1.0, step=0.1, key="e_temp", bind="query-params",
                     help=t("electra.temperature_help"))
    seed = c3.number_input(t("common.seed"), 0, 9999, value=SEED, key="e_seed", bind="query-params")
    c4.button(t("electra.resample"), icon=":material/casino:", on_click=_resample, help=t("electra.resample_help"))
    return int(rate), float(temp), int(seed)


def _kept_controls() -> tuple[int, float, int]:
    """Presenter mode's later steps: the controls drawn unseen, so that the round the "game" step played stays in
    the session and in the address."""
    with present.unseen("electra"):
        return _controls()


def _generator_table(r: E.Round) -> None:
    d = r.d
    top_guesses = t("electra.top_guesses")
    columns = {t("common.position"): d.positions,
               t("common.original"): [r.tokens[i] for i in d.positions],
               top_guesses: [" · ".join(f"{tok} {p:.0%}" for tok, p in zip(ts, ps))
                             for ts, ps in zip(r.top_tokens, d.top_probs)]}
    if classroom.pending("electra/verdict", CQ.fake(*_fake_question(r, THRESHOLD))["ask"]):
        st.caption(t("electra.samples_after_you"))  # self-study: what was sampled waits for the reader's answer
    else:
        columns[t("electra.sampled")] = r.sampled
        columns[t("electra.result")] = [t("electra.sampled_original") if d.replaced[i] == 0 else t("electra.replaced")
                                        for i in d.positions]
    st.dataframe(arrow(columns), hide_index=True,
                 column_config={top_guesses: st.column_config.TextColumn(width="large")})


def _fake_question(r: E.Round, thr: float) -> tuple[list[str], list[int], list[float], float]:
    """ELECTRA's verdict as a question (`classroom.questions.fake`'s arguments): the pieces the discriminator reads
    ([CLS] and [SEP], never fakes, left out), which of them were replaced, its P(replaced) and the threshold."""
    d = r.d
    shown = [i for i, tok in enumerate(r.corrupted) if tok not in special]
    return ([r.corrupted[i] for i in shown], [k for k, i in enumerate(shown) if d.replaced[i]],
            [d.p_replaced[i] for i in shown], thr)


def _confusion(p: list[float], truth: list[int], tokens: list[str], threshold: float) -> dict[str, int]:
    """The four counts, keyed by their metric's label."""
    real = [i for i, tok in enumerate(tokens) if tok not in special]
    flag = {i: p[i] >= threshold for i in real}
    return {t("electra.caught"): sum(flag[i] and truth[i] for i in real),
            t("electra.missed"): sum(not flag[i] and truth[i] for i in real),
            t("electra.false_alarms"): sum(flag[i] and not truth[i] for i in real),
            t("electra.originals_passed"): sum(not flag[i] and not truth[i] for i in real)}


@st.fragment
def game_and_fool_it() -> None:
    """One fragment: "Try to fool it" judges with the threshold slider of the game above it, so a move of that
    slider must rerun both. In presenter mode each of its parts is a step of its own."""
    if show("game") or show("verdict") or show("loss"):
        game()
    if show("fool"):
        fool_it()


def game() -> None:
    """The round: drawn (controls, masked sentence, generator's guesses) in step "game"; the later steps play the
    same round, on the controls left as they were."""
    if show("game"):
        explain("game")
        rate, temp, seed = _controls()
    else:
        rate, temp, seed = _kept_controls()
    r = E.play(*pair_args, ctx.text_a, ctx.text_b, rate / 100, temp, seed, K)
    d = r.d
    if show("game"):
        st.caption(t("electra.masked", rate=rate, n=len(d.positions), maskable=r.maskable, seed=seed,
                     temperature=temp))
        st.html(masked_chips(r.tokens, r.masked, [int(i in d.positions) for i in range(len(r.tokens))], special,
                             legend_actions=(0, 1)))
    if r.maskable == 0:
        st.info(t("common.no_maskable"), icon=":material/info:")
        return
    if show("game"):
        explain("generator")
        if d.positions:
            _generator_table(r)
        else:
            st.info(t("electra.none_masked", rate=rate, seed=seed), icon=":material/casino:")
    if show("verdict"):
        verdict(r)
    if show("loss"):
        explain("loss")
        lam = st.slider(t("electra.lambda"), 1, 100, value=int(electra.LAMBDA), key="e_lambda",
                        bind="query-params")
        loss_figure(d.loss.with_lambda(lam), len(r.tokens), len(d.positions))


def verdict(r: E.Round) -> None:
    d = r.d
    explain("detect")
    thr = st.slider(t("electra.threshold"), 0.05, 0.95, value=THRESHOLD, step=0.05, key="e_thr",
                    bind="query-params")
    if classroom.on():  # Class vs BERT (or self-study): the fakes are marked before the discriminator's verdict
        if classroom.ask("electra/verdict", lambda: CQ.fake(*_fake_question(r, thr))):
            return
    st.html(score_chips(r.corrupted, d.p_replaced, d.replaced, thr, special, r.tokens))
    c = _confusion(d.p_replaced, d.replaced, r.corrupted, thr)
    cols = st.columns(4)
    for col, (label, n) in zip(cols, c.items()):
        col.metric(label, n)
    n = sum(d.replaced)
    st.caption(t("electra.really_replaced_one" if n == 1 else "electra.really_replaced_other", n=n,
                 masked=len(d.positions)))
    sep = electra.separation(d.p_replaced, d.replaced, [tok not in special for tok in r.corrupted])
    if sep.replaced is None and sep.original is not None:
        st.caption(t("electra.scores_none_replaced", original=sep.original))
    elif sep.original is not None:
        st.caption(t("electra.scores_apart" if sep.apart else "electra.scores_not_apart", replaced=sep.replaced,
                     original=sep.original))


def loss_figure(loss: electra.ElectraLoss, n_tokens: int, n_masked: int) -> None:
    nothing_masked = math.isnan(loss.mlm)
    if nothing_masked:  # no generator loss this round: the bar shows λ · L_disc alone
        loss = replace(loss, mlm=0.0)
    lam, disc = f"{loss.lam:g}", loss.disc
    c1, c2 = st.columns([3, 2])
    c1.html(stacked_bar(  # plain HTML, like the distillation loss: no plotly redraw on a λ move
        f"L = {loss.mlm:.2f} + {lam} × {disc:.3f} = {loss.total:.2f}",
        [("L_MLM", loss.mlm, "#748ffc", t("electra.generator_mlm", value=loss.mlm)),
         (f"λ · L_disc = {lam} × {disc:.3f}", loss.lam * disc, "#ff8787",
          t("electra.discriminator_bce", value=loss.lam * disc))], t("common.nats")))
    if nothing_masked:
        c1.caption(t("electra.no_generator_loss"))
    explain("signal", c1)
    sig = go.Figure(go.Bar(x=[t("electra.signal_generator"), t("electra.signal_discriminator")],
                           y=[n_masked, n_tokens], marker_color=["#748ffc", "#ff8787"], text=[n_masked, n_tokens],
                           textposition="outside", hovertemplate=t("electra.hover_signal") + "<extra></extra>"))
    sig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), title=t("electra.signal_title"),
                      yaxis=dict(title=t("electra.signal_axis"), range=[0, n_tokens * 1.25]))
    chart(sig, key="e_signal", file="electra-training-signal", where=c2, present_height=300)
    if n_masked:
        c2.caption(t("electra.signal_counts", tokens=n_tokens, masked=n_masked, ratio=n_tokens / n_masked))
    else:
        c2.caption(t("electra.signal_none", tokens=n_tokens))


def fool_it() -> None:
    explain("yours")
    positions = [i for i, t in enumerate(enc.tokens) if t not in special]
    if not positions:
        st.info(t("electra.nothing_to_replace"), icon=":material/info:")
        return
    c1, c2 = st.columns([1, 1])
    middle = positions[min(len(positions) - 1, len(positions) // 2)]
    state.follow_input("e_pos", (gen_name, disc_name, tuple(enc.tokens)), middle)  # a new sentence: its middle
    pos = c1.selectbox(t("electra.replace_at"), positions, index=positions.index(middle), key="e_pos",
                       bind="query-params", format_func=lambda i: f"{i} · {enc.tokens[i]}")
    pos = pos if pos in positions else middle  # a shared link made for another sentence
    word = c2.text_input(t("electra.with_word"), t("electra.with_word_default"), key="e_word", max_chars=40,
                         bind="query-params").strip()
    if not word:
        st.info(t("electra.type_a_word"), icon=":material/edit:")
        return
    ed = E.edit(*pair_args, ctx.text_a, ctx.text_b, int(pos), word)
    thr = float(st.session_state.get("e_thr", THRESHOLD))
    was = [enc.tokens[pos] if i in ed.new_positions else t for i, t in enumerate(ed.tokens)]
    st.html(score_chips(ed.tokens, ed.p_replaced, ed.changed, thr, special, was))
    if not any(ed.changed):
        st.caption(t("electra.same_piece", word=md_escape(word)))
        return
    p = max(ed.p_replaced[i] for i in ed.new_positions)
    verdict = t("electra.verdict_caught" if p >= thr else "electra.verdict_fooled")
    st.markdown(t("electra.verdict", verdict=verdict, word=md_escape(word), p=p, threshold=thr))
    originals = [q for q, tok, y in zip(ed.p_replaced, ed.tokens, ed.changed) if not y and tok not in special]
    if originals:
        higher = electra.outranked_by(p, originals)
        st.caption(t("electra.fool_above_all", n=len(originals), top=max(originals)) if higher == 0 else
                   t("electra.fool_outranked", higher=higher, n=len(originals), top=max(originals)))


def roc_section() -> None:
    explain("roc")
    with st.spinner(t("electra.scoring")):
        r, h = E.heldout_roc(*pair_args)
    if r is None:
        st.info(t("electra.one_class"), icon=":material/info:")
        return
    roc_plot(r, h)


@st.fragment
def roc_plot(r: electra_heldout.Roc, h: electra_heldout.HeldoutScores) -> None:
    if present.on():  # the slider beside the curve, over its numbers: the curve gets the step's height
        c1, c2 = st.columns([3, 2])
        where = c2
    else:
        where = st
    thr = where.slider(t("electra.operating_point"), 0.05, 0.95, value=0.5, step=0.05, key="e_roc_thr",
                       bind="query-params")
    tpr, fpr = r.at(thr)
    step = max(1, len(r.fpr) // 400)  # ship ≤ ~400 points: the curve looks the same
    fig = go.Figure()
    hover = t("electra.hover_roc") + "<extra></extra>"
    fig.add_trace(go.Scatter(x=r.fpr[::step].tolist() + [1.0], y=r.tpr[::step].tolist() + [1.0], mode="lines",
                             name=t("electra.roc_discriminator", auc=r.auc), line=dict(color="#e03131", width=3),
                             hovertemplate=hover))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=t("electra.roc_guessing"),
                             line=dict(color="#adb5bd", dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[fpr], y=[tpr], mode="markers", marker=dict(size=13, color="#212529"),
                             name=t("electra.roc_threshold", threshold=thr), hovertemplate=hover))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=t("electra.axis_fpr"),
                      yaxis_title=t("electra.axis_tpr"), xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1.02]),
                      legend=dict(x=0.45, y=0.1))
    if not present.on():
        c1, c2 = st.columns([3, 2])
    chart(fig, key="e_roc", file="electra-roc", where=c1, present_height=480)
    c2.metric(t("electra.auc"), f"{r.auc:.3f}")
    c2.metric(t("electra.caught_at", threshold=thr), f"{tpr:.1%}", help=t("electra.tpr"))
    c2.metric(t("electra.false_alarms_at", threshold=thr), f"{fpr:.1%}", help=t("electra.fpr"))
    caught, flagged = electra_heldout.counts_at(r, thr)
    c2.caption(t("electra.roc_counts_better" if r.auc > 0.5 else "electra.roc_counts_worse", threshold=thr,
                 caught=caught, positives=r.positives, flagged=flagged, negatives=r.negatives, auc=r.auc))
    c2.caption(t("electra.heldout", sequences=h.sequences, positives=r.positives, negatives=r.negatives,
                 top1=h.generator_top1, masked=h.masked))


def stronger_section() -> None:
    """The same held-out masks filled by makers of fakes of rising strength: the discriminator's task hardens."""
    explain("stronger")
    with st.spinner(t("electra.scoring")):
        makers = E.fake_makers(*pair_args)
    if any(m.auc is None for m in makers):
        st.info(t("electra.one_class"), icon=":material/info:")
        return
    names = [t(f"electra.maker_{m.name}") for m in makers]
    c1, c2 = st.columns([3, 2])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[m.auc for m in makers], name=t("electra.auc"), marker_color="#e03131",
                         text=[f"{m.auc:.3f}" for m in makers], textposition="outside",
                         hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Bar(x=names, y=[m.caught for m in makers], name=t("electra.caught_at", threshold=0.5),
                         marker_color="#1c7ed6", text=[f"{m.caught:.0%}" for m in makers], textposition="outside",
                         hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(barmode="group", height=380, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(range=[0, 1.1]),
                      legend=dict(orientation="h", y=1.12))
    chart(fig, key="e_stronger", file="electra-stronger", where=c1, present_height=440)
    function = t("electra.maker_function")
    c2.dataframe(arrow({t("electra.maker"): names, t("electra.maker_top1"): [f"{m.generator_top1:.1%}" for m in makers],
                        function: ["–" if m.function_share is None else f"{m.function_share:.0%}" for m in makers]}),
                 hide_index=True, column_config={function: st.column_config.TextColumn(
                     help=t("electra.maker_function_help"))})
    weak, strong = makers[0], makers[-1]
    words = dict(weak=names[0], strong=names[-1], weak_top1=weak.generator_top1, strong_top1=strong.generator_top1,
                 weak_auc=weak.auc, strong_auc=strong.auc, weak_caught=weak.caught, strong_caught=strong.caught)
    c2.markdown(t("electra.stronger_harder" if electra_heldout.harder_as_stronger(makers) else "electra.stronger_mixed",
                  **words))


if show("game") or show("verdict") or show("loss") or show("fool"):
    game_and_fool_it()
if show("roc"):
    roc_section()
if show("stronger"):
    stronger_section()
if show("paper"):
    st.markdown(T["paper"])
    paper_table("electra_paper")
    st.markdown(T["paper-after"])
present.chapter_end("electra", (electra, "e_math"))
