"""Page prose lives in `assets/text/<lang>/<chapter>.md`, cut into named sections by `<!-- name -->` lines,
so a translation is a new file and the code holds no paragraphs."""
from __future__ import annotations

import inspect
import re
from functools import lru_cache

from ui.text import LANG, TEXT_DIR


@lru_cache(maxsize=32)
def sections(chapter: str, lang: str = LANG) -> dict[str, str]:
    text = (TEXT_DIR / lang / f"{chapter}.md").read_text(encoding="utf-8")
    parts = re.split(r"^<!--\s*([\w.-]+)\s*-->\s*$", text, flags=re.M)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}



def module_essay(module, lang: str = LANG) -> str:
    """The module docstring: the math as the code states it, shown on the page as written. A translation may
    override it with `assets/text/<lang>/essays/<module>.md` (e.g. `essays/masking.md` for explainers.masking)."""
    override = TEXT_DIR / lang / "essays" / f"{module.__name__.rsplit('.', 1)[-1]}.md"
    if lang != LANG and override.exists():
        return override.read_text(encoding="utf-8")
    return inspect.getdoc(module) or ""
