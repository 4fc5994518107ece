"""Small HTML pieces. Every user-derived string goes through `html.escape` before it is placed in markup."""
from __future__ import annotations

import html

SEGMENT_COLOURS = {"A": "#dbe4ff", "B": "#ffe8cc", "special": "#e9ecef"}


def token_chips(tokens: list[str], ids: list[int], segments: list[str], special: set[str]) -> str:
    chips = []
    for i, (tok, tid, seg) in enumerate(zip(tokens, ids, segments)):
        colour = SEGMENT_COLOURS["special" if tok in special else seg]
        chips.append(
            f'<div style="display:inline-block;margin:3px;padding:4px 8px;border-radius:8px;background:{colour};'
            f'text-align:center;font-family:ui-monospace,monospace;line-height:1.25">'
            f'<div style="font-size:1.05em;font-weight:600">{html.escape(tok)}</div>'
            f'<div style="font-size:.72em;color:#495057">id {tid} · {seg} · pos {i}</div></div>'
        )
    legend = " ".join(
        f'<span style="background:{c};padding:2px 8px;border-radius:6px;margin-right:6px">{label}</span>'
        for label, c in (("segment A", SEGMENT_COLOURS["A"]), ("segment B", SEGMENT_COLOURS["B"]),
                         ("special token", SEGMENT_COLOURS["special"])))
    return f'<div>{"".join(chips)}</div><div style="font-size:.8em;margin-top:6px">{legend}</div>'


def token_labels(tokens: list[str]) -> list[str]:
    """Unique axis labels ("3 · the") so that repeated pieces get their own row in a plotly figure.

    Escaped: plotly reads a few HTML tags in labels, so `<b>` typed by a user must stay text."""
    return [f"{i} · {html.escape(t)}" for i, t in enumerate(tokens)]
