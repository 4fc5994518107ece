import copy

import pytest
import torch
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

from explainers.distillation import soft_target_loss
from explainers.electra import (LAMBDA, corrupt, discriminator_loss, electra_loss, generator_distillation_loss,
                               replaced_labels, replaced_probability, replaced_token_detection, sample,
                               share_embeddings)
from explainers.electra_heldout import heldout_scores, roc, word_swap_scores
from explainers.masking import mask_tokens

V = 30


@pytest.fixture(scope="module")
def pair():
    torch.manual_seed(0)
    disc = ElectraForPreTraining(ElectraConfig(vocab_size=V, embedding_size=16, hidden_size=16, num_hidden_layers=2,
                                               num_attention_heads=2, intermediate_size=32,
                                               max_position_embeddings=32)).eval()
    gen = ElectraForMaskedLM(ElectraConfig(vocab_size=V, embedding_size=16, hidden_size=8, num_hidden_layers=2,
                                           num_attention_heads=2, intermediate_size=16,
                                           max_position_embeddings=32)).eval()
    share_embeddings(gen, disc)
    return gen, disc


def _batch():
    ids = torch.randint(5, V, (3, 10), generator=torch.Generator().manual_seed(0))
    ids[:, 0], ids[:, -1] = 1, 2
    att = torch.ones_like(ids)
    att[2, 7:] = 0
    special = ((ids == 1) | (ids == 2) | (att == 0)).long()
    return ids, att, special


def test_discriminator_loss_equals_electra_for_pretraining(pair):
    _, disc = pair
    ids, att, _ = _batch()
    labels = torch.randint(0, 2, ids.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = disc(input_ids=ids, attention_mask=att, labels=labels)
    assert torch.allclose(discriminator_loss(out.logits, labels, att), out.loss, atol=1e-6)


def test_a_sample_equal_to_the_original_counts_as_real():
    original = torch.tensor([[5, 6, 7, 8]])
    corrupted = torch.tensor([[5, 9, 7, 8]])  # position 2 was masked and the generator sampled 7 again
    assert replaced_labels(original, corrupted).tolist() == [[0, 1, 0, 0]]


def test_sampling_matches_the_softmax_at_the_temperature():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).repeat(20000, 1)
    g = torch.Generator().manual_seed(0)
    for T in (0.5, 1.0, 2.0):
        counts = torch.bincount(sample(logits, T, generator=g), minlength=4).float() / len(logits)
        assert torch.allclose(counts, (logits[0] / T).softmax(-1), atol=0.012), T  # sd ≈ 0.0035
    assert sample(logits[:5], 1e-3, generator=g).tolist() == [0] * 5  # T → 0 is the arg-max


def test_corruption_replaces_only_masked_positions_and_labels_them(pair):
    gen, _ = pair
    ids, att, special = _batch()
    c = corrupt(gen, ids, att, special, mask_token_id=3, vocab_size=V, rate=0.5,
                generator=torch.Generator().manual_seed(3))
    chosen = c.mlm_labels != -100
    assert (c.masked_ids[chosen] == 3).all() and torch.equal(c.masked_ids[~chosen], ids[~chosen])
    assert torch.equal(c.corrupted_ids[~chosen], ids[~chosen])
    assert torch.equal(c.corrupted_ids[chosen], c.sampled_ids)
    assert torch.equal(c.replaced, (c.corrupted_ids != ids).long())
    assert not chosen[special.bool()].any()


def test_combined_loss_is_the_generators_mlm_loss_plus_lambda_times_the_discriminators_over_real_tokens(pair):
    """Each term against Hugging Face's own loss: the generator's `ElectraForMaskedLM` loss on what it read, the
    discriminator's `ElectraForPreTraining` loss, which leaves out padding (row 2 is padded)."""
    gen, disc = pair
    ids, att, special = _batch()
    c = corrupt(gen, ids, att, special, mask_token_id=3, vocab_size=V, generator=torch.Generator().manual_seed(0),
                rate=0.4)
    with torch.no_grad():
        out = disc(input_ids=c.corrupted_ids, attention_mask=att, labels=c.replaced)
        mlm = gen(input_ids=c.masked_ids, attention_mask=att, labels=c.mlm_labels).loss
        loss = electra_loss(c, out.logits, att, lam=50.0)
    assert loss.disc.item() == pytest.approx(out.loss.item(), abs=1e-6)
    assert loss.mlm.item() == pytest.approx(mlm.item(), abs=1e-5)
    assert loss.total.item() == pytest.approx(mlm.item() + 50.0 * out.loss.item(), rel=1e-5)
    # a confident "replaced" at the 3 padding positions (labelled 0) would cost 20 nats each if they counted
    loud = out.logits.masked_fill(att == 0, 20.0)
    assert electra_loss(c, loud, att).disc.item() == pytest.approx(out.loss.item(), abs=1e-6)


