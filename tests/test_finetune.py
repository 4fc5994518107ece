import time

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

from explainers.finetune import (FEATURES, SentencePair, accuracy, classification_loss,
                                 cls_head_logits, cross_validate_probe, document_folds, encode_pairs,
                                 feature_combine, feature_layers, finetune_step, next_sentence_pairs, pair_features,
                                 split_sentences, train_probe, trainable_share, wilson_interval)
from explainers.errors import ExplainerError

CFG = dict(vocab_size=30, hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=32,
           max_position_embeddings=16, type_vocab_size=2)


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(num_labels=2, **CFG)).eval()


def _batch(seed=0, B=4, T=10):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, CFG["vocab_size"], (B, T), generator=g)
    ids[:, 0] = 2  # [CLS]
    att = torch.ones_like(ids)
    att[1, 6:] = 0  # a padded row
    types = torch.zeros_like(ids)
    types[:, 5:] = 1
    return ids, att, types


# ------------------------------------------------------------------------------------------------ settings
def test_feature_settings_resolve_to_hidden_state_indices():
    assert feature_layers("embeddings", 6) == (0,)
    assert feature_layers("layer:3", 6) == (3,)
    assert feature_layers("last", 6) == (6,)
    assert feature_layers("last4_concat", 6) == feature_layers("last4_sum", 6) == (3, 4, 5, 6)
    assert feature_layers("last4_concat", 12) == (9, 10, 11, 12)
    assert set(FEATURES) == {"embeddings", "last", "last4_concat", "last4_sum"}
    assert feature_combine("last4_sum") == "sum" and feature_combine("last4_concat") == "concat"


@pytest.mark.parametrize("setting, n_layers", [("middle", 6), ("layer:7", 6), ("layer:x", 6), ("last4_concat", 2)])
def test_unresolvable_settings_are_typed_errors(setting, n_layers):
    with pytest.raises(ExplainerError) as err:
        feature_layers(setting, n_layers)
    assert err.value.reason == "unknown_feature" and err.value.fields["setting"] == setting


# ------------------------------------------------------------------------------------------------ features
def test_cls_features_are_the_hidden_states_cls_rows(classifier):
    ids, att, types = _batch()
    bert = classifier.bert
    with torch.no_grad():
        hs = bert(input_ids=ids, attention_mask=att, token_type_ids=types, output_hidden_states=True).hidden_states
    assert torch.equal(pair_features(bert, ids, att, types, (0,)), hs[0][:, 0])
    assert torch.equal(pair_features(classifier, ids, att, types, (2,)), hs[2][:, 0])  # a BertFor* works too
    concat = pair_features(bert, ids, att, types, (1, 2, 3))
    assert concat.shape == (4, 3 * 16)
    assert torch.equal(concat[:, 16:32], hs[2][:, 0])
    summed = pair_features(bert, ids, att, types, (1, 2, 3), combine="sum")
    assert summed.shape == (4, 16)
    assert torch.allclose(summed, hs[1][:, 0] + hs[2][:, 0] + hs[3][:, 0], atol=1e-6)


def test_mean_pooling_averages_only_attended_tokens(classifier):
    ids, att, types = _batch()
    bert = classifier.bert
    with torch.no_grad():
        hs = bert(input_ids=ids, attention_mask=att, token_type_ids=types, output_hidden_states=True).hidden_states
    mean = pair_features(bert, ids, att, types, (3,), pooling="mean")
    assert torch.allclose(mean[0], hs[3][0].mean(0), atol=1e-6)
    assert torch.allclose(mean[1], hs[3][1, :6].mean(0), atol=1e-6)  # row 1 has 6 real tokens


def test_cls_features_of_the_embedding_layer_do_not_depend_on_the_input(classifier):
    # [CLS] at position 0, segment 0, before any attention: the same vector for every pair
    ids, att, types = _batch()
    x = pair_features(classifier, ids, att, types, (0,))
    assert torch.allclose(x, x[:1].expand_as(x), atol=1e-6)


# --------------------------------------------------------------------------------------------------- probe
def _separable(n=400, f=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, f, generator=g) * 3 + 5  # unstandardised on purpose
    w = torch.randn(f, generator=g)
    y = ((x - 5) @ w > 0).long()
    return x, y


def test_probe_learns_a_linearly_separable_set():
    x, y = _separable()
    res = train_probe(x[:300], y[:300], x[300:], y[300:], steps=200)
    assert res.final_test_accuracy >= 0.95 and res.train_accuracy[-1] >= 0.95
    assert res.steps[0] == 0 and res.steps[-1] == 200 and len(res.steps) == len(res.test_accuracy) == 11
    assert torch.allclose(res.probe.predict_proba(x).sum(-1), torch.ones(len(x)))
    assert accuracy(res.probe.logits(x[300:]), y[300:]) == pytest.approx(res.final_test_accuracy)


def test_probe_is_at_chance_on_shuffled_labels():
    x, y = _separable(n=1200, f=50)
    y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1))]
    res = train_probe(x[:600], y[:600], x[600:], y[600:])
    assert 0.42 <= res.final_test_accuracy <= 0.58


