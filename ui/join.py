"""Class vs BERT, the students' side (`pages/join.py`, `/join?code=…`, the QR code's address): the question alone,
sized for a phone, an answer sent once per student to the class's shared store, and what the class answered
once the presenter reveals it. The presenter's side is `ui/classroom.py`."""
from __future__ import annotations

import hashlib
import os
import secrets
from typing import Callable

import streamlit as st

from classroom import questions as Q
from classroom import store as S
from explainers.errors import InputError
from ui.classroom import POLL_S, answer_widgets, pieces_figure, question_html, reveal_figure, score_line, store
from ui.html import md_escape
from ui.text import t

# hashes the keys of the wrong-code limit (a session, an address): set it alike on every replica of one class
_SALT = os.environ.get("INSIDE_BERT_SECRET") or secrets.token_hex(16)

def _clients() -> list[tuple[str, int]]:
    """Whom the wrong-code limit counts: this session, and (with a limit a classroom behind one router will not
    reach) the reader's address as the proxy forwards it; both hashed, kept 60 s."""
    keys = [(_kept("_client", lambda: secrets.token_hex(8)), S.GUESSES)]
    forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
    address = forwarded or getattr(st.context, "ip_address", None)
    if isinstance(address, str) and address:
        keys.append((f"ip:{address}", S.ADDRESS_GUESSES))
    return [(hashlib.sha256(f"{_SALT}:{key}".encode()).hexdigest()[:32], limit) for key, limit in keys]


def _kept(key: str, make: Callable[[], str]) -> str:
    """A value made once per session (Streamlit's session state has no working `setdefault`)."""
    if key not in st.session_state:
        st.session_state[key] = make()
    return st.session_state[key]


def _voter() -> str:
    return _kept("_voter", lambda: secrets.token_urlsafe(12))


def _send(code: str, answer: str | None = None) -> None:
    """This student's answer: `answer` as given (a button's), else what the question's widget holds (the word
    typed, the pieces or words tapped). A wrong answer leaves a message for the run that follows; an emptied
    word box says nothing until Send."""
    q = store().question(code)
    if q is None:
        return
    if answer is None and q.kind == "blank":
        answer = st.session_state.get("class_word", "")
    elif answer is None:
        answer = ",".join(map(str, st.session_state.get("class_pick") or []))
    try:
        store().answer(code, _voter(), Q.normal_answer(q.kind, answer, q.payload))
    except InputError:
        st.session_state["_class_problem"] = t(f"classroom.bad_{q.kind}", n=Q.MAX_WORD_CHARS)
    except S.Closed:
        st.session_state["_class_problem"] = t("classroom.closed_none")


def _send_typed(code: str) -> None:
    if st.session_state.get("class_word", "").strip():
        _send(code)


PHONE_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"] { display: none !important; }
.stMainBlockContainer { max-width: 34rem; padding: 1.2rem 1rem 3rem; }
.inside-bert-question { font-size: 1.35rem; line-height: 1.5; }
.inside-bert-question mark { background: #fff3bf; padding: 0 .3em; border-radius: 4px; }
</style>"""


def join_page() -> None:
    """The students' page: the code (from the QR code's address or typed), then only the question."""
    st.html(PHONE_CSS)
    st.subheader(t("classroom.join_title"))
    code = st.text_input(t("classroom.code_box"), key="code", bind="query-params", max_chars=16,
                         placeholder=t("classroom.code_placeholder")).strip()
    if not code:
        st.info(t("classroom.type_code"), icon=":material/qr_code_scanner:")
        return
    if st.session_state.get("_joined") != S.normal_code(code):
        try:
            q = store().join(code, _clients())
        except S.TooManyGuesses as err:
            st.error(t("classroom.too_many", seconds=int(err.retry_after) + 1), icon=":material/hourglass_top:")
            return
        except KeyError:
            st.error(t("classroom.no_such_code"), icon=":material/search_off:")
            return
        st.session_state["_joined"] = q.code
    _student_view(st.session_state["_joined"])


def _mine_text(q: S.Question, mine: str) -> str:
    """A student's stored answer in words."""
    if q.kind == "fake":
        return t("classroom.none_fake") if mine == "none" else \
            ", ".join(q.payload["ask"]["pieces"][int(i)] for i in mine.split(","))
    if q.kind == "span":
        return Q.span_text(q.payload["ask"]["words"], mine)
    if q.kind == "agree":
        return t("classroom.yes") if mine == "yes" else t("classroom.no")
    return mine


@st.fragment(run_every=POLL_S)
def _student_view(code: str) -> None:
    q = store().question(code)
    if q is None:
        st.info(t("classroom.expired"), icon=":material/timer_off:")
        return
    st.html(f'<div class="inside-bert-question">{question_html(q.kind, q.payload)}</div>')
    mine = store().my_answer(code, _voter())
    if q.state == "revealed":
        r = Q.reveal(q.payload, store().answers(code), store().count(code))
        st.markdown(score_line(r))
        if isinstance(r, Q.BlankReveal) and mine is not None and r.answer:
            if mine == r.answer:
                st.success(t("classroom.you_right", word=md_escape(mine)))
            else:
                st.warning(t("classroom.you_wrong", word=md_escape(mine), answer=md_escape(r.answer)))
        if isinstance(r, Q.BlankReveal):
            st.plotly_chart(reveal_figure(r.top, t("classroom.the_class"), r.answer, "%{x}"),
                            key="class_student_fig", config={"displayModeBar": False})
        elif isinstance(r, Q.FakeReveal):
            st.plotly_chart(pieces_figure(q.payload["ask"]["pieces"], r.flagged, r.p, r.replaced),
                            key="class_student_fig", config={"displayModeBar": False})
        return
    if q.state == "closed":
        st.info(t("classroom.closed", word=md_escape(_mine_text(q, mine))) if mine else t("classroom.closed_none"),
                icon=":material/lock:")
        return
    answer_widgets(q.kind, q.payload, _send, (code,), on_enter=_send_typed)
    problem = st.session_state.pop("_class_problem", None)
    if problem:
        st.warning(problem, icon=":material/edit:")
    mine = store().my_answer(code, _voter())
    if mine:
        st.caption(t("classroom.sent", word=md_escape(_mine_text(q, mine))))
