r"""
# BERT's family: one change each

Most of BERT's successors keep its Transformer and change one thing about what it sees.

**SpanBERT** (Joshi et al., 2020) masks *contiguous spans* instead of single pieces. A span's length is drawn
from a geometric distribution clipped at $\ell_\max = 10$,

$$P(\ell) = \frac{p\,(1-p)^{\ell-1}}{\sum_{k=1}^{\ell_\max} p\,(1-p)^{k-1}}, \qquad \ell = 1, \dots, \ell_\max,
\quad p = 0.2,$$

so the mean span is about 3.8 pieces; spans are drawn, each at a random start, until 15 % of the maskable pieces
are chosen. (The paper measures spans in whole words; here they are word pieces.) Inside a span the model must
rebuild several neighbouring pieces from the context on both sides of the span only.

**UniLM** (Dong et al., 2019) trains one Transformer for three kinds of language model by changing only the
self-attention mask $M$ added to the attention scores ($M_{ij} = 0$: position $i$ may attend to $j$;
$M_{ij} = -\infty$: it may not):

* bidirectional (BERT): $M_{ij} = 0$ for all $i, j$;
* left-to-right (GPT): $M_{ij} = 0$ if $j \le i$;
* sequence-to-sequence: with a source of $s$ positions, a source position attends to the whole source, and a
  target position attends to the whole source and to the target up to itself: $M_{ij} = 0$ if $j < s$, or if
  $i \ge s$ and $j \le i$.

The encoder here is applied under such a mask as it is: the bidirectional mask gives exactly its ordinary output.

**RoBERTa** (Liu et al., 2019) masks *dynamically*. With static masking (BERT's preprocessing) a sequence
seen in epoch $e$ carries mask $e \bmod d$ of $d$ precomputed copies; with dynamic masking every epoch draws
anew. After $k$ different masks at rate $r$, a piece has been a prediction target at least once with
probability $1 - (1 - r)^k$: static masking stops at $k = d$.

**ERNIE** (Sun et al., 2019) masks in three stages: single pieces (basic level, BERT's), then whole phrases,
then whole named entities, each stage drawing its units until 15 % of the pieces are chosen. Units are
found here by longest match against WordNet's multi-word lemmas (phrases, in lower case) and capitalised
noun lemmas (entities, as typed).

**MASS** (Song et al., 2019) masks a fragment $x^{u:v}$ of $k = v - u$ pieces for the encoder, and a decoder
predicts it left to right,

$$\mathcal{L} = -\sum_{t=u}^{v-1} \log P\big(x_t \mid x_{u:t},\ x^{\setminus u:v}\big),$$

reading the fragment shifted right by one (teacher forcing) under a causal self-attention mask, and the whole
encoder output through cross-attention. $k = 1$ is BERT's masked LM; $k$ = the sentence is a left-to-right LM.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from explainers.errors import require

UNILM_KINDS = ("bidirectional", "left-to-right", "seq2seq")


def direction(first: float, second: float, tolerance: float) -> str:
    """How `first` compares with `second`, in the words a caption picks: "lower", "same" (they differ by less than
    `tolerance`) or "higher"."""
    if abs(first - second) < tolerance:
        return "same"
    return "lower" if first < second else "higher"


def span_length_probs(p: float = 0.2, max_len: int = 10) -> torch.Tensor:
    """P(ℓ) for ℓ = 1 … max_len: the geometric distribution clipped at max_len (SpanBERT: p = 0.2, 10)."""
    lengths = torch.arange(1, max_len + 1, dtype=torch.float64)
    w = p * (1 - p) ** (lengths - 1)
    return w / w.sum()


def span_lengths(n: int, p: float = 0.2, max_len: int = 10, generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` span lengths drawn from `span_length_probs`."""
    return torch.multinomial(span_length_probs(p, max_len).float(), n, replacement=True, generator=generator) + 1


