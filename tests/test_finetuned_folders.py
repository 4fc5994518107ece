"""A fine-tuned folder ships only what training changed (`training.loop.save_model_folder(..., base=, shared=)`)
and reads the rest back from its base (`explainers.model.fill_from_base`, through `load_role`): what loads is
exactly the model that was saved, and a base that is not the one it was trained from is refused."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch
from safetensors import safe_open
from transformers import (BertConfig, BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification,
                          BertTokenizerFast)

from explainers.model import BUILTIN_DIR, ROOT, ModelLoadError, load_role
from tests.conftest import write_vocab
from training.loop import save_model_folder

SHARED = ("bert.embeddings.", "bert.encoder.layer.0.")


def _base(folder, seed: int = 0):
    """A tiny 2-layer BERT saved in fp16, as the built-in teacher is."""
    folder.mkdir(parents=True, exist_ok=True)
    tok = BertTokenizerFast(vocab=str(write_vocab(folder)), do_lower_case=True)
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32)
    BertForMaskedLM(cfg).half().save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder, tok


@pytest.fixture
def finetuned(tmp_path):
    """(base folder, fine-tuned folder, the fine-tuned weights as saved): a classifier started from the base whose
    layer 1, pooler and head were changed ("trained"), its embeddings and layer 0 left as the base's."""
    base, tok = _base(tmp_path / "base")
    model = BertForSequenceClassification.from_pretrained(base, num_labels=2, dtype=torch.float32)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith(SHARED):
                p.add_(0.1 * torch.randn(p.shape, generator=g))
    saved = {k: v.half().float() for k, v in model.state_dict().items()}  # the folder is fp16
    folder = tmp_path / "classifier"
    save_model_folder(folder, model, tok, {"step": 1}, base=base, shared=SHARED)
    return base, folder, saved


def _keys(folder) -> set[str]:
    with safe_open(folder / "model.safetensors", "pt") as f:
        return set(f.keys())


def test_the_folder_ships_no_weight_under_the_shared_prefixes(finetuned):
    base, folder, saved = finetuned
    keys = _keys(folder)
    assert keys and not [k for k in keys if k.startswith(SHARED)]
    assert {k for k in saved if not k.startswith(SHARED)} <= keys  # the trained ones are all there
    facts = json.loads((folder / "training.json").read_text())
    assert facts["step"] == 1
    assert facts["base"]["shared"] == list(SHARED)
    assert facts["base"]["sha256"] == hashlib.sha256((base / "model.safetensors").read_bytes()).hexdigest()


def test_load_role_gives_back_every_weight_of_the_finetuned_model(finetuned):
    _, folder, saved = finetuned
    loaded = load_role(str(folder), folder, BertForSequenceClassification).model.state_dict()
    assert loaded.keys() == saved.keys()
    assert any(k.startswith(SHARED) for k in loaded)
    for key, value in saved.items():
        assert torch.equal(loaded[key], value), key


def test_a_changed_base_is_refused(finetuned):
    base, folder, _ = finetuned
    _base(base, seed=1)  # the same architecture, other weights
    with pytest.raises(ModelLoadError) as err:
        load_role(str(folder), folder, BertForSequenceClassification)
    assert err.value.reason == "base_changed"
    assert err.value.fields["name"] == str(folder)


def test_a_missing_base_is_refused(finetuned):
    base, folder, _ = finetuned
    shutil.rmtree(base)
    with pytest.raises(ModelLoadError) as err:
        load_role(str(folder), folder, BertForSequenceClassification)
    assert err.value.reason == "base_changed"


def test_weights_the_base_does_not_share_are_still_missing(finetuned):
    """Read as a QA model, the folder has no qa_outputs: the base fills the embeddings and layer 0, not that."""
    _, folder, _ = finetuned
    with pytest.raises(ModelLoadError) as err:
        load_role(str(folder), folder, BertForQuestionAnswering)
    assert err.value.reason == "no_trained_weights"
    assert err.value.fields["example"].startswith("qa_outputs.")
    assert err.value.fields["missing"] == 2  # qa_outputs.weight and .bias only


def test_without_a_base_every_weight_is_shipped(tmp_path):
    base, tok = _base(tmp_path / "base")
    model = BertForSequenceClassification.from_pretrained(base, num_labels=2)
    save_model_folder(tmp_path / "whole", model, tok, {"step": 0})
    assert _keys(tmp_path / "whole") == set(model.state_dict())
    assert "base" not in json.loads((tmp_path / "whole/training.json").read_text())


def test_a_base_inside_the_repository_is_named_relative_to_it(tmp_path):
    """The shipped folders name `assets/models/teacher`, so a clone anywhere finds it."""
    if not (BUILTIN_DIR / "model.safetensors").exists():
        pytest.skip("the built-in teacher is not in assets/models/teacher")
    _, tok = _base(tmp_path / "base")
    model = BertForSequenceClassification.from_pretrained(tmp_path / "base", num_labels=2)
    save_model_folder(tmp_path / "out", model, tok, {}, base=BUILTIN_DIR, shared=SHARED)
    base = json.loads((tmp_path / "out/training.json").read_text())["base"]
    assert base["path"] == str(BUILTIN_DIR.relative_to(ROOT)) == "assets/models/teacher"
