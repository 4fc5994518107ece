"""Class vs BERT in the app: the presenter's panel on a lecture step and the students' page.

The presenter (presenter mode) presses **Ask the class** on a step: the question goes into the shared store
(`classroom.store`, SQLite or Redis), and the step shows its join code, a QR code of the join address and a live
count of answers instead of the model's answer. **Reveal** shows the class's answers beside the model's. The
question's code and its secret stay in the presenter's session, keyed by the step, so the lecture can move on
and come back; the secret never leaves the presenter's session (not in the address, not in any student's page).

A student opens `/join?code=…` (the QR code): a phone-sized page with only the question (`ui/join.py`). Outside
presenter mode a reader alone answers the same question here before the model's answer shows (self-study).
"""
from __future__ import annotations

import hashlib
import html
import json
from collections import Counter
from typing import Callable
from urllib.parse import urlencode, urlsplit

import plotly.graph_objects as go
import streamlit as st

from classroom import questions as Q
from classroom import store as S
from explainers.errors import InputError
from ui.figures import chart
from ui.html import md_escape
from ui.text import t

JOIN_PATH = "join"
POLL_S = 2  # seconds between the live count's (and a waiting student's) reads of the store


@st.cache_resource(show_spinner=False)
def store() -> S.Store:
    """The class's shared state: `INSIDE_BERT_STORE` (Redis) or a SQLite file (`classroom.store.from_env`)."""
    return S.from_env()


def _held(step: str) -> tuple[str, str] | None:
    return st.session_state.get(f"_class:{step}")


def join_url(code: str) -> str:
    """The address a student's phone opens: this server's `/join` with the code and the presenter's language."""
    from ui.lang import current

    parts = urlsplit(st.context.url or "http://localhost:8501")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(p for p in (base, JOIN_PATH) if p)
    query = {"code": code, **({"lang": current()} if current() != "en" else {})}
    return f"{parts.scheme}://{parts.netloc}/{path}?{urlencode(query)}"


def qr_svg(url: str) -> str:
    """The QR code of `url` as an <img> (an SVG data URI: nothing to fetch), scaled by the page."""
    import segno

    uri = segno.make(url, error="m").svg_data_uri(scale=8, border=2, dark="#111", light="#fff")
    return f'<img src="{html.escape(uri)}" alt="QR" style="width:100%;max-width:210px;image-rendering:pixelated">'


# --------------------------------------------------------------------------------------------- the presenter
def _open(step: str, make: Callable[[], dict]) -> None:
    payload = make()
    code, secret = store().open(payload["kind"], payload)
    st.session_state[f"_class:{step}"] = (code, secret)


def _drop(step: str) -> None:
    st.session_state.pop(f"_class:{step}", None)


def _set(step: str, state: str) -> None:
    code, secret = _held(step)
    store().set_state(code, secret, state)


def _hide(step: str, key: str) -> None:
    word = st.session_state.get(key)
    if word:
        code, secret = _held(step)
        store().hide(code, secret, word)


MODE = "class_mode"  # the sidebar's switch (presenter mode): steps with a question open on it


def sidebar_toggle() -> None:
    """The sidebar's switch: with it on, a part that has a question opens on it, its model's answer hidden until
    then. In presenter mode the question is for the class (Ask the class, or Show the answer); outside it, for the
    reader alone (self-study: answer, then reveal; nothing is stored)."""
    from ui import present

    if present.on():
        st.toggle(t("classroom.mode"), key=MODE, help=t("classroom.mode_help"))
    else:
        st.toggle(t("classroom.self_mode"), key=MODE, help=t("classroom.self_mode_help"))


def on() -> bool:
    return bool(st.session_state.get(MODE))


def _show_answer(step: str) -> None:
    st.session_state[f"_class_shown:{step}"] = True