def span_mask(special: torch.Tensor, rate: float = 0.15, p: float = 0.2, max_len: int = 10,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """SpanBERT's selection for one sequence (`special`: [T], 1 at [CLS]/[SEP]/padding): spans of
    `span_lengths`, each at a uniformly drawn start among the maskable pieces, cut at the next special token,
    until at least `rate` of the maskable pieces are chosen. Returns a bool [T]."""
    maskable = special == 0
    budget = max(1, round(rate * int(maskable.sum())))
    chosen = torch.zeros_like(maskable)
    starts = maskable.nonzero()[:, 0]
    if len(starts) == 0:
        return chosen
    while int(chosen.sum()) < budget:
        length = int(span_lengths(1, p, max_len, generator))
        start = int(starts[torch.randint(len(starts), (1,), generator=generator)])
        for i in range(start, min(start + length, len(special))):
            if not maskable[i]:
                break
            chosen[i] = True
    return chosen


def unilm_mask(kind: str, n: int, source: int = 0) -> torch.Tensor:
    """UniLM's self-attention mask as booleans [n, n] (True: row i may attend to column j)."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    if kind == "bidirectional":
        return torch.ones(n, n, dtype=torch.bool)
    if kind == "left-to-right":
        return j <= i
    if kind == "seq2seq":
        require(0 < source < n, f"a sequence-to-sequence mask needs a source inside the sequence, got {source} of {n}")
        return (j < source) | ((i >= source) & (j <= i))
    raise ValueError(f"kind must be one of {UNILM_KINDS}, not {kind!r}")


def _additive(allowed: torch.Tensor, dtype) -> torch.Tensor:
    """UniLM's mask as added to the attention scores: 0 where allowed, the dtype's minimum elsewhere."""
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)


def encode_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, token_type_ids=None) -> torch.Tensor:
    """A BERT-layout encoder's last hidden states [B, T, H] with the attention limited to `allowed` ([T, T]
    booleans, shared by the batch): the mask is added to the scores as 0 / the dtype's minimum, as UniLM does."""
    base = model.base_model
    require(base.config.model_type in ("bert", "electra"), "a per-pair attention mask needs a BERT-layout encoder")
    additive = _additive(allowed, next(base.parameters()).dtype)
    additive = additive[None, None].expand(input_ids.shape[0], 1, *allowed.shape).to(input_ids.device)
    kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
    return base(input_ids=input_ids, attention_mask=additive, **kwargs).last_hidden_state


# ------------------------------------------------------------------------------------------------ RoBERTa
def epoch_seeds(epochs: int, dynamic: bool, duplicates: int = 1, seed: int = 0) -> list[int]:
    """The masking seed of each epoch. Static (BERT's preprocessing): the data was masked once, in `duplicates`
    copies (BERT's `dupe_factor`, 10 in RoBERTa's re-implementation), and epoch e reads copy e mod duplicates.
    Dynamic (RoBERTa): a new mask every time the sequence is fed, as `training/loop.py` seeds each step."""
    require(epochs >= 1 and duplicates >= 1, 'expected epochs >= 1 and duplicates >= 1')
    return [seed * 1_000_003 + (e if dynamic else e % duplicates) for e in range(epochs)]


def epoch_masks(input_ids: torch.Tensor, special: torch.Tensor, *, epochs: int, dynamic: bool, duplicates: int = 1,
                seed: int = 0, mask_token_id: int, vocab_size: int, rate: float = 0.15) -> list:
    """`explainers.masking.mask_tokens` of one sequence `[1, T]` at every epoch: a `MaskingResult` per epoch."""
    from explainers.masking import mask_tokens

    return [mask_tokens(input_ids, special, mask_token_id=mask_token_id, vocab_size=vocab_size, rate=rate,
                        generator=torch.Generator().manual_seed(s))
            for s in epoch_seeds(epochs, dynamic, duplicates, seed)]


def coverage(selections: list[torch.Tensor], special: torch.Tensor) -> list[float]:
    """After each epoch, the share of maskable positions that were predicted at least once so far."""
    maskable = special.reshape(-1) == 0
    seen = torch.zeros_like(maskable)
    out = []
    for chosen in selections:
        seen |= chosen.reshape(-1).bool() & maskable
        out.append(int(seen.sum()) / max(1, int(maskable.sum())))
    return out


def expected_coverage(rate: float, epochs: int, dynamic: bool, duplicates: int = 1) -> list[float]:
    """E[coverage] after each epoch: 1 − (1 − rate)^(distinct masks seen so far)."""
    return [1 - (1 - rate) ** (e + 1 if dynamic else min(e + 1, duplicates)) for e in range(epochs)]


