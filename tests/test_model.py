import time

import pytest
import torch

from explainers.model import (EmptyInputError, ModelLoadError, clean_text, encode_text, load_model)


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
    with pytest.raises(ModelLoadError, match="Could not load 'no-such-user/no-such-model'"):
        load_model("no-such-user/no-such-model")
    assert time.perf_counter() - t < 15, "an offline machine must not wait for the Hub client's retries"


def test_a_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(str(tmp_path))


def test_a_file_is_refused_as_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelLoadError, match="is a file: type the folder"):
        load_model(str(tmp_path / "notes.txt"))


def test_a_decoder_model_is_refused(tmp_path):
    from transformers import GPT2Config, GPT2Model

    GPT2Model(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10, n_positions=8)).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="gpt2 model"):
        load_model(str(tmp_path))


def test_a_pair_gets_segments_a_and_b(builtin):
    enc = encode_text(builtin.tokenizer, "The cat sat.", "It slept.")
    assert enc.tokens[0] == "[CLS]" and enc.tokens.count("[SEP]") == 2
    first_sep = enc.tokens.index("[SEP]")
    assert enc.segment[: first_sep + 1] == ["A"] * (first_sep + 1)
    assert enc.segment[first_sep + 1:] == ["B"] * (len(enc.tokens) - first_sep - 1)


def test_long_text_is_truncated_at_the_position_limit_and_says_so(builtin):
    enc = encode_text(builtin.tokenizer, "word " * 3000, max_length=512)
    assert len(enc.tokens) == 512 and enc.truncated and enc.tokens[-1] == "[SEP]"
    assert any("cut to 512" in n for n in enc.notes)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07\u200b"])
def test_empty_text_raises_a_friendly_error(builtin, text):
    with pytest.raises(EmptyInputError, match="empty"):
        encode_text(builtin.tokenizer, text)


def test_control_characters_are_removed_and_reported():
    cleaned, removed = clean_text("a\x00b\x1bc\u202ed")
    assert cleaned == "abcd" and removed == 3


def test_literal_special_tokens_are_flagged(builtin):
    enc = encode_text(builtin.tokenizer, "Paris is the [MASK] of France [CLS]")
    assert "[MASK]" in enc.tokens and any("[CLS], [MASK]" in n for n in enc.notes)


@pytest.mark.parametrize("text", ["I ❤️ 🤖 BERT", "東京は日本の首都です", "שלום עולם مرحبا", "<script>alert(1)</script>"])
def test_unusual_scripts_tokenise_without_error(builtin, text):
    enc = encode_text(builtin.tokenizer, text)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]" and len(enc.tokens) > 2


@pytest.mark.parametrize("text,note", [("I ❤ BERT", "1 piece is not in the vocabulary"),
                                       ("I ❤ 🤖 BERT", "2 pieces are not in the vocabulary")])
def test_unknown_pieces_are_counted_in_the_note(builtin, text, note):
    enc = encode_text(builtin.tokenizer, text)
    assert enc.tokens.count(builtin.tokenizer.unk_token) == int(note[0])
    assert any(n.startswith(note) for n in enc.notes)
