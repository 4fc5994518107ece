"""The cards of the two fine-tuned built-in models (`python -m training.cards qa|classifier <folder>`).

Reads each folder's `training.json` (written by the `--export` of `finetune_qa.py` / `finetune_classifier.py`),
loads the folder as the app does (`explainers.model.load_role`, the frozen weights read back from the teacher),
measures it in float32 after the fp16 round trip and writes `README.md`.

    python -m training.cards qa assets/models/qa
    python -m training.cards classifier assets/models/next-sentence
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from transformers import BertForQuestionAnswering, BertForSequenceClassification

from explainers.model import load_role
from explainers.qa import answer, exact_match, f1
from training.cards import QA_DATA, facts_of, files_section, size_mb
from training.qa_data import HANDWRITTEN, KINDS, load


def _training_lines(facts: dict, what: str) -> list[str]:
    cfg = facts["config"]
    return [f"- {facts['step']:,} steps of {cfg['batch_size']} {what}, AdamW (weight decay {cfg['weight_decay']}), "
            f"peak learning rate {cfg['lr']}, {cfg['warmup']} warm-up steps then linear decay, gradient clipping "
            "1.0, bf16 autocast (`training/loop.py`)",
            f"- {facts['train_seconds'] / 60:.0f} minutes of training on {facts['hardware']} (wall-clock time: "
            "whatever else the machine ran meanwhile is not subtracted)"]


def _base_line(facts: dict, folder: Path) -> str:
    base = facts["base"]
    return (f"This folder holds only the weights fine-tuning changed ({size_mb(folder):.1f} MB, float16): everything "
            f"under {', '.join(f'`{p}`' for p in base['shared'])} was frozen in training and is read from "
            f"`{base['path']}/model.safetensors` when the model loads (`explainers.model.fill_from_base`, called by "
            f"`load_role`), which checks that file's sha256 (`{base['sha256'][:16]}…`) first: a retrained teacher "
            "makes this folder refuse to load rather than give wrong answers. Load it with `from_pretrained` plus "
            "those weights, as `load_role` does.")


def qa_card(folder: Path, data: Path = QA_DATA) -> dict:
    lm = load_role(str(folder), folder, BertForQuestionAnswering)
    facts = facts_of(folder)
    test = load(data / "test.jsonl")
    by = defaultdict(lambda: [0.0, 0.0, 0])
    hand_rows = []
    for e in [*test, *HANDWRITTEN]:
        predicted = answer(lm.model, lm.tokenizer, e.question, e.passage, k=1).best.text
        em, f = exact_match(predicted, e.answer), f1(predicted, e.answer)
        for key in (e.source, f"{e.source}/{e.kind}", "all" if e.source != "handwritten" else "hand"):
            by[key][0] += em
            by[key][1] += f
            by[key][2] += 1
        if e.source == "handwritten":
            hand_rows.append(f"| {e.question} | {e.answer} | {predicted} | {f:.2f} |")
    score = {k: {"exact_match": em / n, "f1": f / n, "n": n} for k, (em, f, n) in by.items()}
    m = facts["data"]
    cfg = facts["config"]
    kind_rows = [f"| {source} | {kind} | {s['n']} | {s['exact_match']:.1%} | {s['f1']:.1%} |"
                 for source in ("stories", "wordnet") for kind in KINDS
                 if (s := score.get(f"{source}/{kind}"))]
    lines = [
        "# qa: the built-in question-answering model", "",
        "`BertForQuestionAnswering`: the built-in teacher (`assets/models/teacher`, 6 layers × 384) with a start "
        "vector S and an end vector E (`qa_outputs`, the only new weights), fine-tuned end to end by "
        "`training/finetune_qa.py` with `explainers.qa.qa_loss`, the loss the Fine-tuning chapter shows.", "",
        _base_line(facts, folder), "",
        "## Measured", "",
        "Scored with `explainers.qa.answer` (the page's function: best span with start ≤ end, at most 30 pieces) "
        "and SQuAD v1.1's exact match and F1 (`explainers.qa.exact_match`, `f1`), float32 after the fp16 round "
        "trip.", "",
        "| data | questions | exact match | F1 |", "|---|---|---|---|",
        f"| held-out split (by source document) | {score['all']['n']:,} | **{score['all']['exact_match']:.1%}** | "
        f"**{score['all']['f1']:.1%}** |",
        *[f"| … {label} | {score[key]['n']:,} | {score[key]['exact_match']:.1%} | {score[key]['f1']:.1%} |"
          for key, label in (("stories", "stories"), ("wordnet", "WordNet")) if key in score],
        f"| written by hand in SQuAD's style (`training/qa_examples.py: HANDWRITTEN`) | {score['hand']['n']} | "
        f"**{score['hand']['exact_match']:.1%}** | **{score['hand']['f1']:.1%}** |", "",
        *([("The held-out split is all but solved: its passages follow the generators' sentence frames, which the "
            "model has learned, though never these passages. ") if score["all"]["f1"] >= 0.95 else ""]
          + ["The hand-written questions, in frames it never saw, measure what carries over to a passage a teacher "
             "types.", ""]),
        "By question kind (held-out split):", "",
        "| source | kind | questions | exact match | F1 |", "|---|---|---|---|---|", *kind_rows, "",
        "The hand-written questions, one by one:", "",
        "| question | answer | the model's answer | F1 |", "|---|---|---|---|", *hand_rows, "",
        "## Data", "",
        "No SQuAD-like data set installs on this offline machine, so `training/qa_data.py` makes extractive "
        "question–passage–answer triples from two sources: WordNet 3.0's glosses of instance nouns (people, "
        "places, battles; Debian's `wordnet-base`, WordNet licence), each gloss turned into a sentence and 3–5 "
        "of the same category put in one passage, so that the wrong candidates are of the answer's type; and "
        "short stories written by the project (2–3 people with names, jobs, home towns, years, ages, counts, "
        "colours, instruments), each question kept only when the passage holds another value of the answer's "
        "type. Question kinds: who, what, when, where, how many, which, what is X. Split by source document "
        "(a WordNet synset group or a story) with the corpus' hash rule.", "",
        f"- train: {m['train']['examples']:,} questions on {m['train']['passages']:,} passages; held out: "
        f"{m['test']['examples']:,} on {m['test']['passages']:,}; sha256 {m['train']['sha256'][:16]}… / "
        f"{m['test']['sha256'][:16]}…",
        f"- training examples whose answer lies beyond {cfg['seq_len']} pieces were left out (none at this size)",
        "", "## Training", "", *_training_lines(facts, f"question–passage pairs (up to {cfg['seq_len']} pieces)"),
        f"- the embeddings frozen; evaluated every {cfg['eval_every']} steps on {cfg['eval_examples']} held-out "
        "questions (`<run>/log.jsonl`)", "",
        *files_section(folder)]
    (folder / "README.md").write_text("\n".join(lines))
    return score


def classifier_card(folder: Path, data: Path = QA_DATA) -> dict:  # `data` unused: qa_card's signature
    hidden = load_role(str(folder), folder, BertForSequenceClassification).config.hidden_size  # loads as the app does
    facts = facts_of(folder)
    probes = facts["probes"]
    last4 = probes["last4_concat"]
    curve = [r for r in facts["finetune_curve"] if "test_accuracy" in r]
    probe_rows = [f"| {name.replace('layer:', 'layer ').replace('layer 0', 'embeddings (layer 0)')} | "
                  f"{', '.join(map(str, row['layers']))} | {row['curve']['train'][-1]:.1%} | "
                  f"{row['test_accuracy']:.1%} |" for name, row in probes.items()]
    curve_rows = [f"| {r['step']} | {r['test_accuracy']:.1%} |" for r in curve]
    cfg = facts["config"]
    lines = [
        "# next-sentence: does sentence B follow sentence A?", "",
        "Two classifiers of one task, BERT's next-sentence prediction, built on the built-in teacher by "
        "`training/finetune_classifier.py`:", "",
        f"- **feature-based**: the teacher frozen; a logistic-regression probe (`explainers.finetune.train_probe`) "
        f"on the `[CLS]` vector of hidden state(s) {', '.join(map(str, probes[facts['best_probe']]['layers']))} "
        f"(the best setting below), `probe.safetensors`;",
        "- **fine-tuned**: `BertForSequenceClassification` (the pooler, dense + tanh on `[CLS]`, and a new linear "
        "layer; `explainers.finetune.cls_head_logits`) trained with its encoder, except the frozen weights named "
        "below.", "",
        _base_line(facts, folder), "",
        "## Measured", "",
        f"Held-out accuracy on {facts['pairs']['test']:,} pairs from held-out documents of the corpus (chance: 50 %).",
        "",
        "| classifier | held-out accuracy |", "|---|---|",
        f"| fine-tuned, after {curve[-1]['step']} steps | **{curve[-1]['test_accuracy']:.1%}** |",
        f"| feature-based, best probe ({facts['best_probe']}) | "
        f"**{probes[facts['best_probe']]['test_accuracy']:.1%}** |",
        "",
        f"Probes on each setting ({facts['probe_pairs']:,} training pairs, {cfg['probe_steps']} full-batch steps, "
        f"seed {cfg['seed']}; {facts['probe_seconds']} s for all):", "",
        "| features | hidden states | training accuracy | held-out accuracy |", "|---|---|---|---|", *probe_rows, "",
        f"The last four layers concatenated give the probe {4 * hidden:,} features for its "
        f"{facts['probe_pairs']:,} training pairs: training {last4['curve']['train'][-1]:.1%}, held out "
        f"{last4['test_accuracy']:.1%}, a wider gap than any single layer's (the two columns).", "",
        "Fine-tuning, held-out accuracy against steps:", "", "| step | held-out accuracy |", "|---|---|",
        *curve_rows, "",
        "## Data", "",
        "Sentence pairs made as BERT made them (`explainers.finetune.next_sentence_pairs`): consecutive sentences "
        "of a document, kept as IsNext with probability 1/2, otherwise B is a random sentence of a random other "
        "document (NotNext). Documents: the pretraining corpus (`training/build_corpus.py`: Austen, Reuters, "
        "the Harvard sentences, WordNet, fortunes and the project's everyday text), training pairs from its "
        f"training documents ({facts['pairs']['train']:,}), held-out pairs from its held-out documents.", "",
        "## Training", "", *_training_lines(facts, f"pairs (up to {cfg['seq_len']} pieces)"), "",
        *files_section(folder)]
    (folder / "README.md").write_text("\n".join(lines))
    return {"finetuned": curve[-1]["test_accuracy"], "probes": {k: v["test_accuracy"] for k, v in probes.items()}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["qa", "classifier"])
    ap.add_argument("path", type=Path)
    ap.add_argument("--data", type=Path, default=QA_DATA, help="the QA data folder (qa_data.py --out)")
    args = ap.parse_args(argv)
    card = qa_card if args.kind == "qa" else classifier_card
    print(json.dumps(card(args.path, args.data), indent=2))


if __name__ == "__main__":
    main()
