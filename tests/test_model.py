import time

import pytest
import torch

from explainers.encoding import clean_text, EmptyInputError, encode_text, Note

from explainers.model import ModelLoadError, load_model
from ui.text import error_text, note_text


def test_builtin_loads_offline_in_float32_with_attentions(builtin):
    assert builtin.config.model_type == "bert" and builtin.config.num_hidden_layers == 6
    assert next(builtin.model.parameters()).dtype == torch.float32
    enc = encode_text(builtin.tokenizer, "The cat sat.")
    out = builtin.encoder(input_ids=enc.input_ids, output_attentions=True)
    assert len(out.attentions) == 6 and out.attentions[0].shape == (1, 12, len(enc.tokens), len(enc.tokens))


def test_local_folder_loads_and_keeps_its_mlm_head(tiny_bert_dir):
    lm = load_model(str(tiny_bert_dir))
    assert lm.has_mlm_head and type(lm.model).__name__ == "BertForMaskedLM"
    assert lm.config.hidden_size == 16 and not lm.model.training


def test_unknown_hub_id_fails_fast_with_a_readable_message():
    t = time.perf_counter()
    with pytest.raises(ModelLoadError) as err:
        load_model("no-such-user/no-such-model")
    assert err.value.reason in ("offline", "not_available_local")  # "not available" where the Hub answers
    assert err.value.fields["name"] == "no-such-user/no-such-model" and "no-such-user/no-such-model" in error_text(err.value)
    assert time.perf_counter() - t < 15, "an offline machine must not wait for the Hub client's retries"


def test_a_decoder_model_is_refused(tmp_path):
    from transformers import GPT2Config, GPT2Model

    GPT2Model(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10, n_positions=8)).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError) as err:
        load_model(str(tmp_path))
    assert (err.value.reason, err.value.fields["kind"]) == ("unsupported_type", "gpt2")
    assert "gpt2 model" in error_text(err.value)


def test_a_pair_gets_segments_a_and_b(builtin):
    enc = encode_text(builtin.tokenizer, "The cat sat.", "It slept.")
    assert enc.tokens[0] == "[CLS]" and enc.tokens.count("[SEP]") == 2
    first_sep = enc.tokens.index("[SEP]")
    assert enc.segment[: first_sep + 1] == ["A"] * (first_sep + 1)
    assert enc.segment[first_sep + 1:] == ["B"] * (len(enc.tokens) - first_sep - 1)


def test_long_text_is_truncated_at_the_position_limit_and_says_so(builtin):
    enc = encode_text(builtin.tokenizer, "word " * 3000, max_length=512)
    assert len(enc.tokens) == 512 and enc.truncated and enc.tokens[-1] == "[SEP]"
    note = next(n for n in enc.notes if n.reason == "truncated")
    assert note.fields["limit"] == 512 and note.fields["n"] > 3000 and "cut to 512 tokens" in note_text(note)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07\u200b"])
def test_empty_text_raises_a_friendly_error(builtin, text):
    with pytest.raises(EmptyInputError) as err:
        encode_text(builtin.tokenizer, text)
    assert err.value.reason == "empty_input" and "empty" in error_text(err.value).lower()


def test_control_characters_are_removed_and_reported():
    cleaned, removed = clean_text("a\x00b\x1bc\u202ed")
    assert cleaned == "abcd" and removed == 3


def test_literal_special_tokens_are_flagged(builtin):
    enc = encode_text(builtin.tokenizer, "Paris is the [MASK] of France [CLS]")
    assert "[MASK]" in enc.tokens and Note("literal_special", tokens="[CLS], [MASK]") in enc.notes


@pytest.mark.parametrize("text", ["I ❤️ 🤖 BERT", "東京は日本の首都です", "שלום עולם مرحبا", "<script>alert(1)</script>"])
def test_unusual_scripts_tokenise_without_error(builtin, text):
    enc = encode_text(builtin.tokenizer, text)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]" and len(enc.tokens) > 2


@pytest.mark.parametrize("text,note", [("I ❤ BERT", "1 piece is not in the vocabulary"),
                                       ("I ❤ 🤖 BERT", "2 pieces are not in the vocabulary")])
def test_unknown_pieces_are_counted_in_the_note(builtin, text, note):
    enc = encode_text(builtin.tokenizer, text)
    assert enc.tokens.count(builtin.tokenizer.unk_token) == int(note[0])
    assert any(note_text(n).startswith(note) for n in enc.notes)


def test_two_threads_loading_two_models_at_once_both_get_their_tied_heads():
    """transformers swaps `tie_weights` for a no-op, process-wide, while it loads: without `LOADING` two
    overlapping loads broke every later load (benchmarks/load.py found it on a fresh server)."""
    from concurrent.futures import ThreadPoolExecutor

    from transformers import AutoModelForMaskedLM

    from explainers.model import ROOT, load_role

    folders = [ROOT / "assets/models/teacher", ROOT / "assets/models/student"] * 2
    with ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(lambda f: load_role("built-in", f, AutoModelForMaskedLM), folders))
    for lm in loaded:
        head = lm.model.get_output_embeddings().weight
        assert head.data_ptr() == lm.model.get_input_embeddings().weight.data_ptr()
    assert load_role("built-in", folders[1], AutoModelForMaskedLM).config.model_type == "distilbert"


def test_a_files_hash_is_computed_once_per_version_of_the_file(tmp_path, monkeypatch):
    """Pages compare the shipped weights with their cards on every rerun: the file is read and hashed once, and
    again only when it changes."""
    import hashlib
    import os

    from explainers import model

    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 4096)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(model.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    first = model.file_sha256(path)
    assert model.file_sha256(path) == first == real(b"a" * 4096).hexdigest()
    assert len(calls) == 1
    path.write_bytes(b"b" * 4096)
    os.utime(path, ns=(1, 10**18))  # a new version of the file, whatever the clock's resolution
    assert model.file_sha256(path) == real(b"b" * 4096).hexdigest()
    assert len(calls) == 2
