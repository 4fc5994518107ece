"""Small HTML pieces. Every user-derived string goes through `html.escape` before it is placed in markup."""
from __future__ import annotations

import html

from ui.text import t

SEGMENT_COLOURS = {"A": "#dbe4ff", "B": "#ffe8cc", "special": "#e9ecef"}


CHIP = "padding:2px 8px;border-radius:6px;margin:0 6px 3px 0;white-space:nowrap;display:inline-block"  # legend


def token_chips(tokens: list[str], ids: list[int], segments: list[str], special: set[str]) -> str:
    chips = []
    for i, (tok, tid, seg) in enumerate(zip(tokens, ids, segments)):
        colour = SEGMENT_COLOURS["special" if tok in special else seg]
        chips.append(
            f'<div style="display:inline-block;margin:3px;padding:4px 8px;border-radius:8px;background:{colour};'
            f'text-align:center;font-family:ui-monospace,monospace;line-height:1.25">'
            f'<div style="font-size:1.05em;font-weight:600">{piece(tok)}</div>'
            f'<div style="font-size:.72em;color:#495057">{t("chips.piece_facts", id=tid, segment=seg, position=i)}'
            '</div></div>'
        )
    legend = " ".join(
        f'<span style="background:{c};{CHIP}">{html.escape(label)}</span>'
        for label, c in ((t("chips.segment_a"), SEGMENT_COLOURS["A"]), (t("chips.segment_b"), SEGMENT_COLOURS["B"]),
                         (t("chips.special_token"), SEGMENT_COLOURS["special"])))
    return f'<div>{"".join(chips)}</div><div style="font-size:.8em;margin-top:6px">{legend}</div>'


def piece(tok: str) -> str:
    """A word piece as escaped HTML in left-to-right order, so an Arabic or Hebrew "##ر" keeps its "##" on the
    left instead of being laid out right to left."""
    return f'<bdi dir="ltr">{html.escape(tok)}</bdi>'


