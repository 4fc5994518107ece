"""The text catalogue (`assets/text/<lang>/strings.toml`, read by `ui.text.t`) as a spec: every key the code reads
is there with the {fields} the code fills in, every key there is read, a translation has the same keys and fields,
and the pages hold no words of their own."""
from __future__ import annotations

import ast
import re
import shutil
import string
import tomllib
from pathlib import Path

import pytest

from explainers.attention import STATS
from explainers.family.unilm import UNILM_KINDS
from explainers.encoding import EmptyInputError
from ui import text
from explainers.policy import LEVELS
from ui.chapters import CHAPTERS
from ui.figures import FORMATS
from ui.electra import MAKERS

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"])  # where the UI words things
RAISERS = sorted([*CODE, *ROOT.glob("explainers/*.py")])  # where typed errors and notes are made


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _where(path: Path, node) -> str:
    return f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno}"


def _calls(paths, names: set[str]):
    """(where, call) for every call of a function or method named in `names`."""
    for path in paths:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in names:
                    yield _where(path, node), node


def _constants(node) -> list[str]:
    """The strings a key argument can be: a literal, or either side of `"a" if c else "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def fields(template: str) -> set[str]:
    """The {names} a text is formatted with; plotly's own %{x} placeholders are not ours."""
    return {name.split(".")[0].split("[")[0] for literal, name, _, _ in string.Formatter().parse(template)
            if name is not None and not literal.endswith("%")}


def _keywords(call: ast.Call) -> set[str] | None:
    """The field names a call passes, or None when it passes `**fields` (not known here)."""
    return None if any(k.arg is None for k in call.keywords) else {k.arg for k in call.keywords} - {"lang"}


def _parts() -> list[str]:
    """The names `explainers.distillation.parameter_breakdown` gives the parts of a model."""
    from transformers import BertConfig, BertForMaskedLM

    from explainers.distillation import parameter_breakdown

    return list(parameter_breakdown(BertForMaskedLM(BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1,
                                                               num_attention_heads=2, intermediate_size=8))))


ERRORS = {"ModelLoadError", "ExplainerError", "EmptyQAInputError"}  # typed errors the UI words as errors.<reason>
# keys the code builds with f-strings, by their literal start: a new f-string key fails (a) until it is listed here
DYNAMIC = {
    "chapters.": {f"chapters.{c.key}" for c in CHAPTERS},
    "attention.stat_": {f"attention.stat_{k}" for k in STATS},
    "distillation.part_": {f"distillation.part_{k}" for k in _parts()},
    "errors.": {f"errors.{reason}" for _, call in _calls(RAISERS, ERRORS)
                for reason in _constants(call.args[0])} | {f"errors.{EmptyInputError().reason}"},
    "notes.": {f"notes.{reason}" for _, call in _calls(RAISERS, {"Note"}) for reason in _constants(call.args[0])},
    "figures.": {f"figures.{fmt}" for fmt in FORMATS},
    "sidebar.model_help_": {f"sidebar.model_help_{level}" for level in LEVELS},
    "family.kind_": {f"family.kind_{k}" for k in ("phrase", "entity")},
    "family.level_": {f"family.level_{k}" for k in ("basic", "phrase", "entity")},
    "family.mask_": {f"family.mask_{k}" for k in UNILM_KINDS},
    "classroom.bad_": {f"classroom.bad_{k}" for k in ("blank", "fake", "span", "agree")},
    "classroom.pick_": {f"classroom.pick_{k}" for k in ("fake", "span")},
    "electra.maker_": {f"electra.maker_{k}" for k in MAKERS},
}


def keys_read() -> tuple[dict[str, list[tuple[str, set[str] | None]]], list[tuple[str, str]]]:
    """{key: [(where, fields passed)]} of every `t("key", ...)`, and (where, literal start) of each f-string key."""
    literal, dynamic = {}, []
    for where, call in _calls(CODE, {"t"}):
        arg = call.args[0]
        if isinstance(arg, ast.JoinedStr):
            start = arg.values[0].value if isinstance(arg.values[0], ast.Constant) else ""
            dynamic.append((where, start))
        for key in _constants(arg):
            literal.setdefault(key, []).append((where, _keywords(call)))
        assert isinstance(arg, ast.JoinedStr) or _constants(arg), f"{where}: t() needs a key the test can read"
    return literal, dynamic


