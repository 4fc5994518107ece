"""The logit lens (`explainers.lens`), cached and drawn: the masking chapter's and the family chapter's figure."""
from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from explainers.errors import require
from ui.text import t


@dataclass(frozen=True)
class LensView:
    """`explainers.lens.logit_lens` at one masked position, in pieces: what the Masking chapter's lens draws."""

    layers: list[int]  # [L+1]: 0 = embeddings
    top_tokens: list[list[str]]  # [L+1, k]
    top_probs: list[list[float]]  # [L+1, k]
    final_token: str  # the last layer's top-1
    final_ranks: list[int]  # [L+1] its rank at each layer (0 = top-1)
    final_probs: list[float]  # [L+1] its probability at each layer


@st.cache_data(max_entries=128, show_spinner=False)
def lens_at(name: str, device: str, text_a: str, text_b: str, rate: float, p_mask: float, p_random: float,
            seed: int, whole_word: bool, every: bool, position: int, student: bool = False, k: int = 3) -> LensView:
    """The logit lens at `position` of the sidebar sentence masked as `masked_sentence` masks it, read with the
    sidebar's model, or (`student`) with the built-in student, which shares the built-in teacher's vocabulary."""
    from explainers.lens import logit_lens
    from ui.masking import masked

    lm, enc, _, m = masked(name, device, text_a, text_b, rate, p_mask, p_random, seed, whole_word, every)
    if student:
        from explainers.model import BUILTIN_NAME
        from ui.distill import get_pair

        require(name == BUILTIN_NAME, "the built-in student reads the built-in teacher's vocabulary only")
        lm = get_pair(BUILTIN_NAME, BUILTIN_NAME, device)[1]
    lens = logit_lens(lm.model, m.input_ids.to(device), enc.attention_mask.to(device), position, k=k,
                      token_type_ids=enc.token_type_ids.to(device))
    return lens_view(lens, lm.tokenizer)


def lens_view(lens, tokenizer) -> LensView:
    """An `explainers.lens.Lens` in the tokenizer's pieces, as the lens figure draws it."""
    tokens = tokenizer.convert_ids_to_tokens
    return LensView(lens.layers, [tokens(row) for row in lens.top_ids.tolist()], lens.top_probs.tolist(),
                    tokens(lens.final_id), lens.final_ranks.tolist(), lens.final_probs.tolist())


def lens_figure(view: LensView, title: str) -> go.Figure:
    """One bar per layer: P(final answer) there, with that layer's top guesses written on the bar."""
    guesses = [" · ".join(f"{html.escape(tok)} {p:.0%}" for tok, p in zip(ts, ps))
               for ts, ps in zip(view.top_tokens, view.top_probs)]
    fig = go.Figure(go.Bar(x=view.final_probs, y=view.layers, orientation="h", text=guesses,
                           textposition="outside", cliponaxis=False, customdata=[r + 1 for r in view.final_ranks],
                           marker_color=["#2f9e44" if r == 0 else "#748ffc" for r in view.final_ranks],
                           hovertemplate=t("masking.lens_hover") + "<extra></extra>"))
    fig.update_layout(height=80 + 34 * len(view.layers), margin=dict(l=10, r=10, t=40, b=10),
                      title=html.escape(title), xaxis=dict(range=[0, 1.6], tickformat=".0%", tickvals=[0, .5, 1],
                                                           title=t("masking.lens_axis_p",
                                                                   answer=html.escape(view.final_token))),
                      yaxis=dict(title=t("masking.lens_axis_layer"), dtick=1))
    return fig


def lens_columns(model_name: str, view_of, key: str, file: str) -> None:
    """The lens of the sidebar's model, and beside the built-in teacher its student: `view_of(student)` gives a
    `LensView`; a student that cannot be loaded leaves the teacher's column standing."""
    import streamlit as st

    from explainers.model import BUILTIN_NAME, ModelLoadError
    from ui.figures import chart
    from ui.html import md_escape
    from ui.text import error_text

    readers = [(False, t("masking.lens_model", name=model_name))]
    if model_name == BUILTIN_NAME:
        readers = [(False, t("masking.lens_teacher")), (True, t("masking.lens_student"))]
    for col, (student, title) in zip(st.columns(2), readers):
        try:
            view = view_of(student)
        except ModelLoadError as err:
            col.info(error_text(err), icon=":material/block:")
            continue
        who = "student" if student else "model"
        chart(lens_figure(view, title), key=f"{key}_{who}", file=f"{file}-{who}", where=col)
        first = next(i for i in range(len(view.layers)) if all(r == 0 for r in view.final_ranks[i:]))
        col.caption(t("masking.lens_caption", answer=md_escape(view.final_token), first=first,
                      layers=view.layers[-1], p=view.final_probs[-1]))