def ask(step: str, make: Callable[[], dict]) -> bool:
    """The presenter's Class vs BERT on a step (`step`: "<chapter>/<step>"; `make()` builds the question's
    payload, `classroom.questions`), with the sidebar's switch on (else nothing is drawn). Returns True while the
    page must leave out its own answer (the model's): before the class is asked (unless the presenter chose to
    show the answer) and until the reveal, which shows the model's answer beside the class's."""
    if not on():
        return False
    from ui import present

    if not present.on():
        return _self_study(step, make)
    held = _held(step)
    q = store().question(held[0]) if held else None
    if held and q is None:  # expired (2 hours) or the store was reset
        _drop(step)
        st.info(t("classroom.expired"), icon=":material/timer_off:")
        held = None
    if not held:
        if st.session_state.get(f"_class_shown:{step}"):
            return False
        c1, c2 = st.columns(2)
        c1.button(t("classroom.ask"), icon=":material/how_to_vote:", key=f"class_ask_{step}", on_click=_open,
                  args=(step, make), help=t("classroom.ask_help"), type="primary", use_container_width=True)
        c2.button(t("classroom.show"), icon=":material/visibility:", key=f"class_show_{step}", on_click=_show_answer,
                  args=(step,), use_container_width=True)
        return True
    code, secret = held
    if q.state == "revealed":
        _reveal(step, code, secret, q)
        return False
    # one row, so that the step's own sentence stays above it on a 1280 x 720 projector: the code and the address
    # to type, the QR code to scan, the live count and the presenter's buttons
    left, middle, right = st.columns([3, 2, 3], vertical_alignment="center")
    with left:
        st.html(f'<div class="inside-bert-code">{html.escape(t("classroom.code"))}<br><b>{html.escape(code)}</b>'
                f'<br><span class="inside-bert-address">{html.escape(join_url(code))}</span></div>')
    middle.html(qr_svg(join_url(code)))
    with right:
        _live_count(code)
        if q.state == "open":
            st.button(t("classroom.close"), icon=":material/lock:", key=f"class_close_{step}", on_click=_set,
                      args=(step, "closed"), use_container_width=True)
        else:
            st.button(t("classroom.reopen"), icon=":material/lock_open:", key=f"class_reopen_{step}",
                      on_click=_set, args=(step, "open"), use_container_width=True)
        st.button(t("classroom.reveal"), icon=":material/visibility:", key=f"class_reveal_{step}", type="primary",
                  on_click=_set, args=(step, "revealed"), use_container_width=True)
    st.html(CODE_CSS)
    return True


CODE_CSS = """<style>
.inside-bert-code { font-size: 1.1rem; line-height: 1.25; }
.inside-bert-code b { font-size: 3rem; letter-spacing: .16em; font-family: ui-monospace, monospace; }
.inside-bert-address { font-size: 1rem; color: #495057; word-break: break-all; }
</style>"""


@st.fragment(run_every=POLL_S)
def _live_count(code: str) -> None:
    st.metric(t("classroom.answers"), store().count(code))


def reveal_figure(words: list[tuple[str, float]], title: str, right: str, fmt: str) -> go.Figure:
    """Horizontal bars, best on top; the hidden word's bar green."""
    words = list(reversed(words))
    # plotly reads a subset of HTML in labels (<b>, <a href>, <br>): a student's word is shown as typed, escaped
    fig = go.Figure(go.Bar(x=[v for _, v in words], y=[f"{html.escape(w)} " for w, _ in words], orientation="h",
                           marker_color=["#2e7d32" if w == right else "#90a4ae" for w, _ in words],
                           texttemplate=fmt, textposition="outside", hoverinfo="skip"))
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=30, t=40, b=10), xaxis=dict(visible=False),
                      yaxis=dict(automargin=True))
    return fig


def pieces_figure(pieces: list[str], class_share: list[float], model_p: list[float], replaced: list[int],
                  who: str | None = None) -> go.Figure:
    """Per piece: the share of the class (`who`: or of whoever answered) that flagged it and the discriminator's
    P(replaced); the pieces that were replaced are named in red."""
    labels = [f'<span style="color:{"#c62828" if i in replaced else "#333"}">{html.escape(p)}</span>'
              for i, p in enumerate(pieces)]
    fig = go.Figure([go.Bar(x=labels, y=class_share, name=who or t("classroom.the_class"), marker_color="#5c6bc0",
                            hoverinfo="skip"),
                     go.Bar(x=labels, y=model_p, name=t("classroom.the_model"), marker_color="#ef6c00",
                            hoverinfo="skip")])
    fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(range=[0, 1], tickformat=".0%"), legend=dict(orientation="h", y=1.12))
    return fig


def _reveal_charts(step: str, payload: dict, r, who: str) -> None:
    """The reveal's figures: `who`'s answers (the class's, or yours) beside the model's."""
    if isinstance(r, Q.BlankReveal):
        left, right = st.columns(2)
        chart(reveal_figure(r.top, who, r.answer, "%{x}"), file="class-vs-bert-class",
              key=f"class_fig_{step}", where=left, present_height=300)
        chart(reveal_figure([(g, p) for g, p in payload["truth"]["guesses"][:Q.SHOWN]],
                            t("classroom.the_model"), r.answer, "%{x:.0%}"), file="class-vs-bert-model",
              key=f"class_model_{step}", where=right, present_height=300)
    elif isinstance(r, Q.FakeReveal):
        chart(pieces_figure(payload["ask"]["pieces"], r.flagged, r.p, r.replaced, who), file="class-vs-bert-fakes",
              key=f"class_fig_{step}", present_height=300)
    elif isinstance(r, Q.SpanReveal):
        chart(reveal_figure(r.top, who, r.model, "%{x}"), file="class-vs-bert-spans",
              key=f"class_fig_{step}", present_height=300)


