"""The model-loading policy (explainers/policy.py): each level with tiny local models and a stubbed Hub client —
the real loading code runs (`explainers.model.locate`, `load_model`, `load_role`); only the network is
replaced."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from transformers import AutoModelForMaskedLM

from explainers import model as M
from explainers.model import BUILTIN_DIR, BUILTIN_NAME, ModelLoadError, load_model, load_role
from explainers.policy import Policy, from_env
from ui.text import error_text


def _policy(level: str, *dirs: Path, **kw) -> Policy:
    return Policy(level, model_dirs=tuple(Path(d).resolve() for d in dirs), **kw)


def _refusal(name: str, policy: Policy) -> str:
    """The words a user sees, with the name they typed taken out."""
    with pytest.raises(ModelLoadError) as err:
        load_model(name, policy=policy)
    return error_text(err.value).replace(name, "<name>")


def _pickle_only(tiny_bert_dir: Path, folder: Path) -> Path:
    """The tiny model with its weights as a pickle file (pytorch_model.bin) and no safetensors."""
    import torch
    from safetensors.torch import load_file

    shutil.copytree(tiny_bert_dir, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    torch.save(load_file(tiny_bert_dir / "model.safetensors"), folder / "pytorch_model.bin")
    return folder


# ----------------------------------------------------------------------------------------------- the setting
def test_the_level_comes_from_the_setting_else_from_who_can_reach_the_server(tmp_path):
    assert from_env({}, "localhost").level == "local" and from_env({}, "localhost").decided_by == "localhost"
    assert from_env({}, "127.0.0.1").level == "local"
    for reachable in ("0.0.0.0", "", None, "10.1.2.3", "::"):
        assert from_env({}, reachable).level == "builtin"
    assert from_env({"INSIDE_BERT_MODELS": "hub"}, "localhost").level == "hub"
    assert from_env({"INSIDE_BERT_MODELS": "LOCAL"}, "0.0.0.0").level == "local"
    with pytest.raises(ValueError):
        from_env({"INSIDE_BERT_MODELS": "anything"})
    local = from_env({}, "localhost")
    assert Path.home().resolve() in local.model_dirs and Path.cwd().resolve() in local.model_dirs
    configured = from_env({"INSIDE_BERT_MODELS": "local", "INSIDE_BERT_MODEL_DIRS": f"{tmp_path}{os.pathsep}/no/such",
                           "INSIDE_BERT_HUB_ALLOW": "google/*, bert-base-uncased", "INSIDE_BERT_MAX_DOWNLOAD_MB": "50",
                           "INSIDE_BERT_USER_MODELS": "2"})
    assert configured.model_dirs == (tmp_path.resolve(),)  # a folder that does not exist allows nothing
    assert configured.hub_allow == ("google/*", "bert-base-uncased")
    assert (configured.max_download_mb, configured.user_models) == (50, 2)
    assert from_env({"INSIDE_BERT_MODELS": "local"}).model_dirs == ()  # set by hand: no folder unless named


def test_the_project_serves_localhost_only_unless_told_otherwise():
    import tomllib

    from explainers.model import ROOT

    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert config["server"]["address"] == "localhost"


# ---------------------------------------------------------------------------------------------- built-in only
def test_builtin_level_loads_the_shipped_models_and_nothing_else(tiny_bert_dir, tmp_path):
    policy = _policy("builtin")
    assert load_model(BUILTIN_NAME, policy=policy).config.model_type == "bert"
    student = load_role(BUILTIN_NAME, M.ROOT / "assets/models/student", AutoModelForMaskedLM, policy=policy)
    assert student.config.model_type == "distilbert"
    (tmp_path / "notes.txt").write_text("x")
    answers = {_refusal(name, policy) for name in (str(tiny_bert_dir), "/etc", "/etc/passwd", str(tmp_path),
                                                   str(tmp_path / "notes.txt"), "/no/such/folder",
                                                   "bert-base-uncased", "../assets/models/teacher")}
    assert answers == {"'<name>' is not a model this server loads: it serves its built-in models only "
                       "(`built-in`)."}


# ----------------------------------------------------------------------------------------------- local folders
def test_local_level_loads_folders_under_the_configured_directories_only(tiny_bert_dir, tmp_path):
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    shutil.copytree(tiny_bert_dir, allowed / "tiny")
    shutil.copytree(tiny_bert_dir, elsewhere)
    inside = _policy("local", allowed)
    assert load_model(str(allowed / "tiny"), policy=inside).config.hidden_size == 16
    (allowed / "link").symlink_to(elsewhere)  # inside the allowed folder, pointing out of it
    (allowed / "notes.txt").write_text("x")
    (allowed / "empty").mkdir()
    refused = {_refusal(str(p), inside) for p in (elsewhere, allowed / "link", allowed / "notes.txt", allowed / "empty",
                                                  allowed / "missing", allowed / ".." / "elsewhere", Path("/etc"),
                                                  Path("/etc/passwd"), Path("/no/such"))}
    assert len(refused) == 1, refused  # the same words whether the path exists, is a file, or does not exist
    assert "is not a model this server can load" in refused.pop()
    assert load_model(str(elsewhere), policy=_policy("local", elsewhere)).config.hidden_size == 16


def test_pickle_weights_are_never_loaded(tiny_bert_dir, tmp_path):
    folder = _pickle_only(tiny_bert_dir, tmp_path / "pickle-only")
    assert not list(folder.glob("*.safetensors")) and list(folder.glob("*.bin"))
    with pytest.raises(ModelLoadError) as err:
        load_model(str(folder), policy=_policy("local", tmp_path))
    assert err.value.reason == "no_safetensors"


# ---------------------------------------------------------------------------------------- Hub ids (stubbed)
class FakeHub:
    """The Hub client's two calls, served from local folders: {repo id: folder}. Counts what it was asked."""

    def __init__(self, repos: dict[str, Path], cache: Path):
        self.repos, self.cache, self.asked, self.downloaded = repos, cache, [], []

    def model_info(self, repo_id: str):
        from types import SimpleNamespace

        self.asked.append(repo_id)
        if repo_id not in self.repos:
            raise RuntimeError(f"404 Repository Not Found for url: https://huggingface.co/api/models/{repo_id}")
        files = [SimpleNamespace(rfilename=p.name, size=p.stat().st_size) for p in self.repos[repo_id].iterdir()]
        return SimpleNamespace(sha="0" * 40, siblings=files)

    def download(self, repo_id: str, filename: str, revision: str) -> str:
        self.downloaded.append(filename)
        snapshot = self.cache / repo_id.replace("/", "--") / revision
        snapshot.mkdir(parents=True, exist_ok=True)
        return shutil.copy(self.repos[repo_id] / filename, snapshot / filename)


