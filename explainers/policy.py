"""Which models a server may load: the model-loading policy.

Anyone who can open the app can type a model name (in the sidebar, or in a shared link), and the server loads it.
On a teacher's laptop that is a feature; on a server that 30 students reach it must not be a way to read the
server's folders or to make it download gigabytes. Three levels, each including the one before:

* ``builtin``: the models that ship in `assets/models` only;
* ``hub``: plus Hugging Face Hub ids (optionally only those matching an allow-list), safetensors only, each
  checkpoint's size read from the Hub's metadata before anything is downloaded and refused over a cap;
* ``local``: plus model folders under the configured directories (nowhere else, symlinks resolved first).

Set by environment variables, like Streamlit's own settings (`STREAMLIT_SERVER_PORT` …), so that the same
switch works for `streamlit run`, Docker, compose and Kubernetes:

    INSIDE_BERT_MODELS       builtin | hub | local
    INSIDE_BERT_HUB_ALLOW    comma-separated patterns of Hub ids, e.g. "google/*,bert-base-uncased" (empty: any)
    INSIDE_BERT_MODEL_DIRS   folders that local models may come from, separated by ":" (os.pathsep)
    INSIDE_BERT_MAX_DOWNLOAD_MB   the largest Hub checkpoint to download (default 1024)
    INSIDE_BERT_USER_MODELS  how many models besides the built-in ones stay loaded (default 3; least recently
                             used go first)

Without INSIDE_BERT_MODELS the level follows who can reach the server: Streamlit bound to a loopback address
(`server.address = "localhost"`, this project's `.streamlit/config.toml`) can only be used by someone at this
machine, so it gets ``local`` (folders under the home folder, the working folder and the temporary folder);
any other address (`--server.address 0.0.0.0`, a container) gets ``builtin``. The client's IP address is not
used: behind a reverse proxy every visitor comes from 127.0.0.1.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

LEVELS = ("builtin", "hub", "local")
LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")
DEFAULT_MAX_DOWNLOAD_MB = 1024.0
DEFAULT_USER_MODELS = 3
# what a Hub id looks like ("bert-base-uncased", "google/electra-small-discriminator"): never a path
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?")


@dataclass(frozen=True)
class Policy:
    level: str  # one of LEVELS
    hub_allow: tuple[str, ...] = ()  # fnmatch patterns of Hub ids (case-insensitive); empty: any id
    model_dirs: tuple[Path, ...] = ()  # resolved folders that local models may come from
    max_download_mb: float = DEFAULT_MAX_DOWNLOAD_MB
    user_models: int = DEFAULT_USER_MODELS
    decided_by: str = "setting"  # "setting" (INSIDE_BERT_MODELS), "localhost", "reachable", "trusted"

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"INSIDE_BERT_MODELS must be one of {', '.join(LEVELS)}, not {self.level!r}")

    @property
    def allows_hub(self) -> bool:
        return self.level in ("hub", "local")

    @property
    def allows_local(self) -> bool:
        return self.level == "local"

    def hub_id_allowed(self, name: str) -> bool:
        return (self.allows_hub and HUB_ID.fullmatch(name) is not None and ".." not in name
                and (not self.hub_allow or any(fnmatch(name.lower(), p.lower()) for p in self.hub_allow)))

    def folder_allowed(self, folder: Path) -> bool:
        """`folder` must already be resolved (`Path.resolve(strict=True)`): symlinks cannot lead out."""
        return self.allows_local and any(folder == d or folder.is_relative_to(d) for d in self.model_dirs)


# the training scripts and the tests' own helpers: anything this process can read, no download cap
TRUSTED = Policy("local", model_dirs=(Path("/"),), max_download_mb=float("inf"), user_models=DEFAULT_USER_MODELS,
                 decided_by="trusted")


def looks_like_path(name: str) -> bool:
    """A name the user meant as a folder: absolute, relative with ./ or ../, or from the home folder (~). Any
    other name is a Hub id and is never read from the disk as typed (a Hub download lands in the Hub cache)."""
    return name.startswith(("/", "~", "./", "../", ".\\", "..\\")) or name in (".", "..") or "\\" in name


def _dirs(value: str) -> tuple[Path, ...]:
    out = []
    for part in value.split(os.pathsep):
        if part.strip():
            try:
                out.append(Path(part.strip()).expanduser().resolve(strict=True))
            except OSError:
                continue  # a configured folder that does not exist allows nothing
    return tuple(out)


def from_env(env: dict | None = None, server_address: str | None = None) -> Policy:
    """The policy for this server: the INSIDE_BERT_* variables of `env` (default: os.environ), else decided by
    Streamlit's `server.address` (see the module's docstring)."""
    env = os.environ if env is None else env
    level = (env.get("INSIDE_BERT_MODELS") or "").strip().lower()
    if level:
        decided_by = "setting"
    elif (server_address or "").strip().lower() in LOOPBACK:
        level, decided_by = "local", "localhost"
    else:
        level, decided_by = "builtin", "reachable"
    dirs = env.get("INSIDE_BERT_MODEL_DIRS")
    if dirs is None:
        dirs = os.pathsep.join([str(Path.home()), os.getcwd(), tempfile.gettempdir()]) if decided_by == "localhost" \
            else ""
    allow = tuple(p.strip() for p in (env.get("INSIDE_BERT_HUB_ALLOW") or "").split(",") if p.strip())
    return Policy(level, hub_allow=allow, model_dirs=_dirs(dirs),
                  max_download_mb=float(env.get("INSIDE_BERT_MAX_DOWNLOAD_MB") or DEFAULT_MAX_DOWNLOAD_MB),
                  user_models=max(1, int(env.get("INSIDE_BERT_USER_MODELS") or DEFAULT_USER_MODELS)),
                  decided_by=decided_by)
