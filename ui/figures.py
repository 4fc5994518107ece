"""Every plotly figure of the app goes through `chart`: one toolbar for slides, and projector type in presenter mode.

* The toolbar's camera saves the figure in the browser (plotly's own export, no server-side Chrome): PNG at twice
  the on-screen resolution or SVG, as the sidebar's "Figure downloads" says, named `inside-bert-<file>`.
* In presenter mode (`ui.present`) the figure's text grows to projector size (`PRESENT_FONT` px and more for
  titles) and its height fits the presenter layout: a step is one screen of 1280 × 720 CSS px (a 1920 × 1080
  projector at 150 %), whose header takes about 200 px, so a figure alone under it gets `PRESENT_HEIGHT` px; a
  step with more on it passes a smaller `present_height`.
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ui import present
from ui.text import table

FORMAT_KEY = "figure_format"  # session key of the sidebar's choice: "png" or "svg"
FORMATS = ("png", "svg")
PRESENT_FONT = 18  # px: ticks, legends, hover labels, annotations
PRESENT_HEIGHT = 440  # px: the room a step leaves for one figure under its header at 720 CSS px


def config(file: str) -> dict:
    """The plotly config of a figure saved as `inside-bert-<file>.png` / `.svg`."""
    fmt = st.session_state.get(FORMAT_KEY, "png")
    fmt = fmt if fmt in FORMATS else "png"
    return {"displaylogo": False,
            "toImageButtonOptions": {"format": fmt, "filename": f"inside-bert-{file}", "scale": 2}}


def for_projector(fig: go.Figure, height: int = PRESENT_HEIGHT) -> go.Figure:
    """The same figure with no text under `PRESENT_FONT` px, `height` px tall."""
    big = dict(size=PRESENT_FONT)
    fig.update_layout(font=big, legend=dict(font=big), hoverlabel=dict(font=big),
                      title_font=dict(size=PRESENT_FONT + 4))
    fig.update_xaxes(tickfont=big, title_font=dict(size=PRESENT_FONT + 2))
    fig.update_yaxes(tickfont=big, title_font=dict(size=PRESENT_FONT + 2))
    fig.update_annotations(font_size=PRESENT_FONT)
    fig.update_traces(textfont_size=PRESENT_FONT, selector=lambda tr: hasattr(tr, "textfont"))
    fig.update_coloraxes(colorbar_tickfont=big)
    for tr in fig.data:
        if getattr(tr, "colorbar", None) is not None:
            tr.colorbar.tickfont = big
    fig.update_layout(height=height)
    return fig


# Streamlit's own face first, then CJK faces that ship with the systems the app runs on (Debian's
# fonts-noto-cjk / fonts-wqy-microhei, macOS, Windows): nothing is fetched from a font CDN
FONTS = ('"Source Sans Pro", "Source Sans 3", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", '
         '"Microsoft YaHei", sans-serif')


def chart(fig: go.Figure, *, file: str, key: str, where=None, present_height: int = PRESENT_HEIGHT, **kwargs):
    """`st.plotly_chart` (or `where.plotly_chart`, for a column) with the app's toolbar and presenter type
    (`present_height` px tall in presenter mode)."""
    if present.on():
        fig = for_projector(fig, present_height)
    if not fig.layout.font.family:  # Chinese labels: the system's CJK fonts, no web font to fetch
        fig.update_layout(font_family=FONTS)
    return (where or st).plotly_chart(fig, key=key, config=config(file), **kwargs)


def arrow(columns: dict[str, list]):
    """A table's columns as a pyarrow Table for `st.dataframe`: Streamlit serialises an Arrow table as it is, while
    a dict goes through a pandas DataFrame and its conversion to Arrow first (in py-spy, about half of the masking
    chapter's script time on a move of its Rate slider)."""
    import pyarrow as pa

    return pa.table(columns)


def format_choice() -> None:
    """The sidebar's "Figure downloads" choice."""
    from ui.text import t

    st.segmented_control(t("figures.format"), FORMATS, format_func=lambda f: t(f"figures.{f}"), default="png",
                         key=FORMAT_KEY, help=t("figures.format_help"))


def paper_table(name: str, columns: int | None = None) -> None:
    """A TSV of numbers from the papers (`assets/text/<lang>/<name>.tsv`, its first row the header) as a plain
    table; `columns`: only the first ones."""
    rows = table(name)
    st.table({h: [r[j] for r in rows[1:]] for j, h in enumerate(rows[0][:columns])}, border="horizontal")
