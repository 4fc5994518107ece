"""The plain-HTML charts: escaped text, widths in proportion to the values."""
import re

import pytest

from ui.html import paired_bars, stacked_bar


def _widths(markup: str) -> list[float]:
    return [float(w) for w in re.findall(r"width:([\d.]+)%", markup)]


def test_stacked_bar_widths_add_up_and_text_is_escaped():
    out = stacked_bar("<b>L</b>", [("a<script>", 3.0, "#111", "x\"y"), ("b", 0.0, "#222", ""), ("c", 1.0, "#333", "")],
                      "nats")
    assert _widths(out) == pytest.approx([75.0, 0.0, 25.0])
    assert "<script>" not in out and "<b>L</b>" not in out and "&lt;script&gt;" in out and "x&quot;y" in out
    assert "b = 0.00 nats" in out  # a zero term keeps its legend entry


def test_paired_bars_scale_to_the_largest_value():
    out = paired_bars("top", ["the", "<img src=x onerror=alert(1)>"], [("teacher", [0.5, 0.25], "#111"),
                                                                        ("student", [0.1, 0.0], "#222")], "p")
    assert _widths(out) == pytest.approx([85.0, 17.0, 42.5, 0.0])  # teacher, student per row; 0.5 → 85 %
    assert "<img" not in out and "&lt;img" in out
    assert "0.250" in out and "0.100" in out


def test_a_piece_is_escaped_and_kept_left_to_right():
    from ui.html import piece, token_chips

    assert piece("##ر") == '<bdi dir="ltr">##ر</bdi>'
    assert piece("<b>") == '<bdi dir="ltr">&lt;b&gt;</bdi>'
    assert '<bdi dir="ltr">##ر</bdi>' in token_chips(["##ر"], [17149], ["A"], set())


def test_start_end_chips_bars_follow_the_probabilities_and_text_is_escaped():
    from ui.html import start_end_chips

    out = start_end_chips(["the", "<img src=x onerror=alert(1)>"], [0.25, 0.75], [1.0, 0.0], "P(start)", "P<end>")
    heights = [float(h) for h in re.findall(r"height:([\d.]+)em;background:#\w+;align-self", out)]
    assert heights == pytest.approx([0.75, 3.0, 2.25, 0.0])  # start, end per piece; p = 1 → 3 em
    assert "<img" not in out and "&lt;img" in out and "P&lt;end&gt; 0.0%" in out


def test_a_markdown_table_has_a_row_per_value_and_shows_every_cell_as_typed():
    import markdown_it

    from ui.html import md_table

    text = md_table({"statistic": ["→ [SEP]", "<b>x</b> | y"], "this head": ["0.250", "*1*"]})
    rendered = markdown_it.MarkdownIt().enable("table").render(text)
    assert rendered.count("<tr>") == 3 and "<b>" not in rendered and "<em>" not in rendered
    assert "→ [SEP]" in rendered and "&lt;b&gt;x&lt;/b&gt; | y" in rendered and "*1*" in rendered
