r"""
# Extractive question answering

For SQuAD, BERT reads the question and the passage as one pair,

    [CLS] question [SEP] passage [SEP]        segments 0 … 0 | 1 … 1

and answers by pointing at a span of the passage. Fine-tuning adds only two vectors: a **start vector**
$S \in \mathbb{R}^H$ and an **end vector** $E \in \mathbb{R}^H$ (with biases $b_s$, $b_e$: the two rows of one
`Linear(H, 2)`, `qa_outputs`). With $T_i$ the last hidden state of token $i$,

$$P(\text{start} = i) = \frac{e^{S \cdot T_i + b_s}}{\sum_k e^{S \cdot T_k + b_s}}, \qquad
  P(\text{end} = j) \text{ likewise with } E,$$

and the score of the span from $i$ to $j$ is $S \cdot T_i + E \cdot T_j$ (plus the biases). The answer is the
best span with $i \le j$, both in the passage, at most `max_answer_len` tokens long. Training maximises the
log-likelihood of the true start and end: the loss is the mean of the two cross-entropies.

SQuAD 2.0 lets a question have no answer: the "answer" is then the span at `[CLS]`, scored
$s_\text{null} = S \cdot T_0 + E \cdot T_0$; a span is given only when its score beats $s_\text{null}$.

Answers are scored as in SQuAD: lower-case, drop punctuation and the articles *a*, *an*, *the*, then
**exact match** (EM) and the F1 of the shared words.
"""
from __future__ import annotations

import inspect
import re
import string
from collections import Counter
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from explainers.encoding import clean_text, EmptyInputError, Note, token_notes

from explainers.errors import ExplainerError, require


class EmptyQAInputError(EmptyInputError):
    """An empty question or passage (`reason`: "empty_question", "empty_passage"); also an `EmptyInputError`."""

    def __init__(self, reason: str):
        ExplainerError.__init__(self, reason)


@dataclass(frozen=True)
class QAInput:
    """One question + passage, tokenised. Tensors are `[1, n]`; `tokens` and `offsets` have n entries."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor  # 0 question side ([CLS] q [SEP]), 1 passage side (p [SEP])
    tokens: list[str]
    offsets: list[tuple[int, int]]  # (start, end) characters of `passage` for passage tokens; (0, 0) for others
    passage: str  # the cleaned passage the offsets refer to
    first: int  # index of the first passage token
    last: int  # index of the last passage token (inclusive)
    notes: list[Note] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return any(n.reason == "truncated" for n in self.notes)


def encode_qa(tokenizer, question: str, passage: str, max_length: int = 384) -> QAInput:
    """`[CLS] question [SEP] passage [SEP]`, the passage cut to fit `max_length` (never the question)."""
    q, removed_q = clean_text(question)
    p, removed_p = clean_text(passage)
    if not q:
        raise EmptyQAInputError("empty_question")
    n_question = len(tokenizer(q, add_special_tokens=False)["input_ids"])
    n_passage = len(tokenizer(p, add_special_tokens=False)["input_ids"]) if p else 0
    if not n_passage:  # nothing, or only characters the tokenizer drops (e.g. a lone accent)
        raise EmptyQAInputError("empty_passage")
    room = max_length - tokenizer.num_special_tokens_to_add(pair=True) - n_question  # passage tokens that fit
    if room < 1:
        raise ExplainerError("question_too_long", limit=max_length)
    enc = tokenizer(q, p, truncation="only_second", max_length=max_length, return_offsets_mapping=True)
    seq = enc.sequence_ids(0)  # None for framing tokens, 0 question, 1 passage: no searching for [SEP]
    first, last = seq.index(1), len(seq) - 1 - seq[::-1].index(1)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    offsets = [tuple(o) if s == 1 else (0, 0) for o, s in zip(enc["offset_mapping"], seq)]
    types = [int(i >= first) for i in range(len(tokens))]  # the closing [SEP] is on the passage side, as in BERT

    notes = []
    if removed_q + removed_p:
        notes.append(Note("removed", n=removed_q + removed_p))
    if n_passage > room:
        notes.append(Note("truncated", n=n_passage, limit=max_length))
    notes += token_notes(tokenizer, tokens, {i for i, s in enumerate(seq) if s is None}, q + p)
    ids, mask, types = (torch.tensor([x], dtype=torch.long) for x in (enc["input_ids"], enc["attention_mask"], types))
    return QAInput(ids, mask, types, tokens, offsets, p, first, last, notes)


def start_end_vectors(model) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """S, E (each `[H]`) and their biases b_s, b_e: rows 0 and 1 of the model's `qa_outputs = Linear(H, 2)`."""
    head = model.qa_outputs
    require(head.out_features == 2, f"qa_outputs should give 2 logits (start, end), gives {head.out_features}")
    w, b = head.weight.detach(), head.bias.detach()
    return w[0], w[1], float(b[0]), float(b[1])


def last_hidden(model, qa: QAInput) -> torch.Tensor:
    """T `[n, H]`: the encoder's last hidden states (BERT, or DistilBERT, which takes no token_type_ids)."""
    encoder = model.base_model
    device = next(model.parameters()).device
    kwargs = dict(input_ids=qa.input_ids.to(device), attention_mask=qa.attention_mask.to(device))
    if "token_type_ids" in inspect.signature(encoder.forward).parameters:
        kwargs["token_type_ids"] = qa.token_type_ids.to(device)
    return encoder(**kwargs).last_hidden_state[0]


