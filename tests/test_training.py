"""Every training script trains, resumes and exports: two steps of each on a tiny teacher in `tmp_path`, through
its command line (`main(argv)`), so CI runs the code that trained the shipped models."""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import (AutoTokenizer, BertConfig, BertForMaskedLM, BertForQuestionAnswering,
                          BertForSequenceClassification, DistilBertForMaskedLM, ElectraForMaskedLM,
                          ElectraForPreTraining)

from explainers.model import load_role
from tests.conftest import WORDS
from training import distill, finetune_classifier, finetune_qa, pretrain_electra, pretrain_mlm

# one thread, short sequences, a batch of 2, an evaluation and a checkpoint every step
SMALL = ["--threads", "1", "--seq-len", "16", "--batch-size", "2", "--eval-sequences", "4", "--warmup", "1",
         "--eval-every", "1", "--save-every", "1"]
QUERY = "encoder.layer.0.attention.self.query.weight"


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory) -> Path:
    """A 6-layer BERT of width 32 (distill's default layers 0, 2, 4 exist), no dropout (runs are repeatable),
    128 positions and BERT-uncased's id layout: ids below 999 are [PAD], [unused…], [UNK], [CLS], [SEP], [MASK]
    (ELECTRA's embedding fit draws words from 999 on), then conftest's 14 words."""
    folder = tmp_path_factory.mktemp("teacher")
    special = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}
    vocab = [special.get(i, f"[unused{i}]") for i in range(999)] + WORDS
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")  # AutoTokenizer reads it (config.json says bert)
    torch.manual_seed(0)
    BertForMaskedLM(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=6, num_attention_heads=2,
                               intermediate_size=64, max_position_embeddings=128, hidden_dropout_prob=0.0,
                               attention_probs_dropout_prob=0.0)).save_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    assert (len(tok), tok.mask_token_id, tok("The cat")["input_ids"]) == (len(vocab), 103, [101, 999, 1000, 102])
    return folder


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    """train.txt (40 documents) and test.txt (10), one document a line, and a two-prompt cloze file."""
    folder = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    words = [w for w in WORDS if not w.startswith("##")]
    for name, n in (("train.txt", 40), ("test.txt", 10)):
        docs = [" ".join(rng.choices(words, k=rng.randint(3, 7))) for _ in range(n)]
        (folder / name).write_text("\n".join(docs) + "\n")
    (folder / "cloze.tsv").write_text("# prompt\tanswers\nthe cat sat on the [MASK] .\tmat\nthe [MASK] ran .\tdog\n")
    return folder


def run_args(run: Path, teacher_dir: Path, corpus_dir: Path, script) -> list[str]:
    if script is pretrain_mlm:
        model = ["--init", str(teacher_dir), "--cloze", str(corpus_dir / "cloze.tsv")]
    elif script is pretrain_electra:
        model = ["--teacher", str(teacher_dir), "--embedding-size", "8", "--fit-steps", "5", "--generator-hidden", "16",
                 "--generator-layers", "1", "--generator-heads", "2"]
    else:
        model = ["--teacher", str(teacher_dir), "--device", "cpu"]
    return ["--run", str(run), "--corpus", str(corpus_dir), *SMALL, *model]


# per script: the checkpoint entry and name of a matrix that starts as the teacher's layer-0 query
QUERIES = {pretrain_mlm: ("model", "bert." + QUERY), pretrain_electra: ("discriminator", "electra." + QUERY),
           distill: ("model", "distilbert.transformer.layer.0.attention.q_lin.weight")}