@pytest.fixture
def hub(monkeypatch, tiny_bert_dir, tmp_path):
    pickle_only = _pickle_only(tiny_bert_dir, tmp_path / "pickle-only")
    fake = FakeHub({"tiny/bert": tiny_bert_dir, "tiny/pickle": pickle_only}, tmp_path / "hub-cache")
    monkeypatch.setattr(M, "_hub_model_info", fake.model_info)
    monkeypatch.setattr(M, "_hub_download", fake.download)
    monkeypatch.setattr(M, "_hub_cached", lambda repo_id: None)
    monkeypatch.setattr(M, "hub_reachable", lambda timeout=3.0: True)
    return fake


def test_hub_level_downloads_an_allowed_id_with_progress_after_checking_its_size(hub, tiny_bert_dir):
    seen = []
    lm = load_model("tiny/bert", policy=_policy("hub"), progress=lambda done, total: seen.append((done, total)))
    assert lm.config.hidden_size == 16 and lm.has_mlm_head and lm.name == "tiny/bert"
    total = sum(p.stat().st_size for p in tiny_bert_dir.iterdir() if p.name != "README.md")
    assert seen[0] == (0, total) and seen[-1] == (total, total) and len(seen) == len(hub.downloaded) + 1
    assert hub.downloaded[-1] == "model.safetensors"  # the small files first


def test_hub_level_refuses_before_downloading(hub, tiny_bert_dir):
    small = _policy("hub", max_download_mb=0.001)
    with pytest.raises(ModelLoadError) as err:
        load_model("tiny/bert", policy=small)
    assert err.value.reason == "too_big" and hub.asked == ["tiny/bert"] and hub.downloaded == []
    with pytest.raises(ModelLoadError) as err:
        load_model("tiny/pickle", policy=_policy("hub"))
    assert err.value.reason == "no_safetensors" and hub.downloaded == []
    allow = _policy("hub", hub_allow=("google/*",))
    assert "matching `google/*`" in _refusal("tiny/bert", allow)
    assert hub.asked == ["tiny/bert", "tiny/pickle"]  # an id off the allow-list never reaches the Hub
    # an id the Hub does not have reads like any other name the server will not load, a folder included
    policy = _policy("hub")
    assert _refusal("no-such/model", policy) == _refusal(str(tiny_bert_dir), policy) == _refusal("/etc", policy)
    assert hub.downloaded == []