def _check_fields(key: str, passed: set[str] | None, where: str) -> list[str]:
    template = text.catalogue(text.LANG)[key]
    if passed is None:
        return []
    if not passed and ("{{" in template or "}}" in template):
        return [f"{where}: {key} is shown unformatted, so its doubled braces would show"]
    return [] if fields(template) == passed else [f"{where}: {key} has {sorted(fields(template))}, "
                                                  f"the code passes {sorted(passed)}"]


def test_every_key_the_code_reads_is_in_the_catalogue_with_the_fields_the_code_fills_in():
    en = text.catalogue(text.LANG)
    literal, dynamic = keys_read()
    assert literal, "no t() calls found: the scan is broken"
    missing = [f"{where}: {key}" for key, uses in literal.items() for where, _ in uses if key not in en]
    assert not missing, missing
    unlisted = [f"{where}: t(f\"{start}…\")" for where, start in dynamic if start not in DYNAMIC]
    assert not unlisted, f"list the keys these f-strings build in DYNAMIC: {unlisted}"
    assert not [key for keys in DYNAMIC.values() for key in keys if key not in en]
    wrong = [msg for key, uses in literal.items() for where, passed in uses
             for msg in _check_fields(key, passed, where)]
    assert not wrong, wrong


def test_typed_errors_and_notes_carry_the_fields_their_words_need():
    """`ModelLoadError("reason", **facts)` and `Note("reason", **facts)`: the facts are the text's {fields}."""
    wrong = []
    for table, names in (("errors", ERRORS), ("notes", {"Note"})):
        for where, call in _calls(RAISERS, names):
            reasons = _constants(call.args[0]) if call.args else []
            assert reasons, f"{where}: {ast.unparse(call.func)} needs a literal reason"
            wrong += [msg for reason in reasons for msg in _check_fields(f"{table}.{reason}", _keywords(call), where)]
    assert not wrong, wrong
    assert not fields(text.t("errors.empty_input"))  # EmptyInputError carries no facts


def test_every_key_in_the_catalogue_is_read_somewhere():
    literal, _ = keys_read()
    read = set(literal) | {key for keys in DYNAMIC.values() for key in keys}
    dead = sorted(set(text.catalogue(text.LANG)) - read)
    assert not dead, f"no code reads {dead}"


def translation_problems(lang: str) -> list[str]:
    """What a language's strings.toml lacks or has more of than English, key by key and {field} by field."""
    en, other = text.catalogue(text.LANG), text.catalogue(lang)
    problems = [f"{lang} lacks {key}" for key in en if key not in other]
    problems += [f"{lang} has {key}, English does not" for key in other if key not in en]
    problems += [f"{lang}: {key} has {sorted(fields(other[key]))}, English {sorted(fields(en[key]))}"
                 for key in en if key in other and fields(other[key]) != fields(en[key])]
    return problems


def _languages() -> list[str]:
    return sorted(p.name for p in text.TEXT_DIR.iterdir() if p.is_dir() and p.name != text.LANG)


@pytest.mark.parametrize("lang", _languages() or [pytest.param(None, marks=pytest.mark.skip("only English so far"))])
def test_every_translation_has_the_same_keys_and_fields_as_english(lang):
    assert not translation_problems(lang)


@pytest.fixture
def text_dir(tmp_path, monkeypatch):
    """A text folder in tmp_path with a copy of the English catalogue; the catalogue cache is cleared around it."""
    shutil.copytree(text.TEXT_DIR / text.LANG, tmp_path / text.LANG)
    monkeypatch.setattr(text, "TEXT_DIR", tmp_path)
    text.catalogue.cache_clear()
    yield tmp_path
    text.catalogue.cache_clear()


def test_a_translation_with_a_missing_key_or_a_renamed_field_is_caught(text_dir):
    source = (text_dir / "en/strings.toml").read_text(encoding="utf-8")
    zh = source.replace('still_using = "{error}\\n\\nStill using **{name}**."\n', "")
    zh = zh.replace('k_of_n = "{k} of {n}"', 'k_of_n = "{k} / {total}"')
    assert zh.count("\n") == source.count("\n") - 1 and "{total}" in zh  # both edits landed
    (text_dir / "zh").mkdir()
    (text_dir / "zh/strings.toml").write_text(zh, encoding="utf-8")
    assert _languages() == ["zh"]
    assert translation_problems("zh") == ["zh lacks sidebar.still_using",
                                          "zh: common.k_of_n has ['k', 'total'], English ['k', 'n']"]
    (text_dir / "zh/strings.toml").write_text(source, encoding="utf-8")
    text.catalogue.cache_clear()
    assert translation_problems("zh") == []


