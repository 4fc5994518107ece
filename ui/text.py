"""Every visible string, keyed, in `assets/text/<lang>/strings.toml`: a translation is a folder, not a code change.

    t("sidebar.model")                      -> "Model"
    t("common.k_of_n", k=3, n=5)            -> "3 of 5"   (str.format fields)

Keys are `table.name`. A key missing from the chosen language falls back to English; a key missing from English
raises `KeyError` (tests/test_text.py reads every key the code uses). Explainers raise typed errors (a `reason` and
its facts) that `error_text` words. Page prose stays in `assets/text/<lang>/<chapter>.md` (`ui.prose`). This module
does not import Streamlit: the chapter registry and the tests read it too.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

TEXT_DIR = Path(__file__).resolve().parents[1] / "assets/text"
LANG = "en"  # the source language: every key exists here; another language falls back to it key by key
_language = lambda: LANG  # noqa: E731  the reader's language; `ui.lang` installs the session's


def set_language_source(source) -> None:
    """`source()` gives the language each string is wanted in (`ui.lang.current`: the session's)."""
    global _language
    _language = source


def current() -> str:
    return _language()


@lru_cache(maxsize=8)
def catalogue(lang: str = LANG) -> dict[str, str]:
    """Flat `{"table.name": text}` of one language's `strings.toml`."""
    path = TEXT_DIR / lang / "strings.toml"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        tables = tomllib.load(f)
    return {f"{table}.{name}": value for table, rows in tables.items() for name, value in rows.items()}


def t(key: str, lang: str | None = None, **fields) -> str:
    text = catalogue(lang or current()).get(key)
    if text is None:
        text = catalogue(LANG)[key]
    return text.format(**fields) if fields else text


def error_text(err, lang: str | None = None) -> str:
    """A typed error (`explainers.errors.ExplainerError`: a `reason` and its `fields`) in words: `errors.<reason>`."""
    return t(f"errors.{err.reason}", lang, **err.fields)


def note_text(note, lang: str | None = None) -> str:
    """A note on the input (`explainers.encoding.Note`) in words: `notes.<reason>`."""
    return t(f"notes.{note.reason}", lang, **note.fields)


def table(name: str, lang: str | None = None) -> list[list[str]]:
    """Rows of `assets/text/<lang>/<name>.tsv` (UTF-8; `#` lines and blank lines skipped), English if the
    language has no such file. Every TSV the app shows is read here."""
    path = TEXT_DIR / (lang or current()) / f"{name}.tsv"
    if not path.exists():
        path = TEXT_DIR / LANG / f"{name}.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
