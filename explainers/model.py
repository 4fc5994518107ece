r"""
# Loading an encoder and turning text into its input

A BERT-style encoder reads **token ids**. The WordPiece tokenizer splits text into pieces from a fixed
vocabulary (30,522 for uncased BERT); a word that is not in the vocabulary is split into a first piece and
`##`-prefixed continuations (`embeddings` → `em ##bed ##ding ##s`). The input is framed as

    [CLS] sentence A [SEP]                      (one sentence)
    [CLS] sentence A [SEP] sentence B [SEP]     (a pair)

with a **segment id** (`token_type_ids`) of 0 for `[CLS]`, A and its `[SEP]`, and 1 for B and its `[SEP]`.
An encoder has learned position embeddings for a fixed number of positions (512 for BERT), so longer input
is truncated: sentence B first when there are two, as Hugging Face's `longest_first` does.

Models load with `from_pretrained` (never remote code), in float32, with eager attention so that the
attention probabilities are returned.
"""
from __future__ import annotations

import socket
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch
from huggingface_hub import constants as hf_constants
from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoTokenizer

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_DIR = ROOT / "assets/models/teacher"
BUILTIN_NAME = "built-in"
SUPPORTED_TYPES = ("bert", "distilbert", "electra")


class ModelLoadError(Exception):
    """A model that cannot be used here; the message is meant for the user."""


@dataclass(frozen=True)
class LoadedModel:
    name: str  # what the user typed, or BUILTIN_NAME
    model: torch.nn.Module  # AutoModelForMaskedLM when the checkpoint has an MLM head, else AutoModel
    tokenizer: object
    device: str
    has_mlm_head: bool

    @property
    def config(self):
        return self.model.config

    @property
    def encoder(self) -> torch.nn.Module:
        """The bare encoder (`BertModel`, `DistilBertModel`, ...)."""
        return self.model.base_model

    @property
    def max_positions(self) -> int:
        return int(self.config.max_position_embeddings)


def resolve(name: str) -> str:
    name = (name or "").strip()
    return str(BUILTIN_DIR) if name in ("", BUILTIN_NAME) else name


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub's host answers at all (one TCP connect, no retries)."""
    host = urlparse(hf_constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _read_config(name: str, source: str):
    """Local folder or Hub cache first; the network only if the Hub is reachable (its client retries for ~20 s)."""
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=False, local_files_only=True), True
    except Exception as err:  # OSError (not found), ValueError (unknown model type), JSON errors
        if Path(source).expanduser().exists() or not hub_reachable():
            raise ModelLoadError(_why_not_loadable(name, err)) from err
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=False), False
    except Exception as err:
        raise ModelLoadError(_why_not_loadable(name, err)) from err


def load_model(name: str, device: str = "cpu") -> LoadedModel:
    """Load tokenizer + model by Hub id or local folder; raise `ModelLoadError` with a readable reason."""
    source = resolve(name)
    config, local = _read_config(name, source)
    if config.model_type not in SUPPORTED_TYPES:
        raise ModelLoadError(f"'{name}' is a {config.model_type} model; this app explains encoders of type "
                             f"{', '.join(SUPPORTED_TYPES)}.")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, local_files_only=local)
        cls = AutoModelForMaskedLM if _is_mlm(config) else AutoModel
        model = cls.from_pretrained(source, dtype=torch.float32, attn_implementation="eager",
                                    trust_remote_code=False, local_files_only=local)
    except Exception as err:
        raise ModelLoadError(_why_not_loadable(name, err)) from err
    model = model.to(device).eval()
    return LoadedModel(name or BUILTIN_NAME, model, tokenizer, device, cls is AutoModelForMaskedLM)


def load_role(name: str, builtin: Path, model_class, device: str = "cpu") -> LoadedModel:
    """Load a checkpoint with a given head class (e.g. `ElectraForPreTraining`): `name` is BUILTIN_NAME (the
    folder `builtin`), a local folder or a Hub id. Raises `ModelLoadError` with a readable reason."""
    source = str(builtin) if (name or "").strip() in ("", BUILTIN_NAME) else name.strip()
    config, local = _read_config(name, source)
    config_class = getattr(model_class, "config_class", None)  # None for the Auto classes
    wanted = (config_class.model_type,) if config_class else SUPPORTED_TYPES
    if config.model_type not in wanted:
        raise ModelLoadError(f"'{name}' is a {config.model_type} model; this needs a {' or '.join(wanted)} "
                             f"checkpoint ({model_class.__name__}).")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, local_files_only=local)
        model, info = model_class.from_pretrained(source, dtype=torch.float32, attn_implementation="eager",
                                                  trust_remote_code=False, local_files_only=local,
                                                  output_loading_info=True)
    except Exception as err:
        raise ModelLoadError(_why_not_loadable(name, err)) from err
    if info["missing_keys"]:  # e.g. a generator given where a discriminator is needed: its head would be random
        raise ModelLoadError(f"'{name}' has no trained weights for {model_class.__name__} "
                             f"({len(info['missing_keys'])} missing, e.g. {sorted(info['missing_keys'])[0]}).")
    return LoadedModel(name or BUILTIN_NAME, model.to(device).eval(), tokenizer, device,
                       model_class.__name__.endswith("ForMaskedLM"))


