"""BERT's family (explainers/family/): SpanBERT's span lengths and selection, UniLM's three masks, and the
encoder applied under a mask."""
from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertModel

from explainers.errors import InputError
from explainers.family.spanbert import span_length_probs, span_lengths, span_mask
from explainers.family.unilm import encode_under, unilm_mask


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


# ------------------------------------------------------------------------------------------------ RoBERTa
def test_static_masking_repeats_its_copies_and_dynamic_masking_draws_anew():
    from explainers.family.roberta import coverage, epoch_masks, epoch_seeds, expected_coverage

    assert len(set(epoch_seeds(40, dynamic=False, duplicates=10))) == 10  # BERT's 10 copies over 40 epochs
    assert epoch_seeds(40, False, 10)[:10] == epoch_seeds(40, False, 10)[10:20]  # each seen 4 times
    assert len(set(epoch_seeds(40, dynamic=True))) == 40
    ids = torch.arange(100, 164)[None]
    special = torch.zeros_like(ids)
    special[0, [0, -1]] = 1
    kw = dict(mask_token_id=4, vocab_size=200)
    static = epoch_masks(ids, special, epochs=8, dynamic=False, **kw)
    assert all(torch.equal(m.input_ids, static[0].input_ids) for m in static)
    dynamic = epoch_masks(ids, special, epochs=8, dynamic=True, **kw)
    assert len({tuple(m.selected[0].nonzero()[:, 0].tolist()) for m in dynamic}) == 8
    assert torch.equal(dynamic[0].input_ids, static[0].input_ids)  # the same first mask: only repetition differs
    cov_static, cov_dynamic = (coverage([m.selected for m in ms], special) for ms in (static, dynamic))
    assert len(set(cov_static)) == 1 and cov_dynamic == sorted(cov_dynamic) and cov_dynamic[-1] > 2 * cov_static[-1]
    assert expected_coverage(0.15, 3, True) == pytest.approx([0.15, 1 - 0.85 ** 2, 1 - 0.85 ** 3])
    assert expected_coverage(0.15, 3, False, duplicates=2) == pytest.approx([0.15, 1 - 0.85 ** 2, 1 - 0.85 ** 2])
    # seeded statistics: over many sequences the measured coverage follows the expectation
    many = torch.arange(100, 1100).reshape(1, -1)
    none = torch.zeros_like(many)
    measured = coverage([m.selected for m in epoch_masks(many, none, epochs=6, dynamic=True, **kw)], none)
    assert measured == pytest.approx(expected_coverage(0.15, 6, True), abs=0.03)


# ------------------------------------------------------------------------------------------------ SpanBERT
def test_a_scattered_selection_has_the_count_asked_and_runs_are_read_back():
    from explainers.family.spanbert import runs, scattered_mask

    special = torch.tensor([1, 0, 0, 0, 0, 0, 0, 1])
    chosen = scattered_mask(special, 4, torch.Generator().manual_seed(0))
    assert int(chosen.sum()) == 4 and not chosen[special.bool()].any()
    assert int(scattered_mask(special, 99).sum()) == 6  # never more than the maskable pieces
    assert runs(torch.tensor([0, 1, 1, 0, 1, 0, 1, 1, 1]).bool()) == [(1, 3), (4, 5), (6, 9)]


def test_span_masking_is_harder_for_the_built_in_model_than_scattered_masking(builtin):
    """The comparison the SpanBERT section shows: one forward pass, its numbers equal a position-by-position
    reading of the model, and (seeded) the pieces inside spans are recovered less often."""
    from explainers.family.spanbert import probs_of_originals, span_mask, spans_vs_scattered
    from explainers.encoding import encode_text

    tok = builtin.tokenizer
    enc = encode_text(tok, "The teacher wrote a question on the board, and the students answered it quietly "
                           "before the bell rang at the end of the long afternoon lesson.")
    special = torch.tensor([int(i in tok.all_special_ids) for i in enc.input_ids[0].tolist()])
    c = spans_vs_scattered(builtin.model, enc.input_ids, enc.attention_mask, special,
                           mask_token_id=tok.mask_token_id, draws=30)
    assert c.draws == 30 and c.pieces >= 30 * 3
    assert c.span_top1 < c.scattered_top1 and c.span_p < c.scattered_p
    chosen = span_mask(special, generator=torch.Generator().manual_seed(5))
    batch = enc.input_ids.masked_fill(chosen[None], tok.mask_token_id)
    p, hit, top = probs_of_originals(builtin.model, batch, enc.attention_mask, enc.input_ids[0], chosen[None])
    with torch.no_grad():
        logits = builtin.model(input_ids=batch, attention_mask=enc.attention_mask).logits[0, chosen]
    reference = logits.softmax(-1)
    assert torch.allclose(p, reference.gather(1, enc.input_ids[0, chosen][:, None])[:, 0], atol=1e-5)
    assert torch.equal(top, reference.argmax(-1)) and torch.equal(hit, top == enc.input_ids[0, chosen])