def test_the_catalogue_is_valid_toml_of_flat_tables_of_strings():
    with (text.TEXT_DIR / text.LANG / "strings.toml").open("rb") as f:
        tables = tomllib.load(f)
    assert all(isinstance(v, str) for rows in tables.values() for v in rows.values())
    for key, template in text.catalogue(text.LANG).items():
        fields(template)  # raises ValueError on an unmatched brace


# ------------------------------------------------------------------------------------- no words left in the code
ELEMENTS = {"title", "header", "subheader", "caption", "markdown", "text", "info", "warning", "error", "success",
            "toast", "metric", "slider", "select_slider", "selectbox", "multiselect", "radio", "text_input",
            "text_area", "number_input", "toggle", "checkbox", "button", "download_button", "link_button",
            "segmented_control", "pills", "expander", "popover", "tabs", "spinner", "progress", "status",
            "write", "choose_pair", "stacked_bar", "paired_bars"}
# st.page_link: its first argument is a path, its label= is checked
KEYWORDS = {"label", "help", "placeholder", "text", "alt", "title", "name", "show_spinner", "annotation_text",
            "hovertemplate", "xaxis_title", "yaxis_title"}
NOT_WORDS = re.compile(r"%\{[^}]*\}|<[^>]*>|\{[^}]*\}|:material/\w+:|%[-+ #0-9.]*[a-zA-Z%]")


def has_words(s: str) -> bool:
    """Two letters in a row once placeholders, markup, icons and %-formats are taken out ("%.2f", "T = {t}" pass)."""
    return bool(re.search(r"[^\W\d_]{2,}", NOT_WORDS.sub(" ", s)))


def _literal_words(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if has_words(node.value) else []
    if isinstance(node, ast.JoinedStr):
        parts = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        return [parts] if has_words(parts) else []
    if isinstance(node, (ast.List, ast.Tuple)):
        return [w for elt in node.elts for w in _literal_words(elt)]
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) + _literal_words(node.right)
    if isinstance(node, ast.Lambda):
        return _literal_words(node.body)
    return []


def leftover_literals(paths) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            shown = []
            if name in ELEMENTS:
                shown += node.args[:3] if name == "metric" else node.args[:1]  # a metric's value and delta too
            if name in ("dataframe", "table") and node.args and isinstance(node.args[0], ast.Dict):
                shown += node.args[0].keys  # column headers
            shown += [k.value for k in node.keywords if k.arg in KEYWORDS or k.arg == "format_func"]
            found += [f"{_where(path, node)}: {w!r}" for n in shown for w in _literal_words(n)]
    return found


def test_pages_and_ui_hold_no_words_of_their_own():
    """Labels, help, captions, messages, headers, plotly names and titles come from `t()`, not literals."""
    assert not leftover_literals(CODE)


def test_the_literal_scan_finds_a_label(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('c1.slider("Rate (%)", 1, 60)\nst.caption(f"{n} chosen")\nst.metric(t("a.b"), f"{k} of {n}")\n'
                    'st.number_input(t("a.b"), format="%.2f", help="")\nfig.update_layout(xaxis_title="position")\n'
                    'st.dataframe({"position": [1]})\n')
    found = leftover_literals([page])
    assert [f.split(": ", 1)[1] for f in found] == ["'Rate (%)'", "'{} chosen'", "'{} of {}'", "'position'",
                                                   "'position'"]


def test_a_chapters_math_essay_is_the_docstring_unless_a_language_overrides_it(tmp_path, monkeypatch):
    import inspect

    from explainers import masking
    from ui import prose

    assert prose.module_essay(masking) == inspect.getdoc(masking)
    monkeypatch.setattr(prose, "TEXT_DIR", tmp_path)
    (tmp_path / "zh" / "essays").mkdir(parents=True)
    (tmp_path / "zh" / "essays" / "masking.md").write_text("# 掩码语言模型", encoding="utf-8")
    assert prose.module_essay(masking, "zh") == "# 掩码语言模型"
    assert prose.module_essay(masking, "fr") == inspect.getdoc(masking)  # no override: the English source
