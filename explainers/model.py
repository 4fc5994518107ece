r"""
# Loading an encoder

Models load with `from_pretrained` (never remote code), in float32, with eager attention so that the
attention probabilities are returned: the built-in folder, a local folder or a Hub id, as the loading policy
(`explainers/policy.py`) allows. A shipped folder that leaves out weights reads them from its base
(`fill_from_base`, sha256-checked). Turning text into the model's input is `explainers/encoding.py`.
"""
from __future__ import annotations

import hashlib
import json
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import torch
from huggingface_hub import constants as hf_constants
from safetensors import safe_open
from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from explainers.builtin import TEACHER_DIR
from explainers.errors import ExplainerError
from explainers.policy import TRUSTED, Policy, looks_like_path

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_DIR = TEACHER_DIR  # explainers.builtin names every built-in folder
BUILTIN_NAME = "built-in"
MEASURED = "measured.json"  # numbers a build script measured on a shipped model, read back by the chapters
SUPPORTED_TYPES = ("bert", "distilbert", "electra")


class ModelLoadError(ExplainerError):
    """A model that cannot be used here (`reason`: "not_found", "offline", "is_a_file", "no_config",
    "unreadable_folder", "remote_code", "unsupported_type", "wrong_type", "no_trained_weights", ...)."""


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


# One model loads at a time in this process: transformers' `from_pretrained` swaps `PreTrainedModel.tie_weights`
# for a no-op, process-wide, while it loads, so two overlapping loads (two students opening two chapters on a
# fresh server, or one student and the warm-up thread) could leave the no-op in place: every later load then
# reports the tied MLM head as missing until the server restarts (found by benchmarks/load.py).
LOADING = threading.Lock()


# ------------------------------------------------------------------------------------- where a model comes from
# Only what loading needs: the config, the tokenizer's files and the safetensors weights (never pickle files).
HUB_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
             "model.safetensors.index.json")


def _hub_model_info(repo_id: str):
    """The Hub's metadata of a model repository, with every file's size (the one call that asks the Hub)."""
    from huggingface_hub import HfApi

    return HfApi().model_info(repo_id, files_metadata=True, timeout=10)


def _hub_download(repo_id: str, filename: str, revision: str) -> str:
    from huggingface_hub import hf_hub_download

    return hf_hub_download(repo_id, filename, revision=revision)


def _hub_cached(repo_id: str) -> Path | None:
    """The newest cached snapshot of a Hub model that has its config and safetensors weights, or None."""
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(repo_id, local_files_only=True,
                                        allow_patterns=[*HUB_FILES, "*.safetensors"]))
    except Exception:  # not cached (LocalEntryNotFoundError), or a name the Hub client rejects
        return None
    return folder if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")) else None


def _unavailable(name: str, policy: Policy) -> ModelLoadError:
    """One answer for every name this server will not load, whatever is (or is not) at that path: a file, a
    folder without a model, a folder outside the allowed ones, a missing path, an id the Hub does not have."""
    facts = dict(name=name, allow=", ".join(policy.hub_allow) or "*", dirs=", ".join(map(str, policy.model_dirs)))
    if policy.level == "builtin":
        return ModelLoadError("not_available_builtin", **facts)
    if policy.level == "hub":
        return ModelLoadError("not_available_hub", **facts)
    return ModelLoadError("not_available_local", **facts)