def test_generator_and_discriminator_share_one_embedding_tensor(pair):
    gen, disc = pair
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        assert getattr(gen.electra.embeddings, name).weight is getattr(disc.electra.embeddings, name).weight
    assert gen.generator_lm_head.weight is disc.electra.embeddings.word_embeddings.weight
    params = {id(p) for p in gen.parameters()} & {id(p) for p in disc.parameters()}
    assert len(params) >= 3  # one optimiser over both models updates the shared tensors once


def test_roc_auc_equals_the_pairwise_ranking_probability():
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(400, generator=g).round(decimals=1)  # many ties
    labels = (torch.rand(400, generator=g) < scores).long()
    r = roc(scores, labels)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairwise = ((pos[:, None] > neg[None]).double() + 0.5 * (pos[:, None] == neg[None]).double()).mean()
    assert r.auc == pytest.approx(float(pairwise), abs=1e-9)
    assert r.fpr[0] == 0 and r.tpr[0] == 0 and r.fpr[-1] == 1 and r.tpr[-1] == 1
    assert (r.fpr.diff() >= 0).all() and (r.tpr.diff() >= 0).all()
    assert roc(torch.tensor([0.9, 0.8, 0.1]), torch.tensor([1, 1, 0])).auc == 1.0
    assert roc(torch.tensor([0.1, 0.9]), torch.tensor([1, 0])).auc == 0.0


def test_detection_round_matches_corrupt_and_the_discriminator(pair):
    gen, disc = pair
    ids, att, special = _batch()
    ids, att, special = ids[:1], att[:1], special[:1]
    d = replaced_token_detection(gen, disc, ids, att, special, mask_token_id=3, vocab_size=V, rate=0.5, seed=4, k=3)
    c = corrupt(gen, ids, att, special, mask_token_id=3, vocab_size=V, rate=0.5,
                generator=torch.Generator().manual_seed(4))
    assert d.corrupted_ids == c.corrupted_ids[0].tolist() and d.replaced == c.replaced[0].tolist()
    assert d.positions == (c.mlm_labels[0] != -100).nonzero()[:, 0].tolist()
    with torch.no_grad():
        out = disc(input_ids=c.corrupted_ids, attention_mask=att, labels=c.replaced)
    assert d.p_replaced == pytest.approx(out.logits[0].sigmoid().tolist(), abs=1e-6)
    assert d.loss.disc == pytest.approx(out.loss.item(), abs=1e-6)
    assert d.loss.lam == LAMBDA and d.loss.total == pytest.approx(d.loss.mlm + LAMBDA * d.loss.disc)
    top = c.generator_logits.softmax(-1).topk(3)
    assert d.top_ids == top.indices.tolist() and torch.allclose(torch.tensor(d.top_probs), top.values, atol=1e-6)


def test_heldout_scores_leave_out_special_tokens_and_count_the_masked(pair):
    gen, disc = pair
    ids, att, special = _batch()
    h = heldout_scores(gen, disc, {"input_ids": ids, "attention_mask": att, "special": special}, mask_token_id=3,
                       vocab_size=V, rate=0.5, seed=1, batch_size=2)
    assert len(h.scores) == len(h.labels) == int((special == 0).sum())
    assert 0 < h.masked <= int((special == 0).sum())


def test_generator_top1_is_the_share_of_masked_positions_it_recovers(pair):
    """A generator that always guesses piece x is right exactly at the masked positions whose original is x."""
    gen, disc = pair
    ids, att, special = _batch()
    chosen = mask_tokens(ids, special, mask_token_id=3, vocab_size=V, rate=0.5, p_mask=1.0, p_random=0.0,
                         generator=torch.Generator().manual_seed(1)).selected  # corrupt's first draw at seed 1
    x = int(ids[chosen].mode().values)
    always_x = copy.deepcopy(gen)
    with torch.no_grad():
        always_x.generator_lm_head.bias[x] = 1e4
    h = heldout_scores(always_x, disc, {"input_ids": ids, "attention_mask": att, "special": special},
                       mask_token_id=3, vocab_size=V, rate=0.5, seed=1, batch_size=len(ids))
    expected = float((ids[chosen] == x).double().mean())
    assert 0 < expected < 1, "the draw should hold both recovered and missed positions"
    assert h.masked == int(chosen.sum()) and h.generator_top1 == pytest.approx(expected, abs=1e-12)