def log_steps(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("script", [pretrain_mlm, pretrain_electra, distill], ids=lambda s: s.__name__.split(".")[-1])
def test_each_script_trains_two_steps_resumes_for_a_third_and_exports(script, tmp_path, teacher_dir, corpus_dir,
                                                                      capsys):
    run, out = tmp_path / "run", tmp_path / "export"
    args = run_args(run, teacher_dir, corpus_dir, script)
    key, name = QUERIES[script]
    initial = BertForMaskedLM.from_pretrained(teacher_dir).state_dict()["bert." + QUERY]
    start = [0] if script is not pretrain_mlm else []  # ELECTRA and distillation log the untrained models first

    script.main([*args, "--steps", "2"])
    two = torch.load(run / "ckpt.pt", weights_only=False)
    assert {key, "opt", "step", "seconds", "config"} <= two.keys()
    assert two["step"] == 2 and two["config"]["steps"] == "2" and two["seconds"] > 0
    assert log_steps(run) == [*start, 1, 2]
    assert not torch.equal(two[key][name], initial), "two steps left the weights where they started"
    capsys.readouterr()

    script.main([*args, "--steps", "3"])
    assert "resumed at step 2" in capsys.readouterr().out
    three = torch.load(run / "ckpt.pt", weights_only=False)
    assert three["step"] == 3 and three["seconds"] > two["seconds"]
    assert log_steps(run) == [*start, 1, 2, 3], "a resumed run logs no second start"
    assert {float(s["step"]) for s in three["opt"]["state"].values()} == {3.0}, "the optimizer was not resumed"
    assert not torch.equal(three[key][name], two[key][name]), "the third step changed nothing"

    script.main([*args, "--steps", "3", "--export", str(out)])
    folders = {pretrain_mlm: {"model": (out, BertForMaskedLM)}, distill: {"model": (out, DistilBertForMaskedLM)},
               pretrain_electra: {"generator": (out / pretrain_electra.GENERATOR, ElectraForMaskedLM),
                                  "discriminator": (out / pretrain_electra.DISCRIMINATOR, ElectraForPreTraining)}}
    for entry, (folder, model_class) in folders[script].items():
        model = model_class.from_pretrained(folder)
        assert model.dtype == torch.float16
        assert json.loads((folder / "training.json").read_text())["step"] == 3
        if entry == key:
            assert torch.equal(model.state_dict()[name], three[key][name].half())


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path, teacher_dir, corpus_dir):
    """Two steps, then one more after a restart, give the weights of three steps in one go: the resume restores
    the model and the optimizer, and step 3 sees the same batch and masking either way. (With one warm-up step
    the first two learning rates are the peak whether the schedule ends at 2 or at 3.)"""
    ends = []
    for name, stops in (("straight", ["3"]), ("resumed", ["2", "3"])):
        args = run_args(tmp_path / name, teacher_dir, corpus_dir, pretrain_mlm)
        for steps in stops:
            pretrain_mlm.main([*args, "--steps", steps, "--eval-every", "100"])
        ends.append(torch.load(tmp_path / name / "ckpt.pt", weights_only=False)["model"])
    assert ends[0].keys() == ends[1].keys()
    for key in ends[0]:
        assert torch.equal(ends[0][key], ends[1][key]), key


def test_electra_distils_the_generator_first_with_the_discriminator_held_still(tmp_path, teacher_dir, corpus_dir):
    run = tmp_path / "run"
    args = [*run_args(run, teacher_dir, corpus_dir, pretrain_electra), "--distill-steps", "2"]
    pretrain_electra.main([*args, "--steps", "2"])
    last = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 2 and {"kl", "mlm"} <= last.keys() and "disc" not in last
    two = torch.load(run / "ckpt.pt", weights_only=False)
    teacher = BertForMaskedLM.from_pretrained(teacher_dir).state_dict()
    for k, v in teacher.items():  # the discriminator's layers are still exactly the teacher's
        if k.startswith("bert.encoder."):
            assert torch.equal(two["discriminator"]["electra." + k[len("bert."):]], v), k
    gen0, _, _ = pretrain_electra.build(pretrain_electra.Config(run=run, teacher=teacher_dir, embedding_size=8,
                                                                generator_hidden=16, generator_layers=1,
                                                                generator_heads=2))
    layer = "electra.encoder.layer.0.attention.self.query.weight"  # the generator starts from the same seed
    assert not torch.equal(two["generator"][layer], gen0.state_dict()[layer]), "the generator did not learn"

    pretrain_electra.main([*args, "--steps", "3"])
    three = torch.load(run / "ckpt.pt", weights_only=False)
    assert not torch.equal(three["discriminator"]["electra." + QUERY], two["discriminator"]["electra." + QUERY]), \
        "the joint stage trains the discriminator"
    assert "disc" in json.loads((run / "log.jsonl").read_text().splitlines()[-1])


