import pytest
import torch
from transformers import BertTokenizerFast, DataCollatorForLanguageModeling

from explainers.masking import (IGNORE_INDEX, Action, content_pieces, continuation_flags, mask_tokens,
                                word_ids_from_ids, word_ids_from_tokens)

VOCAB = 30522
MASK_ID = 103


def _batch(B=64, T=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 2000, (B, T), generator=g)
    special = torch.zeros_like(ids)
    special[:, 0] = special[:, -1] = 1  # [CLS] ... [SEP]
    special[:, -10:] = 1  # padding
    return ids, special


def _shares(result, special):
    maskable = (special == 0).sum().item()
    a = result.action
    chosen = (a != Action.KEPT).sum().item()
    return (chosen / maskable, (a == Action.MASKED).sum().item() / chosen,
            (a == Action.RANDOM).sum().item() / chosen, (a == Action.UNCHANGED).sum().item() / chosen)


@pytest.mark.parametrize("rate,p_mask,p_random", [(0.15, 0.8, 0.1), (0.4, 0.5, 0.3), (0.05, 1.0, 0.0)])
def test_realised_rates_match_the_arguments(rate, p_mask, p_random):
    ids, special = _batch(B=256)
    totals = torch.zeros(4)
    for seed in range(20):
        r = mask_tokens(ids, special, mask_token_id=MASK_ID, vocab_size=VOCAB, rate=rate, p_mask=p_mask,
                        p_random=p_random, generator=torch.Generator().manual_seed(seed))
        totals += torch.tensor(_shares(r, special))
    sel, m, rnd, unch = (totals / 20).tolist()
    # ~600k maskable tokens: sd of the selection share ~ 0.0005, of the split shares ~ 0.002
    assert sel == pytest.approx(rate, abs=0.003)
    assert m == pytest.approx(p_mask, abs=0.01)
    assert rnd == pytest.approx(p_random, abs=0.01)
    assert unch == pytest.approx(1 - p_mask - p_random, abs=0.01)


def test_same_seed_gives_exactly_the_hf_collators_result(tmp_path):
    from tests.conftest import write_vocab

    tok = BertTokenizerFast(vocab=str(write_vocab(tmp_path)))
    ids = torch.randint(5, len(tok), (16, 24), generator=torch.Generator().manual_seed(3))
    ids[:, 0], ids[:, -1] = tok.cls_token_id, tok.sep_token_id
    special = ((ids == tok.cls_token_id) | (ids == tok.sep_token_id)).long()
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, return_tensors="pt")
    collator.generator = torch.Generator().manual_seed(7)
    hf_inputs, hf_labels = collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special.clone())
    ours = mask_tokens(ids, special, mask_token_id=tok.mask_token_id, vocab_size=len(tok),
                       generator=torch.Generator().manual_seed(7))
    assert torch.equal(ours.input_ids, hf_inputs) and torch.equal(ours.labels, hf_labels)


def test_rates_agree_with_the_hf_collator_statistically(tmp_path):
    from tests.conftest import write_vocab

    tok = BertTokenizerFast(vocab=str(write_vocab(tmp_path)))
    ids, special = _batch(B=256, T=64)
    ids = ids % (len(tok) - 5) + 5
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.3, return_tensors="pt", seed=11)
    collator.generator = torch.Generator().manual_seed(11)
    _, hf_labels = collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special.clone())
    ours = mask_tokens(ids, special, mask_token_id=4, vocab_size=len(tok), rate=0.3,
                       generator=torch.Generator().manual_seed(99))
    hf_share = (hf_labels != IGNORE_INDEX).float().mean().item()
    assert ours.selected.float().mean().item() == pytest.approx(hf_share, abs=0.01)


def test_special_tokens_and_padding_are_never_selected():
    ids, special = _batch()
    for seed in range(10):
        r = mask_tokens(ids, special, mask_token_id=MASK_ID, vocab_size=VOCAB, rate=0.9,
                        generator=torch.Generator().manual_seed(seed))
        assert not r.selected[special.bool()].any()
        assert torch.equal(r.input_ids[special.bool()], ids[special.bool()])


def test_input_is_not_modified_and_labels_hold_the_originals():
    ids, special = _batch()
    before = ids.clone()
    r = mask_tokens(ids, special, mask_token_id=MASK_ID, vocab_size=VOCAB, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ids, before)
    assert torch.equal(r.labels[r.selected], ids[r.selected])
    assert (r.labels[~r.selected] == IGNORE_INDEX).all()
    assert (r.input_ids[r.action == Action.MASKED] == MASK_ID).all()
    assert torch.equal(r.input_ids[r.action == Action.UNCHANGED], ids[r.action == Action.UNCHANGED])