def test_the_pair_loads_by_role_and_a_generator_is_refused_as_discriminator(tiny_electra_dirs):
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    from explainers.model import ModelLoadError, load_role

    gen_dir, disc_dir = tiny_electra_dirs
    gen = load_role(str(gen_dir), gen_dir, ElectraForMaskedLM)
    disc = load_role(str(disc_dir), disc_dir, ElectraForPreTraining)
    assert torch.equal(gen.model.electra.embeddings.word_embeddings.weight,
                       disc.model.electra.embeddings.word_embeddings.weight)  # shared in training, saved equal
    with pytest.raises(ModelLoadError) as err:
        load_role(str(gen_dir), gen_dir, ElectraForPreTraining)
    assert err.value.reason == "no_trained_weights" and err.value.fields["head"] == "ElectraForPreTraining"


def test_fitted_embeddings_reproduce_the_teachers_embedding_output_better_than_least_squares():
    """`init_from_teacher`: after the fit, the smaller embeddings + projection match the teacher's embedding
    output more closely than PCA + least squares alone, and the encoder layers are the teacher's."""
    from transformers import BertConfig, BertForMaskedLM

    from training.pretrain_electra import Config, configs, init_from_teacher

    torch.manual_seed(0)
    teacher = BertForMaskedLM(BertConfig(vocab_size=1200, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                         intermediate_size=64, max_position_embeddings=128)).eval()
    _, disc_cfg = configs(Config(run=None, embedding_size=8), teacher.config)
    disc = ElectraForPreTraining(disc_cfg)
    facts = init_from_teacher(disc, teacher, torch.randint(1000, 1200, (5000,)), fit_steps=200, batch=512)
    assert facts["embedding_fit_cosine"] > facts["embedding_fit_cosine_lstsq"]
    for p_disc, p_teacher in zip(disc.electra.encoder.parameters(), teacher.bert.encoder.parameters()):
        assert torch.equal(p_disc, p_teacher)


def test_word_swaps_score_one_swapped_and_one_untouched_word_per_sequence(pair):
    _, disc = pair
    ids, att, _ = _batch()
    words = list(range(5, 20))  # ids 20..29 are not "words": never swapped, never swapped in
    out = word_swap_scores(disc, {"input_ids": ids, "attention_mask": att}, words, seed=3)
    eligible = [k for k in range(len(ids)) if int(torch.isin(ids[k][att[k].bool()], torch.tensor(words)).sum()) >= 2]
    assert [e[0] for e in out.edits] == eligible and len(out.swapped) == len(out.untouched) == len(eligible)
    for (k, i, new, j), ps, pu in zip(out.edits, out.swapped.tolist(), out.untouched.tolist()):
        real = ids[k][att[k].bool()]
        assert i != j and int(real[i]) in words and int(real[j]) in words and new in words and new != int(real[i])
        edited = real.clone()
        edited[i] = new
        with torch.no_grad():
            p = replaced_probability(disc, edited[None], torch.ones_like(edited)[None])[0]
        assert ps == pytest.approx(float(p[i]), abs=1e-6) and pu == pytest.approx(float(p[j]), abs=1e-6)


def test_roc_point_at_a_threshold_equals_counting_the_flagged_scores():
    g = torch.Generator().manual_seed(0)
    labels = (torch.rand(400, generator=g) < 0.3).long()
    scores = (torch.rand(400, generator=g) * 0.7 + 0.3 * labels).round(decimals=2)  # ties on purpose
    r = roc(scores, labels)
    for thr in (0.05, 0.3, 0.5, 0.55, 0.95):
        flagged = scores >= thr
        tpr = float((flagged & (labels == 1)).sum()) / int(labels.sum())
        fpr = float((flagged & (labels == 0)).sum()) / int((1 - labels).sum())
        assert r.at(thr) == pytest.approx((tpr, fpr))


