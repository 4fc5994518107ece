import numpy as np
import torch

from explainers.attention import attention_probs, clearest_head, dominant_pattern, head_stats
from explainers.encoding import encode_text


def test_rows_sum_to_one_and_equal_output_attentions(builtin):
    enc = encode_text(builtin.tokenizer, "The cat sat on the mat.", "It purred.")
    probs = attention_probs(builtin.encoder, enc.input_ids, enc.attention_mask, enc.token_type_ids)
    L, H, T = 6, 12, len(enc.tokens)
    assert probs.shape == (L, H, T, T)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    with torch.no_grad():
        ref = builtin.encoder(input_ids=enc.input_ids, token_type_ids=enc.token_type_ids,
                              output_attentions=True).attentions
    np.testing.assert_allclose(probs, torch.stack([a[0] for a in ref]).numpy(), atol=1e-6)


def test_head_stats_on_hand_built_patterns():
    T = 5
    nxt = np.zeros((T, T))
    for i in range(T):
        nxt[i, min(i + 1, T - 1)] = 1.0  # next token; the last row looks at itself
    uniform = np.full((T, T), 1 / T)
    to_sep = np.zeros((T, T))
    to_sep[:, T - 1] = 1.0
    probs = np.stack([nxt, uniform, to_sep])[None]  # [1, 3, T, T]
    s = head_stats(probs, sep_positions=[T - 1])
    np.testing.assert_allclose(s.to_next[0], [1.0, 1 / T, 1 / (T - 1)])  # only row T-2 has [SEP] next
    np.testing.assert_allclose(s.to_prev[0], [0.0, 1 / T, 0.0])
    np.testing.assert_allclose(s.to_self[0], [1 / T, 1 / T, 1 / T])
    np.testing.assert_allclose(s.to_sep[0], [(1 + 1) / T, 1 / T, 1.0])
    np.testing.assert_allclose(s.to_cls[0], [0.0, 1 / T, 0.0])
    np.testing.assert_allclose(s.entropy[0], [0.0, np.log(T), 0.0], atol=1e-9)
    assert dominant_pattern(s, 0, 0) == ("to_next", 1.0)
    assert dominant_pattern(s, 0, 1) is None  # broad: no pattern holds half of it
    assert dominant_pattern(s, 0, 2) == ("to_sep", 1.0)


def test_clearest_head_is_the_largest_share_on_a_neighbour_or_itself():
    T = 6
    probs = np.full((2, 3, T, T), 1 / T)
    probs[1, 2] = np.eye(T, k=-1)  # layer 1, head 2: everything on the previous token (row 0 has none)
    probs[1, 2, 0] = 1 / T
    probs[0, 1] = 0.0
    probs[0, 1, :, 0] = 1.0  # layer 0, head 1: a [CLS] sink, the largest share of all, but not a clear pattern
    layer, head, name, share = clearest_head(head_stats(probs, [T - 1]))
    assert (layer, head, name) == (1, 2, "to_prev") and share == np.diagonal(probs[1, 2], -1).mean()
    assert clearest_head(head_stats(np.ones((2, 2, 1, 1)), [0]))[:2] == (0, 0)


def test_attention_to_sep_adds_every_sep_column():
    """A sentence pair has two [SEP]s: a head that splits its attention between them gives them all of it."""
    T = 6
    two = np.zeros((T, T))
    two[:, 2] = two[:, T - 1] = 0.5  # half to the [SEP] after A, half to the [SEP] after B
    one = np.zeros((T, T))
    one[:, 2], one[:, 0] = 0.25, 0.75  # a quarter to the first [SEP], the rest to [CLS]
    s = head_stats(np.stack([two, one])[None], sep_positions=[2, T - 1])
    np.testing.assert_allclose(s.to_sep[0], [1.0, 0.25])  # an average over the two columns would give 0.5, 0.125
    assert dominant_pattern(s, 0, 0) == ("to_sep", 1.0)
