"""Extractive QA: the start/end vectors reproduce the model's logits, spans are searched exactly, and the
input, labels and SQuAD scores behave as the module says."""
from __future__ import annotations

import pytest
import torch
from transformers import (AutoTokenizer, BertConfig, BertForQuestionAnswering, BertTokenizerFast,
                          DistilBertConfig, DistilBertForQuestionAnswering, DistilBertTokenizerFast)

from explainers.encoding import EmptyInputError, Note

from explainers.errors import ExplainerError

from explainers.model import BUILTIN_DIR
from explainers.qa import (answer, char_span_to_tokens, encode_qa, exact_match, f1, last_hidden, normalize_answer,
                           qa_loss, span_scores, start_end_vectors, top_spans)
from tests.conftest import write_vocab

QUESTION = "where did the cat sit ?"
PASSAGE = "the big red cat sat on a mat . the dog ran playing on the mat ."
REAL_PASSAGE = "The Eiffel Tower is in Paris, the capital of France."


@pytest.fixture(scope="module")
def tiny_bert_qa(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-bert-qa")
    tok = BertTokenizerFast(vocab=str(write_vocab(folder)), do_lower_case=True)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    return BertForQuestionAnswering(cfg).eval(), tok


@pytest.fixture(scope="module")
def tiny_distilbert_qa(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-distilbert-qa")
    tok = DistilBertTokenizerFast(vocab=str(write_vocab(folder)), do_lower_case=True)
    torch.manual_seed(0)
    cfg = DistilBertConfig(vocab_size=len(tok), dim=16, n_layers=2, n_heads=2, hidden_dim=32,
                           max_position_embeddings=64)
    return DistilBertForQuestionAnswering(cfg).eval(), tok


@pytest.fixture(scope="module")
def real_tok():
    if not (BUILTIN_DIR / "tokenizer.json").exists():
        pytest.skip("the built-in tokenizer is not in assets/models/teacher")
    return AutoTokenizer.from_pretrained(BUILTIN_DIR)


def brute_force_best(start, end, first, last, max_len):
    best = None
    for i in range(first, last + 1):
        for j in range(i, min(last, i + max_len - 1) + 1):
            s = float(start[i] + end[j])
            if best is None or s > best[2]:
                best = (i, j, s)
    return best


# -------------------------------------------------------------------------------------- logits = T·S + b_s
def test_start_and_end_logits_are_the_bert_models_own(tiny_bert_qa):
    model, tok = tiny_bert_qa
    result = answer(model, tok, QUESTION, PASSAGE)
    inputs = tok(QUESTION, PASSAGE, return_tensors="pt")
    assert torch.equal(result.input.input_ids, inputs["input_ids"])
    assert torch.equal(result.input.token_type_ids, inputs["token_type_ids"])
    with torch.no_grad():
        out = model(**inputs)
    torch.testing.assert_close(result.start_logits, out.start_logits[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(result.end_logits, out.end_logits[0], atol=1e-5, rtol=0)


def test_start_and_end_logits_are_the_distilbert_models_own(tiny_distilbert_qa):
    model, tok = tiny_distilbert_qa
    result = answer(model, tok, QUESTION, PASSAGE)
    inputs = tok(QUESTION, PASSAGE, return_tensors="pt")
    assert "token_type_ids" not in inputs  # DistilBERT has no segments; encode_qa still knows the passage
    assert result.input.token_type_ids[0, result.input.first:].eq(1).all()
    with torch.no_grad():
        out = model(**inputs)
    torch.testing.assert_close(result.start_logits, out.start_logits[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(result.end_logits, out.end_logits[0], atol=1e-5, rtol=0)


def test_S_and_E_are_the_rows_of_qa_outputs_and_give_the_logits(tiny_bert_qa):
    model, tok = tiny_bert_qa
    S, E, b_s, b_e = start_end_vectors(model)
    assert torch.equal(S, model.qa_outputs.weight[0]) and torch.equal(E, model.qa_outputs.weight[1])
    assert (b_s, b_e) == tuple(model.qa_outputs.bias.detach().tolist())
    qa = encode_qa(tok, QUESTION, PASSAGE)
    with torch.no_grad():
        T = last_hidden(model, qa)
        result = answer(model, tok, QUESTION, PASSAGE)
    assert T.shape == (len(qa.tokens), 16)
    torch.testing.assert_close(result.start_logits, T @ S + b_s)


def test_probabilities_cover_the_passage_only_and_no_answer_is_the_cls_span(tiny_bert_qa):
    model, tok = tiny_bert_qa
    r = answer(model, tok, QUESTION, PASSAGE)
    n_passage = r.input.last - r.input.first + 1
    assert r.start_probs.shape == r.end_probs.shape == (n_passage,)
    assert float(r.start_probs.sum()) == pytest.approx(1.0) and float(r.end_probs.sum()) == pytest.approx(1.0)
    torch.testing.assert_close(r.start_probs, r.start_logits[r.input.first:r.input.last + 1].softmax(-1))
    assert r.no_answer == pytest.approx(float(r.start_logits[0] + r.end_logits[0]))


# ------------------------------------------------------------------------------------------- span search
@pytest.mark.parametrize("max_len", [1, 3, 30])
def test_best_span_is_the_brute_force_best(tiny_bert_qa, max_len):
    model, tok = tiny_bert_qa
    r = answer(model, tok, QUESTION, PASSAGE, max_answer_len=max_len)
    i, j, s = brute_force_best(r.start_logits, r.end_logits, r.input.first, r.input.last, max_len)
    assert (r.best.start, r.best.end) == (i, j)
    assert r.best.score == pytest.approx(s)


@pytest.mark.parametrize("seed", range(5))
def test_span_scores_are_finite_exactly_on_valid_spans(seed):
    g = torch.Generator().manual_seed(seed)
    n, first, last, max_len = 12, 4, 10, 3
    start, end = torch.randn(n, generator=g), torch.randn(n, generator=g)
    m = span_scores(start, end, first, last, max_len)
    for i in range(n):
        for j in range(n):
            valid = first <= i <= j <= last and j < i + max_len
            assert torch.isfinite(m[i, j]) == valid, (i, j)
            if valid:
                assert float(m[i, j]) == pytest.approx(float(start[i] + end[j]))


def test_top_spans_are_sorted_valid_and_never_end_before_they_start(tiny_bert_qa):
    model, tok = tiny_bert_qa
    qa = encode_qa(tok, QUESTION, PASSAGE)
    n = len(qa.tokens)
    g = torch.Generator().manual_seed(1)
    start = torch.randn(n, generator=g)
    end = torch.randn(n, generator=g) + 5 * torch.arange(n).flip(0)  # early ends score high: tempts j < i
    spans = top_spans(span_scores(start, end, qa.first, qa.last, 4), qa, k=20)
    assert len(spans) == 20
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    for s in spans:
        assert qa.first <= s.start <= s.end <= qa.last and s.end < s.start + 4
        assert s.score == pytest.approx(float(start[s.start] + end[s.end]))
        assert s.text == qa.passage[qa.offsets[s.start][0]:qa.offsets[s.end][1]]
    i, j, _ = brute_force_best(start, end, qa.first, qa.last, 4)
    assert (spans[0].start, spans[0].end) == (i, j)


def test_top_spans_stops_at_the_number_of_valid_spans(tiny_bert_qa):
    _, tok = tiny_bert_qa
    qa = encode_qa(tok, "cat ?", "dog ran")  # two passage tokens: 3 spans of length <= 2
    n = len(qa.tokens)
    spans = top_spans(span_scores(torch.zeros(n), torch.zeros(n), qa.first, qa.last), qa, k=10)
    assert sorted((s.start, s.end) for s in spans) == [(qa.first, qa.first), (qa.first, qa.last), (qa.last, qa.last)]


# -------------------------------------------------------------------------------------------------- loss
def test_qa_loss_is_hugging_faces(tiny_bert_qa):
    model, tok = tiny_bert_qa
    batch = tok([QUESTION, "cat ?"], [PASSAGE, "the mat"], padding=True, return_tensors="pt")
    n = batch["input_ids"].shape[1]
    starts, ends = torch.tensor([12, 5]), torch.tensor([14, n + 7])  # the second end is out of range: no loss
    with torch.no_grad():
        out = model(**batch, start_positions=starts, end_positions=ends)
    mine = qa_loss(out.start_logits, out.end_logits, starts, ends)
    torch.testing.assert_close(mine, out.loss)
    assert not torch.equal(mine, qa_loss(out.start_logits, out.end_logits, starts, torch.tensor([14, n - 1])))


# ------------------------------------------------------------------------------------------------- input
def test_passage_tokens_are_segment_one_and_their_offsets_slice_back_to_their_text(real_tok):
    qa = encode_qa(real_tok, "Where is the tower?", REAL_PASSAGE)
    assert qa.tokens[0] == "[CLS]" and qa.tokens[qa.first - 1] == "[SEP]" and qa.last == len(qa.tokens) - 2
    assert qa.token_type_ids[0].tolist() == [0] * qa.first + [1] * (len(qa.tokens) - qa.first)
    for i in range(qa.first, qa.last + 1):
        a, b = qa.offsets[i]
        assert qa.passage[a:b].lower() == qa.tokens[i].removeprefix("##")
    assert all(o == (0, 0) for o in qa.offsets[:qa.first] + qa.offsets[qa.last + 1:])
    assert qa.notes == [] and not qa.truncated


def test_a_long_passage_is_cut_and_the_question_kept_whole(real_tok):
    question = "What is the capital of France?"
    passage = " ".join([REAL_PASSAGE] * 20)
    qa = encode_qa(real_tok, question, passage, max_length=32)
    n_passage = len(real_tok(passage, add_special_tokens=False)["input_ids"])
    assert len(qa.tokens) == 32 and qa.truncated
    assert Note("truncated", n=n_passage, limit=32) in qa.notes
    assert qa.tokens[1:qa.first - 1] == real_tok.tokenize(question)
    assert qa.tokens[-1] == "[SEP]" and qa.last == 30


@pytest.mark.parametrize("question, passage, reason", [
    ("", REAL_PASSAGE, "empty_question"),
    ("  \u200b\t", REAL_PASSAGE, "empty_question"),
    ("Where?", "", "empty_passage"),
    ("Where?", " \n ", "empty_passage"),
    ("Where?", "\u0301", "empty_passage"),  # a lone accent: characters, but no word pieces
])
def test_empty_question_or_passage_raises_its_reason(real_tok, question, passage, reason):
    with pytest.raises(EmptyInputError) as err:
        encode_qa(real_tok, question, passage)
    assert err.value.reason == reason


def test_a_question_that_leaves_no_room_raises(real_tok):
    with pytest.raises(ExplainerError) as err:
        encode_qa(real_tok, "why " * 29, REAL_PASSAGE, max_length=32)  # 29 + 3 special = 32: no passage token
    assert (err.value.reason, err.value.fields) == ("question_too_long", {"limit": 32})
    assert encode_qa(real_tok, "why " * 28, REAL_PASSAGE, max_length=32).first == 30  # one passage token fits


def test_a_typed_sep_is_flagged_and_the_passage_still_found(real_tok):
    qa = encode_qa(real_tok, "Where [MASK]?", "The tower [SEP] is in Paris.")
    assert Note("literal_special", tokens="[MASK], [SEP]") in qa.notes
    assert qa.tokens[qa.first:qa.last + 1] == ["the", "tower", "[SEP]", "is", "in", "paris", "."]
    assert qa.passage[slice(*qa.offsets[qa.first + 2])] == "[SEP]"


def test_removed_characters_are_counted(real_tok):
    qa = encode_qa(real_tok, "Where\u200b?", "Paris\u200e.")
    assert Note("removed", n=2) in qa.notes and qa.passage == "Paris."


# ------------------------------------------------------------------------------------------------ labels
@pytest.mark.parametrize("answer_text", ["Paris", "the capital of France", "Eiffel", "Eiffel Tower", "France."])
def test_char_span_to_tokens_round_trips(real_tok, answer_text):
    qa = encode_qa(real_tok, "Where?", REAL_PASSAGE)
    c = REAL_PASSAGE.index(answer_text)
    i, j = char_span_to_tokens(qa.offsets, qa.first, qa.last, c, c + len(answer_text))
    assert qa.passage[qa.offsets[i][0]:qa.offsets[j][1]] == answer_text


def test_char_span_to_tokens_is_none_when_truncation_cut_the_answer(real_tok):
    qa = encode_qa(real_tok, "Where?", REAL_PASSAGE, max_length=13)  # keeps "the e ##iff ##el tower is in paris"
    c = REAL_PASSAGE.index("France")
    assert char_span_to_tokens(qa.offsets, qa.first, qa.last, c, c + len("France")) is None
    c = REAL_PASSAGE.index("Paris")
    assert char_span_to_tokens(qa.offsets, qa.first, qa.last, c, c + 5) == (qa.last, qa.last)


# ------------------------------------------------------------------------------------------------- SQuAD
def test_normalize_answer_drops_case_punctuation_and_articles():
    assert normalize_answer("The  Eiffel-Tower, an icon!") == "eiffeltower icon"
    assert normalize_answer("theatre a") == "theatre"


def test_exact_match_after_normalisation():
    assert exact_match("The Eiffel Tower", "eiffel tower") == 1.0
    assert exact_match("Eiffel Tower.", "the Tower") == 0.0


def test_f1_counts_shared_words():
    assert f1("in Paris France", "Paris") == pytest.approx(2 * (1 / 3 * 1) / (1 / 3 + 1))  # = 0.5
    assert f1("Paris", "Paris") == 1.0 and f1("London", "Paris") == 0.0
    assert f1("the cat cat", "a cat") == pytest.approx(2 * (1 / 2 * 1) / (1 / 2 + 1))  # repeats count once each
