"""Fine-tune the built-in teacher for extractive question answering: the built-in QA model.

BERT's recipe (§4.2 of the paper): the input is `[CLS] question [SEP] passage [SEP]`, a start vector S and an end
vector E are the only new weights (`BertForQuestionAnswering.qa_outputs`, two rows), and the loss is the mean of
the cross-entropies of the true start and end positions (`explainers.qa.qa_loss`, what the chapter shows). The
data come from `training/qa_data.py` (WordNet glosses and stories written by the project; no SQuAD-like set
installs here). The embeddings stay frozen and are not shipped: the folder holds the encoder layers and S, E,
and reads the embeddings from the teacher (`explainers.model.fill_from_base`). Evaluation: exact match and F1
(SQuAD's normalisation) of `explainers.qa.answer`, the page's own function, on held-out passages.

    python -m training.qa_data --out ~/.cache/inside-bert/qa
    python -m training.finetune_qa --run ~/.cache/inside-bert/runs/qa
    python -m training.finetune_qa --run ~/.cache/inside-bert/runs/qa --export assets/models/qa
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertForQuestionAnswering

from explainers.builtin import TEACHER_DIR
from explainers.qa import answer, char_span_to_tokens, exact_match, f1, qa_loss
from training.loop import Step, checkpoint_facts, cli, hardware, load_checkpoint, param_groups, save_model_folder, \
    train_loop
from training.qa_data import HANDWRITTEN, load

EMBEDDINGS = ("bert.embeddings.",)


@dataclass(frozen=True)
class Config:
    run: Path  # checkpoints and logs (outside the repo)
    base: Path = TEACHER_DIR
    data: Path = Path.home() / ".cache/inside-bert/qa"
    steps: int = 1000  # what the built-in QA model got
    batch_size: int = 32
    seq_len: int = 192  # question + passage pieces; longer examples are dropped from training
    lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.01
    seed: int = 0
    eval_every: int = 250
    save_every: int = 50
    eval_examples: int = 400
    threads: int = 1
    bf16: bool = True
    max_answer_len: int = 30


def tensors(examples, tokenizer, seq_len: int) -> dict:
    """Tokenised training examples with their answer's start and end piece; those whose answer does not fit in
    `seq_len` pieces are left out."""
    enc = tokenizer([e.question for e in examples], [e.passage for e in examples], truncation="only_second",
                    max_length=seq_len, padding="max_length", return_offsets_mapping=True,
                    return_token_type_ids=True)
    keep, starts, ends = [], [], []
    for i, e in enumerate(examples):
        seq = enc.sequence_ids(i)
        passage = [j for j, s in enumerate(seq) if s == 1]
        span = char_span_to_tokens(enc["offset_mapping"][i], passage[0], passage[-1], e.answer_start,
                                   e.answer_start + len(e.answer)) if passage else None
        if span is not None:
            keep.append(i)
            starts.append(span[0])
            ends.append(span[1])
    pick = lambda key: torch.tensor([enc[key][i] for i in keep])  # noqa: E731
    return {"input_ids": pick("input_ids"), "attention_mask": pick("attention_mask"),
            "token_type_ids": pick("token_type_ids"), "start": torch.tensor(starts), "end": torch.tensor(ends)}


def scores(model, tokenizer, examples, max_answer_len: int = 30) -> dict:
    """Exact match and F1 of the page's `answer` over `examples` (each its own forward pass, as on the page)."""
    model.eval()
    em = f = 0.0
    for e in examples:
        predicted = answer(model, tokenizer, e.question, e.passage, max_answer_len=max_answer_len, k=1,
                           max_length=min(384, model.config.max_position_embeddings)).best.text
        em += exact_match(predicted, e.answer)
        f += f1(predicted, e.answer)
    return {"exact_match": em / len(examples), "f1": f / len(examples), "examples": len(examples)}


def load_model(cfg: Config) -> BertForQuestionAnswering:
    model = BertForQuestionAnswering.from_pretrained(cfg.base, dtype=torch.float32, attn_implementation="sdpa")
    for name, p in model.named_parameters():
        p.requires_grad_(not name.startswith(EMBEDDINGS))
    return model


def train(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    cfg.run.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base)
    model = load_model(cfg)
    t0 = time.time()
    data = tensors(load(cfg.data / "train.jsonl"), tokenizer, cfg.seq_len)
    test = load(cfg.data / "test.jsonl")
    test = random.Random(cfg.seed).sample(test, min(cfg.eval_examples, len(test)))
    print(f"{len(data['input_ids'])} training examples tokenised in {time.time() - t0:.0f}s", flush=True)

    def loss(batch: dict, g: torch.Generator, step: int) -> Step:
        n = int(batch["attention_mask"].sum(1).max())  # trim the padding every row shares
        out = model(input_ids=batch["input_ids"][:, :n], attention_mask=batch["attention_mask"][:, :n],
                    token_type_ids=batch["token_type_ids"][:, :n])
        return Step(qa_loss(out.start_logits.float(), out.end_logits.float(), batch["start"], batch["end"]))

    trainable = [p for p in model.parameters() if p.requires_grad]
    train_loop(cfg, {"model": model}, param_groups(trainable, cfg.weight_decay), data, loss,
               lambda: scores(model, tokenizer, test, cfg.max_answer_len), betas=(0.9, 0.999), print_every=10,
               start_row={}, extra_state={"hardware": hardware()})


def export(cfg: Config, out: Path) -> None:
    """The latest checkpoint as an fp16 folder without the (frozen) embeddings, with its held-out scores."""
    tokenizer = AutoTokenizer.from_pretrained(cfg.base)
    model = load_model(cfg)
    state = load_checkpoint(cfg.run)
    model.load_state_dict(state["model"])
    model.half().float()  # measure what ships
    measured = {"heldout": scores(model, tokenizer, load(cfg.data / "test.jsonl"), cfg.max_answer_len),
                "handwritten": scores(model, tokenizer, HANDWRITTEN, cfg.max_answer_len)}
    manifest = json.loads((cfg.data / "manifest.json").read_text())
    facts = checkpoint_facts(state, measured=measured, data=manifest)
    save_model_folder(out, model, tokenizer, facts, base=cfg.base, shared=EMBEDDINGS)
    print(json.dumps(facts, indent=2))


def main(argv: list[str] | None = None) -> None:
    cli(__doc__, Config, train, export, Path.home() / ".cache/inside-bert/runs/qa",
        "write the checkpoint as a model folder and stop", argv)


if __name__ == "__main__":
    main()