def test_generator_distillation_is_t_squared_kl_to_the_teacher_plus_mlm(pair):
    gen, _ = pair
    ids, att, special = _batch()
    teacher = copy.deepcopy(gen)
    with torch.no_grad():
        for p in teacher.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    args = dict(mask_token_id=3, vocab_size=V, rate=0.5, temperature=2.0, alpha_mlm=0.5)
    with torch.no_grad():
        out = generator_distillation_loss(gen, teacher, ids, att, special,
                                          generator=torch.Generator().manual_seed(1), **args)
    m = mask_tokens(ids, special, mask_token_id=3, vocab_size=V, rate=0.5, p_mask=1.0, p_random=0.0,
                    generator=torch.Generator().manual_seed(1))
    chosen = m.labels != -100
    with torch.no_grad():
        g_logits = gen(input_ids=m.input_ids, attention_mask=att).logits[chosen]
        t_logits = teacher(input_ids=m.input_ids, attention_mask=att).logits[chosen]
    kl = soft_target_loss(g_logits, t_logits, 2.0)
    mlm = torch.nn.functional.cross_entropy(g_logits, m.labels[chosen])
    assert float(out.kl) == pytest.approx(float(kl), rel=1e-4) and float(out.kl) > 0
    assert float(out.mlm) == pytest.approx(float(mlm), rel=1e-4)
    assert float(out.loss) == pytest.approx(float(kl + 0.5 * mlm), rel=1e-4)
    with torch.no_grad():
        same = generator_distillation_loss(gen, gen, ids, att, special, generator=torch.Generator().manual_seed(1),
                                           **args)
    assert float(same.kl) == pytest.approx(0.0, abs=1e-5)


def test_the_joint_steps_teacher_kl_is_the_distillation_stages_kl_on_the_generators_own_input(pair):
    """`teacher_kl` (pretrain_electra --joint-kl) reads the masked text the generator read in `corrupt`: with the
    same seed it is the KL of `generator_distillation_loss`, and it is zero against the generator itself."""
    from explainers.electra import teacher_kl

    gen, _ = pair
    torch.manual_seed(1)
    teacher = ElectraForMaskedLM(gen.config).eval()
    ids, att, special = _batch()
    args = dict(mask_token_id=3, vocab_size=V, rate=0.5)
    with torch.no_grad():
        c = corrupt(gen, ids, att, special, generator=torch.Generator().manual_seed(1), **args)
        kl = teacher_kl(teacher, c, att, temperature=2.0)
        d = generator_distillation_loss(gen, teacher, ids, att, special, temperature=2.0,
                                        generator=torch.Generator().manual_seed(1), **args)
        assert float(kl) == pytest.approx(float(d.kl), rel=1e-4) and float(kl) > 0
        assert float(teacher_kl(gen, c, att)) == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------------ fakes that give themselves away, and rungs
PIECES = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", ",", ".", "the", "of", "was", "##s", "##,",
          "dog", "cat", "house", "ran", "sleep", "green", "river", "bread", "##ing", "door", "window", "music",
          "piano", "garden", "letter", "summer", "morning", "water"]
VOCAB = {p: i for i, p in enumerate(PIECES)}  # V = 30 pieces, as the pair above reads


def test_function_pieces_are_punctuation_function_words_and_special_pieces():
    from explainers.electra_heldout import function_pieces, real_pieces
    flags = function_pieces(VOCAB)
    assert [p for p in PIECES if flags[VOCAB[p]]] == ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", ",", ".",
                                                     "the", "of", "was", "##,"]
    assert [p for p in PIECES if not real_pieces(VOCAB)[VOCAB[p]]] == ["[PAD]", "[CLS]", "[SEP]", "[MASK]",
                                                                      "[unused0]"]


def _content_batch():
    ids = torch.randint(12, V, (4, 12), generator=torch.Generator().manual_seed(3))  # content words only...
    ids[:, 3] = VOCAB["the"]  # ...and one function word a row
    ids[:, 0], ids[:, -1] = VOCAB["[CLS]"], VOCAB["[SEP]"]
    att = torch.ones_like(ids)
    special = ((ids == 1) | (ids == 2)).long()
    return {"input_ids": ids, "attention_mask": att, "special": special}


def _always(gen, piece: str):
    out = copy.deepcopy(gen)
    with torch.no_grad():
        out.generator_lm_head.bias[VOCAB[piece]] = 1e4
    return out


def test_function_share_counts_samples_at_masked_content_words_only(pair):
    from explainers.electra_heldout import function_pieces
    from explainers.masking import content_pieces
    gen, disc = pair
    batch = _content_batch()
    kw = dict(mask_token_id=3, vocab_size=V, rate=0.5, seed=2, content=content_pieces(VOCAB),
              function=function_pieces(VOCAB))
    comma, piano = heldout_scores(_always(gen, ","), disc, batch, **kw), heldout_scores(_always(gen, "piano"), disc,
                                                                                        batch, **kw)
    chosen = mask_tokens(batch["input_ids"], batch["special"], mask_token_id=3, vocab_size=V, rate=0.5, p_mask=1.0,
                         p_random=0.0, generator=torch.Generator().manual_seed(2)).selected
    at_content = int((chosen & content_pieces(VOCAB)[batch["input_ids"]]).sum())
    assert 0 < at_content < int(chosen.sum()), "the draw should mask content and function words"
    assert comma.content_masked == piano.content_masked == at_content
    assert comma.function_fakes == at_content and comma.function_share == 1.0  # every fake at a content word
    assert piano.function_fakes == 0 and piano.function_share == 0.0


