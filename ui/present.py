"""Presenter mode: the lecture one step at a time, for a class at a projector.

A chapter declares its steps in the registry (`ui.chapters.Chapter.steps`) and asks, section by section, whether
to draw it:

    show = present.steps("masking", T["title"], T["intro"])
    if show("mask"):
        mask_and_guess()

Outside presenter mode `show(step)` is always true and `steps` draws the chapter's title and introduction: the
page is the long scroll it always was. In presenter mode (`?present=1`, or the sidebar's toggle) only the current
step (`?step=k`, 1-based) is drawn, under a header with the step counter, the step's title and two or three
sentences of narration (`assets/text/<lang>/tour.md`), in large type. ← / → (and Page Up / Page Down, what a
presentation clicker sends, and Space) walk the whole lecture, across chapter boundaries: every step has its own
address, so a class can start at step 7 tomorrow.
"""
from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass

import streamlit as st

from explainers.errors import BuildError, require
from ui import prose
from ui.chapters import CHAPTERS, ROOT, Chapter, chapter, next_chapter
from ui.text import t

PRESENT, STEP = "present", "step"  # query parameters: ?present=1&step=3
_TOGGLE, _GOTO = "_present", "_present_goto"  # session keys: the sidebar toggle, a pending move to another chapter
# what the whole app keeps in the address besides its bound widgets (the sentences, model and device travel with
# their widgets, and may not be set by hand): the language, which a move into the next chapter keeps
CARRIED = ("lang",)

# A visible focus ring, for everyone who uses the keyboard, not only presenters; and `unseen`'s containers
# hidden.
FOCUS_CSS = """<style>
:focus-visible { outline: 3px solid #f08c00 !important; outline-offset: 2px !important; }
[class*="st-key-unseen_"],
[data-testid="stElementContainer"]:has(> [class*="st-key-unseen_"]) { display: none !important; }
</style>"""
PRESENT_CSS = """<style>
.stMainBlockContainer { max-width: 100%; padding-top: 2.6rem; padding-bottom: 1rem; }
[data-testid="stHeader"] { background: transparent; pointer-events: none; }
[data-testid="stHeader"] * { pointer-events: auto; }
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer label,
.stMainBlockContainer [data-testid="stCaptionContainer"], .stMainBlockContainer td,
.stMainBlockContainer th, .stMainBlockContainer [data-testid="stMetricLabel"] p,
.stMainBlockContainer [data-testid="stMarkdownContainer"] { font-size: 1.15rem !important; line-height: 1.4; }
.stMainBlockContainer h1 { font-size: 2.1rem !important; padding: .2rem 0 !important; }
.stMainBlockContainer h2, .stMainBlockContainer h3 { font-size: 1.6rem !important; padding: .2rem 0 !important; }
.stMainBlockContainer h4 { font-size: 1.3rem !important; padding: .1rem 0 !important; }
.stMainBlockContainer [data-testid="stMetricValue"],
.stMainBlockContainer [data-testid="stMetricValue"] * { font-size: 2.1rem !important; }
.stMainBlockContainer [data-testid="stVerticalBlock"] { gap: .6rem; }
.st-key-present_header { gap: .2rem !important; border-bottom: 1px solid #dee2e6; padding-bottom: .3rem; }
.st-key-present_header p { font-size: 1.25rem !important; margin-bottom: 0; }
.st-key-present_header [data-testid="stMarkdownContainer"] p:first-child { font-size: 1.15rem !important; }
.stMainBlockContainer [data-testid="stHtml"] { font-size: 1.15rem; }
.stMainBlockContainer [data-testid="stHtml"] [style*="rem"] { font-size: max(12.5px, .8em) !important; }
.stMainBlockContainer [data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > style:only-child),
.stMainBlockContainer [data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > span:empty) { display: none; }
</style>"""

