"""English / 中文: the translation folder matches the English one (prose sections, essays, tables), the switch and
the browser's language choose it, and Chinese input is explained in both languages."""
from __future__ import annotations

import re
import string

import pytest

from ui import prose, text
from ui.text import TEXT_DIR

ZH = TEXT_DIR / "zh"
EN = TEXT_DIR / "en"


def _fields(body: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(body) if f}


@pytest.mark.parametrize("chapter", sorted(p.stem for p in EN.glob("*.md")))
def test_every_prose_file_has_the_same_sections_and_fields_in_chinese(chapter):
    en, zh = prose.sections(chapter, "en"), prose.sections(chapter, "zh")
    assert list(zh) == list(en)
    assert all(zh[k].strip() for k in zh), "an empty section"
    for name in en:
        if "{" in en[name] and "{{" not in en[name]:
            assert _fields(zh[name]) == _fields(en[name]), name
    cjk = sum(bool(re.search("[\u4e00-\u9fff]", body)) for body in zh.values())
    assert cjk >= len(zh) - 1, "sections left in English"


def test_every_math_essay_is_translated_with_the_same_formulas():
    import importlib

    for path in sorted((ZH / "essays").glob("*.md")):
        module = importlib.import_module(f"explainers.{path.stem}")
        zh, en = prose.module_essay(module, "zh"), prose.module_essay(module, "en")
        assert zh != en and re.search("[\u4e00-\u9fff]", zh)
        assert sorted(re.findall(r"\$\$.+?\$\$|\$[^$]+\$", zh, re.S)) == \
            sorted(re.findall(r"\$\$.+?\$\$|\$[^$]+\$", en, re.S)), path.name
    assert {p.stem for p in (ZH / "essays").glob("*.md")} >= {"embeddings", "attention", "masking", "electra",
                                                             "distillation", "finetune", "qa"}


def test_every_translated_table_has_the_english_shape_and_machine_keys():
    for path in ZH.glob("*.tsv"):
        if path.name == "glossary.tsv":
            continue
        en, zh = text.table(path.stem, "en"), text.table(path.stem, "zh")
        assert [len(r) for r in zh] == [len(r) for r in en], path.name
    claims_en, claims_zh = text.table("distilbert_claims", "en"), text.table("distilbert_claims", "zh")
    assert [r[2] for r in claims_zh] == [r[2] for r in claims_en]  # the column the code looks up
    for name in ("examples", "finetuning_pairs", "qa_examples"):  # labelled in Chinese, read by the models in English
        en, zh = text.table(name, "en"), text.table(name, "zh")
        assert [r[1:] for r in zh[1:]] == [r[1:] for r in en[1:]], name
        assert all(re.search("[\u4e00-\u9fff]", r[0]) for r in zh[1:]), name


def test_the_glossary_has_the_terms_of_chinese_teaching_material():
    rows = text.table("glossary", "zh")
    terms = {r[0].lower(): r[1] for r in rows[1:]}
    assert all(len(r) == 3 for r in rows)
    for english, chinese in (("masked language model", "掩码语言模型"), ("next sentence prediction", "下一句预测"),
                             ("attention head", "注意力头"), ("generator", "生成器"), ("discriminator", "判别器"),
                             ("knowledge distillation", "知识蒸馏"), ("soft targets", "软目标"),
                             ("fine-tuning", "微调"), ("feature-based", "特征提取")):
        assert any(english in k and chinese in v for k, v in terms.items()), english


def test_the_language_follows_the_switch_then_the_address_then_the_browser():
    from ui.lang import from_locale

    assert [from_locale(x) for x in ("zh-CN", "zh_TW", "zh", "en-US", "de", None, "")] == \
        ["zh", "zh", "zh", "en", "en", "en", "en"]


def test_chinese_input_is_explained_in_both_languages_with_the_unknown_characters(builtin):
    from explainers.encoding import encode_text
    from ui.text import note_text

    enc = encode_text(builtin.tokenizer, "我爱自然语言处理。")
    note = next(n for n in enc.notes if n.reason == "chinese")
    assert note.fields["chars"] == 8 and note.fields["unknown"] == enc.tokens.count("[UNK]") == 7
    assert note.fields["which"] == "爱 自 然 语 言 处 理"  # the characters that became [UNK], in order
    for lang in ("en", "zh"):
        words = note_text(note, lang)
        assert "bert-base-chinese" in words and "Chinese" in words and "中文" in words
    assert not [n for n in encode_text(builtin.tokenizer, "The cat sat.").notes if n.reason == "chinese"]


# -------------------------------------------------------------------------------------------------- in the app
def _zh_app(page: str, **query):
    from tests.test_pages import _app

    return _app(page, lang="zh", **query)


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/masking.py", "pages/distillation.py"])
def test_a_chapter_in_chinese_shows_chinese_titles_captions_and_table_headers(page):
    at = _zh_app(page)
    assert at.session_state["lang"] == "zh"
    title = next(m.value for m in at.markdown if m.value.startswith("# "))
    assert re.search("[\u4e00-\u9fff]", title), title
    assert sum(bool(re.search("[\u4e00-\u9fff]", c.value)) for c in at.caption) >= len(at.caption) // 2
    assert at.sidebar.text_input(key="model").label == text.t("sidebar.model", "zh")


def test_the_overview_shows_the_glossary_in_chinese():
    at = _zh_app("pages/overview.py")
    shown = [cell for t in at.table for row in t.value.values.tolist() for cell in row]
    assert "掩码语言模型 (MLM)" in shown and "知识蒸馏" in shown and "soft targets" in shown


def test_a_tiny_character_level_chinese_bert_works_in_the_embeddings_and_attention_chapters(tmp_path):
    """What `bert-base-chinese` does, in small: one piece per character, no [UNK], no 'English only' note."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    chars = list("我爱自然语言处理今天天气很好。，")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(chars)]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab=str(tmp_path / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=True)
    torch.manual_seed(0)
    BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                               intermediate_size=32, max_position_embeddings=32)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    sentence = "我爱自然语言处理。"
    for page in ("pages/embeddings.py", "pages/attention.py"):
        at = _zh_app(page, model=str(tmp_path), a=sentence)
        assert not at.sidebar.error and not at.exception
        shown = " ".join(str(x.value) for x in [*at.markdown, *at.caption])
        assert "[UNK]" not in shown and "bert-base-chinese" not in shown
    assert at.slider(key="layer").max == 1
