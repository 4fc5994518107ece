"""Warm the caches at server start, so that a chapter's first visit does not wait for work that is the same for
every visitor: the built-in models loaded (the fine-tuned ones too), the held-out measurements (ELECTRA's ROC,
the distillation claims), and the default sentence's attention views.

`start()` runs once per server (`st.cache_resource`), from `app.py`'s first run, in a daemon thread that calls the
pages' own cached functions with the arguments a first visitor's page passes, so the page then finds the result
in the cache. Outside a script run these functions have no session to draw a spinner in (they draw nothing: the
functions warmed show none) and Streamlit logs "missing ScriptRunContext" for each call; the filter below keeps
that one message out of this thread's log. A step that fails is logged and skipped: the page computes it then.
"""
from __future__ import annotations

import ctypes
import contextlib
import logging
import os
import threading
import time

import streamlit as st
from streamlit.logger import get_logger

THREAD = "inside-bert-warm"
DONE = "warm-up finished"  # the last line the warm-up logs (harness.browser.streamlit_server(warmed=True) waits for it)
# Streamlit's logger setup (its level, `--logger.level`, and its format), so that "warmed ... in ... s" reaches the
# server's output: a plain logging.getLogger(__name__) has no handler and drops INFO
log = get_logger(__name__)


class _QuietThread(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName == THREAD and "missing ScriptRunContext" in record.getMessage())


def steps(device: str) -> list[tuple[str, callable]]:
    """(name, call) in the order a lecture visits the chapters."""
    from explainers.model import BUILTIN_NAME as B
    from ui import distill as D
    from ui import electra as E
    from ui import family as FA
    from ui import finetune as F
    from ui import attention as A
    from ui import masking as M
    from ui import state
    from ui.text import LANG, t

    a, b = state.DEFAULT_A, state.DEFAULT_B
    return [
        ("model", lambda: state.get_model(B, device)),
        ("attention", lambda: A.head_stats(B, device, a, b)),
        ("bertviz model view", lambda: A.model_view_html(B, device, a, b)),
        ("bertviz head view", lambda: A.head_view_html(B, device, a, b, *opening_head(device), LANG)),
        ("held-out batch", lambda: M.heldout_batch(B, device)),
        ("ELECTRA pair", lambda: E.get_pair(B, B, device)),
        ("ELECTRA held-out ROC", lambda: E.heldout_roc(B, B, device)),
        ("ELECTRA fakes of rising strength", lambda: E.fake_makers(B, B, device)),
        ("distillation pair", lambda: D.get_pair(B, B, device)),
        ("distillation held-out agreement", lambda: D.heldout(B, B, device)),
        ("next-sentence classifier", lambda: F.load_classifier(device)),
        ("QA model", lambda: F.get_qa(B, device)),
        ("fine-tuning presenter steps", lambda: F.warm_defaults(device)),
        ("family: spans vs scattered", lambda: FA.spans(B, device, a, b, 0)),
        ("family: ERNIE, UniLM and the lens", lambda: FA.warm_defaults(B, device, a, b,
                                                                       t("family.ernie_example", "en"))),
        # last: it times the two models, and a measurement taken while the steps above run would be slower
        ("distillation speed meter", lambda: D.speed(B, B, device, a, b)),
    ]


def opening_head(device: str) -> tuple[int, int]:
    """The head the attention chapter opens on for the default sentence (its sliders' `value=`)."""
    from explainers import attention as att
    from explainers.model import BUILTIN_NAME
    from ui import attention as A
    from ui import state

    return att.clearest_head(A.head_stats(BUILTIN_NAME, device, state.DEFAULT_A, state.DEFAULT_B))[:2]


def release_memory() -> bool:
    """Hand the memory the C allocator holds free back to the system (glibc's `malloc_trim`): the warm-up's
    intermediate tensors (held-out batches through five models) leave about 250 MB of freed pages in the server's
    resident size otherwise (measured: 1.50 → 1.25 GB). False where the C library has no `malloc_trim`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return True
    return False


def _run(work: list[tuple[str, callable]]) -> None:
    start = time.perf_counter()
    for name, call in work:
        t = time.perf_counter()
        try:
            call()
            log.log(logging.INFO, "warmed %s in %.1f s", name, time.perf_counter() - t)  # the server's log, not UI
        except Exception:  # noqa: BLE001 - the page will compute it, and show any error, itself
            log.log(logging.WARNING, "could not warm %s", name, exc_info=True)
    release_memory()
    log.log(logging.INFO, "%s in %.1f s", DONE, time.perf_counter() - start)  # the server's log, not UI


def enabled() -> bool:
    """False when `INSIDE_BERT_WARM=0`: the test suite runs the app in-process hundreds of times (AppTest) and sets
    it, so that no thread keeps warming models behind the tests or past the interpreter's exit."""
    return os.environ.get("INSIDE_BERT_WARM", "1") != "0"


@st.cache_resource(show_spinner=False)
def start(device: str) -> threading.Thread:
    quiet = _QuietThread()
    for name in ["streamlit", *logging.Logger.manager.loggerDict]:  # Streamlit gives its loggers their own handlers
        if name.startswith("streamlit"):
            logger = logging.getLogger(name)
            logger.addFilter(quiet)
            for handler in logger.handlers:
                handler.addFilter(quiet)
    # the modules the steps call are imported here, in the script's thread: a thread that imports a module while
    # a script run imports it can meet it half-initialised
    work = steps(device)
    thread = threading.Thread(target=_run, args=(work,), name=THREAD, daemon=True)
    thread.start()
    return thread
