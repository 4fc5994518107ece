"""The built-in models: one registry of what ships in `assets/models/`, read by the app, the training scripts and
the tests. A model's folder is named here and nowhere else.

| key | head | made from | what the app does with it |
|---|---|---|---|
| `teacher` | `BertForMaskedLM` | all-MiniLM-L6-v2, then MLM | every chapter's encoder and guesses |
| `electra-generator` | `ElectraForMaskedLM` | the teacher | ELECTRA's fakes |
| `electra-discriminator` | `ElectraForPreTraining` | the teacher | ELECTRA's verdicts |
| `student` | `DistilBertForMaskedLM` | the teacher | distillation's student |
| `next-sentence` | `BertForSequenceClassification` | the teacher | fine-tuning's classifier |
| `qa` | `BertForQuestionAnswering` | the teacher | fine-tuning's question answering |
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = ROOT / "assets/models"


@dataclass(frozen=True)
class BuiltIn:
    key: str  # its folder's name under assets/models
    head: str  # the transformers class its config.json names
    parents: tuple[str, ...]  # the built-in models it is made from (a new parent means it must be made again)
    role: str  # what the app does with it

    @property
    def folder(self) -> Path:
        return MODELS_DIR / self.key


MODELS: dict[str, BuiltIn] = {m.key: m for m in (
    BuiltIn("teacher", "BertForMaskedLM", (), "every chapter's encoder and masked-word guesses"),
    BuiltIn("electra-generator", "ElectraForMaskedLM", ("teacher",), "ELECTRA's generator of fakes"),
    BuiltIn("electra-discriminator", "ElectraForPreTraining", ("teacher",), "ELECTRA's discriminator"),
    BuiltIn("student", "DistilBertForMaskedLM", ("teacher",), "the distilled student"),
    BuiltIn("next-sentence", "BertForSequenceClassification", ("teacher",), "the next-sentence classifier"),
    BuiltIn("qa", "BertForQuestionAnswering", ("teacher",), "question answering"),
)}


def folder(key: str) -> Path:
    """The folder of built-in model `key` (KeyError for a name that is not one)."""
    return MODELS[key].folder


TEACHER_DIR = folder("teacher")
