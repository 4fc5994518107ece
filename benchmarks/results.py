"""Where the benchmarks write: `benchmarks/RESULTS.md`, one `## …` section a script (or a part of one)."""
from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(path: Path, title: str, body: str) -> None:
    """Write `## title` + body into a Markdown file, in place of the section of that title if there is one."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def write_section(lines: list[str]) -> None:
    """`lines` (its first line `## title`) as that section of RESULTS.md."""
    replace_section(RESULTS, lines[0].removeprefix("## ").strip(), "\n".join(lines[1:]))
