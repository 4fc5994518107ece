"""The Distillation chapter through AppTest: the numbers on the page are the explainers' on the same input."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.test_pages import _app
from ui.html import md_escape

TEXT = "the big red cat sat on the mat . the dog ran"


@pytest.fixture(scope="module")
def tiny_student_dir(tiny_bert_dir, tmp_path_factory):
    """A 1-layer DistilBERT student initialised from the tiny BERT teacher, with the teacher's tokenizer."""
    from transformers import AutoTokenizer, BertForMaskedLM

    from explainers.distillation import init_student

    folder = tmp_path_factory.mktemp("tiny-student")
    init_student(BertForMaskedLM.from_pretrained(tiny_bert_dir), layers=(1,)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(folder)
    return folder


def _masked_input(teacher_dir, student_dir, text, rate, seed):
    """Both models, and the text masked as the page masks it (same rate and seed)."""
    from transformers import AutoModelForMaskedLM

    from explainers.masking import mask_tokens
    from explainers.encoding import encode_text
    from explainers.model import load_role

    t = load_role(str(teacher_dir), teacher_dir, AutoModelForMaskedLM)
    s = load_role(str(student_dir), student_dir, AutoModelForMaskedLM)
    enc = encode_text(t.tokenizer, text, max_length=t.max_positions)
    special = torch.tensor([[int(i in t.tokenizer.all_special_ids) for i in enc.input_ids[0].tolist()]])
    m = mask_tokens(enc.input_ids, special, mask_token_id=t.tokenizer.mask_token_id, vocab_size=len(t.tokenizer),
                    rate=rate, generator=torch.Generator().manual_seed(seed))
    return t, s, enc, m


def _masked(teacher_dir, student_dir, text, rate, seed):
    from explainers.mlm import encode, mlm_head

    t, s, enc, m = _masked_input(teacher_dir, student_dir, text, rate, seed)
    sel = m.labels[0] != -100
    with torch.no_grad():
        tl = mlm_head(t.model, encode(t.model, m.input_ids, enc.attention_mask)[0, sel])
        sl = mlm_head(s.model, encode(s.model, m.input_ids, enc.attention_mask)[0, sel])
    return sel.nonzero()[:, 0].tolist(), tl, sl, t, s


def test_the_page_masks_like_training_and_compares_the_same_logits(tiny_bert_dir, tiny_student_dir):
    at = _app("pages/distillation.py", d_teacher=str(tiny_bert_dir), d_student=str(tiny_student_dir), a=TEXT,
              d_rate="50", d_seed="4", d_temp="3.0")
    positions, tl, sl, t, s = _masked(tiny_bert_dir, tiny_student_dir, TEXT, 0.5, 4)
    table = at.dataframe[1].value
    assert list(table["position"]) == positions
    assert list(table["agree"]) == ["✓" if a else "✗" for a in (tl.argmax(-1) == sl.argmax(-1)).tolist()]
    p = tl.softmax(-1).sort(-1, descending=True).values
    assert list(table["teacher's lead"]) == pytest.approx((p[:, 0] - p[:, 1]).tolist(), abs=1e-6)
    from explainers.distillation import entropy, soft_targets

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Teacher entropy"] == f"{float(entropy(soft_targets(tl[0], 3.0))):.2f} nats"
    assert metrics["Student entropy"] == f"{float(entropy(soft_targets(sl[0], 3.0))):.2f} nats"


def test_a_rate_seen_before_runs_no_soft_target_code_and_opens_on_the_surest_position(tiny_bert_dir,
                                                                                        tiny_student_dir, monkeypatch):
    """Issue 29: moving the Rate slider back to a rate seen before takes the masking, the temperature's comparison
    and the teacher's entropy from the cache; the position the temperature step opens on is the teacher's surest."""
    import explainers.distillation as dist

    calls = []
    real = dist.compare_soft
    monkeypatch.setattr(dist, "compare_soft", lambda *a, **k: calls.append(a) or real(*a, **k))
    text = "the small grey cat slept on the warm mat . the dog barked"  # no other test caches this sentence
    at = _app("pages/distillation.py", d_teacher=str(tiny_bert_dir), d_student=str(tiny_student_dir), a=text,
              d_rate="50", d_seed="4", d_temp="3.0")
    assert len(calls) == 1
    positions, tl, sl, _, _ = _masked(tiny_bert_dir, tiny_student_dir, text, 0.5, 4)
    surest = int(tl.softmax(-1).amax(-1).argmax())
    assert at.selectbox(key="d_pos").value == surest
    caption = next(c.value for c in at.caption if "entropy here" in c.value)
    h1 = float(dist.entropy_by_temperature(tl[surest], [1.0])[0])
    assert f"{h1:.2f}" in caption
    at.slider(key="d_rate").set_value(40).run()
    assert len(calls) == 2
    at.slider(key="d_rate").set_value(50).run()
    assert not at.exception and len(calls) == 2  # nothing recomputed: the cache answered
    at.slider(key="d_temp").set_value(5.0).run()
    assert len(calls) == 3  # a new temperature is a new comparison


def test_the_parameter_table_is_the_models_own_count(tiny_bert_dir, tiny_student_dir):
    at = _app("pages/distillation.py", d_teacher=str(tiny_bert_dir), d_student=str(tiny_student_dir), a=TEXT)
    _, _, _, t, s = _masked(tiny_bert_dir, tiny_student_dir, TEXT, 0.15, 0)
    table = at.dataframe[0].value
    total = table[table["part"] == "total"]
    assert int(total["teacher"].iloc[0]) == t.model.num_parameters()
    assert int(total["student"].iloc[0]) == s.model.num_parameters()
    assert int(table[table["part"] == "segment (token-type) embeddings"]["student"].iloc[0]) == 0


def test_the_temperature_slider_spreads_the_soft_targets():
    at = _app("pages/distillation.py", d_rate="30", d_temp="1.0")
    cold = float(next(m.value for m in at.metric if m.label == "Teacher entropy").split()[0])
    at.slider(key="d_temp").set_value(8.0).run()
    assert not at.exception
    hot = float(next(m.value for m in at.metric if m.label == "Teacher entropy").split()[0])
    assert hot > cold


def test_an_unknown_student_shows_an_error_and_falls_back_to_the_built_in_pair():
    at = _app("pages/distillation.py", d_student="no-such-user/no-such-student")
    assert any(md_escape("Could not load 'no-such-user/no-such-student'") in e.value for e in at.error)
    assert any(m.label == "Student speed-up" for m in at.metric)


def test_a_student_with_another_vocabulary_is_refused(tiny_bert_dir):
    at = _app("pages/distillation.py", d_student=str(tiny_bert_dir))  # built-in teacher, 19-piece vocabulary
    assert any("different vocabularies" in e.value for e in at.error)


def _loss_reference(teacher_dir, student_dir, text, rate, seed, settings):
    """The triple loss on the page's masked sentence, computed here from the explainers alone."""
    from dataclasses import asdict

    from explainers.distillation import triple_loss
    from explainers.mlm import encode, mlm_head

    t, s, enc, m = _masked_input(teacher_dir, student_dir, text, rate, seed)
    with torch.no_grad():
        th = encode(t.model, m.input_ids, enc.attention_mask, enc.token_type_ids)
        sh = encode(s.model, m.input_ids, enc.attention_mask)
        return triple_loss(mlm_head(s.model, sh), mlm_head(t.model, th), m.labels, sh, th, enc.attention_mask,
                           **asdict(settings))


def test_the_loss_is_the_one_that_trained_the_builtin_student():
    from explainers.distillation import trained_with
    from explainers.model import BUILTIN_DIR
    from ui.distill import STUDENT_DIR

    settings = trained_with(STUDENT_DIR)
    assert settings is not None
    at = _app("pages/distillation.py", a=TEXT, d_rate="30", d_seed="2")
    assert not at.exception
    out = _loss_reference(BUILTIN_DIR, STUDENT_DIR, TEXT, 0.3, 2, settings)
    page = " ".join(m.value for m in at.markdown)
    assert f"**T = {settings.temperature:g}**" in page and f"α_mlm = {settings.alpha_mlm:g}" in page
    captions = " ".join(c.value for c in at.caption)
    assert f"T² · KL = {float(out.soft):.3f} nats" in captions
    assert f"MLM = {float(out.mlm):.3f} nats" in captions
    assert f"1 − cos = {float(out.cos):.3f}" in captions


def test_a_student_without_training_facts_is_shown_with_the_papers_loss(tiny_bert_dir, tiny_student_dir):
    from explainers.distillation import PAPER

    at = _app("pages/distillation.py", d_teacher=str(tiny_bert_dir), d_student=str(tiny_student_dir), a=TEXT,
              d_rate="50", d_seed="4")
    page = " ".join(m.value for m in at.markdown)
    assert "does not say how it was trained" in page and "**T = 2**" in page
    out = _loss_reference(tiny_bert_dir, tiny_student_dir, TEXT, 0.5, 4, PAPER)
    assert f"T² · KL = {float(out.soft):.3f} nats" in " ".join(c.value for c in at.caption)


def test_the_layer_map_is_the_one_the_student_records(tiny_bert_dir, tiny_student_dir, tmp_path):
    """The tiny student started from teacher layer 1; DistilBERT's rule would say 0."""
    import json
    import shutil

    at = _app("pages/distillation.py", d_teacher=str(tiny_bert_dir), d_student=str(tiny_student_dir), a=TEXT)
    assert "teacher layers 0 (every other)" in " ".join(c.value for c in at.caption)
    recorded = tmp_path / "student"
    shutil.copytree(tiny_student_dir, recorded)
    (recorded / "training.json").write_text(json.dumps({"teacher_layers": [1]}))
    at = _app("pages/distillation.py", d_teacher=str(tiny_bert_dir), d_student=str(recorded), a=TEXT)
    assert "started from teacher layers 1, as its training.json records" in " ".join(c.value for c in at.caption)


def test_the_built_in_pairs_quality_row_is_the_model_cards_measurement_and_a_retrained_student_is_not():
    """The built-in pair's held-out numbers on the page are the ones `training/cards/student.py` measured and wrote to
    the README (one measurement, not a second, smaller one); a measured.json that names other weights is
    ignored."""
    import json
    import shutil

    from explainers.model import BUILTIN_DIR, ROOT, measured_facts

    student = ROOT / "assets/models/student"
    facts = json.loads((student / "measured.json").read_text())
    assert facts["sequences"] == 512 and facts["seed"] == 1234
    card = (student / "README.md").read_text()
    assert f"**{facts['student_top1']:.1%}**" in card and f"| {facts['teacher_top1']:.1%} |" in card
    at = _app("pages/distillation.py")
    quality = f"{facts['student_top1']:.1%} vs the teacher's {facts['teacher_top1']:.1%}"
    assert any(quality in str(row) for table in at.table for row in table.value.values.tolist())
    assert any(f"{facts['positions']:,} masked positions" in c.value for c in at.caption)
    masking = _app("pages/masking.py")
    assert any(f"**{facts['teacher_top1']:.1%}**" in c.value for c in masking.caption)
    # the same file beside other weights is not theirs
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(student / "measured.json", d)
        (Path(d) / "model.safetensors").write_bytes(b"retrained")
        assert measured_facts(d, student=Path(d) / "model.safetensors",
                              teacher=BUILTIN_DIR / "model.safetensors") is None
        assert measured_facts(d, teacher=BUILTIN_DIR / "model.safetensors")["teacher_top1"] == facts["teacher_top1"]


@pytest.mark.parametrize("step", range(1, 8))
def test_every_presenter_step_of_the_built_in_pair_draws_without_code_names(step):
    """The built-in student records its settings (training.json) and its quality (training/cards/student.py): the page
    says so, the presenter's steps do not."""
    from harness.walk import code_identifiers, find_code
    from ui.chapters import chapter

    assert len(chapter("distillation").steps) == 7
    at = _app("pages/distillation.py", present="1", step=str(step))
    text = " ".join(e.value for e in [*at.main.markdown, *at.main.caption])
    assert not find_code(text, code_identifiers())
    assert not [e for e in at.main.expander if e.label == "The teacher and the student"]  # no pair box


def test_the_speed_meter_opens_on_its_last_measurement_and_measures_again_when_asked(tiny_bert_dir, tiny_student_dir,
                                                                                   monkeypatch):
    """A step opens at once: the server keeps each text's last measurement; "Measure again" replaces it."""
    from explainers import speed
    from ui import distill as D

    calls = []
    real = speed.encoder_latency
    monkeypatch.setattr(speed, "encoder_latency", lambda *a, **k: calls.append(1) or real(*a, **k))
    args = (str(tiny_bert_dir), str(tiny_student_dir), "cpu", TEXT + " timed", "")
    first = D.speed(*args)
    assert D.speed(*args) is first and len(calls) == 1
    again = D.speed(*args, again=True)
    assert again is not first and len(calls) == 2 and D.speed(*args) is again