def locate(name: str, builtin: Path, policy: Policy = TRUSTED,
           progress: Callable[[int, int], None] | None = None) -> Path:
    """The folder to load `name` from, as `policy` allows: `builtin` for BUILTIN_NAME, an allowed local folder,
    or a Hub id's snapshot in the Hub cache (downloaded now, after its size was checked: `progress(done, total)`
    in bytes after each file). Raises `ModelLoadError`."""
    name = (name or "").strip()
    if name in ("", BUILTIN_NAME):
        return Path(builtin)
    # a folder: typed as a path, or (only where local folders are allowed) a relative name that exists here
    if looks_like_path(name) or (policy.allows_local and (not policy.hub_id_allowed(name) or Path(name).exists())):
        if not policy.allows_local:
            raise _unavailable(name, policy)
        try:
            folder = Path(name).expanduser().resolve(strict=True)
        except (OSError, RuntimeError):
            raise _unavailable(name, policy) from None
        if not policy.folder_allowed(folder) or not (folder / "config.json").is_file():
            raise _unavailable(name, policy)
        if not any(folder.glob("*.safetensors")):
            raise ModelLoadError("no_safetensors", name=name)
        return folder
    if not policy.hub_id_allowed(name):
        raise _unavailable(name, policy)
    cached = _hub_cached(name)
    if cached is not None:
        return cached
    if not hub_reachable():
        raise ModelLoadError("offline", name=name)
    try:
        info = _hub_model_info(name)
    except Exception as err:  # RepositoryNotFoundError, GatedRepoError, HTTP errors, an invalid id
        if not hub_reachable():
            raise ModelLoadError("offline", name=name) from err
        raise _unavailable(name, policy) from err
    sizes = {s.rfilename: (s.size or 0) for s in (info.siblings or [])}
    weights = [f for f in sizes if f.endswith(".safetensors") and "/" not in f]
    if "config.json" not in sizes:
        raise _unavailable(name, policy)
    if not weights:
        raise ModelLoadError("no_safetensors", name=name)
    wanted = [f for f in sizes if f in HUB_FILES] + weights
    total = sum(sizes[f] for f in wanted)
    if total > policy.max_download_mb * 1e6:
        raise ModelLoadError("too_big", name=name, mb=round(total / 1e6), cap=round(policy.max_download_mb))
    done, folder = 0, None
    if progress:
        progress(0, total)
    for f in sorted(wanted, key=lambda f: sizes[f]):  # the small files first: a bad repo fails before the weights
        try:
            folder = Path(_hub_download(name, f, revision=info.sha)).parent
        except Exception as err:
            raise ModelLoadError("download_failed", name=name, detail=str(err).splitlines()[0][:200]) from err
        done += sizes[f]
        if progress:
            progress(done, total)
    return folder


def _read_config(name: str, folder: Path):
    try:
        return AutoConfig.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
    except Exception as err:  # ValueError (unknown model type), JSON errors
        raise _not_loadable(name, err) from err


def load_model(name: str, device: str = "cpu", policy: Policy = TRUSTED,
               progress: Callable[[int, int], None] | None = None) -> LoadedModel:
    """Load tokenizer + model by Hub id or local folder, as `policy` allows; raise `ModelLoadError` with a
    readable reason."""
    source = locate(name, BUILTIN_DIR, policy, progress)
    config = _read_config(name, source)
    _require_supported(name, config)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, local_files_only=True)
        cls = AutoModelForMaskedLM if _is_mlm(config) else AutoModel
        with LOADING:
            model = cls.from_pretrained(source, dtype=torch.float32, attn_implementation="eager",
                                        trust_remote_code=False, local_files_only=True, use_safetensors=True)
    except Exception as err:
        raise _not_loadable(name, err) from err
    model = model.to(device).eval()
    return LoadedModel(name or BUILTIN_NAME, model, tokenizer, device, cls is AutoModelForMaskedLM)


def load_role(name: str, builtin: Path, model_class, device: str = "cpu", policy: Policy = TRUSTED,
              progress: Callable[[int, int], None] | None = None) -> LoadedModel:
    """Load a checkpoint with a given head class (e.g. `ElectraForPreTraining`): `name` is BUILTIN_NAME (the
    folder `builtin`), a local folder or a Hub id, as `policy` allows. Raises `ModelLoadError` with a readable
    reason."""
    source = locate(name, builtin, policy, progress)
    config = _read_config(name, source)
    config_class = getattr(model_class, "config_class", None)  # None for the Auto classes
    if config_class is None:
        _require_supported(name, config)
    elif config.model_type != config_class.model_type:
        raise ModelLoadError("wrong_type", name=name, kind=config.model_type, wanted=config_class.model_type,
                             head=model_class.__name__)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, local_files_only=True)
        with LOADING, _quiet_loading():  # missing weights are handled below, not reported to the server's log
            model, info = model_class.from_pretrained(source, dtype=torch.float32, attn_implementation="eager",
                                                      trust_remote_code=False, local_files_only=True,
                                                      use_safetensors=True, output_loading_info=True)
    except Exception as err:
        raise _not_loadable(name, err) from err
    # a fine-tuned folder may ship only what training changed (a built-in one, or a folder the policy allows; a
    # Hub download's training.json is not trusted to name files on this server)
    if info["missing_keys"] and (source == Path(builtin) or policy.allows_local):
        try:
            info["missing_keys"] = fill_from_base(model, info["missing_keys"], source)
        except ModelLoadError:
            raise
        except Exception as err:  # a broken training.json or base file
            raise _not_loadable(name, err) from err
    if info["missing_keys"]:  # e.g. a generator given where a discriminator is needed: its head would be random
        raise ModelLoadError("no_trained_weights", name=name, head=model_class.__name__,
                             missing=len(info["missing_keys"]), example=sorted(info["missing_keys"])[0])
    return LoadedModel(name or BUILTIN_NAME, model.to(device).eval(), tokenizer, device,
                       model_class.__name__.endswith("ForMaskedLM"))


