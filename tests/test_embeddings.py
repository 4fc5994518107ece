import numpy as np
import pytest
import torch

from explainers.embeddings import embedding_parts, pca_2d, position_cosine
from explainers.encoding import encode_text
from explainers.model import load_model


@pytest.mark.parametrize("b", ["", "It purred loudly."])
def test_sum_and_layernorm_equal_the_models_own_embeddings(builtin, b):
    enc = encode_text(builtin.tokenizer, "The cat sat on the mat.", b)
    parts = embedding_parts(builtin.encoder, enc.input_ids, enc.token_type_ids)
    with torch.no_grad():
        ref = builtin.encoder.embeddings(input_ids=enc.input_ids, token_type_ids=enc.token_type_ids)[0].numpy()
    np.testing.assert_allclose(parts.normed, ref, atol=1e-5)
    np.testing.assert_allclose(parts.summed, parts.token + parts.segment + parts.position, atol=1e-6)


def test_segment_rows_are_constant_within_a_sentence(builtin):
    enc = encode_text(builtin.tokenizer, "One two.", "Three four.")
    seg = embedding_parts(builtin.encoder, enc.input_ids, enc.token_type_ids).segment
    a, b = np.array(enc.segment) == "A", np.array(enc.segment) == "B"
    assert np.ptp(seg[a], axis=0).max() == 0 and np.ptp(seg[b], axis=0).max() == 0
    assert np.abs(seg[a][0] - seg[b][0]).max() > 0


def test_distilbert_has_no_segment_term_and_still_matches(tiny_distilbert_dir):
    lm = load_model(str(tiny_distilbert_dir))
    enc = encode_text(lm.tokenizer, "the cat sat", "the dog ran")
    parts = embedding_parts(lm.encoder, enc.input_ids, enc.token_type_ids)
    assert parts.segment is None
    with torch.no_grad():
        ref = lm.encoder.embeddings(enc.input_ids)[0].numpy()
    np.testing.assert_allclose(parts.normed, ref, atol=1e-5)


def test_position_cosine_is_symmetric_with_unit_diagonal(builtin):
    cos = position_cosine(builtin.encoder, 32)
    assert cos.shape == (32, 32)
    np.testing.assert_allclose(np.diag(cos), 1.0, atol=1e-5)
    np.testing.assert_allclose(cos, cos.T, atol=1e-6)
    # learned positions: a neighbour is more similar than a distant position, on average
    assert np.mean([cos[i, i + 1] for i in range(1, 30)]) > np.mean([cos[i, i + 20] for i in range(1, 10)])


def test_pca_matches_numpy_reference_up_to_sign():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 6)) * np.array([5, 3, 1, 1, 1, 1])
    proj = pca_2d(x)
    centred = x - x.mean(0)
    eigval, eigvec = np.linalg.eigh(np.cov(centred.T))
    ref = centred @ eigvec[:, ::-1][:, :2]
    for j in range(2):
        assert np.allclose(np.abs(proj.points[:, j]), np.abs(ref[:, j]), atol=1e-8)
    np.testing.assert_allclose(proj.explained, eigval[::-1][:2] / eigval.sum(), atol=1e-8)