# The lecture's keys, in the page: → / Space / Page Down for the next step, ← / Page Up for the previous one,
# whatever has the focus (a slider, a button, a select that is closed), so that a clicker never moves a slider
# instead of the lecture; only a text box keeps its keys, and Escape leaves it. And each step opens at its top:
# when the step shown changes (`%(step)s`), the main column scrolls up. Installed once per tab; it clicks the
# header's buttons, so a move is the same callback whatever asked for it.
KEYS_JS = """<script>
(() => {
  const w = window, step = %(step)s;
  const top = () => { const m = document.querySelector('[data-testid="stMain"]'); if (m) m.scrollTop = 0; };
  if (w.__insideBertStep !== step) {
    w.__insideBertStep = step;
    top();
    requestAnimationFrame(top);
  }
  if (w.__insideBertKeys) return;
  w.__insideBertKeys = true;
  const typing = el => !!el && el.matches && (el.isContentEditable || el.matches('textarea')
    || (el.matches('input') && !el.matches('[type=range], [type=checkbox], [type=radio], [type=button]')
        && !(el.getAttribute('role') === 'combobox' && el.getAttribute('aria-expanded') !== 'true')));
  const onKey = e => {
    const next = document.querySelector('.st-key-present_next button');
    if (!next || e.altKey || e.ctrlKey || e.metaKey) return;  // not in presenter mode, or a browser shortcut
    const el = e.target;
    if (typing(el)) {
      if (e.key === 'Escape') el.blur();
      return;
    }
    const go = {ArrowRight: 1, PageDown: 1, ' ': 1, ArrowLeft: -1, PageUp: -1}[e.key];
    if (!go) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    if (el && el.blur) el.blur();
    if (document.activeElement && document.activeElement.tagName === 'IFRAME') document.activeElement.blur();
    const button = go > 0 ? next : document.querySelector('.st-key-present_prev button');
    if (button && !button.disabled) button.click();
  };
  w.addEventListener('keydown', onKey, true);
  // a figure drawn in a frame of its own (bertviz) takes the keys once clicked: listen there too
  w.addEventListener('blur', () => setTimeout(() => {
    const f = document.activeElement;
    try {
      if (f && f.tagName === 'IFRAME' && !f.contentWindow.__insideBertKeys) {
        f.contentWindow.__insideBertKeys = true;
        f.contentWindow.addEventListener('keydown', onKey, true);
      }
    } catch (err) {}  // a frame from another origin keeps its keys
  }, 0));
})();
</script>"""


def on() -> bool:
    """Is the app in presenter mode? The address says so: `?present=1`."""
    return st.query_params.get(PRESENT) == "1"


def _flip() -> None:
    if st.session_state.get(_TOGGLE):
        start()
    else:
        for key in (PRESENT, STEP):
            st.query_params.pop(key, None)


def start() -> None:
    """A button's callback: presenter mode from the current page's first step (the overview's: the lecture's)."""
    st.query_params[PRESENT] = "1"
    st.query_params[STEP] = "1"


def sidebar_toggle() -> None:
    """The sidebar's switch (`app.py`); it follows the address, which a shared link may have set."""
    st.session_state[_TOGGLE] = on()
    st.toggle(t("present.toggle"), key=_TOGGLE, on_change=_flip, help=t("present.toggle_help"))
    st.html(FOCUS_CSS)
    if on():  # here, before the models load, so that no step is ever drawn in the normal style first
        st.html(PRESENT_CSS)


def lecture() -> list[tuple[Chapter, str]]:
    """Every step of every chapter, in lecture order: what ← and → walk."""
    return [(c, s) for c in CHAPTERS for s in c.steps]


def current(ch: Chapter) -> int:
    """The current step of chapter `ch`, 1-based, from `?step=` (1 when missing, clamped when out of range)."""
    try:
        k = int(st.query_params.get(STEP, "1"))
    except ValueError:
        k = 1
    return min(max(k, 1), len(ch.steps))


def _move(key: str, delta: int) -> None:
    """← / →: the previous or next step of the lecture. Within a chapter the address changes and the script
    reruns; into another chapter the move is left for the page to make (`st.switch_page` is not allowed in a
    callback)."""
    ch = chapter(key)
    walk = lecture()
    i = walk.index((ch, ch.steps[current(ch) - 1]))
    j = min(max(i + delta, 0), len(walk) - 1)
    target, step = walk[j]
    if target is ch:
        st.query_params[STEP] = str(ch.steps.index(step) + 1)
    else:
        st.session_state[_GOTO] = (target.key, target.steps.index(step) + 1)


