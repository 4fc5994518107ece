"""What the chapters share about their inputs: choosing a pair of models (ELECTRA, Distillation), encoding the
sidebar text, the special-token mask, and the held-out sample packed for a model's tokenizer."""
from __future__ import annotations

from typing import Callable

import streamlit as st
import torch

from explainers.encoding import EmptyInputError, encode_text, EncodedInput

from explainers.model import BUILTIN_NAME, LoadedModel, ModelLoadError
from ui import models
from ui.html import md_escape
from ui.present import unseen
from ui.text import error_text, note_text, t


def choose_pair(title: str, labels: tuple[str, str], keys: tuple[str, str], about: str, missing: str,
                load: Callable[[str, str], object], box: bool = True) -> tuple[str, str]:
    """Two model names from an expander (bound to the URL), checked by `load(a, b)`. A pair that fails to load
    gets its message and the built-in pair is used; without a built-in pair, `missing` is shown and the page
    stops. `box=False` (presenter mode) shows no expander: the pair is the one chosen before or named in the
    address (`ui.present.unseen`)."""
    def boxes() -> tuple[str, str]:
        cols = st.columns(2)
        return tuple(col.text_input(label, BUILTIN_NAME, key=key, bind="query-params").strip() or BUILTIN_NAME
                     for col, label, key in zip(cols, labels, keys))

    if box:
        with st.expander(title, icon=":material/swap_horiz:"):
            st.markdown(about)
            names = boxes()
    else:  # the boxes drawn unseen keep the pair chosen before in the session and the address
        with unseen("pair"):
            names = boxes()
    # The refusal's message goes in a box drawn on every run: an element that appears only once a pair is refused
    # would move every element after it, and a fragment below (the chapter's sliders) then stops writing its
    # widgets to the address.
    notice = st.empty()
    try:
        load(*names)
        return names
    except ModelLoadError as err:
        if names == (BUILTIN_NAME, BUILTIN_NAME):
            notice.warning(missing, icon=":material/build:")
            st.stop()
        notice.error(t("common.builtin_pair_instead", error=md_escape(error_text(err))), icon=":material/error:")
        return BUILTIN_NAME, BUILTIN_NAME


def encode_or_stop(encode: Callable[[], EncodedInput]) -> EncodedInput:
    """The encoded sidebar text with its notes shown, or the empty-text message and `st.stop()`."""
    try:
        enc = encode()
    except EmptyInputError as err:
        st.info(error_text(err), icon=":material/edit:")
        st.stop()
    for note in enc.notes:
        st.warning(note_text(note), icon=":material/info:")
    return enc


def load_pair(names: tuple[str, str], device: str, folders: tuple, heads: tuple,
              refusal: Callable[[LoadedModel, LoadedModel], ModelLoadError]) -> tuple[LoadedModel, LoadedModel]:
    """The two models of a chapter's pair (`ui.models`: shared, under the loading policy), each with its head
    class and built-in folder, checked to read one vocabulary; else the chapter's `refusal(a, b)` is raised."""
    a, b = (models.load(name, device, folder, head) for name, folder, head in zip(names, folders, heads))
    if not _pair_fits(*names, device, a, b):
        raise refusal(a, b)
    return a, b


@st.cache_resource(show_spinner=False, max_entries=32)
def _pair_fits(name_a: str, name_b: str, device: str, _a: LoadedModel, _b: LoadedModel) -> bool:
    """Compared once per pair of names (two 30,522-entry vocabularies), not on every call."""
    return same_vocabulary(_a, _b)


def same_vocabulary(a: LoadedModel, b: LoadedModel) -> bool:
    """A pair reads one sequence of word pieces: two tokenizers with different vocabularies cannot."""
    return a.tokenizer.get_vocab() == b.tokenizer.get_vocab()


def encode_for_pair(a: LoadedModel, b: LoadedModel, text_a: str, text_b: str) -> EncodedInput:
    """The sidebar text as both models read it: truncated to the shorter of their position limits."""
    return encode_text(a.tokenizer, text_a, text_b, max_length=min(a.max_positions, b.max_positions))


def special_mask(enc: EncodedInput, tokenizer) -> torch.Tensor:
    """`[1, T]`: 1 at special tokens, which masking never chooses."""
    special = set(tokenizer.all_special_ids)
    return torch.tensor([[int(i in special) for i in enc.input_ids[0].tolist()]])


@st.cache_resource(max_entries=8, show_spinner=False)
def heldout_packed(key: str, _tokenizer, max_positions: int, device: str, sequences: int = 32) -> dict:
    """The held-out sample shipped in assets/text/en/heldout.txt, packed like the training data with the
    tokenizer of the model(s) named by `key` (the cache key: a tokenizer object is not hashed)."""
    from explainers.corpus import load_packed
    from ui.prose import TEXT_DIR, LANG

    packed = load_packed(TEXT_DIR / LANG / "heldout.txt", _tokenizer, seq_len=min(128, max_positions),
                         max_sequences=sequences)
    return {k: v.to(device) for k, v in packed.items()}
