import math

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from explainers.distillation import (LAYER_MAP, cosine_loss, entropy, init_student, soft_target_loss, soft_targets,
                                     triple_loss)


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