def narration(ch: Chapter, step: str) -> tuple[str, str]:
    """(title, narration) of a step, from `assets/text/<lang>/tour.md`: the section `<chapter>.<step>`, its
    first line the title."""
    text = prose.sections("tour")[f"{ch.key}.{step}"]
    title, _, body = text.partition("\n")
    return title.strip(), body.strip()


@dataclass(frozen=True)
class Steps:
    """`show(step)`: draw this section? Every step outside presenter mode; only the current one in it."""

    chapter: Chapter
    now: str | None  # the current step in presenter mode; None outside it

    def __call__(self, step: str) -> bool:
        require(step in self.chapter.steps,
                f"{self.chapter.key} declares no step {step!r}: {self.chapter.steps}", BuildError)
        return self.now is None or step == self.now

    @property
    def everything(self) -> bool:
        """True outside presenter mode: for what no step shows (the essays, the link to the next chapter)."""
        return self.now is None


def steps(key: str, title: str, intro: str) -> Steps:
    """Start chapter `key`: outside presenter mode its title and introduction; in it, the step's header and the
    keys that move through the lecture."""
    ch = chapter(key)
    if not on():
        st.markdown(title)
        st.markdown(intro)
        return Steps(ch, None)
    goto = st.session_state.pop(_GOTO, None)
    if goto is not None:  # a move across a chapter boundary, asked for by the last key press
        target = chapter(goto[0])
        carried = {k: st.query_params[k] for k in CARRIED if k in st.query_params}
        st.switch_page(target.file, query_params={**carried, PRESENT: "1", STEP: str(goto[1])})
    k = current(ch)
    step = ch.steps[k - 1]
    walk = lecture()
    i = walk.index((ch, step))
    step_title, body = narration(ch, step)
    with st.container(key="present_header"):
        left, prev, nxt = st.columns([8, 1.2, 1.2], vertical_alignment="center")
        left.markdown(t("present.counter", chapter=ch.title, k=k, n=len(ch.steps), step=step_title,
                        i=i + 1, total=len(walk)))
        prev.button(t("present.previous"), key="present_prev", on_click=_move, args=(key, -1),
                    disabled=i == 0, use_container_width=True, help=t("present.previous_help"))
        nxt.button(t("present.next"), key="present_next", on_click=_move, args=(key, 1),
                   disabled=i == len(walk) - 1, use_container_width=True, help=t("present.next_help"))
        st.markdown(body)
    st.html(KEYS_JS % {"step": json.dumps(f"{key}/{k}")}, unsafe_allow_javascript=True, width="content")
    return Steps(ch, step)


def next_link(key: str) -> None:
    """"Next chapter →" at the end of chapter `key` (nothing after the last; in presenter mode → is the way on)."""
    nxt = next_chapter(key)
    if nxt is not None and not on():
        st.divider()
        st.page_link(nxt.file, label=t("common.next_chapter", chapter=nxt.title), icon=":material/arrow_forward:")


def chapter_end(key: str, *essays: tuple[object, str]) -> None:
    """Every chapter's ending: outside presenter mode, each `(module, expander key)`'s essay (the module docstring,
    `ui.prose.module_essay`) in an expander bound to the address and titled with the module's file, then the link
    to the next chapter."""
    if not on():
        for module, expander in essays:
            path = Path(module.__file__).resolve().relative_to(ROOT)
            where = f"{path.parent}/" if path.name == "__init__.py" else str(path)  # a package: its folder
            with st.expander(t("common.math", file=where), key=expander, bind="query-params"):
                st.markdown(prose.module_essay(module))
    next_link(key)


def unseen(name: str):
    """A container that is drawn but never seen (`display: none`, `FOCUS_CSS`). Presenter mode's other
    steps draw there the widgets of a step not shown: Streamlit drops an undrawn widget's value from the session
    and its parameter from the address at the end of a run, so the link of such a step would open on the defaults
    and the next step would forget what the last one chose. Drawn unseen, they keep both through public API only;
    an unseen widget takes no focus, so a clicker's arrow keys never move it."""
    return st.container(key=f"unseen_{name}")
