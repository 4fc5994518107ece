"""BERT's family (explainers/family.py): SpanBERT's span lengths and selection, UniLM's three masks, and the
encoder applied under a mask."""
from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertModel

from explainers.family import encode_under, span_length_probs, span_lengths, span_mask, unilm_mask


def test_span_lengths_follow_the_clipped_geometric_distribution_with_spanberts_mean():
    probs = span_length_probs(0.2, 10)
    assert len(probs) == 10 and float(probs.sum()) == pytest.approx(1.0)
    mean = float((torch.arange(1, 11) * probs).sum())
    assert mean == pytest.approx(3.8, abs=0.05)  # the paper's "mean span length 3.8"
    drawn = span_lengths(40_000, generator=torch.Generator().manual_seed(0))
    assert int(drawn.min()) >= 1 and int(drawn.max()) <= 10
    observed = torch.bincount(drawn, minlength=11)[1:].double() / len(drawn)
    assert torch.allclose(observed, probs, atol=0.008)
    assert float(drawn.double().mean()) == pytest.approx(mean, abs=0.05)


def test_a_span_selection_is_contiguous_spans_at_the_rate_and_never_a_special_token():
    special = torch.zeros(120, dtype=torch.long)
    special[0] = special[60] = special[119] = 1  # [CLS] … [SEP] … [SEP]
    shares, runs = [], []
    for seed in range(200):
        chosen = span_mask(special, 0.15, generator=torch.Generator().manual_seed(seed))
        assert not chosen[special.bool()].any()
        budget = round(0.15 * 117)
        assert budget <= int(chosen.sum()) < budget + 10  # stops at the first span that reaches the budget
        shares.append(int(chosen.sum()) / 117)
        edges = torch.diff(torch.cat([torch.zeros(1), chosen.double(), torch.zeros(1)]))
        runs += ((edges == -1).nonzero()[:, 0] - (edges == 1).nonzero()[:, 0]).tolist()
    assert sum(shares) / len(shares) == pytest.approx(0.17, abs=0.03)
    assert sum(runs) / len(runs) > 2.5  # contiguous runs, not scattered pieces (overlaps and cuts shorten a few)


def test_unilm_masks_are_the_papers_definitions():
    assert unilm_mask("bidirectional", 4).all()
    assert unilm_mask("left-to-right", 4).tolist() == [[True, False, False, False], [True, True, False, False],
                                                        [True, True, True, False], [True, True, True, True]]
    # source of 2 ([SOS] s1), target of 3: the source sees the source; the target sees the source and its past
    assert unilm_mask("seq2seq", 5, source=2).int().tolist() == [[1, 1, 0, 0, 0],
                                                                  [1, 1, 0, 0, 0],
                                                                  [1, 1, 1, 0, 0],
                                                                  [1, 1, 1, 1, 0],
                                                                  [1, 1, 1, 1, 1]]
    with pytest.raises(ValueError):
        unilm_mask("random", 3)


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    return BertModel(BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=32, max_position_embeddings=16), add_pooling_layer=False).eval()


def test_the_encoder_under_each_mask_sees_what_the_mask_allows(encoder):
    ids = torch.randint(5, 30, (1, 7), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ordinary = encoder(ids).last_hidden_state
        assert torch.allclose(encode_under(encoder, ids, unilm_mask("bidirectional", 7)), ordinary, atol=1e-6)
        causal = encode_under(encoder, ids, unilm_mask("left-to-right", 7))
        assert not torch.allclose(causal, ordinary, atol=1e-4)
        for k in (1, 4):  # a left-to-right position reads only its past: the prefix alone gives the same vector
            assert torch.allclose(causal[0, k - 1], encoder(ids[:, :k]).last_hidden_state[0, k - 1], atol=1e-4)
        changed = ids.clone()
        changed[0, 5] = (ids[0, 5] + 1 - 5) % 25 + 5  # another target piece
        s2s, s2s_changed = (encode_under(encoder, x, unilm_mask("seq2seq", 7, source=3)) for x in (ids, changed))
        assert torch.allclose(s2s[0, :5], s2s_changed[0, :5], atol=1e-6)  # the source and the target's past
        assert not torch.allclose(s2s[0, 5:], s2s_changed[0, 5:], atol=1e-4)
