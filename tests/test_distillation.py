import math

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from explainers.errors import InputError
from explainers.distillation import (LAYER_MAP, compare_soft, cosine_loss, entropy, entropy_by_temperature,
                                     every_other, head_rows, heldout_agreement, init_student, layer_cosines,
                                     near_ties, parameter_breakdown, per_position, soft_target_loss, soft_targets,
                                     source_layers, triple_loss)


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=6, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=20)
    return BertForMaskedLM(cfg).eval()


def test_soft_targets_by_hand():
    z = torch.tensor([2.0, 0.0, -2.0])
    e = [math.exp(1.0), 1.0, math.exp(-1.0)]
    assert torch.allclose(soft_targets(z, 2.0), torch.tensor(e) / sum(e))
    assert entropy(soft_targets(z, 4.0)) > entropy(soft_targets(z, 1.0))  # a higher temperature spreads it


def test_soft_target_loss_by_hand():
    s, t, T = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), 2.0
    ps = torch.tensor([math.exp(0.5), 1.0]) / (math.exp(0.5) + 1)
    pt = ps.flip(0)
    kl = float((pt * (pt / ps).log()).sum())
    assert soft_target_loss(s, t, T).item() == pytest.approx(kl * T ** 2, rel=1e-6)
    # batchmean: two identical rows give the same loss as one (not divided by the vocabulary size)
    assert soft_target_loss(s.repeat(2, 1), t.repeat(2, 1), T).item() == pytest.approx(kl * T ** 2, rel=1e-6)


def test_cosine_loss_by_hand():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 1.0], [2.0, 2.0]])
    assert cosine_loss(a, b).item() == pytest.approx((1 + 0) / 2)


def test_triple_loss_weights_its_terms():
    torch.manual_seed(0)
    s, t = torch.randn(1, 4, 6), torch.randn(1, 4, 6)
    hs, ht = torch.randn(1, 4, 3), torch.randn(1, 4, 3)
    labels = torch.tensor([[-100, 2, -100, 5]])
    att = torch.tensor([[1, 1, 1, 0]])
    out = triple_loss(s, t, labels, hs, ht, att, temperature=2.0, alpha_ce=5, alpha_mlm=2, alpha_cos=1)
    sel = labels[0] != -100
    assert out.soft.item() == pytest.approx(soft_target_loss(s[0, sel], t[0, sel], 2.0).item())
    assert out.mlm.item() == pytest.approx(torch.nn.functional.cross_entropy(s[0, sel], labels[0, sel]).item())
    assert out.cos.item() == pytest.approx(cosine_loss(hs[0, :3], ht[0, :3]).item())
    assert out.total.item() == pytest.approx(5 * out.soft.item() + 2 * out.mlm.item() + out.cos.item(), rel=1e-6)


def test_triple_loss_soft_targets_at_every_real_token():
    torch.manual_seed(0)
    s, t = torch.randn(1, 4, 6), torch.randn(1, 4, 6)
    hs, ht = torch.randn(1, 4, 3), torch.randn(1, 4, 3)
    labels = torch.tensor([[-100, 2, -100, 5]])
    att = torch.tensor([[1, 1, 1, 0]])  # the 4th token is padding: no KL there, though it has a label
    out = triple_loss(s, t, labels, hs, ht, att, temperature=2.0, soft_at="all")
    assert out.soft.item() == pytest.approx(soft_target_loss(s[0, :3], t[0, :3], 2.0).item())
    masked = torch.tensor([False, True, False])
    mlm = torch.nn.functional.cross_entropy(s[0, :3][masked], labels[0, :3][masked])
    assert out.mlm.item() == pytest.approx(mlm.item())
    assert out.soft.item() != pytest.approx(triple_loss(s, t, labels, hs, ht, att, temperature=2.0).soft.item())
    # rows already picked out (how training calls it: the head only at real tokens) give the same loss
    flat = triple_loss(s[0, :3], t[0, :3], labels[0, :3], hs, ht, att, temperature=2.0, soft_at="all")
    assert flat.total.item() == pytest.approx(out.total.item(), rel=1e-6)
    with pytest.raises(InputError):
        triple_loss(s, t, labels, hs, ht, att, soft_at="everywhere")


