"""The family chapter's caches: each demo's result for the sidebar's model, keyed by model name, device, text and
controls (`st.cache_data`), in small dataclasses of strings and numbers the page draws. The math is
`explainers.family`; the models are `ui.state.get_model`'s.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from explainers import family
from explainers.family import ernie, mass, roberta, spanbert, unilm
from explainers.masking import Action
from explainers.encoding import clean_text, encode_text, EncodedInput
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


def follow_input(key: str, derived_from, default) -> None:
    """A picker whose options or default come from the input (a unit, a position, a slider's range) re-derives when
    the input changes: when `derived_from` (the model and the pieces) differs from what the picker was last drawn
    for in this session, its value becomes `default`, the new input's opening choice (and the address follows), so
    that it never names a piece of the old input ("8 · board" beside another sentence). A session's first run (a
    link opened) keeps the address's value. Call it just before the widget is drawn."""
    seen = st.session_state.get(f"_fam_from_{key}")
    if seen is not None and seen != derived_from and key in st.session_state:
        st.session_state[key] = default
    st.session_state[f"_fam_from_{key}"] = derived_from


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
    masks = roberta.epoch_masks(enc.input_ids, special, epochs=n, dynamic=dynamic, duplicates=copies, seed=seed,
                               mask_token_id=lm.tokenizer.mask_token_id, vocab_size=len(lm.tokenizer))
    tok = lm.tokenizer.convert_ids_to_tokens
    return Epochs(enc.tokens, [tok(m.input_ids[0].tolist()) for m in masks], [m.action[0].tolist() for m in masks],
                  roberta.coverage([m.selected for m in masks], special),
                  roberta.expected_coverage(0.15, n, dynamic, copies),
                  [len(set(roberta.epoch_seeds(e, dynamic, copies, seed))) for e in range(1, n + 1)])


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
    many: spanbert.SpanComparison | None  # over 20 draws; None when nothing is maskable


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
    span = spanbert.span_mask(special[0], 0.15, generator=g)
    scattered = spanbert.scattered_mask(special[0], int(span.sum()), g)
    chosen = torch.stack([span, scattered])
    batch = ids.expand(2, -1).masked_fill(chosen.to(device), lm.tokenizer.mask_token_id)
    p, hit, top = spanbert.probs_of_originals(lm.model, batch, att, ids[0], chosen.to(device), types)
    n = int(span.sum())
    many = None
    if n:
        many = spanbert.spans_vs_scattered(lm.model, ids, att, special.to(device), seed=seed,
                                         draws=span_draws(len(enc.tokens)),
                                         mask_token_id=lm.tokenizer.mask_token_id, token_type_ids=types)
    return Spans(enc.tokens, _selection(lm, enc, span, p[:n], hit[:n], top[:n]),
                 _selection(lm, enc, scattered, p[n:], hit[n:], top[n:]),
                 [e - s for s, e in spanbert.runs(span)], many)


# ------------------------------------------------------------------------------------------------ ERNIE
@dataclass(frozen=True)
class Units:
    """Sentence A alone, with its phrases and entities (`explainers.family.ernie.find_units`)."""

    tokens: list[str]
    units: list[ernie.Unit]
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
    found = ernie.find_units(clean, offsets, ernie.lexicon())
    special = special_mask(enc, lm.tokenizer)[0]
    levels = {}
    for level in ("basic", "phrase", "entity"):
        chosen = ernie.knowledge_mask(special, found, level, generator=torch.Generator().manual_seed(seed))
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
def probe(name: str, device: str, text: str, unit: ernie.Unit) -> Probe:
    lm = get_model(name, device)
    _, enc, _ = _sentence(lm, text)
    ids, att, _ = _on(device, enc)
    pr = ernie.probe_unit(lm.model, ids, att, unit, mask_token_id=lm.tokenizer.mask_token_id)
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


def ernie_opening_unit(name: str, device: str, text: str, u: "Units") -> int:
    """The probe opens on the unit that masking whole makes hardest: of the units the summary counts, the one whose
    mean P(original) falls most from piece-alone to whole-unit (on the example, "New York": 0.90 → 0.03)."""
    counted = summary_units(u.units, len(u.tokens))
    drops = [_mean(p.alone_p) - _mean(p.whole_p) for p in (probe(name, device, text, u) for u in counted)]
    return max(range(len(drops)), key=lambda i: (drops[i], -i)) if drops else 0


def _mean(xs: list[float]) -> float:
    return sum(xs) / max(1, len(xs))