# ------------------------------------------------------------------------------------------------ ERNIE
def test_phrases_and_entities_are_found_by_longest_match_with_the_pieces_they_cover(builtin):
    from explainers.family.ernie import find_units, lexicon

    tok = builtin.tokenizer
    text = "After high school, my sister moved from New York to Paris and opened a coffee shop."
    offsets = tok(text, return_offsets_mapping=True)["offset_mapping"]
    units = find_units(text, offsets, lexicon())
    pieces = tok.convert_ids_to_tokens(tok(text)["input_ids"])
    found = [(u.kind, u.text, pieces[u.start:u.end]) for u in units]
    assert found == [("phrase", "high school", ["high", "school"]), ("entity", "New York", ["new", "york"]),
                     ("entity", "Paris", ["paris"]), ("phrase", "coffee shop", ["coffee", "shop"])]
    # capitals decide an entity; punctuation splits a phrase; a sentence's first word is not a name by itself
    assert find_units("new york", tok("new york", return_offsets_mapping=True)["offset_mapping"], lexicon()) == []
    split = "It was high. School starts"
    assert [u.text for u in find_units(split, tok(split, return_offsets_mapping=True)["offset_mapping"],
                                       lexicon())] == []
    may = "May I come in? We met in May."
    assert [(u.kind, u.text) for u in find_units(may, tok(may, return_offsets_mapping=True)["offset_mapping"],
                                                 lexicon())] == [("phrase", "come in"), ("entity", "May")]


def test_each_ernie_stage_masks_its_own_units_whole():
    from explainers.family.ernie import Unit, knowledge_mask

    special = torch.zeros(22, dtype=torch.long)
    special[[0, 21]] = 1
    units = [Unit("phrase", 2, 4, "high school"), Unit("entity", 9, 11, "New York"), Unit("entity", 12, 13, "Paris")]
    for seed in range(50):
        g = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
        basic = knowledge_mask(special, units, "basic", generator=g())
        assert int(basic.sum()) == 3 and not basic[special.bool()].any()  # round(0.15 · 20)
        phrase = knowledge_mask(special, units, "phrase", generator=g())
        assert phrase.nonzero()[:, 0].tolist() == [2, 3]  # the one phrase, whole
        entity = knowledge_mask(special, units, "entity", generator=g())
        assert entity.nonzero()[:, 0].tolist() == [9, 10, 12]  # both entities: 2 pieces < 3, then 3
    assert not knowledge_mask(special, [], "entity").any()


def test_masking_a_whole_entity_takes_away_what_masking_one_piece_leaves(builtin):
    from explainers.family.ernie import Unit, probe_unit
    from explainers.encoding import encode_text

    tok = builtin.tokenizer
    enc = encode_text(tok, "My sister moved from New York to Paris.")
    unit = Unit("entity", 5, 7, "New York")
    assert enc.tokens[5:7] == ["new", "york"]
    pr = probe_unit(builtin.model, enc.input_ids, enc.attention_mask, unit, mask_token_id=tok.mask_token_id)
    york = tok.convert_tokens_to_ids("york")
    assert pr.alone_top[1] == york and pr.alone_p[1] > 0.5  # "new [MASK]" → york
    assert pr.whole_p[1] < pr.alone_p[1] / 5
    ids = enc.input_ids.clone()
    ids[0, 5:7] = tok.mask_token_id
    with torch.no_grad():
        probs = builtin.model(input_ids=ids, attention_mask=enc.attention_mask).logits[0, 6].softmax(-1)
    assert pr.whole_p[1] == pytest.approx(float(probs[york]), abs=1e-5)


# ------------------------------------------------------------------------------------------------ UniLM, MASS
def test_attention_under_a_mask_gives_no_weight_where_the_mask_forbids(builtin):
    from explainers.family.unilm import attention_under, predict_under

    ids = builtin.tokenizer("the cat sat on the mat .", return_tensors="pt")["input_ids"]
    n = ids.shape[1]
    for kind, source in (("left-to-right", 0), ("seq2seq", 4)):
        allowed = unilm_mask(kind, n, source)
        att = attention_under(builtin.model, ids, allowed)
        assert att.shape == (6, 12, n, n)
        assert float(att[..., ~allowed].abs().max()) < 1e-6
        assert torch.allclose(att.sum(-1), torch.ones(6, 12, n), atol=1e-5)
    with torch.no_grad():
        ordinary = builtin.model(input_ids=ids).logits[0, 3].softmax(-1)
    top, probs, dist = predict_under(builtin.model, ids, unilm_mask("bidirectional", n), 3)
    assert torch.allclose(dist, ordinary, atol=1e-5) and top[0] == int(ordinary.argmax())


def test_mass_inputs_shift_the_fragment_for_the_decoder_and_mask_it_for_the_encoder():
    from explainers.family.mass import mass_inputs

    ids = torch.tensor([101, 10, 11, 12, 13, 14, 102])
    m = mass_inputs(ids, 2, 5, mask_token_id=103)
    assert m.encoder_ids.tolist() == [101, 10, 103, 103, 103, 14, 102]
    assert m.decoder_ids.tolist() == [103, 11, 12] and m.targets.tolist() == [11, 12, 13]
    assert m.decoder_self.tolist() == unilm_mask("left-to-right", 3).tolist() and m.cross.shape == (3, 7)
    with pytest.raises(InputError):
        mass_inputs(ids, 4, 9, 103)


def test_fragment_probabilities_reveal_the_earlier_pieces_one_by_one(builtin):
    from explainers.family.mass import fragment_probs
    from explainers.encoding import encode_text

    tok = builtin.tokenizer
    enc = encode_text(tok, "She opened the door and walked into the kitchen.")
    all_masked, earlier = fragment_probs(builtin.model, enc.input_ids, enc.attention_mask, 2, 6,
                                         mask_token_id=tok.mask_token_id)
    assert all_masked[0] == pytest.approx(earlier[0], abs=1e-5)  # the first piece: nothing earlier to reveal
    ids = enc.input_ids.clone()
    ids[0, 4:6] = tok.mask_token_id  # the third piece with the two before it revealed
    with torch.no_grad():
        p = builtin.model(input_ids=ids, attention_mask=enc.attention_mask).logits[0, 4].softmax(-1)
    assert earlier[2] == pytest.approx(float(p[enc.input_ids[0, 4]]), abs=1e-5)
    assert sum(earlier) > sum(all_masked)
