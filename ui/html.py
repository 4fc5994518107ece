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


def md_escape(text: str) -> str:
    """Text shown through Streamlit's markdown (st.error, st.info…) as typed: no links, emphasis or HTML."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in text)


def token_labels(tokens: list[str]) -> list[str]:
    """Unique axis labels ("3 · the") so that repeated pieces get their own row in a plotly figure.

    Escaped: plotly reads a few HTML tags in labels, so `<b>` typed by a user must stay text."""
    return [f"{i} · {html.escape(t)}" for i, t in enumerate(tokens)]


ACTION_STYLE = {  # explainers.masking.Action → (background, legend label)
    0: ("#f1f3f5", "not chosen"),
    1: ("#ffa8a8", "chosen → [MASK]"),
    2: ("#ffd43b", "chosen → random piece"),
    3: ("#8ce99a", "chosen → unchanged"),
}


def masked_chips(tokens: list[str], shown: list[str], action: list[int], special: set[str]) -> str:
    """Each piece as the model reads it, coloured by what masking did; the original underneath when changed."""
    chips = []
    for tok, seen, act in zip(tokens, shown, action):
        colour, _ = ACTION_STYLE[act]
        if tok in special:
            colour = "#dee2e6"
        under = f"was {html.escape(tok)}" if seen != tok else ("predict it" if act == 3 else "&nbsp;")
        chips.append(
            f'<div style="display:inline-block;margin:3px;padding:4px 8px;border-radius:8px;background:{colour};'
            f'text-align:center;font-family:ui-monospace,monospace;line-height:1.25">'
            f'<div style="font-size:1.05em;font-weight:600">{html.escape(seen)}</div>'
            f'<div style="font-size:.72em;color:#343a40">{under}</div></div>')
    legend = " ".join(f'<span style="background:{c};padding:2px 8px;border-radius:6px;margin-right:6px">{label}'
                      f'</span>' for c, label in ACTION_STYLE.values())
    return f'<div>{"".join(chips)}</div><div style="font-size:.8em;margin-top:6px">{legend}</div>'