def test_random_fakes_come_from_the_pool_on_the_same_masks_as_the_generators(pair):
    from explainers.electra_heldout import real_pieces
    gen, disc = pair
    batch = _content_batch()
    kw = dict(mask_token_id=3, vocab_size=V, rate=0.5, seed=5)
    g = corrupt(gen, batch["input_ids"], batch["attention_mask"], batch["special"],
                generator=torch.Generator().manual_seed(5), sampling=torch.Generator().manual_seed(6), **{
                    k: v for k, v in kw.items() if k != "seed"})
    r = corrupt(None, batch["input_ids"], batch["attention_mask"], batch["special"],
                generator=torch.Generator().manual_seed(5), sampling=torch.Generator().manual_seed(6),
                pool=real_pieces(VOCAB), **{k: v for k, v in kw.items() if k != "seed"})
    assert torch.equal(g.masked_ids, r.masked_ids)  # the draws' own generator leaves the masks alone
    assert real_pieces(VOCAB)[r.sampled_ids].all() and len(set(r.sampled_ids.tolist())) > 3
    with pytest.raises(Exception):
        corrupt(None, batch["input_ids"], batch["attention_mask"], batch["special"], **{
            k: v for k, v in kw.items() if k != "seed"})


def test_fake_makers_are_ordered_by_strength(pair):
    from explainers.electra_heldout import FakeMaker, compare_fake_makers, harder_as_stronger
    gen, disc = pair
    batch = _content_batch()
    batch["input_ids"][:, 4:9] = VOCAB["piano"]  # the maker that always says "piano" is right at some masks
    makers = compare_fake_makers({"piano": _always(gen, "piano"), "random": None}, disc, batch, mask_token_id=3,
                                 vocab=VOCAB, seed=2)
    assert [m.name for m in makers] == ["random", "piano"]  # weakest first, whatever order they were given in
    assert makers[0].generator_top1 < makers[1].generator_top1
    for m in makers:  # caught: the replaced pieces the discriminator scores ≥ 0.5, recomputed here
        assert 0 <= m.caught <= 1 and m.auc is not None
    f = lambda name, top1, auc: FakeMaker(name, top1, auc, 0.5, None)  # noqa: E731
    assert harder_as_stronger([f("a", 0, 0.9), f("b", 0.2, 0.8), f("c", 0.4, 0.7)])
    assert not harder_as_stronger([f("a", 0, 0.9), f("b", 0.2, 0.7), f("c", 0.4, 0.8)])
    assert not harder_as_stronger([f("a", 0, 0.9), f("b", 0.2, None)])


def test_a_generator_from_distilbert_layers_computes_what_those_layers_computed(tmp_path):
    """The generator takes a DistilBERT's layers under BERT's names: each layer gives the same output."""
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    from training.pretrain_electra import generator_from_layers, layers_of
    torch.manual_seed(0)
    student = DistilBertForMaskedLM(DistilBertConfig(vocab_size=V, dim=16, n_layers=2, n_heads=2, hidden_dim=32,
                                                     max_position_embeddings=32)).eval()
    student.save_pretrained(tmp_path)
    shape = layers_of(str(tmp_path))
    assert shape == dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    cfg = dict(vocab_size=V, embedding_size=8, max_position_embeddings=32)
    disc = ElectraForPreTraining(ElectraConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32, **cfg)).eval()
    gen = ElectraForMaskedLM(ElectraConfig(**shape, **cfg)).eval()
    facts = generator_from_layers(gen, disc, str(tmp_path))
    assert facts["generator_layers_from"] == str(tmp_path)
    assert torch.equal(gen.electra.embeddings_project.weight, disc.electra.embeddings_project.weight)
    x = torch.randn(2, 7, 16)
    first = lambda out: out[0] if isinstance(out, tuple) else out  # noqa: E731
    with torch.no_grad():
        for theirs, ours in zip(student.distilbert.transformer.layer, gen.electra.encoder.layer):
            assert torch.allclose(first(ours(x)), first(theirs(x)), atol=1e-5)