@contextmanager
def _quiet_loading():
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def file_sha256(path: Path) -> str:
    """The sha256 that model cards and `training.json` record for a file (hex). Hashed once per file version (its
    path, size and modification time): a 45 MB model costs about 90 ms to hash, and pages compare the shipped
    weights with their cards on every rerun."""
    st = Path(path).stat()
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def measured_facts(folder: Path, **weights: Path) -> dict | None:
    """What a build script measured and wrote to `<folder>/measured.json`, or None when there is no such file or
    one of the weights it names (`<name>_sha256` for each `name=path` given) is no longer the file at that path:
    numbers of a model that has since been retrained are not shown as its."""
    import json

    path = Path(folder) / MEASURED
    if not path.is_file():
        return None
    facts = json.loads(path.read_text())
    if any(facts.get(f"{name}_sha256") != file_sha256(Path(w)) for name, w in weights.items()):
        return None
    return facts


def base_facts(folder: Path) -> dict | None:
    """`training.json`'s `base` of a fine-tuned folder that ships only what training changed (its `path`, relative
    to the repository, `sha256` and `shared` key prefixes), or None."""
    facts_path = Path(folder) / "training.json"
    if not facts_path.is_file():
        return None
    return json.loads(facts_path.read_text()).get("base") or None


def share_with_base(model, base_model, prefixes) -> int:
    """Point `model`'s parameters under `prefixes` (a fine-tuned model's frozen parts, read from its base) at the
    loaded `base_model`'s parameters of the same name, where they are equal: one copy in memory instead of two. A
    tied output layer is tied again. Returns the bytes no longer held twice."""
    theirs = dict(base_model.named_parameters())
    saved = 0
    for name, p in list(model.named_parameters()):
        q = theirs.get(name)
        if (name.startswith(tuple(prefixes)) and q is not None and q is not p and q.shape == p.shape
                and q.dtype == p.dtype and q.device == p.device and torch.equal(q, p)):
            owner, _, attr = name.rpartition(".")
            setattr(model.get_submodule(owner), attr, q)
            saved += p.numel() * p.element_size()
    if saved and hasattr(model, "tie_weights"):
        model.tie_weights()
    return saved


def fill_from_base(model, missing: list[str], folder: Path) -> list[str]:
    """A fine-tuned folder that ships only what training changed names its base in `training.json`
    (`"base": {"path": "assets/models/teacher", "sha256": …, "shared": [key prefixes]}`): the missing weights
    under those prefixes are read from the base's safetensors, which must be the exact file it was trained from.
    Returns the keys still missing."""
    base = base_facts(folder)
    if not base:
        return missing
    weights = ROOT / base["path"] / "model.safetensors"
    if not weights.is_file() or file_sha256(weights) != base["sha256"]:
        raise ModelLoadError("base_changed", name=str(folder), base=base["path"])
    shared = [k for k in missing if k.startswith(tuple(base["shared"]))]
    with safe_open(weights, "pt") as f:
        state = {k: f.get_tensor(k).float() for k in shared}
    model.load_state_dict(state, strict=False)
    params = dict(model.named_parameters(remove_duplicate=False))
    filled = {params[k].data_ptr() for k in state if k in params}  # a tied output layer is filled with its input
    return [k for k in missing if k not in state and not (k in params and params[k].data_ptr() in filled)]


def _require_supported(name: str, config) -> None:
    if config.model_type not in SUPPORTED_TYPES:
        raise ModelLoadError("unsupported_type", name=name, kind=config.model_type,
                             supported=", ".join(SUPPORTED_TYPES))


def _is_mlm(config) -> bool:
    return any(a.endswith("ForMaskedLM") for a in (config.architectures or []))


def _not_loadable(name: str, err: Exception) -> ModelLoadError:
    """Why the folder `locate` found did not load, as a typed error; `detail` is the library's own first line."""
    detail = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
    if "trust_remote_code" in str(err):
        return ModelLoadError("remote_code", name=name)
    return ModelLoadError("unreadable_folder", name=name, detail=detail)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