def test_rate_zero_selects_nothing_and_rate_one_selects_every_maskable_token():
    ids, special = _batch(B=4)
    none = mask_tokens(ids, special, mask_token_id=MASK_ID, vocab_size=VOCAB, rate=0.0)
    every = mask_tokens(ids, special, mask_token_id=MASK_ID, vocab_size=VOCAB, rate=1.0)
    assert not none.selected.any()
    assert torch.equal(every.selected, special == 0)


def test_whole_word_masking_never_splits_a_word():
    tokens = [["[CLS]", "play", "##ing", "##s", "the", "un", "##believ", "##able", "game", "[SEP]"]] * 32
    word_ids = word_ids_from_tokens(tokens)
    ids = torch.arange(10).repeat(32, 1) + 1000
    special = torch.zeros_like(ids)
    special[:, 0] = special[:, -1] = 1
    shares = []
    for seed in range(50):
        r = mask_tokens(ids, special, mask_token_id=MASK_ID, vocab_size=VOCAB, rate=0.3, word_ids=word_ids,
                        generator=torch.Generator().manual_seed(seed))
        sel = r.selected
        for group in ([1, 2, 3], [5, 6, 7]):
            assert (sel[:, group].all(1) | ~sel[:, group].any(1)).all(), "a word was split"
        assert not sel[:, [0, 9]].any()
        shares.append(sel[:, [1, 4, 5, 8]].float().mean().item())  # one token per word: the word rate
    assert sum(shares) / len(shares) == pytest.approx(0.3, abs=0.02)


def test_word_ids_join_continuation_pieces():
    assert word_ids_from_tokens([["[CLS]", "play", "##ing", "now"], ["a"]]).tolist() == [[0, 1, 1, 2], [0, -1, -1, -1]]


def test_word_ids_from_ids_equal_word_ids_from_tokens():
    """The pretraining loop's batched form draws the same words as the chapter's token form."""
    vocab = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "play": 3, "##ing": 4, "##s": 5, "un": 6, "##real": 7, "now": 8}
    names = {i: p for p, i in vocab.items()}
    ids = torch.tensor([[1, 3, 4, 5, 8, 6, 7, 2], [4, 8, 3, 4, 2, 0, 0, 0]])
    got = word_ids_from_ids(ids, continuation_flags(vocab))
    want = word_ids_from_tokens([[names[i] for i in row] for row in ids.tolist()])
    assert got.tolist() == want.tolist() == [[0, 1, 1, 1, 2, 3, 3, 4], [0, 1, 2, 2, 3, 4, 5, 6]]


def test_every_occurrence_hides_a_chosen_content_word_everywhere_and_leaves_function_words_alone():
    vocab = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "the": 4, "dog": 5, "chased": 6, "cat": 7, "and": 8,
             "play": 9, "##ing": 10, "a": 11}
    content = content_pieces(vocab)
    assert content.tolist() == [False] * 4 + [False, True, True, True, False, True, False, False]
    names = {i: p for p, i in vocab.items()}
    ids = torch.tensor([[1, 4, 5, 6, 4, 7, 8, 4, 5, 9, 10, 8, 9, 10, 2]] * 64)
    special = (ids <= 3).long()
    words = word_ids_from_tokens([[names[i] for i in row] for row in ids.tolist()])
    grown = plain = 0
    for seed in range(20):
        kw = dict(mask_token_id=3, vocab_size=12, rate=0.3, word_ids=words)
        r = mask_tokens(ids, special, generator=torch.Generator().manual_seed(seed), every_occurrence=content, **kw)
        base = mask_tokens(ids, special, generator=torch.Generator().manual_seed(seed), **kw)
        sel, before = r.selected, base.selected
        assert (sel | ~before).all(), "it only adds to the plain selection"
        dog, play = sel[:, [2, 8]], sel[:, [9, 10, 12, 13]]
        assert (dog.all(1) | ~dog.any(1)).all(), "both dogs or neither"
        assert (play.all(1) | ~play.any(1)).all(), "both 'play ##ing' or neither, whole"
        the = sel[:, [1, 4, 7]]
        assert torch.equal(the, before[:, [1, 4, 7]]), "function words are chosen as before"
        grown += int(sel.sum()) - int(before.sum())
        plain += int(before.sum())
    assert grown > 0 and plain > 0
