"""The family chapter's caches: each demo's result for the sidebar's model, keyed by model name, device, text and
controls (`st.cache_data`), in small dataclasses of strings and numbers the page draws. The math is
`explainers.family`; the models are `ui.state.get_model`'s.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from explainers import family
from explainers.masking import Action
from explainers.model import EncodedInput, clean_text, encode_text
from ui.pairs import special_mask
from ui.state import encoded, get_model

UNILM_MAX_PIECES = 64  # UniLM's and MASS's matrices are drawn piece by piece: longer inputs are too small to read
# the demos that measure over many copies of the input keep to about this many pieces in all, so that a long
# input (512 pieces) costs seconds, not minutes: SpanBERT's draws and ERNIE's summary over units
SPAN_PIECES = 2048
SUMMARY_PIECES = 4096


def span_draws(pieces: int) -> int:
    """SpanBERT's seeded draws for an input of `pieces`: 20, fewer for a long input (2 copies a draw)."""
    return max(2, min(20, SPAN_PIECES // (2 * max(1, pieces))))


def summary_units(units: list, pieces: int) -> list:
    """The first of ERNIE's `units` whose probes (n + 1 copies of the input each) fit SUMMARY_PIECES; one at least."""
    out, used = [], 0
    for u in units:
        used += (u.end - u.start + 1) * pieces
        if out and used > SUMMARY_PIECES:
            break
        out.append(u)
    return out


def _setup(name: str, device: str, text_a: str, text_b: str):
    lm, enc = get_model(name, device), encoded(name, device, text_a, text_b)
    return lm, enc, special_mask(enc, lm.tokenizer)


def _on(device: str, enc: EncodedInput):
    return enc.input_ids.to(device), enc.attention_mask.to(device), enc.token_type_ids.to(device)


# ------------------------------------------------------------------------------------------------ RoBERTa
@dataclass(frozen=True)
class Epochs:
    """One sentence masked epoch after epoch: the pieces each epoch shows, and the coverage so far."""

    tokens: list[str]
    shown: list[list[str]]  # [E, T]
    action: list[list[int]]  # [E, T]
    coverage: list[float]  # [E]: share of maskable pieces predicted at least once so far
    expected: list[float]  # [E]: its expectation
    distinct: list[int]  # [E]: different masks so far


@st.cache_data(max_entries=64, show_spinner=False)
def epochs(name: str, device: str, text_a: str, text_b: str, n: int, dynamic: bool, copies: int,
           seed: int) -> Epochs:
    lm, enc, special = _setup(name, device, text_a, text_b)
    masks = family.epoch_masks(enc.input_ids, special, epochs=n, dynamic=dynamic, duplicates=copies, seed=seed,
                               mask_token_id=lm.tokenizer.mask_token_id, vocab_size=len(lm.tokenizer))
    tok = lm.tokenizer.convert_ids_to_tokens
    return Epochs(enc.tokens, [tok(m.input_ids[0].tolist()) for m in masks], [m.action[0].tolist() for m in masks],
                  family.coverage([m.selected for m in masks], special),
                  family.expected_coverage(0.15, n, dynamic, copies),
                  [len(set(family.epoch_seeds(e, dynamic, copies, seed))) for e in range(1, n + 1)])


# ------------------------------------------------------------------------------------------------ SpanBERT
@dataclass(frozen=True)
class Selection:
    """One selection of the sentence with every chosen piece read as [MASK], and the model's guesses there."""

    shown: list[str]  # [T]
    action: list[int]  # [T]
    positions: list[int]  # [N]
    guesses: list[str]  # [N] top-1
    p_original: list[float]  # [N]
    hits: int


@dataclass(frozen=True)
class Spans:
    tokens: list[str]
    spans: Selection
    scattered: Selection
    lengths: list[int]  # the span draw's run lengths (overlaps and [SEP] merge or cut spans)
    many: family.SpanComparison | None  # over 20 draws; None when nothing is maskable


def _selection(lm, enc, chosen: torch.Tensor, p, hit, top) -> Selection:
    ids = enc.input_ids[0].masked_fill(chosen, lm.tokenizer.mask_token_id)
    positions = chosen.nonzero()[:, 0].tolist()
    return Selection(lm.tokenizer.convert_ids_to_tokens(ids.tolist()),
                     [int(Action.MASKED) if c else int(Action.KEPT) for c in chosen.tolist()], positions,
                     lm.tokenizer.convert_ids_to_tokens(top.tolist()), p.tolist(), int(hit.sum()))


@st.cache_data(max_entries=64, show_spinner=False)
def spans(name: str, device: str, text_a: str, text_b: str, seed: int) -> Spans:
    lm, enc, special = _setup(name, device, text_a, text_b)
    ids, att, types = _on(device, enc)
    g = torch.Generator().manual_seed(seed)
    span = family.span_mask(special[0], 0.15, generator=g)
    scattered = family.scattered_mask(special[0], int(span.sum()), g)
    chosen = torch.stack([span, scattered])
    batch = ids.expand(2, -1).masked_fill(chosen.to(device), lm.tokenizer.mask_token_id)
    p, hit, top = family.probs_of_originals(lm.model, batch, att, ids[0], chosen.to(device), types)
    n = int(span.sum())
    many = None
    if n:
        many = family.spans_vs_scattered(lm.model, ids, att, special.to(device), seed=seed,
                                         draws=span_draws(len(enc.tokens)),
                                         mask_token_id=lm.tokenizer.mask_token_id, token_type_ids=types)
    return Spans(enc.tokens, _selection(lm, enc, span, p[:n], hit[:n], top[:n]),
                 _selection(lm, enc, scattered, p[n:], hit[n:], top[n:]),
                 [e - s for s, e in family.runs(span)], many)


# ------------------------------------------------------------------------------------------------ ERNIE
@dataclass(frozen=True)
class Units:
    """Sentence A alone, with its phrases and entities (`explainers.family.find_units`)."""

    tokens: list[str]
    units: list[family.Unit]
    levels: dict[str, tuple[list[str], list[int]]]  # "basic" / "phrase" / "entity" → (shown, action) at 15 %


def _sentence(lm, text: str) -> tuple[str, EncodedInput, list[tuple[int, int]]]:
    clean, _ = clean_text(text)
    enc = encode_text(lm.tokenizer, clean, max_length=lm.max_positions)
    offsets = lm.tokenizer(clean, truncation=True, max_length=lm.max_positions,
                           return_offsets_mapping=True)["offset_mapping"]
    return clean, enc, offsets


@st.cache_data(max_entries=64, show_spinner=False)
def units(name: str, device: str, text: str, seed: int) -> Units:
    lm = get_model(name, device)
    clean, enc, offsets = _sentence(lm, text)
    found = family.find_units(clean, offsets, family.lexicon())
    special = special_mask(enc, lm.tokenizer)[0]
    levels = {}
    for level in ("basic", "phrase", "entity"):
        chosen = family.knowledge_mask(special, found, level, generator=torch.Generator().manual_seed(seed))
        shown = enc.input_ids[0].masked_fill(chosen, lm.tokenizer.mask_token_id)
        levels[level] = (lm.tokenizer.convert_ids_to_tokens(shown.tolist()),
                         [int(Action.MASKED) if c else int(Action.KEPT) for c in chosen.tolist()])
    return Units(enc.tokens, found, levels)


@dataclass(frozen=True)
class Probe:
    pieces: list[str]
    alone_p: list[float]
    alone_top: list[str]
    whole_p: list[float]
    whole_top: list[str]


@st.cache_data(max_entries=128, show_spinner=False)
def probe(name: str, device: str, text: str, unit: family.Unit) -> Probe:
    lm = get_model(name, device)
    _, enc, _ = _sentence(lm, text)
    ids, att, _ = _on(device, enc)
    pr = family.probe_unit(lm.model, ids, att, unit, mask_token_id=lm.tokenizer.mask_token_id)
    tok = lm.tokenizer.convert_ids_to_tokens
    return Probe([enc.tokens[i] for i in pr.positions], pr.alone_p, tok(pr.alone_top), pr.whole_p, tok(pr.whole_top))


# ------------------------------------------------------------------------------------------------ UniLM
@dataclass(frozen=True)
class UnderMask:
    """One UniLM mask applied to the model, with a [MASK] at `position`."""

    allowed: list[list[bool]]  # [T, T]
    attention: list[list[float]]  # [T, T]: the layer's attention, averaged over its heads
    guesses: list[str]  # top-k at the position
    probs: list[float]
    p_original: float
    rank: int  # of the original (0 = top-1)


def unilm_targets(tokens: list[str], sep_token: str) -> list[int]:
    """The positions UniLM's step may hide: every piece but the first, the last and the separators."""
    return [i for i in range(1, len(tokens) - 1) if tokens[i] != sep_token]


def unilm_source_default(tokens: list[str], sep_token: str) -> int:
    """The source slider's start: just after the first [SEP] (sentence A is the source, B the target)."""
    n = len(tokens)
    first_sep = tokens.index(sep_token) if sep_token in tokens else n - 1
    return first_sep + 1 if first_sep + 1 < n - 1 else n // 2


def unilm_position_default(targets: list[int], source: int) -> int:
    """The hidden piece's start for a source: halfway between the source's start and the end."""
    default = next((i for i in targets if i >= source), targets[-1])
    return targets[(targets.index(default) + len(targets) - 1) // 2] if default < targets[-1] else default


def ernie_opening_unit(units: list[family.Unit]) -> int:
    """Presenter mode opens the probe on the first name of several pieces ("New York" in the example)."""
    return next((i for i, x in enumerate(units) if x.kind == "entity" and x.end - x.start > 1), 0)


def warm_defaults(name: str, device: str, text_a: str, text_b: str, example: str) -> None:
    """What the chapter's steps open with on this sentence, computed into the caches (for `ui.warm`): ERNIE's
    probes, UniLM's three masks at the sliders' starts, the lens teacher and student. The same calls, with the
    same arguments, as `pages/family.py` makes."""
    lm, enc, _ = _setup(name, device, text_a, text_b)
    text = text_a
    u = units(name, device, text, 0)
    if not u.units:
        text = example
        u = units(name, device, text, 0)
    if u.units:
        probe(name, device, text, u.units[ernie_opening_unit(u.units)])
        for unit in summary_units(u.units, len(u.tokens)):
            probe(name, device, text, unit)
    tokens, sep = enc.tokens, lm.tokenizer.sep_token
    if 4 <= len(tokens) <= UNILM_MAX_PIECES and lm.config.model_type in ("bert", "electra"):
        source = unilm_source_default(tokens, sep)
        position = unilm_position_default(unilm_targets(tokens, sep), source)
        for kind in family.UNILM_KINDS:
            under_mask(name, device, text_a, text_b, kind, source, position, lm.config.num_hidden_layers - 1)
    maskable = [i for i, tok in enumerate(tokens) if tok not in set(lm.tokenizer.all_special_tokens)]
    if maskable:
        for student in (False, True):
            lens_hiding(name, device, text_a, text_b, maskable[len(maskable) // 2], student)


@st.cache_data(max_entries=64, show_spinner=False)
def under_mask(name: str, device: str, text_a: str, text_b: str, kind: str, source: int, position: int,
               layer: int, k: int = 5) -> UnderMask:
    lm, enc, _ = _setup(name, device, text_a, text_b)
    ids, _, types = _on(device, enc)
    ids = ids.clone()
    original = int(ids[0, position])
    ids[0, position] = lm.tokenizer.mask_token_id
    allowed = family.unilm_mask(kind, ids.shape[1], source)
    top, probs, dist = family.predict_under(lm.model, ids, allowed, position, k, types)
    attention = family.attention_under(lm.model, ids, allowed, types)[layer].mean(0)  # [T, T]
    return UnderMask(allowed.tolist(), attention.tolist(), lm.tokenizer.convert_ids_to_tokens(top), probs,
                     float(dist[original]), int((dist > dist[original]).sum()))


# ------------------------------------------------------------------------------------------------ MASS
@dataclass(frozen=True)
class Fragment:
    tokens: list[str]
    encoder: list[str]  # [T]
    decoder: list[str]  # [k]
    targets: list[str]  # [k]
    all_masked: list[float]  # [k] P(piece) with the whole fragment masked
    earlier_shown: list[float]  # [k] P(piece) with the fragment's earlier pieces revealed
    decoder_self: list[list[bool]]  # [k, k] causal
    cross: list[list[bool]]  # [k, T] the decoder → every encoder position


@st.cache_data(max_entries=64, show_spinner=False)
def fragment(name: str, device: str, text_a: str, text_b: str, start: int, end: int) -> Fragment:
    lm, enc, _ = _setup(name, device, text_a, text_b)
    ids, att, types = _on(device, enc)
    m = family.mass_inputs(enc.input_ids[0], start, end, lm.tokenizer.mask_token_id)
    a, b = family.fragment_probs(lm.model, ids, att, start, end, mask_token_id=lm.tokenizer.mask_token_id,
                                 token_type_ids=types)
    tok = lm.tokenizer.convert_ids_to_tokens
    return Fragment(enc.tokens, tok(m.encoder_ids.tolist()), tok(m.decoder_ids.tolist()), tok(m.targets.tolist()),
                    a, b, m.decoder_self.tolist(), m.cross.tolist())


# ------------------------------------------------------------------------------------------------ the lens
@st.cache_data(max_entries=128, show_spinner=False)
def lens_hiding(name: str, device: str, text_a: str, text_b: str, position: int, student: bool = False, k: int = 3):
    """The logit lens (`ui.state.LensView`) at `position` of the sidebar sentence with that one piece read as
    [MASK], with the sidebar's model or (`student`) the built-in student."""
    from explainers.lens import logit_lens
    from ui.state import lens_view

    lm, enc, _ = _setup(name, device, text_a, text_b)
    if student:
        from ui.distill import get_pair

        lm = get_pair(name, name, device)[1]
    ids, att, types = _on(device, enc)
    ids = ids.clone()
    ids[0, position] = lm.tokenizer.mask_token_id
    return lens_view(logit_lens(lm.model, ids, att, position, k=k, token_type_ids=types), lm.tokenizer)
