"""The chapters, in lecture order: one registry that `app.py`, the tests, the screenshots and the benchmark read.

A chapter is `pages/<key>.py`, served at `/<key>`, titled by `t("chapters.<key>")`. The first chapter is the
overview, served at `/` (and at `/overview`, the address older links and bookmarks use). No Streamlit import
here: `pages()` imports it when the app asks for `st.Page` objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ui.text import t

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Chapter:
    key: str  # file stem and url path
    icon: str  # Streamlit material icon
    steps: tuple[str, ...]  # its sections in presenter mode, in order (`ui.present`; narration in tour.md)

    @property
    def title(self) -> str:
        return t(f"chapters.{self.key}")

    @property
    def file(self) -> str:
        return f"pages/{self.key}.py"

    @property
    def url_path(self) -> str:
        """Path from the server root; "" for the overview (the app's front page)."""
        return "" if self is CHAPTERS[0] else self.key


CHAPTERS = (
    Chapter("overview", ":material/home:", ("welcome",)),
    Chapter("embeddings", ":material/stacks:", ("tokens", "sum", "rows", "positions", "pca")),
    Chapter("attention", ":material/visibility:", ("one-head", "grid", "bertviz", "model-view")),
    Chapter("masking", ":material/theater_comedy:",
            ("mask", "guesses", "why", "ablation", "compare", "curve", "playground")),
    Chapter("electra", ":material/policy:", ("game", "verdict", "loss", "fool", "roc", "stronger", "paper")),
    Chapter("distillation", ":material/school:", ("architecture", "soft", "temperature", "loss", "hidden", "speed",
                                                   "claims")),
    Chapter("finetuning", ":material/tune:", ("cls", "pair", "step", "weights", "measured", "probe", "qa",
                                                "spans", "vectors")),
    Chapter("family", ":material/family_history:", ("map", "roberta", "roberta-coverage", "roberta-paper", "spanbert",
                                                    "spanbert-draw", "ernie", "ernie-levels", "ernie-probe", "unilm",
                                                    "unilm-attention", "unilm-guesses", "mass", "mass-bars",
                                                    "mass-masks", "lens")),
)
# the front page's hidden twin at /overview, so a link to it never meets "Page not found"; the front page's own
# internal url path is FRONT (Streamlit serves the default page at / whatever its url_path)
FRONT = "home"
JOIN = "join"  # Class vs BERT's students' page (ui/classroom.py): no sidebar, no chapter


def chapter(key: str) -> Chapter:
    return next(c for c in CHAPTERS if c.key == key)


def next_chapter(key: str) -> Chapter | None:
    """The chapter after `key` in lecture order; None after the last."""
    keys = [c.key for c in CHAPTERS]
    i = keys.index(key)
    return CHAPTERS[i + 1] if i + 1 < len(CHAPTERS) else None


def pages() -> tuple[list, dict]:
    """`(st.Page list for st.navigation, {chapter key: the visible st.Page})`."""
    import streamlit as st

    visible = {c.key: st.Page(str(ROOT / c.file), title=c.title, icon=c.icon,
                              url_path=FRONT if c is CHAPTERS[0] else c.key, default=c is CHAPTERS[0])
               for c in CHAPTERS}
    front = CHAPTERS[0]
    twin = st.Page(str(ROOT / front.file), title=front.title, icon=front.icon, url_path=front.key,
                   visibility="hidden")
    join = st.Page(str(ROOT / "pages/join.py"), title=t("classroom.join_title"), icon=":material/how_to_vote:",
                   url_path=JOIN, visibility="hidden")
    return [*visible.values(), twin, join], visible
