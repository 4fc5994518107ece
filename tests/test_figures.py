"""ui.figures: every chart's toolbar saves a named PNG at 2× or an SVG; presenter mode enlarges its text."""
from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from ui import figures
from ui.chapters import chapter

ROOT = Path(__file__).resolve().parents[1]


def _charts(query: dict, key: str = "masking") -> list:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.switch_page(chapter(key).file).run()
    assert not at.exception, [e.value for e in at.exception]
    return [c.proto for c in at.get("plotly_chart")], at


def _sizes(spec: dict) -> list[float]:
    """Every font size the figure's layout sets, wherever it sets one."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("font", "tickfont", "title_font", "textfont") and isinstance(v, dict) and "size" in v:
                    out.append(v["size"])
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return out


def test_for_projector_leaves_no_text_under_the_projector_size():
    fig = go.Figure(go.Bar(x=[1, 2], y=["a", "b"], orientation="h", text=["x", "y"]))
    fig.update_layout(height=300, font=dict(size=11), xaxis=dict(title="p", tickfont=dict(size=9)))
    fig.add_annotation(text="note", x=1, y=0, font=dict(size=8))
    big = figures.for_projector(fig).to_plotly_json()
    sizes = _sizes(big)
    assert sizes and min(sizes) >= figures.PRESENT_FONT
    assert big["layout"]["height"] == figures.PRESENT_HEIGHT


def test_every_chart_of_a_chapter_has_a_named_2x_download():
    protos, _ = _charts({})
    assert len(protos) >= 4  # the 80/10/10 comparison, the rate curve and the playground's guesses
    names = set()
    for p in protos:
        opts = json.loads(p.config)["toImageButtonOptions"]
        assert opts["format"] == "png" and opts["scale"] == 2 and opts["filename"].startswith("inside-bert-masking-")
        names.add(opts["filename"])
    assert len(names) == len(protos), "two figures would save under one name"


def test_the_sidebar_choice_makes_the_camera_save_svg():
    _, at = _charts({})
    next(b for b in at.sidebar.get("button_group") if b.key == figures.FORMAT_KEY).set_value("svg").run()
    assert not at.exception
    assert {json.loads(c.proto.config)["toImageButtonOptions"]["format"] for c in at.get("plotly_chart")} == {"svg"}


def test_presenter_mode_draws_the_figures_in_projector_type():
    protos, _ = _charts({"present": "1", "step": "6"})  # the "Why 15 %?" curve
    assert len(protos) == 1
    spec = json.loads(protos[0].spec)
    assert min(_sizes(spec)) >= figures.PRESENT_FONT and spec["layout"]["height"] <= figures.PRESENT_HEIGHT
    normal, _ = _charts({})
    curve = next(p for p in normal
                 if json.loads(p.config)["toImageButtonOptions"]["filename"] == "inside-bert-masking-why-15-percent")
    assert json.loads(curve.spec)["layout"]["height"] < figures.PRESENT_HEIGHT, "outside presenter mode: as drawn"
