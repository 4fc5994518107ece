"""Every model the app loads, shared by all sessions, under the server's model-loading policy
(`explainers/policy.py`).

* The built-in models are loaded once and kept for the server's life. A fine-tuned one that ships only what
  training changed (the QA model, the next-sentence classifier, the ELECTRA generator) points its frozen weights
  at its loaded base's (`explainers.model.share_with_base`): one copy of the teacher's embeddings, not three.
* A model a user names (a Hub id or a folder, in the sidebar, a chapter's box or a shared link) is first checked
  against the policy on every use (`explainers.model.locate`: a link cannot bring back a model that the policy
  no longer allows), then loaded into one cache of at most `policy.user_models` models, the least recently used
  going first, so that 30 students typing 30 names cannot fill the server's memory.
* A Hub download shows its progress, file by file, after its size was checked against the cap.
* A name that failed is remembered by the session and answered from memory on later reruns: a bad name in a
  link does not ask the disk or the Hub again on every slider move (each failed Hub lookup can take seconds).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
import transformers

from explainers.builtin import MODELS as BUILT_IN
from explainers.builtin import folder as built_in_folder
from explainers.model import (BUILTIN_DIR, BUILTIN_NAME, LoadedModel, ModelLoadError, base_facts, load_model,
                              load_role, locate, share_with_base)
from explainers.policy import Policy, from_env
from ui.text import t

RETRYABLE = ("offline", "download_failed")  # failures that the network, not the name, may have caused
FAILED = "_failed_models"  # session_state: {(name, head class, device): the ModelLoadError it raised}
# the built-in teacher loads as an MLM with any of these heads (`_load`: the sidebar's choice), so they share one copy
TEACHER_HEADS = ("auto", "AutoModelForMaskedLM", BUILT_IN["teacher"].head)


def policy() -> Policy:
    """This server's policy: the INSIDE_BERT_* settings, else decided by the address Streamlit listens on."""
    return from_env(server_address=st.get_option("server.address"))


def _load(name: str, folder: str, model_class, device: str, pol: Policy) -> LoadedModel:
    if model_class is None:  # the sidebar's model: with its MLM head when it has one
        return load_model(name if folder != str(BUILTIN_DIR) else BUILTIN_NAME, device, pol)
    return load_role(name, Path(folder), model_class, device, pol)


@st.cache_resource(show_spinner=False)
def _builtin(folder: str, head: str, device: str, _model_class) -> LoadedModel:
    lm = _load(BUILTIN_NAME, folder, _model_class, device, from_env())
    base = base_facts(Path(folder))
    key = Path(base["path"]).name if base else None
    if key in BUILT_IN:  # its frozen weights are its base's: share the base's loaded copy (as its chapter loads it)
        parent = load(BUILTIN_NAME, device, built_in_folder(key), getattr(transformers, BUILT_IN[key].head))
        share_with_base(lm.model, parent.model, base["shared"])
    return lm


@st.cache_resource(show_spinner=False, max_entries=from_env().user_models)
def _user(name: str, folder: str, head: str, device: str, _model_class) -> LoadedModel:
    # `folder` is the one `locate` found and allowed; the policy is checked again on every use, before this
    return _load(name, folder, _model_class, device, policy())


class _Progress:
    """A Hub download's progress bar, drawn only if `locate` downloads (its first call: 0 of the total)."""

    def __init__(self, name: str):
        self.name, self.bar = name, None

    def __call__(self, done: int, total: int) -> None:
        text = t("sidebar.downloading", name=self.name, done=done / 1e6, total=total / 1e6)
        if self.bar is None:
            self.bar = st.progress(0.0, text=text)
        self.bar.progress(min(1.0, done / max(total, 1)), text=text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.empty()


def load(name: str, device: str, builtin: Path = BUILTIN_DIR, model_class=None) -> LoadedModel:
    """The model `name` (BUILTIN_NAME: the folder `builtin`) with `model_class`'s head (None: the sidebar's
    choice, `explainers.model.load_model`), or `ModelLoadError`."""
    name = (name or "").strip()
    head = getattr(model_class, "__name__", "auto")
    if name in ("", BUILTIN_NAME):
        if builtin == BUILTIN_DIR and head in TEACHER_HEADS:  # the sidebar's teacher, the distillation pair's and
            head, model_class = "auto", None  # the fine-tuned models' base are one model: one copy (91 MB)
        return _builtin(str(builtin), head, device, model_class)
    failed = st.session_state.setdefault(FAILED, {})
    key = (name, head, device)
    if key in failed:
        raise failed[key]
    pol = policy()
    progress = _Progress(name)
    try:
        try:
            folder = locate(name, builtin, pol, progress)  # the policy's check; a new Hub id downloads here
        finally:
            progress.close()
        with st.spinner(t("sidebar.loading_model")):
            return _user(name, str(folder), head, device, model_class)
    except ModelLoadError as err:
        failed[key] = err
        raise


def forget_failure(name: str) -> None:
    """Let the session try `name` again (the sidebar's "Try again")."""
    failed = st.session_state.get(FAILED, {})
    for key in [k for k in failed if k[0] == (name or "").strip()]:
        del failed[key]