# ------------------------------------------------------------------------------------------------ SpanBERT
def scattered_mask(special: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` maskable positions (`special` [T] == 0) drawn uniformly without replacement: BERT's scattered
    selection with exactly as many pieces as a span selection chose. Returns a bool [T]."""
    maskable = (special == 0).nonzero()[:, 0]
    chosen = torch.zeros(special.shape, dtype=torch.bool)
    pick = torch.randperm(len(maskable), generator=generator)[: min(n, len(maskable))]
    chosen[maskable[pick]] = True
    return chosen


def runs(chosen: torch.Tensor) -> list[tuple[int, int]]:
    """The contiguous runs of True in a bool [T], as (start, end) with end exclusive."""
    edges = torch.diff(torch.cat([torch.zeros(1), chosen.double().reshape(-1), torch.zeros(1)]))
    return list(zip((edges == 1).nonzero()[:, 0].tolist(), (edges == -1).nonzero()[:, 0].tolist()))


@torch.no_grad()
def probs_of_originals(model, batch_ids: torch.Tensor, attention_mask, originals: torch.Tensor,
                       chosen: torch.Tensor, token_type_ids=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For B corrupted copies `[B, T]` of one sequence (`originals` [T]) and their chosen positions (bool
    `[B, T]`): P(original piece), whether it is the top-1, and the top-1 id, at every chosen position, row by
    row (flat [N])."""
    from explainers.mlm import encode, mlm_head

    B = batch_ids.shape[0]
    att = attention_mask.expand(B, -1)
    types = token_type_ids.expand(B, -1) if token_type_ids is not None else None
    hidden = encode(model, batch_ids, att, types)[chosen]  # [N, d]
    probs = mlm_head(model, hidden).float().softmax(-1)  # [N, V]
    target = originals.reshape(1, -1).expand(B, -1)[chosen].to(probs.device)  # [N]
    p, top = probs.gather(1, target[:, None])[:, 0], probs.argmax(-1)
    return p.cpu(), (top == target).cpu(), top.cpu()


@dataclass(frozen=True)
class SpanComparison:
    """The model's guesses at span-masked vs scattered positions, over `draws` seeded draws at the same count."""

    draws: int
    pieces: int  # chosen pieces over all draws (the same for both selections)
    span_top1: float
    scattered_top1: float
    span_p: float  # mean P(original)
    scattered_p: float


def spans_vs_scattered(model, input_ids: torch.Tensor, attention_mask, special: torch.Tensor, *, mask_token_id: int,
                       draws: int = 20, seed: int = 0, rate: float = 0.15, token_type_ids=None) -> SpanComparison:
    """`draws` span selections (`span_mask`) of one sequence `[1, T]`, each with a scattered selection of the
    same number of pieces; every chosen piece reads [MASK]. One forward pass of 2 × draws copies."""
    special = special.reshape(-1)
    selections = []
    for d in range(draws):
        g = torch.Generator().manual_seed(seed * 1_000_003 + d)
        spans = span_mask(special, rate, generator=g)
        selections += [spans, scattered_mask(special, int(spans.sum()), g)]
    chosen = torch.stack(selections).to(input_ids.device)  # [2·draws, T]: span, scattered, span, …
    batch = input_ids.expand(len(selections), -1).masked_fill(chosen, mask_token_id)
    p, hit, _ = probs_of_originals(model, batch, attention_mask, input_ids[0], chosen, token_type_ids)
    is_span = torch.cat([torch.full((int(c.sum()),), i % 2 == 0) for i, c in enumerate(chosen.cpu())])
    return SpanComparison(draws, int(is_span.sum()), float(hit[is_span].float().mean()),
                          float(hit[~is_span].float().mean()), float(p[is_span].mean()), float(p[~is_span].mean()))


# ------------------------------------------------------------------------------------------------ ERNIE
LEXICON = Path(__file__).resolve().parents[1] / "assets/lexicon/wordnet_units.tsv.gz"
# capitalised only because a sentence starts with them: not a name there unless WordNet's entity runs on
SENTENCE_STARTERS = {"a", "i", "the", "may", "will", "can", "march", "june", "april", "august", "mark", "bill",
                     "rose", "grace", "hope", "joy", "art", "pat", "sue", "jack", "frank", "chase", "job", "nice",
                     "turkey", "china", "reading", "bath", "so", "in", "at", "to", "be", "by", "he", "it", "us"}


@dataclass(frozen=True)
class Unit:
    """A stretch of the sentence that ERNIE masks as one: pieces [start, end) of the encoded input."""

    kind: str  # "phrase" or "entity"
    start: int
    end: int
    text: str  # the words as typed


@lru_cache(maxsize=1)
def lexicon(path: Path = LEXICON) -> dict[str, frozenset[str]]:
    """{"phrase": {"living room", …}, "entity": {"New York", …}} from `training/build_lexicon.py`'s file."""
    units: dict[str, set[str]] = {"phrase": set(), "entity": set()}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                kind, words = line.rstrip("\n").split("\t")
                units[kind].add(words)
    return {kind: frozenset(words) for kind, words in units.items()}


def find_units(text: str, offsets: list[tuple[int, int]], lexicon: dict[str, frozenset[str]],
               longest: int = 4) -> list[Unit]:
    """The phrases and entities of `text`, longest match first, as ranges of the pieces whose character
    `offsets` (the tokenizer's, (0, 0) for special tokens) fall inside them. An entity is matched with the
    capitals as typed; a phrase in lower case."""
    words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Za-z]+(?:['’.-][A-Za-z]+)*", text)]
    starts = {m.end() for m in re.finditer(r"(?:^|[.!?]\s*)", text)}  # where a sentence begins
    units, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            span = words[i:i + n]
            if any(text[a[1]:b[0]].strip() for a, b in zip(span, span[1:])):
                continue  # punctuation between the words
            typed = " ".join(w for _, _, w in span)
            kind = ("entity" if typed in lexicon["entity"] and not (
                        n == 1 and span[0][0] in starts and typed.lower() in SENTENCE_STARTERS)
                    else "phrase" if n > 1 and typed.lower() in lexicon["phrase"] else None)
            pieces = [k for k, (s, e) in enumerate(offsets) if e > s and s >= span[0][0] and e <= span[-1][1]]
            if kind and pieces:
                units.append(Unit(kind, pieces[0], pieces[-1] + 1, text[span[0][0]:span[-1][1]]))
                i += n
                break
        else:
            i += 1
    return units


def knowledge_mask(special: torch.Tensor, units: list[Unit], level: str, rate: float = 0.15,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """ERNIE's selection for one sequence (`special` [T]) at one stage: `level` = "basic" draws single pieces
    (BERT's); "phrase" or "entity" draws whole units of that kind from `units`, "randomly select a few phrases
    [entities] in the sentence and mask and predict all the basic units" in them. Units are drawn in random
    order until at least `rate` of the maskable pieces are chosen (at least one unit when there is any)."""
    require(level in ("basic", "phrase", "entity"), level)
    maskable = special.reshape(-1) == 0
    if level == "basic":
        spans = [(i, i + 1) for i in maskable.nonzero()[:, 0].tolist()]
    else:
        spans = [(u.start, u.end) for u in units if u.kind == level]
    chosen = torch.zeros_like(maskable)
    budget = max(1, round(rate * int(maskable.sum())))
    for k in torch.randperm(len(spans), generator=generator).tolist():
        if int(chosen.sum()) >= budget:
            break
        chosen[spans[k][0]:spans[k][1]] = True
    return chosen & maskable


@dataclass(frozen=True)
class UnitProbe:
    """One unit's pieces guessed two ways: each piece masked alone (the rest of the unit visible), and the whole
    unit masked at once (what phrase- and entity-level masking asks)."""

    positions: list[int]
    alone_p: list[float]  # P(original) with only this piece masked
    alone_top: list[int]  # the top-1 id then
    whole_p: list[float]  # P(original) with the whole unit masked
    whole_top: list[int]


def probe_unit(model, input_ids: torch.Tensor, attention_mask, unit: Unit, *, mask_token_id: int,
               token_type_ids=None) -> UnitProbe:
    """`UnitProbe` for one sequence `[1, T]`: n + 1 copies in one forward pass (one per piece, then the whole)."""
    positions = list(range(unit.start, unit.end))
    n = len(positions)
    chosen = torch.zeros(n + 1, input_ids.shape[1], dtype=torch.bool)
    chosen[torch.arange(n), positions] = True  # row r: piece r alone
    chosen[n, unit.start:unit.end] = True  # the last row: the whole unit
    chosen = chosen.to(input_ids.device)
    batch = input_ids.expand(n + 1, -1).masked_fill(chosen, mask_token_id)
    p, _, top = probs_of_originals(model, batch, attention_mask, input_ids[0], chosen, token_type_ids)
    return UnitProbe(positions, p[:n].tolist(), top[:n].tolist(), p[n:].tolist(), top[n:].tolist())


# ------------------------------------------------------------------------------------------------ UniLM
@torch.no_grad()
def attention_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, token_type_ids=None) -> torch.Tensor:
    """`[L, H, T, T]` attention probabilities of one sequence under `allowed` (as `encode_under`); the model must
    be loaded with eager attention. A row gives zero weight to every column it may not attend to."""
    base = model.base_model
    additive = _additive(allowed, next(base.parameters()).dtype)
    kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
    out = base(input_ids=input_ids, attention_mask=additive[None, None].to(input_ids.device),
               output_attentions=True, **kwargs)
    require(out.attentions and out.attentions[0] is not None, "load the model with attn_implementation='eager'")
    return torch.stack([a[0] for a in out.attentions]).float().cpu()


@torch.no_grad()
def predict_under(model, input_ids: torch.Tensor, allowed: torch.Tensor, position: int, k: int = 5,
                  token_type_ids=None) -> tuple[list[int], list[float], torch.Tensor]:
    """Top-k ids and probabilities of the MLM head at `position` of one sequence `[1, T]` under `allowed`, and
    the whole distribution there ([V])."""
    from explainers.mlm import mlm_head

    hidden = encode_under(model, input_ids, allowed, token_type_ids)[0, position]
    probs = mlm_head(model, hidden).float().softmax(-1).cpu()
    top = probs.topk(k)
    return top.indices.tolist(), top.values.tolist(), probs


# ------------------------------------------------------------------------------------------------ MASS
@dataclass(frozen=True)
class Mass:
    """MASS's inputs for one sequence: the encoder reads the sentence with the fragment [start, end) masked;
    the decoder reads the fragment shifted right by one (its first input a [MASK] standing for the start
    symbol; MASS's decoder has no input outside the fragment) and predicts the fragment."""

    encoder_ids: torch.Tensor  # [T]
    decoder_ids: torch.Tensor  # [k]: positions start … end-1
    targets: torch.Tensor  # [k]: the fragment
    decoder_self: torch.Tensor  # [k, k] bool: causal
    cross: torch.Tensor  # [k, T] bool: the decoder attends to every encoder position


def mass_inputs(input_ids: torch.Tensor, start: int, end: int, mask_token_id: int) -> Mass:
    ids = input_ids.reshape(-1)
    require(0 <= start < end <= len(ids), f"fragment [{start}, {end}) outside a sequence of {len(ids)}")
    k = end - start
    encoder = ids.clone()
    encoder[start:end] = mask_token_id
    decoder = torch.cat([torch.tensor([mask_token_id]), ids[start:end - 1]])
    return Mass(encoder, decoder, ids[start:end].clone(), unilm_mask("left-to-right", k),
                torch.ones(k, len(ids), dtype=torch.bool))


@torch.no_grad()
def fragment_probs(model, input_ids: torch.Tensor, attention_mask, start: int, end: int, *, mask_token_id: int,
                   token_type_ids=None) -> tuple[list[float], list[float]]:
    """P(each fragment piece) two ways, for one sequence `[1, T]`: with the whole fragment masked (the
    encoder's view, every piece at once), and with the pieces before it revealed (what MASS's decoder is
    given, teacher forcing). A bidirectional encoder stands in for the decoder: it reads the same words."""
    positions = list(range(start, end))
    k = len(positions)
    batch = input_ids.expand(k + 1, -1).clone()
    batch[0, start:end] = mask_token_id  # row 0: the whole fragment masked
    for row, i in enumerate(positions, start=1):  # row r: fragment pieces from the r-th on masked
        batch[row, i:end] = mask_token_id
    chosen = torch.zeros(batch.shape, dtype=torch.bool)
    chosen[0, start:end] = True
    for row, i in enumerate(positions, start=1):
        chosen[row, i] = True
    p, _, _ = probs_of_originals(model, batch, attention_mask, input_ids[0], chosen.to(batch.device),
                                 token_type_ids)
    return p[:k].tolist(), p[k:].tolist()