def test_electra_continues_an_exported_pair_with_its_shared_embeddings(tmp_path, teacher_dir, corpus_dir):
    """--init <folder>: the discriminator whole and the generator's own layers start as the exported pair's (fp16
    → fp32), the two still share one embedding layer, and the log's first line names the files it came from."""
    first, out = tmp_path / "first", tmp_path / "pair"
    pretrain_electra.main([*run_args(first, teacher_dir, corpus_dir, pretrain_electra), "--steps", "1"])
    pretrain_electra.main([*run_args(first, teacher_dir, corpus_dir, pretrain_electra), "--steps", "1",
                           "--export", str(out)])
    cfg = pretrain_electra.Config(run=tmp_path / "second", teacher=teacher_dir, embedding_size=8, generator_hidden=16,
                                  generator_layers=1, generator_heads=2, init=str(out))
    train_ids = torch.arange(999, 1010)
    gen, disc, facts = pretrain_electra.build(cfg, train_ids)
    exported = {name: model_class.from_pretrained(out / folder, dtype=torch.float32).state_dict()
                for name, model_class, folder in (("disc", ElectraForPreTraining, pretrain_electra.DISCRIMINATOR),
                                                  ("gen", ElectraForMaskedLM, pretrain_electra.GENERATOR))}
    for k, v in disc.state_dict().items():
        assert torch.equal(v, exported["disc"][k]), k
    for k, v in gen.state_dict().items():
        if not k.startswith(pretrain_electra.SHARED) and k != "generator_lm_head.weight":
            assert torch.equal(v, exported["gen"][k]), k
    assert gen.electra.embeddings is disc.electra.embeddings
    assert gen.generator_lm_head.weight is disc.electra.embeddings.word_embeddings.weight
    sha = hashlib.sha256((out / pretrain_electra.DISCRIMINATOR / "model.safetensors").read_bytes()).hexdigest()
    assert facts["continued_from"] == str(out) and facts[f"{pretrain_electra.DISCRIMINATOR}_sha256"] == sha

    args = [*run_args(tmp_path / "second", teacher_dir, corpus_dir, pretrain_electra), "--init", str(out),
            "--distill-steps", "1", "--steps", "1"]
    pretrain_electra.main(args)
    pretrain_electra.main([*args, "--export", str(tmp_path / "again")])
    start = json.loads((tmp_path / "again" / pretrain_electra.DISCRIMINATOR / "training.json").read_text())["start"]
    assert start["continued_from"] == str(out) and "auc" in start


def test_copy_share_counts_wrong_guesses_at_mask_that_are_visible_in_the_sequence(teacher_dir, corpus_dir):
    """A model that always answers "cat" (id 1000): its wrong guesses at [MASK] are copies exactly in the
    sequences where "cat" is visible."""
    from explainers.corpus import load_packed
    from explainers.masking import mask_tokens
    from training.evaluate_mlm import heldout_top1

    tok = AutoTokenizer.from_pretrained(teacher_dir)
    model = BertForMaskedLM.from_pretrained(teacher_dir).eval()
    with torch.no_grad():
        model.cls.predictions.bias.fill_(-1e4)
        model.cls.predictions.bias[1000] = 1e4
    packed = load_packed(corpus_dir / "test.txt", tok, seq_len=16)
    got = heldout_top1(model, tok, packed, p_mask=1.0, p_random=0.0, seed=5)
    m = mask_tokens(packed["input_ids"], packed["special"], mask_token_id=103, vocab_size=len(tok), p_mask=1.0,
                    p_random=0.0, generator=torch.Generator().manual_seed(5))
    wrong = m.selected & (packed["input_ids"] != 1000)
    visible = ((m.input_ids == 1000) & ~m.selected).any(1, keepdim=True).expand_as(wrong)
    assert int(wrong.sum()) > 0 and 0 < int((wrong & visible).sum()) < int(wrong.sum())
    assert got["copy_share"] == pytest.approx(int((wrong & visible).sum()) / int(wrong.sum()))
    assert got["top1"] == pytest.approx(1 - int(wrong.sum()) / int(m.selected.sum()))


# ------------------------------------------------------------------------------------ the fine-tuning scripts
FINETUNE_SMALL = ["--threads", "1", "--seq-len", "32", "--batch-size", "2", "--warmup", "1", "--eval-every", "1",
                  "--save-every", "1"]


@pytest.fixture(scope="module")
def qa_dir(tmp_path_factory) -> Path:
    """train.jsonl (4 examples) and test.jsonl (2) as `training.qa_data` writes them, in conftest's words."""
    from training.qa_data import QAExample, save

    folder = tmp_path_factory.mktemp("qa")
    rows = {"train": [("the big red cat sat on the mat . the dog ran .", "the cat sat on a", "mat"),
                      ("the big red cat sat on the mat . the dog ran .", "a dog", "ran"),
                      ("a dog sat on the red mat . the big cat ran playing .", "the big", "cat"),
                      ("a dog sat on the red mat . the big cat ran playing .", "the dog sat on a", "red mat")],
            "test": [("the cat ran on a big mat . a red dog sat .", "a red", "dog"),
                     ("the cat ran on a big mat . a red dog sat .", "the cat ran on a", "big mat")]}
    manifest = {"handwritten": 0}
    for split, examples in rows.items():
        save([QAExample(f"{split}-{i}", "stories", f"{split}-{i // 2}", p, q, a, p.index(a), "what")
              for i, (p, q, a) in enumerate(examples)], folder / f"{split}.jsonl")
        manifest[split] = {"examples": len(examples)}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def nsp_corpus_dir(tmp_path_factory) -> Path:
    """train.txt (20 documents) and test.txt (6) of 2-4 capitalised sentences: `split_sentences` splits them."""
    folder = tmp_path_factory.mktemp("nsp-corpus")
    rng = random.Random(0)
    words = [w for w in WORDS if not w.startswith("##") and w != "."]
    for name, n in (("train.txt", 20), ("test.txt", 6)):
        docs = [" ".join(" ".join(rng.choices(words, k=rng.randint(3, 6))).capitalize() + "."
                         for _ in range(rng.randint(2, 4))) for _ in range(n)]
        (folder / name).write_text("\n".join(docs) + "\n")
    return folder