# how far apart two means of P(original) must be for a caption to call one lower or higher: 0.01, or a fifth of the
# larger (P is often a few hundredths here)
def p_tolerance(a: float, b: float) -> float:
    return max(0.01, 0.2 * max(a, b))


@dataclass(frozen=True)
class UnitSummary:
    """The probes of the units counted (`summary_units`), pooled: mean P(original) over their pieces both ways."""

    units: int
    pieces: int
    alone: float
    whole: float
    direction: str  # the whole unit's mean against the piece-alone one: "lower" / "same" / "higher"


def unit_summary(name: str, device: str, text: str, u: "Units") -> UnitSummary:
    probes = [probe(name, device, text, unit) for unit in summary_units(u.units, len(u.tokens))]
    a = [x for p in probes for x in p.alone_p]
    w = [x for p in probes for x in p.whole_p]
    return UnitSummary(len(probes), len(a), _mean(a), _mean(w),
                       family.direction(_mean(w), _mean(a), p_tolerance(_mean(a), _mean(w))))


def probe_direction(p: "Probe") -> str:
    """One unit's whole-unit mean P(original) against its piece-alone one."""
    a, w = _mean(p.alone_p), _mean(p.whole_p)
    return family.direction(w, a, p_tolerance(a, w))


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
        for unit in summary_units(u.units, len(u.tokens)):
            probe(name, device, text, unit)
        probe(name, device, text, u.units[ernie_opening_unit(name, device, text, u)])
    tokens, sep = enc.tokens, lm.tokenizer.sep_token
    if 4 <= len(tokens) <= UNILM_MAX_PIECES and lm.config.model_type in ("bert", "electra"):
        source = unilm_source_default(tokens, sep)
        position = unilm_position_default(unilm_targets(tokens, sep), source)
        for kind in unilm.UNILM_KINDS:
            under_mask(name, device, text_a, text_b, kind, source, position, lm.config.num_hidden_layers - 1)
    position = lens_opening(name, device, text_a, text_b)
    if position is not None:
        for student in (False, True):
            lens_hiding(name, device, text_a, text_b, position, student)


@st.cache_data(max_entries=64, show_spinner=False)
def under_mask(name: str, device: str, text_a: str, text_b: str, kind: str, source: int, position: int,
               layer: int, k: int = 5) -> UnderMask:
    lm, enc, _ = _setup(name, device, text_a, text_b)
    ids, _, types = _on(device, enc)
    ids = ids.clone()
    original = int(ids[0, position])
    ids[0, position] = lm.tokenizer.mask_token_id
    allowed = unilm.unilm_mask(kind, ids.shape[1], source)
    top, probs, dist = unilm.predict_under(lm.model, ids, allowed, position, k, types)
    attention = unilm.attention_under(lm.model, ids, allowed, types)[layer].mean(0)  # [T, T]
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
    m = mass.mass_inputs(enc.input_ids[0], start, end, lm.tokenizer.mask_token_id)
    a, b = mass.fragment_probs(lm.model, ids, att, start, end, mask_token_id=lm.tokenizer.mask_token_id,
                                 token_type_ids=types)
    tok = lm.tokenizer.convert_ids_to_tokens
    return Fragment(enc.tokens, tok(m.encoder_ids.tolist()), tok(m.decoder_ids.tolist()), tok(m.targets.tolist()),
                    a, b, m.decoder_self.tolist(), m.cross.tolist())


# ------------------------------------------------------------------------------------------------ the lens
@st.cache_data(max_entries=128, show_spinner=False)
def lens_hiding(name: str, device: str, text_a: str, text_b: str, position: int, student: bool = False, k: int = 3):
    """The logit lens (`ui.lens.LensView`) at `position` of the sidebar sentence with that one piece read as
    [MASK], with the sidebar's model or (`student`) the built-in student."""
    from explainers.lens import logit_lens
    from ui.lens import lens_view

    lm, enc, _ = _setup(name, device, text_a, text_b)
    if student:
        from ui.distill import get_pair

        lm = get_pair(name, name, device)[1]
    ids, att, types = _on(device, enc)
    ids = ids.clone()
    ids[0, position] = lm.tokenizer.mask_token_id
    return lens_view(logit_lens(lm.model, ids, att, position, k=k, token_type_ids=types), lm.tokenizer)


LENS_SEARCH_PIECES = 64  # the opening position is measured on inputs up to this long (a copy of it per piece)


def lens_positions(tokens: list[str], special: set[str]) -> list[int]:
    """The positions the lens may hide: every piece but the special ones."""
    return [i for i, tok in enumerate(tokens) if tok not in special]


