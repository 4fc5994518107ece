"""ui.warm: what it warms is what a first visitor's page asks the caches for."""
from __future__ import annotations

import threading

from explainers.model import BUILTIN_NAME
from ui import distill as D
from ui import electra as E
from ui import state, warm


def test_each_warming_step_fills_the_cache_a_page_reads():
    """After `warm._run`, the pages' own calls (the same arguments) are cache hits: they return the very objects
    the warm-up computed. A warm-up that called another function, or the same one with other arguments, fails."""
    warm._run(warm.steps("cpu"))
    assert state.get_model(BUILTIN_NAME, "cpu") is state.get_model(BUILTIN_NAME, "cpu")
    pair = E.get_pair(BUILTIN_NAME, BUILTIN_NAME, "cpu")
    assert pair[0] is E.get_pair(BUILTIN_NAME, BUILTIN_NAME, "cpu")[0]
    names = [name for name, _ in warm.steps("cpu")]
    assert names[0] == "model" and "ELECTRA held-out ROC" in names and "distillation held-out agreement" in names
    # cache_data returns copies; a hit is fast: time a second call against a cold one of another seed
    import time
    t = time.perf_counter()
    E.heldout_roc(BUILTIN_NAME, BUILTIN_NAME, "cpu")
    hit = time.perf_counter() - t
    t = time.perf_counter()
    E.heldout_roc(BUILTIN_NAME, BUILTIN_NAME, "cpu", seed=7)
    miss = time.perf_counter() - t
    assert hit < miss / 5, (hit, miss)
    t = time.perf_counter()
    D.heldout(BUILTIN_NAME, BUILTIN_NAME, "cpu")
    assert time.perf_counter() - t < miss / 5


def test_the_warm_up_runs_once_per_server_in_a_daemon_thread():
    first = warm.start("cpu")
    assert isinstance(first, threading.Thread) and first.daemon and first.name == warm.THREAD
    assert warm.start("cpu") is first
    first.join(timeout=600)


def test_the_test_suite_runs_the_app_without_the_warm_up(monkeypatch):
    assert not warm.enabled()  # tests/conftest.py sets INSIDE_BERT_WARM=0
    monkeypatch.setenv("INSIDE_BERT_WARM", "1")
    assert warm.enabled()


def test_after_the_warm_up_the_family_steps_open_without_running_the_model(monkeypatch):
    """ERNIE's probe, UniLM's three masks and the logit lens are what the family chapter's steps open with: once
    `FA.warm_defaults` has run, the steps draw with every model call of theirs made to fail (a warm-up that
    computed other positions, another layer or another text fails here)."""
    import explainers.family.ernie
    import explainers.family.unilm
    import explainers.lens
    from tests.test_pages import _app
    from ui import family as FA
    from ui.chapters import chapter
    from ui.text import t

    state.get_model(BUILTIN_NAME, "cpu")
    FA.warm_defaults(BUILTIN_NAME, "cpu", state.DEFAULT_A, state.DEFAULT_B, t("family.ernie_example", "en"))

    def refuse(*args, **kwargs):
        raise RuntimeError("not warmed")

    for module, name in [(explainers.family.unilm, "predict_under"), (explainers.family.unilm, "attention_under"),
                         (explainers.family.ernie, "probe_unit"), (explainers.lens, "logit_lens"),
                         (explainers.lens, "top1_when_hidden")]:  # the lens's opening position, measured
        monkeypatch.setattr(module, name, refuse)
    steps = chapter("family").steps
    for key in ("ernie-probe", "unilm", "unilm-attention", "unilm-guesses", "lens"):
        at = _app("pages/family.py", present="1", step=str(steps.index(key) + 1))
        assert not at.exception, (key, at.exception)


def test_the_distillation_teacher_is_the_sidebars_teacher_not_a_second_copy():
    """The built-in teacher loads once: the sidebar's model and the distillation pair's teacher are one object
    (they were two 91 MB copies, cached under two head names)."""
    teacher, _ = D.get_pair(BUILTIN_NAME, BUILTIN_NAME, "cpu")
    assert teacher is state.get_model(BUILTIN_NAME, "cpu")


def test_the_warm_up_hands_freed_memory_back_when_it_is_done(monkeypatch):
    calls = []
    monkeypatch.setattr(warm, "release_memory", lambda: calls.append("trim"))
    warm._run([("a step", lambda: calls.append("step"))])
    assert calls == ["step", "trim"]
    monkeypatch.undo()  # the real one, on this glibc machine
    assert warm.release_memory() is True


def test_the_warm_up_reports_each_step_and_its_end_in_the_servers_log(monkeypatch):
    """The server's log shows what was warmed and when the warm-up ended: the benchmark waits for that last line
    (harness.browser.wait_warmed) before it times sliders, and an operator reads it there."""
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    warm.log.addHandler(handler)
    monkeypatch.setattr(warm, "release_memory", lambda: True)

    def broken():
        raise RuntimeError("no model")

    try:
        warm._run([("a step", lambda: None), ("a broken step", broken)])
    finally:
        warm.log.removeHandler(handler)
    lines = [r.getMessage() for r in records]
    assert lines[0].startswith("warmed a step in ") and lines[1] == "could not warm a broken step"
    assert lines[-1].startswith(warm.DONE + " in ") and len(lines) == 3
    assert warm.log.isEnabledFor(logging.INFO)  # Streamlit's level (info unless --logger.level says otherwise)


def test_fine_tuned_built_in_models_hold_their_frozen_weights_once():
    """The QA model's embeddings, the classifier's embeddings and first two layers, and the ELECTRA generator's
    embeddings are frozen copies of their base's: loaded, they are the base's own tensors (one copy in memory), the
    generator's output layer is still tied to its input embeddings, and the outputs are those of separate copies."""
    import torch

    from explainers.model import load_role
    from transformers import ElectraForMaskedLM
    from ui import finetune as F

    teacher = state.get_model(BUILTIN_NAME, "cpu").model
    qa = F.get_qa(BUILTIN_NAME, "cpu").model
    nsp = F.load_classifier("cpu")[1].finetuned
    ptr = teacher.bert.embeddings.word_embeddings.weight.data_ptr()
    assert qa.bert.embeddings.word_embeddings.weight.data_ptr() == ptr
    assert nsp.bert.embeddings.word_embeddings.weight.data_ptr() == ptr
    assert (nsp.bert.encoder.layer[1].attention.self.query.weight.data_ptr()
            == teacher.bert.encoder.layer[1].attention.self.query.weight.data_ptr())
    assert (nsp.bert.encoder.layer[2].attention.self.query.weight.data_ptr()  # fine-tuned: its own
            != teacher.bert.encoder.layer[2].attention.self.query.weight.data_ptr())
    gen, disc = E.get_pair(BUILTIN_NAME, BUILTIN_NAME, "cpu")
    g_emb = gen.model.electra.embeddings.word_embeddings.weight
    assert g_emb.data_ptr() == disc.model.electra.embeddings.word_embeddings.weight.data_ptr()
    assert gen.model.get_output_embeddings().weight.data_ptr() == g_emb.data_ptr()
    alone = load_role(BUILTIN_NAME, E.GENERATOR_DIR, ElectraForMaskedLM).model  # a separate copy of everything
    ids = torch.tensor([[101, 1996, 103, 2003, 102]])
    with torch.no_grad():
        assert torch.equal(alone(ids).logits, gen.model(ids).logits)