def test_student_copies_every_other_layer_exactly(teacher):
    student = init_student(teacher, layers=(0, 2, 4))
    assert student.config.n_layers == 3
    for s_layer, t_index in zip(student.distilbert.transformer.layer, (0, 2, 4)):
        t_layer = teacher.bert.encoder.layer[t_index]
        for s_name, t_name in LAYER_MAP.items():
            for p in ("weight", "bias"):
                assert torch.equal(getattr(s_layer.get_submodule(s_name), p),
                                   getattr(t_layer.get_submodule(t_name), p)), f"{s_name}.{p} ≠ layer {t_index}"
    assert torch.equal(student.vocab_transform.weight, teacher.cls.predictions.transform.dense.weight)


def test_student_has_no_token_type_embeddings_or_pooler(teacher):
    student = init_student(teacher)
    names = [n for n, _ in student.named_parameters()]
    assert not any("token_type" in n or "pooler" in n for n in names)


def test_a_student_with_all_teacher_layers_computes_the_teacher(teacher):
    """Folding segment A into positions makes the copy exact for single-sentence input."""
    student = init_student(teacher, layers=tuple(range(6)))
    ids = torch.randint(5, 40, (2, 9), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(student(input_ids=ids).logits, teacher(input_ids=ids).logits, atol=1e-4)


def test_compare_soft_by_hand():
    t, s = torch.tensor([2.0, 0.0, -2.0]), torch.tensor([0.0, 2.0, -2.0])
    c = compare_soft(t, s, 2.0, k=3)
    pt, ps = soft_targets(t, 2.0), soft_targets(s, 2.0)
    assert c.teacher_top == [0, 1, 2] and c.teacher_probs == pytest.approx(pt.tolist())
    assert c.student_probs == pytest.approx(ps.tolist()) and c.student_top[0] == 1
    assert c.kl == pytest.approx(float((pt * (pt / ps).log()).sum()), rel=1e-5)
    assert c.kl * 4 == pytest.approx(soft_target_loss(s[None], t[None], 2.0).item(), rel=1e-5)  # T² · KL
    assert c.teacher_entropy == pytest.approx(float(entropy(pt))) and not c.agree
    assert compare_soft(t, t * 3, 5.0, k=2).agree  # same arg-max, whatever the sharpness


def test_layer_cosines_of_a_model_with_itself_is_one_on_the_diagonal_and_ignores_padding(teacher):
    ids = torch.randint(5, 40, (1, 7), generator=torch.Generator().manual_seed(2))
    att = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        hs = teacher.bert(input_ids=ids, attention_mask=att, output_hidden_states=True).hidden_states
    cos = layer_cosines(hs, hs, att)
    assert cos.shape == (7, 7) and torch.allclose(cos.diagonal(), torch.ones(7), atol=1e-5)
    by_hand = torch.nn.functional.cosine_similarity(hs[1][0, :5], hs[3][0, :5], dim=-1).mean()
    assert cos[1, 3].item() == pytest.approx(by_hand.item(), abs=1e-5)


def test_a_full_copy_of_the_teacher_agrees_everywhere_and_a_half_copy_does_not(teacher):
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(5, 40, (8, 12), generator=g)
    ids[:, 0], ids[:, -1] = 2, 3
    special = ((ids == 2) | (ids == 3)).long()
    packed = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "special": special}
    full = heldout_agreement(init_student(teacher, tuple(range(6))), teacher, packed, mask_token_id=4,
                             vocab_size=40)
    assert full["agreement"] == 1.0 and full["kl"] == pytest.approx(0.0, abs=1e-4)
    assert full["student_top1"] == full["teacher_top1"] and full["positions"] > 0
    # untrained, the teacher is nearly undecided everywhere: all near ties, and the empty "clear" group is NaN, not 0
    assert full["near_tie_share"] == 1.0 and full["agreement_near_tie"] == 1.0 and math.isnan(full["agreement_clear"])
    half = heldout_agreement(init_student(teacher), teacher, packed, mask_token_id=4, vocab_size=40)
    assert half["kl"] > full["kl"] and half["positions"] == full["positions"]  # same seed: the same positions
    # the two groups make up the whole: share · near-tie agreement + (1 − share) · clear agreement
    share = half["near_tie_share"]
    parts = [(share, half["agreement_near_tie"]), (1 - share, half["agreement_clear"])]
    assert sum(w * a for w, a in parts if w > 0) == pytest.approx(half["agreement"])