def _reveal(step: str, code: str, secret: str, q: S.Question) -> None:
    tally = store().answers(code, secret)
    r = Q.reveal(q.payload, tally, store().count(code))
    st.markdown(score_line(r))
    _reveal_charts(step, q.payload, r, t("classroom.the_class"))
    c1, c2, c3 = st.columns([3, 1.2, 1.2], vertical_alignment="bottom")
    hideable = [w for w, _ in r.top] if isinstance(r, Q.BlankReveal) else []
    if hideable:
        c1.selectbox(t("classroom.hide"), hideable, index=None, key=f"class_hide_pick_{step}",
                     placeholder=t("classroom.hide_placeholder"), label_visibility="collapsed")
        c2.button(t("classroom.hide_button"), key=f"class_hide_{step}", on_click=_hide,
                  args=(step, f"class_hide_pick_{step}"), use_container_width=True)
    c3.button(t("classroom.again"), icon=":material/restart_alt:", key=f"class_again_{step}", on_click=_drop,
              args=(step,), use_container_width=True)


def score_line(r) -> str:
    """The reveal's one line: the class's score and the model's, from the counts (words escaped)."""
    if r.answers == 0:
        return t("classroom.no_answers")
    if isinstance(r, Q.FakeReveal):
        n = len(r.replaced)
        return (t("classroom.fake_class", caught=r.class_caught, n=n, false=r.class_false, answers=r.answers)
                + " · " + t("classroom.fake_model", caught=r.model_caught, n=n, false=r.model_false,
                            threshold=r.threshold))
    if isinstance(r, Q.SpanReveal):
        return t("classroom.span_line", share=r.agree / r.answers, n=r.answers, answer=md_escape(r.model))
    if isinstance(r, Q.AgreeReveal):
        names = dict(student=md_escape(r.student), teacher=md_escape(r.teacher))
        verdict = t("classroom.agree_yes", **names) if r.agree else t("classroom.agree_no", **names)
        return t("classroom.agree_class", share=r.yes / r.answers, n=r.answers) + " · " + verdict
    word = md_escape(r.answer)
    if r.right is None:
        cls = t("classroom.class_no_key", n=r.answers)
    else:
        cls = t("classroom.class_right", share=r.right / r.answers, n=r.answers)
    if not r.answer:
        model = t("classroom.model_first", word=md_escape(r.model_top[0]), p=r.model_top[1])
    elif r.model_rank == 1:
        model = t("classroom.model_right", word=word, p=r.model_p)
    elif r.model_rank:
        model = t("classroom.model_ranked", word=word, rank=r.model_rank, first=md_escape(r.model_top[0]))
    else:
        model = t("classroom.model_missed", word=word, k=r.model_k, first=md_escape(r.model_top[0]))
    return f"{cls} · {model}"


# ------------------------------------------------------------------------------------------------ self-study
def _self_key(step: str) -> str:
    return f"_self:{step}"


def _ident(ask: dict) -> str:
    """A question as the reader sees it (what it asks, not the settings its reveal is judged with)."""
    return hashlib.sha256(json.dumps(ask, sort_keys=True, default=str).encode()).hexdigest()[:16]


def pending(step: str, ask: dict) -> bool:
    """Self-study: is the question `ask` of `step` still unanswered? A part drawn above the question hides what
    would give its answer away until then (ELECTRA's table of the generator's samples)."""
    from ui import present

    if not on() or present.on():
        return False
    held = st.session_state.get(_self_key(step))
    return not (held and held[0] == _ident(ask))


def _self_reveal(step: str, ident: str, kind: str, payload: dict, answer: str | None = None) -> None:
    """Self-study's Reveal (or a yes / no / none button): the reader's answer, checked as a class's would be, kept
    in this session only; a wrong one leaves a message and no reveal."""
    if answer is None:
        answer = (st.session_state.get(f"self_{step}_word", "") if kind == "blank"
                  else ",".join(map(str, st.session_state.get(f"self_{step}_pick") or [])))
    try:
        mine = Q.normal_answer(kind, answer, payload)
    except InputError:
        st.session_state[f"_self_problem:{step}"] = t(f"classroom.bad_{kind}", n=Q.MAX_WORD_CHARS)
        return
    st.session_state[_self_key(step)] = (ident, mine)


def _self_again(step: str) -> None:
    st.session_state.pop(_self_key(step), None)


