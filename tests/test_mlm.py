import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explainers.masking import IGNORE_INDEX, mask_tokens
from explainers.corpus import load_packed
from explainers.mlm import accuracy_by_rate, masked_lm_loss, predict, rate_curve


@pytest.fixture(scope="module")
def tiny(tiny_bert_dir):
    return AutoModelForMaskedLM.from_pretrained(tiny_bert_dir).eval(), AutoTokenizer.from_pretrained(tiny_bert_dir)


def _masked_batch(tok, seed=0):
    ids = torch.randint(5, len(tok), (4, 12), generator=torch.Generator().manual_seed(seed))
    ids[:, 0], ids[:, -1] = tok.cls_token_id, tok.sep_token_id
    special = ((ids == tok.cls_token_id) | (ids == tok.sep_token_id)).long()
    m = mask_tokens(ids, special, mask_token_id=tok.mask_token_id, vocab_size=len(tok), rate=0.4,
                    generator=torch.Generator().manual_seed(seed))
    return ids, special, m


def test_loss_on_selected_positions_equals_hf_full_vocabulary_loss(tiny):
    model, tok = tiny
    _, _, m = _masked_batch(tok)
    att = torch.ones_like(m.input_ids)
    with torch.no_grad():
        ours = masked_lm_loss(model, m.input_ids, att, m.labels)
        ref = model(input_ids=m.input_ids, attention_mask=att, labels=m.labels).loss
    assert torch.allclose(ours.loss, ref, atol=1e-5)
    assert len(ours.labels) == int((m.labels != IGNORE_INDEX).sum())


def test_predict_gives_ranks_and_probabilities_of_the_targets(tiny):
    model, tok = tiny
    ids = torch.tensor([[tok.cls_token_id, 5, tok.mask_token_id, 7, tok.sep_token_id]])
    p = predict(model, ids, torch.ones_like(ids), [2], k=4, targets=[9])
    with torch.no_grad():
        probs = model(input_ids=ids).logits[0, 2].softmax(-1)
    assert torch.allclose(p.top_probs[0], probs.topk(4).values, atol=1e-6)
    assert int(p.target_ranks[0]) == int((probs > probs[9]).sum())
    assert torch.isclose(p.target_probs[0], probs[9], atol=1e-6)


def test_rate_curve_masks_with_the_training_function(tiny):
    model, tok = tiny
    ids, special, _ = _masked_batch(tok, seed=1)
    att = torch.ones_like(ids)
    points = accuracy_by_rate(model, ids, att, special, mask_token_id=tok.mask_token_id, vocab_size=len(tok),
                              rates=[0.2, 0.5], seed=5)
    for point in points:
        m = mask_tokens(ids, special, mask_token_id=tok.mask_token_id, vocab_size=len(tok), rate=point.rate,
                        generator=torch.Generator().manual_seed(5))
        with torch.no_grad():
            out = masked_lm_loss(model, m.input_ids, att, m.labels)
        assert point.targets_per_sequence == pytest.approx(len(out.labels) / len(ids))
        assert point.loss == pytest.approx(float(out.loss), abs=1e-6)
        assert point.top1 == pytest.approx(float((out.logits.argmax(-1) == out.labels).float().mean()))


def test_a_rate_curve_over_seeds_is_accuracy_by_rate_per_seed_with_its_mean_and_spread(tiny):
    model, tok = tiny
    ids, special, _ = _masked_batch(tok, seed=2)
    att = torch.ones_like(ids)
    kw = dict(mask_token_id=tok.mask_token_id, vocab_size=len(tok), rates=[0.15, 0.4])
    curve = rate_curve(model, ids, att, special, seeds=[3, 4, 5], **kw)
    rows = [accuracy_by_rate(model, ids, att, special, seed=s, **kw) for s in (3, 4, 5)]
    assert curve.top1 == [[p.top1 for p in row] for row in rows] and curve.sequences == 4
    top1 = torch.tensor(curve.top1)
    assert curve.mean("top1") == pytest.approx(top1.mean(0).tolist())
    assert curve.std("top1") == pytest.approx(top1.std(0).tolist()) and max(curve.std("loss")) > 0
    assert curve.targets_per_sequence[1] == pytest.approx(sum(r[1].targets_per_sequence for r in rows) / 3)


def test_the_shipped_rate_curve_is_the_built_in_teachers_own_measurement():
    """assets/models/teacher/rate_curve.json names the teacher's weights and the held-out text it was measured
    on, and its seed-0 row is what accuracy_by_rate gives for them now (12 forward passes)."""
    import json

    from explainers.model import file_sha256
    from training import rate_curve as script

    facts = json.loads((script.TEACHER / script.FILE).read_text())
    assert facts["model_sha256"] == file_sha256(script.TEACHER / "model.safetensors")
    assert facts["heldout_sha256"] == file_sha256(script.HELDOUT)
    curve = facts["curve"]
    assert curve["rates"] == script.RATES and len(curve["seeds"]) >= 5
    tok = AutoTokenizer.from_pretrained(script.TEACHER)
    model = AutoModelForMaskedLM.from_pretrained(script.TEACHER, dtype=torch.float32, attn_implementation="eager")
    batch = load_packed(script.HELDOUT, tok, seq_len=128, max_sequences=curve["sequences"])
    now = accuracy_by_rate(model.eval(), batch["input_ids"], batch["attention_mask"], batch["special"],
                           mask_token_id=tok.mask_token_id, vocab_size=len(tok), rates=curve["rates"],
                           seed=curve["seeds"][0])
    assert [p.top1 for p in now] == pytest.approx(curve["top1"][0], abs=1e-6)
