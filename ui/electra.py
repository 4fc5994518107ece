"""The ELECTRA chapter's caches: the generator/discriminator pair and the results the page shows.

Models: `st.cache_resource`, keyed by the two names and the device. Results: `st.cache_data`, keyed by the names,
device, text and controls, so another pair never returns a stale result.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch
from transformers import ElectraForMaskedLM, ElectraForPreTraining

from explainers import builtin
from explainers import electra, electra_heldout
from explainers.encoding import EncodedInput
from explainers.model import BUILTIN_NAME, LoadedModel, ModelLoadError
from ui import models
from ui.pairs import encode_for_pair, heldout_packed, load_pair, same_vocabulary, special_mask

GENERATOR_DIR = builtin.folder("electra-generator")
DISCRIMINATOR_DIR = builtin.folder("electra-discriminator")


def get_pair(gen_name: str, disc_name: str, device: str) -> tuple[LoadedModel, LoadedModel]:
    """Both models, checked to make a pair (`ui.pairs.load_pair`)."""
    return load_pair((gen_name, disc_name), device, (GENERATOR_DIR, DISCRIMINATOR_DIR),
                     (ElectraForMaskedLM, ElectraForPreTraining),
                     lambda g, d: ModelLoadError("electra_vocabularies", generator=g.name, discriminator=d.name))


@st.cache_data(max_entries=128, show_spinner=False)
def encoded(gen_name: str, disc_name: str, device: str, text_a: str, text_b: str) -> EncodedInput:
    return encode_for_pair(*get_pair(gen_name, disc_name, device), text_a, text_b)


@dataclass(frozen=True)
class Round:
    """One round of the game with token strings for display."""

    d: electra.Detection
    tokens: list[str]  # original pieces [T]
    masked: list[str]  # what the generator read [T]
    corrupted: list[str]  # what the discriminator read [T]
    top_tokens: list[list[str]]  # [N, k]
    sampled: list[str]  # [N]
    maskable: int


@st.cache_data(max_entries=256, show_spinner=False)
def play(gen_name: str, disc_name: str, device: str, text_a: str, text_b: str, rate: float, temperature: float,
         seed: int, k: int = 5) -> Round:
    gen, disc = get_pair(gen_name, disc_name, device)
    enc = encoded(gen_name, disc_name, device, text_a, text_b)
    tok = gen.tokenizer
    special = special_mask(enc, tok)
    d = electra.replaced_token_detection(
        gen.model, disc.model, enc.input_ids.to(device), enc.attention_mask.to(device), special,
        mask_token_id=tok.mask_token_id, vocab_size=len(tok), rate=rate, temperature=temperature,
        token_type_ids=enc.token_type_ids.to(device), seed=seed, k=k)
    ids = tok.convert_ids_to_tokens
    return Round(d, enc.tokens, ids(d.masked_ids), ids(d.corrupted_ids), [ids(r) for r in d.top_ids],
                 ids(d.sampled_ids), int((special == 0).sum()))


@dataclass(frozen=True)
class Edit:
    tokens: list[str]  # the edited sequence's pieces
    changed: list[int]  # 1 where a piece differs from the original sentence's (the truth)
    p_replaced: list[float]
    new_positions: list[int]  # positions the typed word occupies


@st.cache_data(max_entries=256, show_spinner=False)
def edit(gen_name: str, disc_name: str, device: str, text_a: str, text_b: str, position: int, word: str) -> Edit:
    """Put `word` (its word pieces) in place of the piece at `position` and ask the discriminator."""
    gen, disc = get_pair(gen_name, disc_name, device)
    enc = encoded(gen_name, disc_name, device, text_a, text_b)
    tok = gen.tokenizer
    new = tok(word, add_special_tokens=False)["input_ids"] or [tok.unk_token_id]
    ids = enc.input_ids[0].tolist()
    types = enc.token_type_ids[0].tolist()
    limit = min(gen.max_positions, disc.max_positions)
    edited = (ids[:position] + new + ids[position + 1:])[:limit]
    edited_types = (types[:position] + [types[position]] * len(new) + types[position + 1:])[:limit]
    if edited[-1] != tok.sep_token_id:  # cut at the limit: keep the closing [SEP]
        edited[-1] = tok.sep_token_id
    span = [p for p in range(position, position + len(new)) if p < len(edited)]
    # truth: the typed pieces are "replaced" unless they repeat the original piece at the same place
    changed = [int(p in span and (len(new) != 1 or edited[p] != ids[p])) for p in range(len(edited))]
    x = torch.tensor([edited], device=device)
    p = electra.replaced_probability(disc.model, x, torch.ones_like(x), torch.tensor([edited_types], device=device))
    return Edit(tok.convert_ids_to_tokens(edited), changed, p[0].tolist(), span)


@st.cache_data(max_entries=16, show_spinner=False)
def heldout_roc(gen_name: str, disc_name: str, device: str,
                seed: int = 1234) -> tuple[electra_heldout.Roc | None, electra_heldout.HeldoutScores]:
    """ROC of the discriminator on the held-out sample; None when it has only one class (nothing replaced)."""
    gen, disc = get_pair(gen_name, disc_name, device)
    batch = heldout_packed(f"electra:{gen_name}|{disc_name}", gen.tokenizer, gen.max_positions, device)
    h = electra_heldout.heldout_scores(gen.model, disc.model, batch, mask_token_id=gen.tokenizer.mask_token_id,
                               vocab_size=len(gen.tokenizer), seed=seed)
    if h.labels.sum() == 0 or h.labels.sum() == len(h.labels):
        return None, h
    return electra_heldout.roc(h.scores, h.labels), h


MAKERS = ("random", "generator", "teacher")  # the makers of fakes `fake_makers` compares (`electra.maker_<name>`)


@st.cache_data(max_entries=16, show_spinner=False)
def fake_makers(gen_name: str, disc_name: str, device: str, seed: int = 1234) -> list[electra_heldout.FakeMaker]:
    """The discriminator against makers of fakes of rising strength on the same held-out masks: random pieces,
    the pair's generator and, when it reads the same vocabulary, the built-in BERT teacher sampling as a
    generator (`electra_heldout.compare_fake_makers`)."""
    gen, disc = get_pair(gen_name, disc_name, device)
    random, generator, teacher_maker = MAKERS
    makers = {random: None, generator: gen.model}
    teacher = models.load(BUILTIN_NAME, device)
    if teacher.has_mlm_head and same_vocabulary(teacher, disc):
        makers[teacher_maker] = teacher.model
    batch = heldout_packed(f"electra:{gen_name}|{disc_name}", gen.tokenizer, gen.max_positions, device)
    return electra_heldout.compare_fake_makers(makers, disc.model, batch, mask_token_id=gen.tokenizer.mask_token_id,
                                       vocab=gen.tokenizer.get_vocab(), seed=seed)