def _shipped_keys(folder: Path) -> set[str]:
    with safe_open(folder / "model.safetensors", "pt") as f:
        return set(f.keys())


def _assert_loads_as_trained(folder: Path, model_class, trained: dict, teacher: dict, shared: tuple[str, ...]):
    """The exported folder leaves out the `shared` (frozen) weights, and `load_role` gives back every weight:
    the trained ones as shipped (fp16), the frozen ones from the teacher."""
    assert not [k for k in _shipped_keys(folder) if k.startswith(shared)]
    loaded = load_role(str(folder), folder, model_class).model.state_dict()
    assert loaded.keys() == trained.keys()
    for key, value in trained.items():
        if key.startswith(shared):
            assert torch.equal(value, teacher[key]), f"{key} was frozen in training"
            assert torch.equal(loaded[key], teacher[key]), key
        else:
            assert torch.equal(loaded[key], value.half().float()), key


def test_finetune_qa_trains_two_steps_and_exports_a_folder_that_loads_back(tmp_path, teacher_dir, qa_dir):
    from training.qa_data import HANDWRITTEN

    run, out = tmp_path / "run", tmp_path / "export"
    args = ["--run", str(run), "--base", str(teacher_dir), "--data", str(qa_dir), *FINETUNE_SMALL, "--steps", "2"]
    finetune_qa.main(args)
    ckpt = torch.load(run / "ckpt.pt", weights_only=False)
    assert ckpt["step"] == 2 and log_steps(run) == [0, 1, 2]
    assert {"exact_match", "f1"} <= json.loads((run / "log.jsonl").read_text().splitlines()[-1]).keys()
    teacher = BertForMaskedLM.from_pretrained(teacher_dir).state_dict()
    assert not torch.equal(ckpt["model"]["bert." + QUERY], teacher["bert." + QUERY]), "two steps changed nothing"

    finetune_qa.main([*args, "--export", str(out)])
    facts = json.loads((out / "training.json").read_text())
    assert facts["step"] == 2 and facts["data"] == json.loads((qa_dir / "manifest.json").read_text())
    assert facts["measured"]["heldout"]["examples"] == 2
    assert facts["measured"]["handwritten"]["examples"] == len(HANDWRITTEN)
    _assert_loads_as_trained(out, BertForQuestionAnswering, ckpt["model"], teacher, finetune_qa.EMBEDDINGS)


def test_finetune_classifier_trains_two_steps_and_exports_a_folder_that_loads_back(tmp_path, teacher_dir,
                                                                                   nsp_corpus_dir):
    from safetensors.torch import load_file

    from explainers.finetune import Probe

    run, out = tmp_path / "run", tmp_path / "export"
    args = ["--run", str(run), "--base", str(teacher_dir), "--corpus", str(nsp_corpus_dir), *FINETUNE_SMALL,
            "--probe-steps", "5", "--steps", "2", "--heldout-out", str(tmp_path / "heldout_pairs.tsv")]
    finetune_classifier.main(args)
    probes = json.loads((run / "probes.json").read_text())
    assert set(probes["probes"]) == {f"layer:{k}" for k in range(7)} | {"last4_concat"}
    assert probes["probes"]["last4_concat"]["layers"] == [3, 4, 5, 6]
    ckpt = torch.load(run / "ckpt.pt", weights_only=False)
    assert ckpt["step"] == 2 and log_steps(run) == [0, 1, 2]
    teacher = BertForMaskedLM.from_pretrained(teacher_dir).state_dict()
    top = "bert.encoder.layer.5.attention.self.query.weight"
    assert not torch.equal(ckpt["model"][top], teacher[top]), "two steps changed nothing"

    finetune_classifier.main([*args, "--export", str(out)])
    facts = json.loads((out / "training.json").read_text())
    assert facts["step"] == 2 and [row["step"] for row in facts["finetune_curve"]] == [0, 1, 2]
    assert facts["best_probe"] in facts["probes"]
    shared = finetune_classifier.frozen_prefixes(finetune_classifier.Config(run=run))
    assert shared == ("bert.embeddings.", "bert.encoder.layer.0.", "bert.encoder.layer.1.")
    _assert_loads_as_trained(out, BertForSequenceClassification, ckpt["model"], teacher, shared)
    assert (tmp_path / "heldout_pairs.tsv").read_text(encoding="utf-8").count("\t") > 0  # not the shipped file
    probe = Probe(**load_file(out / "probe.safetensors"))
    assert probe.weight.shape == (2, 32 * len(facts["probes"][facts["best_probe"]]["layers"]))