def test_offline_hub_ids_fail_fast_with_a_readable_message(monkeypatch):
    import time

    monkeypatch.setattr(M, "_hub_cached", lambda repo_id: None)
    monkeypatch.setattr(M, "hub_reachable", lambda timeout=3.0: False)
    t = time.perf_counter()
    with pytest.raises(ModelLoadError) as err:
        load_model("no-such-user/no-such-model", policy=_policy("hub"))
    assert err.value.reason == "offline" and "cannot be reached" in error_text(err.value)
    assert time.perf_counter() - t < 1


def test_a_hub_id_is_never_read_from_the_disk_as_typed(hub, tiny_bert_dir, tmp_path, monkeypatch):
    """At the hub level `org/name` is an id for the Hub, even where a model folder of that name exists relative
    to the server's working folder; where local folders are allowed, that folder is what it names."""
    shutil.copytree(tiny_bert_dir, tmp_path / "org/name")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelLoadError) as err:
        load_model("org/name", policy=_policy("hub"))
    assert err.value.reason == "not_available_hub" and hub.asked == ["org/name"]
    assert load_model("org/name", policy=_policy("local", tmp_path)).config.hidden_size == 16
    assert hub.asked == ["org/name"]


# ------------------------------------------------------------------------------------------------- in the app
def _errors(at) -> list[str]:
    return [e.value for e in at.sidebar.error]


def _record_names(monkeypatch, module, function: str) -> list[str]:
    """Replace `module.function` by itself plus a record of the name (its first argument) of every call."""
    calls, real = [], getattr(module, function)

    def recording(name, *args, **kw):
        calls.append(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(module, function, recording)
    return calls


def test_a_server_reachable_by_others_answers_every_path_alike_and_keeps_the_built_in_model(monkeypatch,
                                                                                            tiny_bert_dir):
    from tests.test_pages import _app
    from ui.html import md_escape

    monkeypatch.delenv("INSIDE_BERT_MODELS", raising=False)
    monkeypatch.setattr("ui.models.policy", lambda: from_env({}, "0.0.0.0"))  # `--server.address 0.0.0.0`
    at = _app("pages/attention.py")
    shown = []
    for name in ("/etc", "/etc/passwd", "/no/such/folder", str(tiny_bert_dir), "bert-base-uncased"):
        at.sidebar.text_input(key="model").set_value(name).run()
        assert not at.exception and at.slider(key="layer").max == 5  # still the built-in model
        shown.append(_errors(at)[0].replace(md_escape(name), "<name>"))
    assert len(set(shown)) == 1 and "built\\-in models only" in shown[0]
    assert "built-in models only" in at.sidebar.text_input(key="model").help


def test_a_failed_name_is_remembered_by_the_session_and_tried_again_on_request(monkeypatch):
    from tests.test_pages import _app
    from ui import models

    asked = _record_names(monkeypatch, models, "locate")
    monkeypatch.setattr(M, "hub_reachable", lambda timeout=3.0: False)
    monkeypatch.setattr(M, "_hub_cached", lambda repo_id: None)
    at = _app("pages/attention.py", model="no-such-user/no-such-model")
    for layer in (1, 2, 3):  # reruns: a slider moved three times
        at.slider(key="layer").set_value(layer).run()
    assert asked.count("no-such-user/no-such-model") == 1
    assert "cannot be reached" in _errors(at)[0]
    retry = next(b for b in at.sidebar.button if b.label == "Try again")
    retry.click().run()
    assert asked.count("no-such-user/no-such-model") == 2


def test_user_models_beyond_the_cap_are_unloaded_least_recently_used_first(monkeypatch, tiny_bert_dir, tmp_path):
    from tests.test_pages import _app
    from ui import models

    cap = models.from_env().user_models
    folders = [shutil.copytree(tiny_bert_dir, tmp_path / f"m{i}") for i in range(cap + 1)]
    loaded = _record_names(monkeypatch, models, "_load")
    at = _app("pages/overview.py")
    for folder in folders:  # cap + 1 models, one after the other
        at.sidebar.text_input(key="model").set_value(str(folder)).run()
        assert not _errors(at)
    assert loaded == [str(f) for f in folders]
    at.sidebar.text_input(key="model").set_value(str(folders[-1])).run()  # the most recent: still loaded
    assert len(loaded) == cap + 1
    at.sidebar.text_input(key="model").set_value(str(folders[0])).run()  # the least recent: unloaded, so again
    assert loaded[-1] == str(folders[0]) and len(loaded) == cap + 2