def span_scores(start_logits: torch.Tensor, end_logits: torch.Tensor, first: int, last: int,
                max_answer_len: int = 30) -> torch.Tensor:
    """M `[n, n]`: M[i, j] = start_logits[i] + end_logits[j] for a valid span i..j of the passage, else -inf."""
    n = start_logits.shape[0]
    require(end_logits.shape == (n,), f"start {tuple(start_logits.shape)} and end {tuple(end_logits.shape)} differ")
    i = torch.arange(n, device=start_logits.device)[:, None]  # start index, down the rows
    j = torch.arange(n, device=start_logits.device)[None, :]  # end index, across the columns
    valid = (i >= first) & (j <= last) & (i <= j) & (j < i + max_answer_len)  # i <= j keeps i <= last, j >= first
    scores = start_logits[:, None] + end_logits[None, :]  # S·T_i + b_s + E·T_j + b_e
    return scores.masked_fill(~valid, float("-inf"))


@dataclass(frozen=True)
class Span:
    start: int  # token index of the first answer token
    end: int  # token index of the last answer token (inclusive)
    score: float  # S·T_start + b_s + E·T_end + b_e
    text: str  # the passage's own characters from the start token to the end token


def top_spans(scores: torch.Tensor, qa: QAInput, k: int = 5) -> list[Span]:
    """The k best valid spans of a `span_scores` matrix, best first."""
    n = scores.shape[0]
    flat = scores.flatten()
    top = flat.topk(min(k, int(torch.isfinite(flat).sum())))
    spans = []
    for score, index in zip(top.values.tolist(), top.indices.tolist()):
        i, j = divmod(index, n)
        spans.append(Span(i, j, score, qa.passage[qa.offsets[i][0]:qa.offsets[j][1]]))
    return spans


@dataclass(frozen=True)
class QAResult:
    input: QAInput
    start_logits: torch.Tensor  # [n]: S·T_i + b_s for every token
    end_logits: torch.Tensor  # [n]: E·T_j + b_e
    start_probs: torch.Tensor  # [last - first + 1]: softmax of start_logits over the passage tokens only
    end_probs: torch.Tensor  # [last - first + 1]
    scores: torch.Tensor  # [n, n]: span_scores, -inf outside valid spans
    top: list[Span]  # the k best valid spans, best first
    no_answer: float  # start_logits[0] + end_logits[0]: the [CLS] span, SQuAD 2.0's "no answer"
    S: torch.Tensor  # [H] start vector
    E: torch.Tensor  # [H] end vector

    @property
    def best(self) -> Span:
        return self.top[0]


@torch.no_grad()
def answer(model, tokenizer, question: str, passage: str, max_answer_len: int = 30, k: int = 5,
           max_length: int = 384) -> QAResult:
    """The model's answer to `question` from `passage`, with every number that leads to it."""
    qa = encode_qa(tokenizer, question, passage, max_length)
    S, E, b_s, b_e = start_end_vectors(model)
    T = last_hidden(model, qa)  # [n, H]
    start_logits = (T @ S + b_s).float().cpu()  # [n]
    end_logits = (T @ E + b_e).float().cpu()
    p = slice(qa.first, qa.last + 1)  # the passage tokens
    scores = span_scores(start_logits, end_logits, qa.first, qa.last, max_answer_len)
    return QAResult(qa, start_logits, end_logits, start_logits[p].softmax(-1), end_logits[p].softmax(-1),
                    scores, top_spans(scores, qa, k), float(start_logits[0] + end_logits[0]),
                    S.float().cpu(), E.float().cpu())


def qa_loss(start_logits: torch.Tensor, end_logits: torch.Tensor, start_positions: torch.Tensor,
            end_positions: torch.Tensor) -> torch.Tensor:
    """(CE(start) + CE(end)) / 2 over a batch: logits `[B, n]`, positions `[B]`. As in Hugging Face, a position
    outside the sequence (an answer cut off by truncation) is clamped to n and carries no loss."""
    B, n = start_logits.shape
    require(start_positions.shape == end_positions.shape == (B,), f"positions should be [{B}]")
    start_positions, end_positions = start_positions.clamp(0, n), end_positions.clamp(0, n)
    start_loss = F.cross_entropy(start_logits, start_positions, ignore_index=n)  # -log P(start = true start)
    end_loss = F.cross_entropy(end_logits, end_positions, ignore_index=n)
    return (start_loss + end_loss) / 2


def char_span_to_tokens(offsets: list[tuple[int, int]], first: int, last: int, char_start: int,
                        char_end: int) -> tuple[int, int] | None:
    """The passage tokens (inclusive) covering the answer's characters [char_start, char_end); None when the
    answer is not wholly inside the kept passage (cut off by truncation)."""
    require(char_start < char_end, f"an empty answer span [{char_start}, {char_end})")
    if char_start < offsets[first][0] or char_end > offsets[last][1]:
        return None
    hit = [i for i in range(first, last + 1) if offsets[i][0] < char_end and offsets[i][1] > char_start]
    return (hit[0], hit[-1]) if hit else None  # the first and last token that overlap the answer


# ------------------------------------------------------------------------------------- SQuAD v1.1 evaluation
PUNCTUATION = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """SQuAD v1.1's normalisation: lower case, no punctuation, no articles (a, an, the), single spaces."""
    s = "".join(ch for ch in s.lower() if ch not in PUNCTUATION)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1(prediction: str, truth: str) -> float:
    """Harmonic mean of precision and recall of the shared words (a bag: repeats count), as SQuAD v1.1 does
    (so two empty answers score 0)."""
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)