def test_probe_standardises_with_training_statistics_and_skips_constant_features():
    x, y = _separable()
    x[:, 0] = 7.0  # a constant feature
    res = train_probe(x, y, x, y, steps=5)
    assert torch.allclose(res.probe.mean, x.mean(0)) and res.probe.std[0] == 1.0
    assert torch.allclose(res.probe.std[1:], x[:, 1:].std(0, correction=0))


def test_probe_training_is_deterministic_for_a_seed_and_reports_progress():
    x, y = _separable()
    calls = []
    a = train_probe(x, y, x, y, steps=30, eval_every=10, seed=3, progress=lambda s, n: calls.append((s, n)))
    b = train_probe(x, y, x, y, steps=30, eval_every=10, seed=3)
    assert torch.equal(a.probe.weight, b.probe.weight) and a.test_accuracy == b.test_accuracy
    assert calls == [(0, 30), (10, 30), (20, 30), (30, 30)]
    assert not torch.equal(a.probe.weight, train_probe(x, y, x, y, steps=30, seed=4).probe.weight)


def test_probe_steps_run_on_one_thread_and_the_callers_thread_count_comes_back():
    """The probe's tiny steps run on this thread alone (`one_thread`: on 2 threads beside a training run, one
    layer's cross-validated probe took 40 × longer); the caller keeps its own setting."""
    x, y = _separable()
    threads = torch.get_num_threads()
    seen = []
    train_probe(x, y, x, y, steps=10, eval_every=5, progress=lambda s, n: seen.append(torch.get_num_threads()))
    assert seen == [1, 1, 1]
    assert torch.get_num_threads() == threads


def test_probe_on_2000_by_384_features_takes_about_a_second():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(2000, 384, generator=g), torch.randint(0, 2, (2000,), generator=g)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # CPU time on one core: other jobs on the machine do not count, nor thread spin-waits
    try:
        train_probe(x[:1600], y[:1600], x[1600:], y[1600:], steps=5)  # warm-up: first-call costs are not the probe's
        t = time.process_time()
        train_probe(x[:1600], y[:1600], x[1600:], y[1600:])
        assert time.process_time() - t < 1.0  # about 0.2 s
    finally:
        torch.set_num_threads(threads)


def test_accuracy_by_hand():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1, 1])) == 0.75


# ------------------------------------------------------------------------------------------- fine-tuning
def test_cls_head_logits_equal_the_models_logits(classifier):
    ids, att, types = _batch()
    with torch.no_grad():
        ours = cls_head_logits(classifier, ids, att, types)
        ref = classifier(input_ids=ids, attention_mask=att, token_type_ids=types).logits
    assert ours.shape == (4, 2)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_classification_loss_equals_hf_loss(classifier):
    ids, att, types = _batch()
    labels = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        out = classifier(input_ids=ids, attention_mask=att, token_type_ids=types, labels=labels)
    assert torch.allclose(classification_loss(out.logits, labels), out.loss, atol=1e-6)
    p = out.logits.softmax(-1)
    by_hand = -sum(torch.log(p[i, y]) for i, y in enumerate(labels.tolist())) / 4
    assert torch.allclose(classification_loss(out.logits, labels), by_hand, atol=1e-6)


def test_finetune_step_lowers_the_loss_and_leaves_frozen_weights_alone():
    torch.manual_seed(1)
    model = BertForSequenceClassification(BertConfig(num_labels=2, hidden_dropout_prob=0.0,
                                                     attention_probs_dropout_prob=0.0, **CFG)).train()
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    ids, att, types = _batch(seed=2)
    batch = dict(input_ids=ids, attention_mask=att, token_type_ids=types, labels=torch.tensor([0, 1, 1, 0]))
    embeddings = {k: v.clone() for k, v in model.bert.embeddings.state_dict().items()}
    encoder = {k: v.clone() for k, v in model.bert.encoder.state_dict().items()}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = [finetune_step(model, batch, opt) for _ in range(8)]
    assert losses[-1] < losses[0]
    assert all(torch.equal(v, model.bert.embeddings.state_dict()[k]) for k, v in embeddings.items())
    assert any(not torch.equal(v, model.bert.encoder.state_dict()[k]) for k, v in encoder.items())
    assert all(p.grad is None for p in model.parameters())  # zeroed after the step


def test_trainable_share_counts_each_part(classifier):
    def n(module):
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    share = trainable_share(classifier)
    assert share == {"embeddings": n(classifier.bert.embeddings), "encoder": n(classifier.bert.encoder),
                     "pooler": n(classifier.bert.pooler), "head": n(classifier.classifier)}
    assert sum(share.values()) == n(classifier)
    assert share["head"] == 16 * 2 + 2
    frozen = BertModel(BertConfig(**CFG))
    for p in frozen.parameters():
        p.requires_grad_(False)
    assert trainable_share(frozen) == {"embeddings": 0, "encoder": 0, "pooler": 0, "head": 0}