def test_near_ties_by_hand():
    # probabilities (0.50, 0.48, 0.02): a near tie; (0.70, 0.20, 0.10): not; (0.40, 0.36, 0.24): margin 0.04 < 0.05
    probs = torch.tensor([[0.50, 0.48, 0.02], [0.70, 0.20, 0.10], [0.40, 0.36, 0.24], [0.1, 0.3, 0.6]])
    assert near_ties(probs.log()).tolist() == [True, False, True, False]
    assert near_ties(probs.log(), margin=0.51).tolist() == [True, True, True, True]


def test_parameter_breakdown_adds_up_and_the_student_has_no_segments(teacher):
    for model in (teacher, init_student(teacher)):
        parts = parameter_breakdown(model)
        assert sum(parts.values()) == model.num_parameters()
    assert parameter_breakdown(init_student(teacher))["segment"] == 0
    t, s = parameter_breakdown(teacher), parameter_breakdown(init_student(teacher))
    assert s["layers"] * 2 == t["layers"]


def test_encoder_latency_interleaves_the_models_and_keeps_every_run(monkeypatch):
    """On a fake clock each call takes a known time: the warm-up runs are left out, every timed run is kept in
    order, and the median of an even count is the mean of the middle two, which one slow run cannot move."""
    from types import SimpleNamespace

    from explainers import speed

    calls, clock = [], [0.0]
    seconds = {"a": [9.0, 0.004, 0.001, 0.100, 0.002], "b": [9.0, 0.010, 0.030, 0.020, 0.040]}  # warm-up first

    class Fake(torch.nn.Module):
        def __init__(self, name):
            super().__init__()
            self.name = name

        @property
        def base_model(self):
            def forward(**kw):
                clock[0] += seconds[self.name][calls.count(self.name)]
                calls.append(self.name)
            return forward

    monkeypatch.setattr(speed, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    out = speed.encoder_latency({"a": Fake("a"), "b": Fake("b")}, torch.ones(1, 3, dtype=torch.long),
                                torch.ones(1, 3, dtype=torch.long), repeats=4, warmup=1)
    assert calls == ["a", "b"] * 5
    assert out["a"].runs_ms == pytest.approx([4.0, 1.0, 100.0, 2.0]) and out["a"].median_ms == pytest.approx(3.0)
    assert out["b"].runs_ms == pytest.approx([10.0, 30.0, 20.0, 40.0]) and out["b"].median_ms == pytest.approx(25.0)


def test_the_training_script_defaults_are_the_shipped_students_settings():
    """`python -m training.distill` trains with the loss the chapter says trained the built-in student."""
    from explainers.distillation import LossSettings, trained_with
    from explainers.model import ROOT
    from training.distill import Config

    shipped = trained_with(ROOT / "assets/models/student")
    assert shipped == LossSettings(Config.temperature, Config.alpha_ce, Config.alpha_mlm, Config.alpha_cos,
                                   Config.soft_at)


def test_per_position_and_entropy_curve_equal_the_one_row_versions():
    torch.manual_seed(1)
    t, s = torch.randn(5, 50) * 3, torch.randn(5, 50) * 3
    agree, kl = per_position(t, s, 2.0)
    for i in range(5):
        one = compare_soft(t[i], s[i], 2.0, k=3)
        assert agree[i] == one.agree and kl[i] == pytest.approx(one.kl, rel=1e-5, abs=1e-7)
    temps = [0.5, 1.0, 4.0]
    assert entropy_by_temperature(t[0], temps) == pytest.approx(
        [float(entropy(soft_targets(t[0], x))) for x in temps], rel=1e-5)


@pytest.mark.parametrize("text", ["not json", "[]", '{"config": {"temperature": "2"}}',
                                  '{"config": {"temperature": "x", "alpha_ce": 5, "alpha_mlm": 2, "alpha_cos": 1}}',
                                  '{"config": {"temperature": 1, "alpha_ce": 5, "alpha_mlm": 2, "alpha_cos": 1, '
                                  '"soft_at": "everywhere"}}'])
def test_trained_with_ignores_a_training_json_that_is_not_ours(tmp_path, text):
    from explainers.distillation import trained_with

    (tmp_path / "training.json").write_text(text)
    assert trained_with(tmp_path) is None
    assert trained_with(tmp_path / "missing") is None


def test_head_rows_are_every_real_token_or_the_masked_ones():
    labels = torch.tensor([[-100, 7, -100, 9, -100]])
    att = torch.tensor([[1, 1, 1, 1, 0]])
    assert head_rows(labels, att, "all").tolist() == [[True, True, True, True, False]]
    assert head_rows(labels, att, "masked").tolist() == [[False, True, False, True, False]]


def test_every_other_and_the_recorded_source_layers(tmp_path):
    assert every_other(6, 3) == (0, 2, 4) and every_other(12, 6) == (0, 2, 4, 6, 8, 10) and every_other(2, 1) == (0,)
    assert source_layers(tmp_path, 6, 3) == ((0, 2, 4), False)  # no training.json
    (tmp_path / "training.json").write_text('{"teacher_layers": [1, 3, 5]}')
    assert source_layers(tmp_path, 6, 3) == ((1, 3, 5), True)
    assert source_layers(tmp_path, 6, 2) == ((0, 3), False)  # three layers recorded for a 2-layer student: not ours
    (tmp_path / "training.json").write_text("not json")
    assert source_layers(tmp_path, 6, 3) == ((0, 2, 4), False)


def test_the_soft_term_is_t_squared_times_kl_as_the_loss_computes_it():
    g = torch.Generator().manual_seed(0)
    t, s = torch.randn(1, 30, generator=g), torch.randn(1, 30, generator=g)
    for temp in (0.5, 1.0, 4.0):
        cmp = compare_soft(t[0], s[0], temp)
        assert cmp.soft_term == pytest.approx(float(soft_target_loss(s, t, temp)), rel=1e-4)
        assert cmp.soft_term == pytest.approx(temp ** 2 * cmp.kl)


def test_the_heldout_kl_is_teacher_to_student(teacher):
    """KL(teacher ‖ student), recomputed here on the same masked positions: the reverse direction differs."""
    from explainers.masking import IGNORE_INDEX, mask_tokens

    g = torch.Generator().manual_seed(5)
    ids = torch.randint(5, 40, (6, 12), generator=g)
    ids[:, 0], ids[:, -1] = 2, 3
    special = ((ids == 2) | (ids == 3)).long()
    att = torch.ones_like(ids)
    student = init_student(teacher)
    with torch.no_grad():  # the student's head made sharper, so that the two directions are far apart
        student.vocab_projector.bias.copy_(torch.linspace(-3, 3, 40))
    got = heldout_agreement(student, teacher, {"input_ids": ids, "attention_mask": att, "special": special},
                            mask_token_id=4, vocab_size=40, seed=7)
    m = mask_tokens(ids, special, mask_token_id=4, vocab_size=40, generator=torch.Generator().manual_seed(7))
    sel = m.labels != IGNORE_INDEX
    with torch.no_grad():
        log_t = teacher(input_ids=m.input_ids, attention_mask=att).logits[sel].log_softmax(-1)
        log_s = student(input_ids=m.input_ids, attention_mask=att).logits[sel].log_softmax(-1)
    forward = float((log_t.exp() * (log_t - log_s)).sum(-1).mean())
    backward = float((log_s.exp() * (log_s - log_t)).sum(-1).mean())
    assert abs(forward - backward) > 0.05
    assert got["kl"] == pytest.approx(forward, rel=1e-4)
