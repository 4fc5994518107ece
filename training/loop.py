"""The loop the five training scripts share (pretrain_mlm, pretrain_electra, distill, finetune_classifier,
finetune_qa): AdamW, warm-up and linear decay, clipping, resume, checkpoints, logs.

A script builds its models and says only what differs: the loss of one batch (`loss(batch, generator) -> Step`),
its held-out evaluation, and what else its checkpoint keeps. The loop does the rest:

* AdamW in two groups (`param_groups`): matrices decay by `weight_decay`; biases and LayerNorm weights
  (dim < 2) do not;
* the learning rate rises linearly for `warmup` steps, then falls linearly to 0 at `steps` (`lr_at`); a group's
  `scale` multiplies it (ELECTRA's generator learns faster than the discriminator), and so does a script's
  `lr_scale(step, group)` if it gives one (ELECTRA holds the discriminator still while its generator is
  distilled first);
* the batch and the masking generator of step $i$ are functions of $i$ (`batch_at`, seed $1\,000\,003 \cdot
  \text{seed} + i$), so a resumed run sees what an uninterrupted one would;
* the forward pass runs under bf16 autocast when `bf16`; gradients are clipped to norm 1;
* `<run>/ckpt.pt` ("model" or the script's own keys, "opt", "step", "seconds", "config") is written atomically
  every `save_every` steps and at the end; rerunning the same command continues from it;
* every `eval_every` steps one JSON line goes to `<run>/log.jsonl`: what the model cards quote;
* a run's configuration is fixed: rerunning with another one (`cli`) stops with the differences listed, unless
  `--accept-config-change` is given; `<run>/history.jsonl` records the start and every accepted change (with the
  step, the command and the hardware), the checkpoint carries it, and `training.json` quotes it (`history`).
  Raising `steps` or the evaluation and save intervals to continue a run is not a change of configuration.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file

from explainers.model import file_sha256
from explainers.errors import BuildError, require

ROOT = Path(__file__).resolve().parents[1]
# what continuing a run may change without a change of configuration: how far it goes, how often it logs and saves
CONTINUABLE = frozenset({"run", "steps", "eval_every", "save_every"})


class ConfigChanged(SystemExit):
    """A run resumed with another configuration than the one it was started with."""


@dataclass(frozen=True)
class Step:
    """What one training step hands the loop."""

    loss: torch.Tensor  # the scalar backward() runs on; `train_loss` in the log
    parts: dict[str, torch.Tensor] = field(default_factory=dict)  # its terms, logged beside it
    note: Callable[[], str] = lambda: ""  # printed after the loss (called only on the steps that print)


def lr_at(cfg, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - cfg.warmup))


def batch_at(cfg, data: dict, step: int) -> dict:
    """Deterministic batch for `step`: epoch-seeded permutation, so a resumed run sees the same data."""
    n = len(data["input_ids"])
    per_epoch = n // cfg.batch_size
    require(per_epoch > 0, f"{n} training sequences do not fill one batch of {cfg.batch_size}", BuildError)
    epoch, k = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 1000 + epoch))
    idx = order[k * cfg.batch_size:(k + 1) * cfg.batch_size]
    return {key: v[idx] for key, v in data.items()}


def param_groups(params, weight_decay: float, **extra) -> list[dict]:
    """AdamW's two groups: matrices decay; biases and LayerNorm weights (dim < 2) do not."""
    params = list(params)
    return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay, **extra},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0, **extra}]


