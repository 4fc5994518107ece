r"""
# Measuring speed fairly

A speed ratio is only meaningful when both models run the same input on the same machine at the same time.
`encoder_latency` interleaves the models run by run (teacher, student, teacher, …), so a background task that
slows the machine for a moment slows both, and reports the **median** of each, which one slow run cannot move.
It times the **encoder** only, as DistilBERT's "60 % faster" does: the vocabulary head (a $d \times 30522$
product per position) costs the same for a 6-layer and a 3-layer model and would blur the comparison.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from explainers.errors import require


@dataclass(frozen=True)
class Latency:
    name: str
    median_ms: float
    runs_ms: list[float]  # every timed run, in order


@torch.no_grad()
def encoder_latency(models: dict, input_ids: torch.Tensor, attention_mask: torch.Tensor, *, repeats: int = 15,
                    warmup: int = 2) -> dict[str, Latency]:
    """Median wall time of one encoder forward per model (`name → model` with an HF `base_model`), interleaved."""
    require(repeats >= 1, "need at least one timed run")
    runs: dict[str, list[float]] = {name: [] for name in models}
    for i in range(warmup + repeats):
        for name, model in models.items():
            t = time.perf_counter()
            model.base_model(input_ids=input_ids, attention_mask=attention_mask)
            if input_ids.is_cuda:
                torch.cuda.synchronize()
            if i >= warmup:
                runs[name].append((time.perf_counter() - t) * 1e3)
    return {name: Latency(name, statistics.median(xs), xs) for name, xs in runs.items()}


def against_layers(speedup: float, layer_ratio: float, tolerance: float = 0.15) -> str:
    """How a measured speed-up compares with the ratio of the layers (what "half the layers, twice the speed"
    predicts): "slower" (the student took as long or longer: under 1.05×), "about" (within `tolerance` of the
    layer ratio, relative), "less" or "more"."""
    if speedup < 1.05:
        return "slower"
    if abs(speedup / layer_ratio - 1) <= tolerance:
        return "about"
    return "less" if speedup < layer_ratio else "more"