@st.cache_data(max_entries=64, show_spinner=False)
def lens_opening(name: str, device: str, text_a: str, text_b: str) -> int | None:
    """The position the lens step opens on, measured (`explainers.lens.opening_position`): a word whose guess forms
    into the hidden piece, as late in the layers as such a word does. On the default sentence the nouns end on other
    words ("board" → "table", 13 %), and "the" before "board" is the top guess from layer 4 of 6 on, at 94 %. None:
    nothing to hide. Inputs over LENS_SEARCH_PIECES open on the middle piece."""
    from explainers.lens import opening_position, top1_when_hidden

    lm, enc, _ = _setup(name, device, text_a, text_b)
    positions = lens_positions(enc.tokens, set(lm.tokenizer.all_special_tokens))
    if not positions:
        return None
    if len(enc.tokens) > LENS_SEARCH_PIECES:
        return positions[len(positions) // 2]
    ids, att, types = _on(device, enc)
    top1, final_p = top1_when_hidden(lm.model, ids, att, positions, mask_token_id=lm.tokenizer.mask_token_id,
                                     token_type_ids=types)
    hidden = enc.input_ids[0, positions].tolist()
    words = [any(c.isalpha() for c in enc.tokens[i]) for i in positions]
    return positions[opening_position(top1, final_p, hidden, words)]


@dataclass(frozen=True)
class LensOutcome:
    """What one lens at a hidden piece shows, for its caption: where (if anywhere) the top guess is the hidden piece."""

    hidden: str
    final: str  # the last layer's top guess
    p_final: float
    layers: int  # L
    hidden_layers: list[int]  # the layers whose top guess is the hidden piece
    settles_at: int | None  # from this layer on the top guess is the hidden piece; None: it ends on another


def lens_outcome(name: str, device: str, text_a: str, text_b: str, position: int, student: bool = False
                 ) -> LensOutcome:
    from explainers.lens import settling

    view = lens_hiding(name, device, text_a, text_b, position, student)
    hidden = encoded(name, device, text_a, text_b).tokens[position]
    s = settling([row[0] for row in view.top_tokens], hidden)
    return LensOutcome(hidden, view.final_token, view.final_probs[-1], view.layers[-1], s.hidden_layers, s.settles_at)


# ------------------------------------------------------------------------------------------------ outcomes in words
# what a caption says is read from the numbers beside it (issue 27): each function gives the words' choice

SPAN_TOLERANCE = 0.05  # spans' and scattered pieces' top-1 rates within 5 points read "about the same"


def span_direction(m: spanbert.SpanComparison) -> str:
    """Spans' top-1 rate over the draws against the scattered pieces': "lower" / "same" / "higher"."""
    return family.direction(m.span_top1, m.scattered_top1, SPAN_TOLERANCE)


@dataclass(frozen=True)
class Coverage:
    """The coverage chart's last epoch in numbers: static and dynamic, and when dynamic first asked about all."""

    epochs: int
    static: float
    dynamic: float
    dynamic_full: int | None  # the first epoch (1-based) after which every piece was asked about; None: never
    direction: str  # dynamic against static: "higher" or "same" (static's first copies are dynamic's first masks)


def coverage_outcome(static: Epochs, dynamic: Epochs) -> Coverage:
    full = next((e + 1 for e, c in enumerate(dynamic.coverage) if c >= 1.0), None)
    return Coverage(len(dynamic.coverage), static.coverage[-1], dynamic.coverage[-1], full,
                    family.direction(dynamic.coverage[-1], static.coverage[-1], 1e-9))


def unilm_direction(narrow: UnderMask, bidirectional: UnderMask) -> str:
    """P(original) under a narrower mask against the bidirectional one's."""
    return family.direction(narrow.p_original, bidirectional.p_original,
                            p_tolerance(narrow.p_original, bidirectional.p_original))


@dataclass(frozen=True)
class FragmentOutcome:
    all_masked: float  # mean P(piece), whole fragment masked
    earlier_shown: float  # mean P(piece), the earlier pieces given
    rises: int  # pieces whose P is higher with the earlier pieces given
    pieces: int  # the fragment's pieces after the first (the first has no earlier piece: its two bars are one)
    direction: str  # earlier_shown against all_masked


def fragment_outcome(f: Fragment) -> FragmentOutcome:
    a, e = _mean(f.all_masked), _mean(f.earlier_shown)
    rises = sum(x > y for x, y in zip(f.earlier_shown[1:], f.all_masked[1:]))
    return FragmentOutcome(a, e, rises, len(f.targets) - 1, family.direction(e, a, p_tolerance(a, e)))