def train_loop(cfg, models: dict[str, torch.nn.Module], groups: list[dict], data: dict,
               loss: Callable[[dict, torch.Generator, int], Step], evaluate: Callable[[], dict], *,
               betas: tuple[float, float], device: torch.device = torch.device("cpu"), print_every: int = 20,
               start_row: dict | None = None, extra_state: dict | None = None, minutes: float = 0.0,
               lr_scale: Callable[[int, dict], float] | None = None) -> None:
    """Train `models` (checkpoint key → module) to `cfg.steps` on `data` (packed, on the CPU), resuming from
    `<run>/ckpt.pt`. `start_row`: facts for a step-0 log line (with an evaluation) when a run starts fresh;
    `extra_state`: more checkpoint entries; `minutes` > 0: fit `cfg.steps` to that much training time."""
    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16)  # noqa: E731
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=betas)
    params = [p for group in groups for p in group["params"]]
    step, seconds = 0, 0.0
    with (cfg.run / "log.jsonl").open("a") as log:

        def write(row: dict) -> None:
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(row, flush=True)

        if (cfg.run / "ckpt.pt").exists():
            state = load_checkpoint(cfg.run, device)
            for key, model in models.items():
                model.load_state_dict(state[key])
            opt.load_state_dict(state["opt"])
            step, seconds = state["step"], state["seconds"]
            print(f"resumed at step {step}", flush=True)
        elif start_row is not None:
            with autocast():
                write({"step": 0, "train_seconds": 0, **start_row, **evaluate()})
        first_step, started = step, time.time()
        while step < cfg.steps:
            if minutes > 0 and step - first_step in (30, 300):  # fit the schedule to the time budget
                per_step = (time.time() - started) / (step - first_step)
                left = minutes * 60 - (time.time() - started)
                cfg = replace(cfg, steps=step + max(1, int(left / per_step)))
                print(f"{per_step:.3f}s/step: training to step {cfg.steps}", flush=True)
            t = time.time()
            for model in models.values():
                model.train()
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, step) * group.get("scale", 1.0) * (lr_scale(step, group) if lr_scale else 1)
            with autocast():
                out = loss(batch_at(cfg, data, step), torch.Generator().manual_seed(cfg.seed * 1_000_003 + step),
                           step)
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            seconds += time.time() - t
            if step % print_every == 0:
                print(f"step {step} loss {out.loss.item():.3f}{out.note()} lr {lr_at(cfg, step):.2e} "
                      f"{seconds / step:.2f}s/step", flush=True)
            if step % cfg.eval_every == 0 or step == cfg.steps:
                with autocast():
                    metrics = evaluate()
                write({"step": step, "train_seconds": round(seconds), "train_loss": round(out.loss.item(), 4),
                       **{k: round(v.item(), 4) for k, v in out.parts.items()}, **metrics})
            if step % cfg.save_every == 0 or step == cfg.steps:
                save_checkpoint(cfg.run, cfg, step, seconds, **{k: m.state_dict() for k, m in models.items()},
                                opt=opt.state_dict(), **(extra_state or {}))


def config_of(cfg) -> dict[str, str]:
    """The configuration as the checkpoint stores it (every value a string)."""
    return {k: str(v) for k, v in asdict(cfg).items()}


