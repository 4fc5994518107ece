"""The declared pipeline (`training/dodo.py`, `training/pipeline.py`) end to end on its tiny profile: every stage
runs from nothing, the app's loaders read what it wrote, a second run does nothing, a removed output is made
again by resuming its run, and a changed corpus rebuilds exactly what depends on it."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import (BertForQuestionAnswering, BertForSequenceClassification, DistilBertForMaskedLM,
                          ElectraForMaskedLM, ElectraForPreTraining)

from explainers.model import file_sha256, load_model, load_role, measured_facts
from training import pipeline

ROOT = Path(__file__).resolve().parents[1]
STAGES = [s.name for s in pipeline.stages(pipeline.tiny(Path("/x")))]


def doit(out: Path, *extra: str, python: str = sys.executable) -> dict[str, str]:
    """Run the tiny profile; {stage: "ran" | "skipped"} from doit's report ('.' ran, '--' up to date)."""
    done = subprocess.run([python, "-m", "doit", "-f", "training/dodo.py", "profile=tiny", f"out={out}",
                           *extra], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = {}
    for line in done.stdout.splitlines():
        if m := re.match(r"^(\.|--) +(\S+)$", line):
            report[m.group(2)] = "ran" if m.group(1) == "." else "skipped"
    return report


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("pipeline")
    return out, doit(out)


def test_every_stage_runs_from_nothing(built):
    _, report = built
    assert report == {name: "ran" for name in STAGES}


def test_the_apps_loaders_read_every_model_the_pipeline_wrote(built):
    out, _ = built
    models = out / "models"
    teacher = load_model(str(models / "teacher"))
    assert teacher.has_mlm_head and teacher.config.hidden_size == 32
    for folder, head in (("electra-generator", ElectraForMaskedLM), ("electra-discriminator", ElectraForPreTraining),
                         ("student", DistilBertForMaskedLM), ("next-sentence", BertForSequenceClassification),
                         ("qa", BertForQuestionAnswering)):
        lm = load_role(str(models / folder), models / folder, head)
        assert lm.tokenizer.vocab == teacher.tokenizer.vocab, folder
        assert (models / folder / "README.md").is_file() and json.loads((models / folder / "training.json").read_text())
    # the ELECTRA pair's history names the weights its generator's layers came from (the student's)
    start = json.loads((models / "electra-discriminator" / "training.json").read_text())["start"]
    assert start["generator_layers_sha256"] == file_sha256(models / "student" / "model.safetensors")
    # the files the chapters read back, each tied to the weights it measured
    student = models / "student"
    assert measured_facts(student, student=student / "model.safetensors") is not None
    curve = json.loads((models / "teacher" / "rate_curve.json").read_text())
    assert curve["model_sha256"] == file_sha256(models / "teacher" / "model.safetensors")
    assert curve["heldout_sha256"] == file_sha256(out / "heldout.txt")
    assert "best_probe" in json.loads((models / "next-sentence" / "training.json").read_text())
    assert (out / "heldout_pairs.tsv").read_text().count("\n") > 0


def test_a_second_run_does_nothing_and_a_removed_output_is_made_again_by_resuming(built, tmp_path):
    out, _ = built
    assert set(doit(out).values()) == {"skipped"}
    python = tmp_path / "python3"  # the same interpreter by another path (doit's `python3.11`, a shell's `python`)
    python.symlink_to(sys.executable)
    assert set(doit(out, python=str(python)).values()) == {"skipped"}
    weights = out / "models" / "teacher" / "model.safetensors"
    before = file_sha256(weights)
    weights.unlink()
    report = doit(out)
    assert report["teacher"] == "ran" and file_sha256(weights) == before, "resumed from its checkpoint, same weights"
    assert {s for s, r in report.items() if r == "ran"} == {"teacher"}, report  # nothing else changed


def test_a_changed_corpus_rebuilds_what_depends_on_it_and_nothing_else(built):
    out, _ = built
    teacher = out / "models" / "teacher" / "model.safetensors"
    before = file_sha256(teacher)
    report = doit(out, "documents=150")
    skipped = {s for s, r in report.items() if r == "skipped"}
    assert skipped == {"teacher-init", "qa-data"}, report
    assert file_sha256(teacher) != before
    runs = sorted(p.name for p in (out / "cache" / "runs").iterdir() if p.name.startswith("teacher-"))
    assert len(runs) == 2, "a new corpus starts a run of its own; the first run's checkpoints stay"


def report_of(stdout: str) -> dict[str, str]:
    return {m.group(2): "ran" if m.group(1) == "." else "skipped"
            for m in re.finditer(r"^(\.|--) +(\S+)$", stdout, re.M)}


def test_a_killed_rebuild_keeps_the_stages_it_finished(tmp_path):
    """doit writes its record only when a run ends: `training.rebuild` runs one doit a stage, so a rebuild killed
    (SIGKILL, as at a session's end) during the ELECTRA stage leaves the student and its parents on record."""
    import os
    import signal
    import time

    from training.rebuild import ORDER

    assert ORDER.index("student") < ORDER.index("electra"), "ELECTRA's generator starts from the student"
    log = tmp_path / "log.txt"
    with log.open("w") as f:
        run = subprocess.Popen([sys.executable, "-m", "training.rebuild", "profile=tiny", f"out={tmp_path / 'out'}"],
                               cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 600
        started = re.compile(r"^\.  electra$", re.M)  # doit's line as the ELECTRA stage starts
        while not started.search(log.read_text()) and run.poll() is None and time.time() < deadline:
            time.sleep(0.5)
        assert run.poll() is None, "killed while the ELECTRA stage runs: " + log.read_text()[-3000:]
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    again = subprocess.run([sys.executable, "-m", "training.rebuild", "profile=tiny", f"out={tmp_path / 'out'}",
                            "student"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    report = report_of(again.stdout)
    assert report and set(report.values()) == {"skipped"}, report
    assert set(report) == {"corpus", "teacher-init", "teacher", "student"}, report


def test_every_built_in_model_and_file_the_app_reads_is_made_by_a_stage_of_the_full_profile():
    from explainers import builtin

    outputs = {p for s in pipeline.stages(pipeline.full()) for p in s.outputs}
    for key in builtin.MODELS:
        assert builtin.folder(key) / "model.safetensors" in outputs, key
        assert builtin.folder(key) / "README.md" in outputs, key
    assert {builtin.folder("teacher") / "rate_curve.json", builtin.folder("student") / "measured.json",
            ROOT / "assets/text/en/heldout.txt", ROOT / "assets/text/en/heldout_pairs.tsv"} <= outputs
    for name, (commit, folder, digest) in pipeline.WARM.items():  # warm starts name shipped versions that exist
        assert subprocess.run(["git", "cat-file", "-e", f"{commit}:{folder}/model.safetensors"], cwd=ROOT).returncode == 0


def test_a_warm_start_is_written_out_of_git_and_checked_by_sha256(tmp_path):
    from explainers.errors import BuildError
    from training.warm import materialise

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    shipped = ROOT / "assets/models/qa"
    committed = subprocess.run(["git", "show", f"{head}:assets/models/qa/model.safetensors"], cwd=ROOT,
                               capture_output=True).stdout
    digest = hashlib.sha256(committed).hexdigest()
    out = materialise(head, "assets/models/qa", digest, tmp_path / "qa")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in shipped.iterdir()
                                                           if subprocess.run(["git", "ls-files", "--error-unmatch",
                                                                              str(p)], cwd=ROOT,
                                                                             capture_output=True).returncode == 0)
    with pytest.raises(BuildError, match="sha256"):
        materialise(head, "assets/models/qa", "0" * 64, tmp_path / "qa")


def test_a_run_key_is_the_same_from_another_checkout_and_changes_with_the_flags(monkeypatch, tmp_path):
    def stage(root: Path, steps: str) -> pipeline.Stage:
        out = root / "assets/models/teacher"
        return pipeline.Stage("teacher", "", [[sys.executable, "-m", "training.pretrain_mlm", "--run", "{run}",
                                                "--steps", steps, "--export", str(out)]], [], [out / "model.safetensors"])

    here = pipeline.run_key(stage(pipeline.ROOT, "3"))
    monkeypatch.setattr(pipeline, "ROOT", tmp_path / "worktree")
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3.11")  # `python3.11` where the first said `python`
    assert pipeline.run_key(stage(tmp_path / "worktree", "3")) == here
    assert pipeline.run_key(stage(tmp_path / "worktree", "4")) != here
