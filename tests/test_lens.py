"""The logit lens as a spec: its last row is the model's own prediction, its ranks agree with its top lists, and the
Masking chapter draws it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from explainers.errors import InputError
from explainers.lens import logit_lens
from explainers.encoding import encode_text

ROOT = Path(__file__).resolve().parents[1]


def _tiny(folder: Path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    torch.manual_seed(0)  # the tiny DistilBERT folder has no MLM head: it is initialised here
    model = AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    return model, AutoTokenizer.from_pretrained(folder)


def _lens_and_logits(model, tokenizer, text: str, position: int, k: int = 5):
    enc = encode_text(tokenizer, text, max_length=16)
    lens = logit_lens(model, enc.input_ids, enc.attention_mask, position, k=k, token_type_ids=enc.token_type_ids)
    kwargs = dict(input_ids=enc.input_ids, attention_mask=enc.attention_mask)
    if model.config.model_type == "bert":
        kwargs["token_type_ids"] = enc.token_type_ids
    with torch.no_grad():
        probs = model(**kwargs).logits[0, position].float().softmax(-1)  # [V]: the model's own prediction
    return lens, probs


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_distilbert_dir"])
def test_the_last_layer_of_the_lens_is_the_models_own_prediction(fixture, request):
    model, tok = _tiny(request.getfixturevalue(fixture))
    k = len(tok)  # the whole vocabulary: the last row is the full softmax, sorted
    lens, probs = _lens_and_logits(model, tok, "the cat [MASK] on the mat .", 3, k=k)
    assert lens.layers == list(range(model.config.num_hidden_layers + 1))  # embeddings, then every layer
    full = torch.zeros_like(probs).scatter(0, lens.top_ids[-1], lens.top_probs[-1])
    assert torch.allclose(full, probs, atol=1e-6)
    assert lens.final_id == int(probs.argmax()) and abs(float(lens.final_probs[-1]) - float(probs.max())) < 1e-6


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_distilbert_dir"])
def test_ranks_and_probabilities_of_the_final_answer_agree_with_the_top_lists(fixture, request):
    model, tok = _tiny(request.getfixturevalue(fixture))
    lens, _ = _lens_and_logits(model, tok, "a big red dog ran .", 2, k=len(tok))
    assert int(lens.final_ranks[-1]) == 0 and int(lens.top_ids[-1, 0]) == lens.final_id
    for row, (ids, ps) in enumerate(zip(lens.top_ids.tolist(), lens.top_probs.tolist())):
        rank = int(lens.final_ranks[row])
        assert ids[rank] == lens.final_id, f"layer {row}: rank {rank} does not point at the final answer"
        assert ps[rank] == pytest.approx(float(lens.final_probs[row]))
        assert ps == sorted(ps, reverse=True) and sum(ps) == pytest.approx(1.0, abs=1e-5)


def test_the_built_in_model_reads_a_masked_capital_after_every_layer(builtin):
    enc = encode_text(builtin.tokenizer, "The capital of France is [MASK].", max_length=builtin.max_positions)
    position = enc.tokens.index("[MASK]")
    lens = logit_lens(builtin.model, enc.input_ids, enc.attention_mask, position, k=5,
                      token_type_ids=enc.token_type_ids)
    L = builtin.config.num_hidden_layers
    assert lens.layers == list(range(L + 1)) and lens.top_ids.shape == lens.top_probs.shape == (L + 1, 5)
    assert lens.final_ranks.shape == lens.final_probs.shape == (L + 1,) and int(lens.final_ranks[-1]) == 0


def test_the_lens_refuses_a_position_outside_the_sequence(tiny_bert_dir):
    model, tok = _tiny(tiny_bert_dir)
    enc = encode_text(tok, "the cat sat", max_length=16)
    with pytest.raises(InputError, match="outside"):
        logit_lens(model, enc.input_ids, enc.attention_mask, 99)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_masking_page_draws_the_lens_for_teacher_and_student(lang):
    from tests.test_pages import _app
    from ui.text import t

    query = {"rate": "40", "lens": "true"} if lang == "en" else {"rate": "40", "lens": "true", "lang": lang}
    at = _app("pages/masking.py", **query)
    assert not at.exception
    names = [json.loads(c.proto.config)["toImageButtonOptions"]["filename"] for c in at.get("plotly_chart")]
    assert {"inside-bert-masking-logit-lens-model", "inside-bert-masking-logit-lens-student"} <= set(names), names
    assert at.selectbox(key="lens_pos").options
    assert at.toggle(key="lens").label == t("masking.lens_title", lang)  # in the reader's language


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_distilbert_dir"])
def test_each_row_of_the_lens_is_the_prediction_of_the_model_cut_after_that_layer(fixture, request):
    """Row l is what the model predicts when it keeps only its first l layers (row 0: the embeddings alone), each
    checked against a copy of the model with its later layers removed, not against the lens's own arithmetic."""
    import copy

    model, tok = _tiny(request.getfixturevalue(fixture))
    enc = encode_text(tok, "the cat [MASK] on the mat .", max_length=16)
    lens = logit_lens(model, enc.input_ids, enc.attention_mask, 3, k=len(tok), token_type_ids=enc.token_type_ids)
    layers = model.config.num_hidden_layers
    for kept in range(layers + 1):
        cut = copy.deepcopy(model)
        stack = cut.bert.encoder if fixture == "tiny_bert_dir" else cut.distilbert.transformer
        stack.layer = stack.layer[:kept]
        kwargs = dict(input_ids=enc.input_ids, attention_mask=enc.attention_mask)
        if fixture == "tiny_bert_dir":
            kwargs["token_type_ids"] = enc.token_type_ids
        with torch.no_grad():
            probs = cut(**kwargs).logits[0, 3].float().softmax(-1)
        row = torch.zeros_like(probs).scatter(0, lens.top_ids[kept], lens.top_probs[kept])
        assert torch.allclose(row, probs, atol=1e-5), f"row {kept} is not the model cut after {kept} layers"
