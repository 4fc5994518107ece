"""Feature-based vs fine-tuning on one task a class understands: does sentence B follow sentence A?

The task is BERT's own next-sentence prediction (the reason `[CLS]` exists): pairs of consecutive sentences from
the corpus' documents (IsNext) and pairs whose B comes from another document (NotNext), 50/50
(`explainers.finetune.next_sentence_pairs`); training pairs from the corpus' training documents, held-out pairs
from its held-out documents (`training/build_corpus.py` splits by document). The built-in teacher was never
trained on it (all-MiniLM-L6-v2 and our MLM training have no NSP), so both approaches learn it here:

* **feature-based** (`explainers.finetune.train_probe`): the teacher frozen; a logistic-regression probe on the
  `[CLS]` vector of each layer (0 = the embeddings … 6), and on the last four layers concatenated (BERT's best
  feature-based setting in Table 7). The probe on the best setting ships (`probe.safetensors`).
* **fine-tuning** (`explainers.finetune.finetune_step`): `BertForSequenceClassification` (pooler + linear head on
  `[CLS]`) trained end to end, except the embeddings and the first `frozen_layers` layers, which stay as the
  teacher's and are not shipped (read back with `explainers.model.fill_from_base`), to keep the download small.

Both learning curves and the per-layer probe accuracies go into `training.json`: the chapter shows them as
measured at build time.

    python -m training.finetune_classifier --run ~/.cache/inside-bert/runs/classifier
    python -m training.finetune_classifier --run ~/.cache/inside-bert/runs/classifier \
        --export assets/models/next-sentence
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertForSequenceClassification

from explainers.builtin import TEACHER_DIR
from explainers.finetune import (accuracy, classification_loss, cls_by_layer, cls_head_logits, encode_pairs,
                                 feature_layers, next_sentence_pairs, train_probe)
from training.loop import Step, checkpoint_facts, cli, hardware, load_checkpoint, param_groups, save_model_folder, \
    train_loop

ROOT = Path(__file__).resolve().parents[1]
LABELS = {0: "NotNext", 1: "IsNext"}


@dataclass(frozen=True)
class Config:
    run: Path  # checkpoints and logs (outside the repo)
    base: Path = TEACHER_DIR
    corpus: Path = Path.home() / ".cache/inside-bert/corpus"
    train_pairs: int = 20000
    test_pairs: int = 1000
    probe_pairs: int = 4000  # the probes' training set: the first pairs of the training set
    seq_len: int = 96
    steps: int = 600
    batch_size: int = 32
    lr: float = 5e-5
    warmup: int = 60
    weight_decay: float = 0.01
    frozen_layers: int = 2  # the first layers stay the teacher's (with the embeddings)
    probe_steps: int = 300
    eval_every: int = 50
    save_every: int = 50
    seed: int = 0
    threads: int = 1
    bf16: bool = True
    heldout_out: Path = ROOT / "assets/text/en/heldout_pairs.tsv"  # the live probe's pairs


def documents(path: Path) -> list[str]:
    return [d for d in path.read_text(encoding="utf-8").splitlines() if d.strip()]


def heldout(cfg: Config):
    return next_sentence_pairs(documents(cfg.corpus / "test.txt"), seed=cfg.seed + 1, max_pairs=cfg.test_pairs)


def datasets(cfg: Config, tokenizer) -> tuple[dict, dict]:
    train = next_sentence_pairs(documents(cfg.corpus / "train.txt"), seed=cfg.seed, max_pairs=cfg.train_pairs)
    return encode_pairs(tokenizer, train, cfg.seq_len), encode_pairs(tokenizer, heldout(cfg), cfg.seq_len)


def write_heldout(cfg: Config, path: Path) -> None:
    """The held-out pairs as a TSV the chapter's live probe reads (document, label, A, B)."""
    rows = [f"{p.doc}\t{p.label}\t{p.a}\t{p.b}" for p in heldout(cfg)]
    path.write_text("# the next-sentence classifier's held-out pairs (training/finetune_classifier.py --export)\n"
                    "document\tlabel\tsentence A\tsentence B\n" + "\n".join(rows) + "\n", encoding="utf-8")


def in_batches(fn, data: dict, size: int = 64) -> torch.Tensor:
    n = len(data["labels"])
    return torch.cat([fn({k: v[i:i + size] for k, v in data.items()}) for i in range(0, n, size)])