def _self_study(step: str, make: Callable[[], dict]) -> bool:
    """The same question for one reader outside presenter mode: answer, then the reveal beside the model's
    answer. Nothing goes to the class's store; a new input (another sentence, another draw) asks anew."""
    payload = make()
    kind = payload["kind"]
    ident = _ident(payload["ask"])
    held = st.session_state.get(_self_key(step))
    if held and held[0] == ident:
        mine = held[1]
        r = Q.reveal(payload, Counter([mine]), 1)
        st.markdown(self_line(r, kind, payload, mine))
        _reveal_charts(step, payload, r, t("classroom.you"))
        st.button(t("classroom.self_again"), icon=":material/restart_alt:", key=f"self_again_{step}",
                  on_click=_self_again, args=(step,))
        return False
    with st.container(border=True):
        st.markdown(t("classroom.self_title"))
        st.html(f'<div class="inside-bert-question">{question_html(kind, payload)}</div>')
        answer_widgets(kind, payload, _self_reveal, (step, ident, kind, payload), keys=f"self_{step}",
                        label=t("classroom.reveal"))
        problem = st.session_state.pop(f"_self_problem:{step}", None)
        if problem:
            st.warning(problem, icon=":material/edit:")
    return True


def self_line(r, kind: str, payload: dict, mine: str) -> str:
    """Self-study's one line: the reader's answer against the model's (words escaped)."""
    if isinstance(r, Q.FakeReveal):
        n = len(r.replaced)
        flagged = [i for i, share in enumerate(r.flagged) if share > 0]
        caught = sum(i in r.replaced for i in flagged)
        return (t("classroom.self_fake", caught=caught, n=n, false=len(flagged) - caught)
                + " · " + t("classroom.fake_model", caught=r.model_caught, n=n, false=r.model_false,
                            threshold=r.threshold))
    if isinstance(r, Q.SpanReveal):
        words = Q.span_text(payload["ask"]["words"], mine)
        if r.agree:
            return t("classroom.self_span_same", mine=md_escape(words))
        return t("classroom.self_span_other", mine=md_escape(words), answer=md_escape(r.model))
    if isinstance(r, Q.AgreeReveal):
        names = dict(student=md_escape(r.student), teacher=md_escape(r.teacher))
        verdict = t("classroom.agree_yes", **names) if r.agree else t("classroom.agree_no", **names)
        right = (mine == "yes") == r.agree
        return t("classroom.self_right" if right else "classroom.self_wrong") + " · " + verdict
    guesses = [g for g, _ in payload["truth"]["guesses"]]
    if mine in guesses:
        return t("classroom.self_blank_rank", word=md_escape(mine), rank=guesses.index(mine) + 1,
                 first=md_escape(guesses[0]))
    return t("classroom.self_blank_missed", word=md_escape(mine), k=len(guesses), first=md_escape(guesses[0]))


# ------------------------------------------------------------ a question's words and answer widgets (both sides)
def question_html(kind: str, payload: dict) -> str:
    """The question as a student's phone shows it (everything escaped)."""
    ask = payload["ask"]
    if kind == "blank":
        return html.escape(ask["sentence"]).replace("[MASK]", "<mark>?</mark>")
    if kind == "fake":
        return html.escape(t("classroom.fake_prompt")) + "<br>" + html.escape(" ".join(ask["pieces"]))
    if kind == "span":
        return f"<b>{html.escape(ask['question'])}</b><br>{html.escape(' '.join(ask['words']))}"
    return (html.escape(ask["sentence"]).replace("[MASK]", "<mark>?</mark>") + "<br>"
            + html.escape(t("classroom.agree_prompt", teacher=ask["teacher"])))


def answer_widgets(kind: str, payload: dict, send: Callable, args: tuple, keys: str = "class",
                   label: str | None = None, on_enter: Callable | None = None) -> None:
    """What a student answers with: a word, the pieces or words to tap, or yes / no. `send(*args, answer=None)`
    runs on a button (a yes / no or "none" button gives its answer); the word and the taps are read from the
    session under `<keys>_word` and `<keys>_pick`; `label` names the main button (Send; Reveal in self-study);
    `on_enter(*args)` runs when a typed word is entered (a student's phone sends it)."""
    label = label or t("classroom.send")
    button = dict(type="primary", use_container_width=True, on_click=send, args=args)
    if kind == "blank":
        st.text_input(t("classroom.your_word"), max_chars=Q.MAX_WORD_CHARS, key=f"{keys}_word",
                      on_change=on_enter, args=args if on_enter else None)
        st.button(label, **button)
    elif kind in ("fake", "span"):
        items = payload["ask"]["pieces" if kind == "fake" else "words"]
        st.pills(t(f"classroom.pick_{kind}"), list(range(len(items))), selection_mode="multi", key=f"{keys}_pick",
                 format_func=lambda i: items[i])
        st.button(label, **button)
        if kind == "fake":
            st.button(t("classroom.none_fake"), use_container_width=True, on_click=send, args=(*args, "none"))
    else:
        yes, no = st.columns(2)
        yes.button(t("classroom.yes"), use_container_width=True, on_click=send, args=(*args, "yes"))
        no.button(t("classroom.no"), use_container_width=True, on_click=send, args=(*args, "no"))
