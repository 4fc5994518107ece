"""Page prose lives in `assets/text/<lang>/<chapter>.md`, cut into named sections by `<!-- name -->` lines,
so a translation is a new file and the code holds no paragraphs."""
from __future__ import annotations

import inspect
import re
from functools import lru_cache

from ui.text import LANG, TEXT_DIR, current


def sections(chapter: str, lang: str | None = None) -> dict[str, str]:
    """The chapter's sections in the reader's language (English where a translation lacks the file)."""
    lang = lang or current()
    return _sections(chapter, lang if (TEXT_DIR / lang / f"{chapter}.md").exists() else LANG)


@lru_cache(maxsize=64)
def _sections(chapter: str, lang: str) -> dict[str, str]:
    text = (TEXT_DIR / lang / f"{chapter}.md").read_text(encoding="utf-8")
    parts = re.split(r"^<!--\s*([\w.-]+)\s*-->\s*$", text, flags=re.M)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}



def module_essay(module, lang: str | None = None) -> str:
    """The module docstring: the math as the code states it, shown on the page as written. A translation may
    override it with `assets/text/<lang>/essays/<module>.md` (e.g. `essays/masking.md` for explainers.masking)."""
    lang = lang or current()
    override = TEXT_DIR / lang / "essays" / f"{module.__name__.rsplit('.', 1)[-1]}.md"
    if lang != LANG and override.exists():
        return override.read_text(encoding="utf-8")
    return inspect.getdoc(module) or ""