# ------------------------------------------------------------------------------------------------ the data
@pytest.mark.parametrize("text, expected", [
    ("Mr. Smith came. He sat down! Did he?", ["Mr. Smith came.", "He sat down!", "Did he?"]),
    ("Mrs. Jones met Dr. Who at St. Ives. They talked.", ["Mrs. Jones met Dr. Who at St. Ives.", "They talked."]),
    ('She said. "Go away." Then she left', ["She said.", '"Go away."', "Then she left"]),
    ("It costs 3.5 dollars. no capital here. Fine.", ["It costs 3.5 dollars. no capital here.", "Fine."]),
    ("J. R. R. Tolkien wrote\nbooks.  Many books.", ["J. R. R. Tolkien wrote books.", "Many books."]),
    ("", []),
])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def _documents(n=200):
    rng = torch.Generator().manual_seed(0)
    docs = []
    for d in range(n):
        k = int(torch.randint(1, 6, (1,), generator=rng))  # some documents have one sentence only
        docs.append(" ".join(f"Doc{d} sentence{s} here." for s in range(k)))
    return docs


def test_next_sentence_pairs_follow_berts_recipe():
    docs = _documents()
    sentences = [split_sentences(d) for d in docs]
    pairs = next_sentence_pairs(docs, seed=0)
    assert len(pairs) == sum(max(len(s) - 1, 0) for s in sentences)
    share = sum(p.label for p in pairs) / len(pairs)
    assert abs(share - 0.5) <= 0.05
    for p in pairs:
        s = sentences[p.doc]
        i = s.index(p.a)
        assert i + 1 < len(s)  # A is never a document's last sentence
        if p.label == 1:
            assert p.b == s[i + 1]
        else:
            assert p.b not in s and any(p.b in other for other in sentences)


def test_next_sentence_pairs_are_seeded():
    docs = _documents(50)
    assert next_sentence_pairs(docs, seed=3) == next_sentence_pairs(docs, seed=3)
    assert next_sentence_pairs(docs, seed=3) != next_sentence_pairs(docs, seed=4)
    some = next_sentence_pairs(docs, seed=3, max_pairs=20)
    assert len(some) == 20 and some == next_sentence_pairs(docs, seed=3, max_pairs=20)
    assert [p.doc for p in some] == sorted(p.doc for p in some)


def test_next_sentence_pairs_need_two_documents():
    with pytest.raises(ExplainerError) as err:
        next_sentence_pairs(["One. Two. Three."])
    assert err.value.reason == "too_few_documents"


def test_encode_pairs_marks_sentence_b_as_segment_1(tiny_bert_dir):
    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    pairs = [SentencePair("the cat sat.", "a big dog ran.", 1, 0), SentencePair("the dog.", "red mat.", 0, 1)]
    enc = encode_pairs(tok, pairs)
    tokens = tok.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    assert tokens == ["[CLS]", "the", "cat", "sat", ".", "[SEP]", "a", "big", "dog", "ran", ".", "[SEP]"]
    assert enc["token_type_ids"][0].tolist() == [0] * 6 + [1] * 6
    assert enc["labels"].tolist() == [1, 0] and enc["attention_mask"][1].sum() == 9


# -------------------------------------------------------------------------------- the live probe's measurement
@pytest.mark.parametrize("correct,n", [(0, 10), (3, 6), (69, 102), (102, 102), (640, 736)])
def test_wilson_interval_matches_scipy(correct, n):
    from scipy.stats import binomtest

    low, high = wilson_interval(correct, n)
    ref = binomtest(correct, n).proportion_ci(method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-6) and high == pytest.approx(ref.high, abs=1e-6)
    assert 0 <= low <= correct / n <= high <= 1


def test_cross_validation_tests_every_pair_once_by_a_probe_that_never_saw_its_document():
    g = torch.Generator().manual_seed(0)
    docs = [i // 4 for i in range(60)]  # 15 documents of 4 pairs
    y = torch.tensor([i % 2 for i in range(60)])
    x = torch.randn(60, 8, generator=g) + 1.5 * y[:, None]  # separable enough for a probe
    folds = document_folds(docs, 5)
    for d in set(docs):  # a document's pairs share one fold
        assert len({int(folds[i]) for i in range(60) if docs[i] == d}) == 1
    r = cross_validate_probe(x, y, docs, folds=5, steps=100)
    # by hand: each fold's probe trained on the other folds, its test pairs counted once
    correct = 0
    for f in range(5):
        test = folds == f
        p = train_probe(x[~test], y[~test], x[test], y[test], steps=100, seed=0, eval_every=100)
        correct += int((p.probe.logits(x[test]).argmax(-1) == y[test]).sum())
    assert (r.correct, r.n, r.folds, r.n_docs, r.train_pairs) == (correct, 60, 5, 15, 48)
    assert r.accuracy == correct / 60 and r.interval == wilson_interval(correct, 60)
    assert r.accuracy > 0.8


def test_a_probe_on_features_that_are_one_constant_vector_is_exactly_at_chance():
    docs = [i // 2 for i in range(40)]
    y = torch.tensor([i % 2 for i in range(40)])  # every document holds one pair of each label
    r = cross_validate_probe(torch.ones(40, 6), y, docs, folds=5, steps=50)
    assert r.correct == 20 and r.interval[0] < 0.5 < r.interval[1]