def test_a_resumed_run_refuses_another_configuration_unless_accepted_and_training_json_records_the_history(
        tmp_path, teacher_dir, corpus_dir, capsys):
    """Raising --steps continues a run; changing the learning rate mid-run stops with the difference named,
    unless --accept-config-change, and the exported training.json lists the start and each change with its step."""
    from training.loop import ConfigChanged

    run, out = tmp_path / "run", tmp_path / "export"
    args = run_args(run, teacher_dir, corpus_dir, pretrain_mlm)
    pretrain_mlm.main([*args, "--steps", "1"])
    pretrain_mlm.main([*args, "--steps", "2"])  # continuing is not a change
    with pytest.raises(ConfigChanged, match=r"lr: \S+ -> 0\.0001"):
        pretrain_mlm.main([*args, "--steps", "3", "--lr", "1e-4"])
    assert torch.load(run / "ckpt.pt", weights_only=False)["step"] == 2, "a refused run trained"
    pretrain_mlm.main([*args, "--steps", "3", "--lr", "1e-4", "--accept-config-change"])
    pretrain_mlm.main([*args, "--steps", "3", "--lr", "1e-4", "--export", str(out)])
    story = json.loads((out / "training.json").read_text())["history"]
    assert [row["step"] for row in story] == [0, 1, 2]
    lr = story[0]["config"]["lr"]
    assert lr != "0.0001" and "training.pretrain_mlm" in story[0]["command"]
    assert story[1]["changed"] == {"steps": ["1", "2"]}
    assert story[2]["changed"] == {"steps": ["2", "3"], "lr": [lr, "0.0001"]}
    with pytest.raises(ConfigChanged):  # the accepted configuration is now the run's: going back is a change too
        pretrain_mlm.main([*args, "--steps", "4"])


def test_the_teacher_card_carries_every_earlier_stage_and_their_sum(tmp_path):
    """A teacher continued from a teacher continued from another: the new card lists the stages of the previous
    card under their own headings (not merged into one "Stage 1") and sums the CPU hours and steps of all of them;
    the previous card's own sum is left out of its stage."""
    from training.cards.teacher import stages

    card = tmp_path / "README.md"
    card.write_text("# teacher\n\n## Training\n\n### Stage 1 (the previous teacher)\n\n- corpus: first\n- 3,800 steps\n\n"
                    "### Stage 2 (this teacher)\n\n- corpus: second\n- both stages: 3.7 CPU hours, 5,800 steps\n"
                    "- a note\n\n## Provenance\n\n- a file\n")
    found, total = stages(card)
    assert found == [("Stage 1 (the previous teacher)", ["- corpus: first", "- 3,800 steps"]),
                     ("Stage 2 (this teacher)", ["- corpus: second", "- a note"])]
    assert total == (3.7, 5800)
    card.write_text("# teacher\n\n## Training\n\n- corpus: first\n- 3,800 steps\n\n## Provenance\n")
    assert stages(card) == ([("", ["- corpus: first", "- 3,800 steps"])], None)
    assert stages(tmp_path / "none.md") == ([], None)


def test_the_teacher_card_quotes_the_runs_history():
    from training.cards.teacher import history_lines

    history = [{"step": 0, "command": "python -m training.pretrain_mlm --steps 1500", "hardware": "2 cores",
                "time": "2026-12-07T03:13:56Z"},
               {"step": 600, "command": "python -m training.pretrain_mlm --steps 1500 --lr 1e-4", "hardware": "GPU",
                "time": "2026-12-08T01:00:00Z"}]
    assert history_lines(history) == [
        "- started (2026-12-07, 2 cores): `python -m training.pretrain_mlm --steps 1500`",
        "- at step 600, continued with a changed configuration (2026-12-08, GPU): "
        "`python -m training.pretrain_mlm --steps 1500 --lr 1e-4`"]