def history(run: Path) -> list[dict]:
    path = run / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def record_start(cfg, argv: list[str], accept: bool = False) -> None:
    """Before training: a new run records its configuration in `<run>/history.jsonl`; a resumed one compares it
    with the one it was started with (and every accepted change since) and raises `ConfigChanged` on a
    difference outside `CONTINUABLE`, unless `accept`, when the change is recorded with the step it applies from."""
    cfg.run.mkdir(parents=True, exist_ok=True)
    now = config_of(cfg)
    past = history(cfg.run)
    ckpt = cfg.run / "ckpt.pt"
    step = json.loads((cfg.run / "step.json").read_text())["step"] if (cfg.run / "step.json").exists() else 0
    entry = {"step": step, "command": " ".join(argv), "hardware": hardware(),
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if not past or not ckpt.exists():
        entry["config"] = now
    else:
        before = {}
        for row in past:  # the configuration in force: the start's, then each recorded change
            before.update(row.get("config", {}))
            before.update({k: new for k, (_, new) in row.get("changed", {}).items()})
        changed = {k: [before.get(k), v] for k, v in now.items() if before.get(k) != v}
        refused = {k: v for k, v in changed.items() if k not in CONTINUABLE}
        if refused and not accept:
            lines = "\n".join(f"  {k}: {old} -> {new}" for k, (old, new) in refused.items())
            raise ConfigChanged(f"{cfg.run} was trained to step {step} with another configuration:\n{lines}\n"
                                "Rerun with the run's configuration, or add --accept-config-change to continue "
                                "with the new one (the change is recorded in history.jsonl and training.json).")
        if not changed:
            return
        entry["changed"] = changed
    with (cfg.run / "history.jsonl").open("a") as f:
        f.write(json.dumps(entry) + "\n")


def save_checkpoint(run: Path, cfg, step: int, seconds: float, **state) -> None:
    """`<run>/ckpt.pt`, written atomically (a kill mid-write leaves the previous checkpoint), with the run's
    history; `<run>/step.json` says how far it is without loading it."""
    tmp = run / "ckpt.tmp"
    torch.save({**state, "step": step, "seconds": seconds, "config": config_of(cfg), "history": history(run)}, tmp)
    os.replace(tmp, run / "ckpt.pt")
    (run / "step.json").write_text(json.dumps({"step": step}))


def load_checkpoint(run: Path, device: torch.device | str = "cpu") -> dict:
    return torch.load(run / "ckpt.pt", weights_only=False, map_location=device)


def checkpoint_facts(state: dict, **extra) -> dict:
    """What `training.json` records about an exported checkpoint (the model cards quote it)."""
    return {"step": state["step"], "train_seconds": round(state["seconds"]), "config": state["config"], **extra,
            "hardware": state.get("hardware") or hardware(), "history": state.get("history", [])}


def save_model_folder(folder: Path, model, tokenizer, facts: dict, *, base: Path | None = None,
                      shared: tuple[str, ...] = ()) -> None:
    """An fp16 `from_pretrained` folder: weights (safetensors), tokenizer and `training.json` (the facts).
    With `base`: the weights under the key prefixes `shared` (frozen in training, e.g. the embeddings) are left
    out and `training.json` names the base file they come from, with its sha256
    (`explainers.model.fill_from_base` reads them back)."""
    folder.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    if base is not None:
        weights = folder / "model.safetensors"
        state = load_file(weights)  # as save_pretrained wrote it: tied weights (an output layer) stored once
        save_file({k: v for k, v in state.items() if not k.startswith(shared)}, weights, metadata={"format": "pt"})
        path = base.resolve()
        path = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path  # in the repo: wherever it is cloned
        facts = {**facts, "base": {"path": str(path), "shared": list(shared),
                                   "sha256": file_sha256(base / "model.safetensors")}}
    (folder / "training.json").write_text(json.dumps(facts, indent=2))


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def hardware(device: torch.device | None = None) -> str:
    """Where training runs: the GPU's name, or the CPU's with its core and thread counts."""
    if device is not None and device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    return f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def cli(doc: str, config_class, train_fn, export_fn, default_run: Path, export_help: str,
        argv: list[str] | None = None) -> None:
    """The command line every training script shares: train (resumable) or `--export` the checkpoint. Every
    scalar field of the config is a flag (`--batch-size 64`, `--soft-at all`, `--bf16 false`)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=default_run)
    ap.add_argument("--export", type=Path, default=None, help=export_help)
    ap.add_argument("--accept-config-change", action="store_true",
                    help="continue a run with a configuration other than the one it was started with (recorded)")
    names = []
    for f in fields(config_class):
        default = f.default
        if f.name == "run" or not isinstance(default, (bool, int, float, str, Path)):
            continue
        kind = type(default)
        if kind is bool:
            kind = lambda v: {"true": True, "false": False}[v.lower()]  # noqa: E731
        ap.add_argument("--" + f.name.replace("_", "-"), type=kind, default=default)
        names.append(f.name)
    args = ap.parse_args(argv)
    cfg = config_class(run=args.run, **{name: getattr(args, name) for name in names})
    if args.export:
        export_fn(cfg, args.export)
        return
    if hasattr(cfg, "threads"):  # the history's hardware line names the threads the run uses
        torch.set_num_threads(cfg.threads)
    module = config_class.__module__
    if module == "__main__":  # `python -m training.x`: the module's own name, as the command was typed
        module = getattr(sys.modules["__main__"].__spec__, "name", module)
    record_start(cfg, ["python", "-m", module, *(sys.argv[1:] if argv is None else argv)],
                 args.accept_config_change)
    train_fn(cfg)