def _is_mlm(config) -> bool:
    return any(a.endswith("ForMaskedLM") for a in (config.architectures or []))


def _why_not_loadable(name: str, err: Exception) -> str:
    text = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
    if Path(name).expanduser().exists():
        if not Path(name).expanduser().is_dir():
            return f"'{name}' is a file: type the folder a model was saved to (it holds config.json)."
        if not (Path(name).expanduser() / "config.json").exists():
            return f"The folder '{name}' has no config.json: it is not a Hugging Face model folder."
        return f"The folder '{name}' is not a Hugging Face model folder this app can read ({text})."
    if not hub_reachable():
        return (f"Could not load '{name}': there is no such local folder, it is not in the local Hugging Face "
                "cache, and the Hub cannot be reached from this machine (offline). Type a local folder, or "
                "'built-in'.")
    return (f"Could not load '{name}': no such local folder, and the Hugging Face Hub did not provide it "
            f"(a typo, or a private model?). Details: {text}")


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


# ---------------------------------------------------------------------------------------------- text → input
CONTROL_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")


def clean_text(text: str) -> tuple[str, int]:
    """Drop control and format characters (keeping newline and tab as spaces). Returns (text, n_removed)."""
    kept, removed = [], 0
    for ch in text or "":
        if ch in "\n\t\r":
            kept.append(" ")
        elif unicodedata.category(ch) in CONTROL_CATEGORIES and ch not in "\u200d":
            removed += 1
        else:
            kept.append(ch)
    return "".join(kept).strip(), removed


@dataclass(frozen=True)
class EncodedInput:
    """One tokenised input. Tensors are `[1, T]`; `tokens` has T entries."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    tokens: list[str]
    n_tokens_before_truncation: int  # with special tokens
    notes: list[str] = field(default_factory=list)  # things the user should know (truncation, removed chars)

    @property
    def truncated(self) -> bool:
        return self.n_tokens_before_truncation > len(self.tokens)

    @property
    def segment(self) -> list[str]:
        return ["A" if t == 0 else "B" for t in self.token_type_ids[0].tolist()]


class EmptyInputError(ValueError):
    """Nothing left to read after cleaning."""


def encode_text(tokenizer, text_a: str, text_b: str = "", max_length: int = 512) -> EncodedInput:
    a, removed_a = clean_text(text_a)
    b, removed_b = clean_text(text_b)
    if not a:
        raise EmptyInputError("Sentence A is empty. Type a sentence in the sidebar to see the model at work.")
    notes = []
    if removed_a + removed_b:
        notes.append(f"Removed {removed_a + removed_b} invisible control character(s) from the text.")
    pair = (a, b) if b else (a,)
    full = tokenizer(*pair, truncation=False, return_token_type_ids=True)
    n_full = len(full["input_ids"])
    enc = tokenizer(*pair, truncation="longest_first", max_length=max_length, return_tensors="pt",
                    return_token_type_ids=True)
    if n_full > max_length:
        notes.append(f"The text has {n_full:,} tokens; this model reads at most {max_length} positions, "
                     f"so it was cut to {max_length} tokens.")
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    types = enc["token_type_ids"][0].tolist()
    framing = {0, len(tokens) - 1, *([types.index(1) - 1] if 1 in types else [])}
    special = set(tokenizer.all_special_tokens)
    literal = sorted({t for i, t in enumerate(tokens)
                      if t in special and i not in framing and (t != tokenizer.unk_token or t in a + b)})
    if literal:
        notes.append(f"Your text contains {', '.join(literal)}, which the tokenizer reads as special token(s), "
                     "not as words.")
    unk = sum(t == tokenizer.unk_token for t in tokens)
    if unk:
        notes.append(f"{unk} {'piece is' if unk == 1 else 'pieces are'} not in the vocabulary and became "
                     f"{tokenizer.unk_token} "
                     "(emoji and many non-Latin characters are unknown to an English uncased vocabulary).")
    return EncodedInput(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"], tokens, n_full, notes)