def md_escape(text: str) -> str:
    """Text shown through Streamlit's markdown (st.error, st.info…) as typed: no links, emphasis or HTML."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in text)


def md_table(columns: dict[str, list[str]]) -> str:
    """A Markdown table of these columns, every cell escaped (`md_escape`). Cheaper to send than `st.table`,
    which converts its data to Arrow through pandas on every rerun."""
    def line(cells) -> str:
        return "| " + " | ".join(md_escape(str(c)) for c in cells) + " |"

    return "\n".join([line(columns), "|" + "---|" * len(columns), *map(line, zip(*columns.values()))])


def token_labels(tokens: list[str]) -> list[str]:
    """Unique axis labels ("3 · the") so that repeated pieces get their own row in a plotly figure.

    Escaped: plotly reads a few HTML tags in labels, so `<b>` typed by a user must stay text."""
    return [f"{i} · {html.escape(t)}" for i, t in enumerate(tokens)]


ACTION_STYLE = {0: "#f1f3f5", 1: "#ffa8a8", 2: "#ffd43b", 3: "#8ce99a"}  # explainers.masking.Action → background


def action_label(action: int) -> str:
    """The legend's words for an `Action`, in the reader's language (worded when drawn, not at import)."""
    words = (t("chips.not_chosen"), t("chips.chosen_mask"), t("chips.chosen_random"), t("chips.chosen_unchanged"))
    return words[action]


def masked_chips(tokens: list[str], shown: list[str], action: list[int], special: set[str],
                 legend_actions: tuple[int, ...] = (0, 1, 2, 3)) -> str:
    """Each piece as the model reads it, coloured by what masking did; the original underneath when changed."""
    chips = []
    for tok, seen, act in zip(tokens, shown, action):
        colour = ACTION_STYLE[act]
        if tok in special:
            colour = "#dee2e6"
        under = t("chips.was", piece=piece(tok)) if seen != tok else (t("chips.predict_it") if act == 3 else "&nbsp;")
        chips.append(
            f'<div style="display:inline-block;margin:3px;padding:4px 8px;border-radius:8px;background:{colour};'
            f'text-align:center;font-family:ui-monospace,monospace;line-height:1.25">'
            f'<div style="font-size:1.05em;font-weight:600">{piece(seen)}</div>'
            f'<div style="font-size:.72em;color:#343a40">{under}</div></div>')
    legend = " ".join(f'<span style="background:{c};{CHIP}">{html.escape(action_label(a))}'
                      f'</span>' for a, c in ACTION_STYLE.items() if a in legend_actions)
    return f'<div>{"".join(chips)}</div><div style="font-size:.8em;margin-top:6px">{legend}</div>'


def diverging(p: float) -> str:
    """Colour of a probability on a blue (0) – white (0.5) – red (1) scale, as `rgb(...)`."""
    blue, white, red = (33, 102, 172), (247, 247, 247), (178, 24, 43)
    p = min(max(float(p), 0.0), 1.0)
    a, b, t = (blue, white, p * 2) if p < 0.5 else (white, red, (p - 0.5) * 2)
    return "rgb({},{},{})".format(*(round(x + (y - x) * t) for x, y in zip(a, b)))


def score_chips(tokens: list[str], p: list[float], truth: list[int], threshold: float, special: set[str],
                originals: list[str] | None = None) -> str:
    """Each piece coloured by P(replaced); flagged (thick border) at p ≥ threshold; the truth underneath."""
    chips = []
    for i, (tok, pi, y) in enumerate(zip(tokens, p, truth)):
        colour = "#e9ecef" if tok in special else diverging(pi)
        ink = "#fff" if abs(pi - 0.5) > 0.35 and tok not in special else "#212529"
        flagged = pi >= threshold and tok not in special
        border = "3px solid #212529" if flagged else "3px solid transparent"
        if y:
            was = t("chips.was_replaced", piece=html.escape(originals[i])) if originals and originals[i] != tok else ""
            truth_text = f"<b>{t('chips.replaced')}</b>{was}"
        else:
            truth_text = t("chips.original")
        verdict = "" if tok in special else ("✓ " if flagged == bool(y) else "✗ ")
        chips.append(
            f'<div style="display:inline-block;margin:3px;padding:3px 7px;border-radius:8px;background:{colour};'
            f'color:{ink};border:{border};text-align:center;font-family:ui-monospace,monospace;line-height:1.25">'
            f'<div style="font-size:1.05em;font-weight:600">{piece(tok)}</div>'
            f'<div style="font-size:.72em">{"" if tok in special else f"p {pi:.2f}"}</div>'
            f'<div style="font-size:.68em">{"&nbsp;" if tok in special else verdict + truth_text}</div></div>')
    stops = ", ".join(f"{diverging(x / 10)} {x * 10}%" for x in range(11))
    legend = (
        '<div style="display:flex;align-items:center;gap:10px;font-size:.8em;margin-top:8px">'
        f'<span>{t("chips.p_replaced")}</span><span>{t("chips.scale_low")}</span>'
        f'<div style="position:relative;width:220px;height:12px;border-radius:6px;background:linear-gradient(90deg, '
        f'{stops})"><div style="position:absolute;left:{threshold * 100:.1f}%;top:-4px;width:2px;height:20px;'
        f'background:#212529"></div></div><span>{t("chips.scale_high")}</span>'
        '<span style="border:3px solid #212529;border-radius:6px;padding:0 6px">'
        f'{t("chips.flagged", threshold=threshold)}</span><span>{t("chips.agreement")}</span></div>')
    return f'<div>{"".join(chips)}</div>{legend}'


def _legend(items: list[tuple[str, str]]) -> str:
    return "".join(f'<span style="margin-right:1.2em;white-space:nowrap"><span style="display:inline-block;width:.8em;'
                   f'height:.8em;background:{c};margin-right:.35em;vertical-align:-.05em"></span>{html.escape(t)}'
                   "</span>" for t, c in items)


def stacked_bar(title: str, parts: list[tuple[str, float, str, str]], unit: str) -> str:
    """A horizontal stacked bar in plain HTML, cheap for the browser to redraw on a slider move (a plotly chart
    costs tens of ms there): `parts` are (label, value ≥ 0, colour, tooltip); a zero part keeps its legend entry."""
    total = sum(max(v, 0.0) for _, v, _, _ in parts) or 1.0
    segs = "".join(f'<div title="{html.escape(tip)}" style="width:{100 * max(v, 0.0) / total:.3f}%;background:{c}">'
                   "</div>" for _, v, c, tip in parts)
    legend = _legend([(f"{label} = {v:.2f} {unit}", c) for label, v, c, _ in parts])
    return (f'<div style="font-size:.9rem"><div style="font-weight:600;margin:.2em 0 .4em">{html.escape(title)}</div>'
            f'<div role="img" aria-label="{html.escape(title)}" style="display:flex;height:2.2em;border-radius:.3em;'
            f'overflow:hidden;background:#f1f3f5">{segs}</div><div style="margin-top:.5em;color:#495057">{legend}'
            "</div></div>")


def paired_bars(title: str, labels: list[str], series: list[tuple[str, list[float], str]], axis: str) -> str:
    """Grouped horizontal bars in plain HTML: one row per label, one thin bar per series (name, values, colour),
    scaled to the largest value, each with its value at its end."""
    top = max((v for _, vs, _ in series for v in vs), default=1.0) or 1.0
    rows = []
    for i, label in enumerate(labels):
        bars = "".join(
            f'<div style="display:flex;align-items:center;height:.95em;margin:1px 0">'
            f'<div title="{html.escape(name)}: {vs[i]:.4f}" style="height:100%;width:{85 * vs[i] / top:.3f}%;'
            f'background:{c};border-radius:0 .2em .2em 0"></div><span style="font-size:.72rem;color:#495057;'
            f'margin-left:.3em">{vs[i]:.3f}</span></div>' for name, vs, c in series)
        rows.append(f'<div style="display:flex;align-items:center;margin:.25em 0"><div style="width:7em;'
                    f'text-align:right;padding-right:.5em;font-family:monospace;overflow:hidden;text-overflow:ellipsis;'
                    f'white-space:nowrap">{piece(label)}</div><div style="flex:1">{bars}</div></div>')
    return (f'<div style="font-size:.9rem"><div style="font-weight:600;margin:.2em 0 .5em">{html.escape(title)}</div>'
            f'<div role="img" aria-label="{html.escape(title)}">{"".join(rows)}</div><div style="margin:.4em 0 0 7.5em;'
            f'color:#868e96;font-size:.8rem">{html.escape(axis)}</div><div style="margin:.3em 0 0 7.5em;'
            f'color:#495057">{_legend([(name, c) for name, _, c in series])}</div></div>')


def start_end_chips(tokens: list[str], p_start: list[float], p_end: list[float], start_label: str, end_label: str,
                    colours: tuple[str, str] = ("#2f9e44", "#c2255c")) -> str:
    """The passage as word pieces, each with two bars under it: P(start) and P(end) (0–1, full height = 1).
    Plain HTML, cheap for the browser to redraw on every new question (a plotly chart costs ~150 ms there)."""
    chips = []
    for tok, ps, pe in zip(tokens, p_start, p_end):
        bars = "".join(f'<div title="{html.escape(label)} {p:.1%}" style="width:.55em;height:{3 * p:.3f}em;'
                       f'background:{c};align-self:flex-end"></div>'
                       for label, p, c in ((start_label, ps, colours[0]), (end_label, pe, colours[1])))
        chips.append(f'<div style="display:inline-flex;flex-direction:column;align-items:center;margin:0 2px 6px 0">'
                      f'<div style="display:flex;gap:2px;height:3em;border-bottom:1px solid #ced4da">{bars}</div>'
                      f'<div style="font-family:ui-monospace,monospace;font-size:.9em;padding:0 2px">{piece(tok)}'
                      "</div></div>")
    return (f'<div style="line-height:1.1">{"".join(chips)}</div><div style="font-size:.85em;margin-top:4px">'
            f"{_legend([(start_label, colours[0]), (end_label, colours[1])])}</div>")


UNIT_COLOURS = {"phrase": "#d0bfff", "entity": "#99e9f2", None: "#f1f3f5"}  # ERNIE's units (ui.family)


def unit_chips(tokens: list[str], units: list, special: set[str]) -> str:
    """The pieces grouped into ERNIE's units (`explainers.family.ernie.Unit`): a phrase or an entity is one box around
    its pieces; every other piece stands alone."""
    kind_at = {i: u.kind for u in units for i in range(u.start, u.end)}
    starts = {u.start: u for u in units}
    boxes, i = [], 0
    while i < len(tokens):
        unit = starts.get(i)
        span = range(unit.start, unit.end) if unit else range(i, i + 1)
        colour = "#dee2e6" if tokens[i] in special else UNIT_COLOURS[kind_at.get(i)]
        inner = "".join(f'<span style="margin:0 3px">{piece(tokens[j])}</span>' for j in span)
        name = html.escape(t(f"family.kind_{unit.kind}")) if unit else "&nbsp;"
        label = f'<div style="font-size:.7em;color:#343a40">{name}</div>'
        boxes.append(f'<div style="display:inline-block;margin:3px;padding:4px 6px;border-radius:8px;'
                     f'background:{colour};text-align:center;font-family:ui-monospace,monospace;line-height:1.25;'
                     f'{"border:2px solid #495057" if unit else ""}"><div style="font-weight:600">{inner}</div>'
                     f'{label}</div>')
        i = span.stop
    legend = " ".join(f'<span style="background:{UNIT_COLOURS[k]};{CHIP}">'
                      f'{html.escape(t(f"family.kind_{k}"))}</span>' for k in ("phrase", "entity"))
    return f'<div>{"".join(boxes)}</div><div style="font-size:.8em;margin-top:6px">{legend}</div>'