def probes(cfg: Config, model, train: dict, test: dict) -> tuple[dict, object]:
    """Probe accuracy on held-out pairs for every layer's [CLS] and for the last four concatenated. Every layer's
    [CLS] vector is read once (`[pairs, layers + 1, d]`); a setting picks and concatenates its layers."""
    n_layers = model.config.num_hidden_layers
    every = tuple(range(n_layers + 1))
    probe_train = {k: v[:cfg.probe_pairs] for k, v in train.items()}
    hidden = {name: cls_by_layer(model, data) for name, data in (("train", probe_train), ("test", test))}
    settings = {f"layer:{k}": feature_layers(f"layer:{k}", n_layers) for k in every}
    settings["last4_concat"] = feature_layers("last4_concat", n_layers)
    rows, best = {}, None
    for name, layers in settings.items():
        x = {split: h[:, list(layers)].flatten(1) for split, h in hidden.items()}
        result = train_probe(x["train"], probe_train["labels"], x["test"], test["labels"], steps=cfg.probe_steps,
                             seed=cfg.seed)
        rows[name] = {"layers": list(layers), "test_accuracy": round(result.final_test_accuracy, 4),
                      "curve": {"steps": result.steps, "train": result.train_accuracy, "test": result.test_accuracy}}
        print(name, rows[name]["test_accuracy"], flush=True)
        if best is None or result.final_test_accuracy > best[1].final_test_accuracy:
            best = (name, result)
    return rows, best


def classifier(cfg: Config) -> BertForSequenceClassification:
    model = BertForSequenceClassification.from_pretrained(cfg.base, num_labels=2, id2label=LABELS,
                                                          label2id={v: k for k, v in LABELS.items()},
                                                          dtype=torch.float32, attn_implementation="sdpa")
    for name, p in model.named_parameters():
        p.requires_grad_(not name.startswith(frozen_prefixes(cfg)))
    return model


def frozen_prefixes(cfg: Config) -> tuple[str, ...]:
    return ("bert.embeddings.", *(f"bert.encoder.layer.{i}." for i in range(cfg.frozen_layers)))


@torch.no_grad()
def heldout_accuracy(model, test: dict) -> float:
    model.eval()
    logits = in_batches(lambda b: cls_head_logits(model, b["input_ids"], b["attention_mask"], b["token_type_ids"]),
                        test)
    return accuracy(logits, test["labels"])


def train(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    cfg.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base)
    t0 = time.time()
    train_data, test_data = datasets(cfg, tokenizer)
    print(f"{len(train_data['labels'])} training / {len(test_data['labels'])} held-out pairs "
          f"({time.time() - t0:.0f}s)", flush=True)
    if not (cfg.run / "probes.json").exists():  # feature-based: the frozen teacher, one probe a setting
        t0 = time.time()
        rows, (best_name, best) = probes(cfg, classifier(cfg).bert.eval(), train_data, test_data)
        p = best.probe
        save_file({"weight": p.weight, "bias": p.bias, "mean": p.mean, "std": p.std}, cfg.run / "probe.safetensors")
        (cfg.run / "probes.json").write_text(json.dumps(
            {"probes": rows, "best_probe": best_name, "probe_seconds": round(time.time() - t0),
             "probe_pairs": min(cfg.probe_pairs, len(train_data["labels"])), "pairs":
                 {"train": len(train_data["labels"]), "test": len(test_data["labels"])}}, indent=2))

    model = classifier(cfg)  # fine-tuning: everything but the frozen prefixes

    def loss(batch: dict, g: torch.Generator, step: int) -> Step:
        logits = cls_head_logits(model, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        return Step(classification_loss(logits, batch["labels"]))

    train_loop(cfg, {"model": model}, param_groups([q for q in model.parameters() if q.requires_grad],
                                                   cfg.weight_decay), train_data, loss,
               lambda: {"test_accuracy": heldout_accuracy(model, test_data)}, betas=(0.9, 0.999), print_every=10,
               start_row={}, extra_state={"hardware": hardware()})


def export(cfg: Config, out: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(cfg.base)
    model = classifier(cfg)
    state = load_checkpoint(cfg.run)
    model.load_state_dict(state["model"])
    curve = [json.loads(line) for line in (cfg.run / "log.jsonl").read_text().splitlines()]
    facts = checkpoint_facts(state, task="next sentence (IsNext / NotNext)", finetune_curve=curve,
                             **json.loads((cfg.run / "probes.json").read_text()))
    save_model_folder(out, model, tokenizer, facts, base=cfg.base, shared=frozen_prefixes(cfg))
    (out / "probe.safetensors").write_bytes((cfg.run / "probe.safetensors").read_bytes())
    write_heldout(cfg, cfg.heldout_out)
    print(json.dumps({k: v for k, v in facts.items() if k != "probes"}, indent=2))


def main(argv: list[str] | None = None) -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/classifier",
        "write the checkpoint as a model folder and stop", argv)


if __name__ == "__main__":
    main()
