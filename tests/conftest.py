"""Shared fixtures: the built-in model, and tiny models written to a temp folder (nothing is downloaded)."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("INSIDE_BERT_WARM", "0")  # AppTest runs app.py in this process: no warm-up thread (ui/warm.py)
# Class vs BERT's store: the test session's own SQLite folder (the servers the browser tests start inherit it)
os.environ.setdefault("INSIDE_BERT_DATA", tempfile.mkdtemp(prefix="inside-bert-data-"))
torch.set_num_threads(min(2, torch.get_num_threads()))

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "play", "##ing", "##s", "a", "big", "red", "."]


def write_vocab(folder: Path) -> Path:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    path = folder / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n")
    return path


@pytest.fixture(scope="session")
def builtin():
    from explainers.model import load_model

    return load_model("built-in")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT with an MLM head and a 19-word WordPiece vocabulary, saved with save_pretrained."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    tok = BertTokenizerFast(vocab=str(write_vocab(folder)), do_lower_case=True)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=16)
    BertForMaskedLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_distilbert_dir(tmp_path_factory) -> Path:
    from transformers import BertTokenizerFast, DistilBertConfig, DistilBertModel

    folder = tmp_path_factory.mktemp("tiny-distilbert")
    tok = BertTokenizerFast(vocab=str(write_vocab(folder)), do_lower_case=True)
    torch.manual_seed(0)
    cfg = DistilBertConfig(vocab_size=len(tok), dim=16, n_layers=2, n_heads=2, hidden_dim=32,
                           max_position_embeddings=16)
    DistilBertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_electra_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny ELECTRA generator and discriminator with shared embeddings, saved like the built-in pair."""
    from transformers import BertTokenizerFast, ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

    from explainers.electra import share_embeddings

    root = tmp_path_factory.mktemp("tiny-electra")
    tok = BertTokenizerFast(vocab=str(write_vocab(root)), do_lower_case=True)
    common = dict(vocab_size=len(tok), embedding_size=8, max_position_embeddings=16, num_attention_heads=2)
    torch.manual_seed(0)
    disc = ElectraForPreTraining(ElectraConfig(hidden_size=16, num_hidden_layers=2, intermediate_size=32, **common))
    gen = ElectraForMaskedLM(ElectraConfig(hidden_size=8, num_hidden_layers=1, intermediate_size=16, **common))
    share_embeddings(gen, disc)
    folders = root / "generator", root / "discriminator"
    for model, folder in zip((gen, disc), folders):
        model.save_pretrained(folder)
        tok.save_pretrained(folder)
    return folders
