"""The embeddings chapter's outcome sentences follow the numbers beside them (issue 27), computed here from the
model's own embedding matrices for the default sentence and three others; the token box follows the sentence."""
from __future__ import annotations

import numpy as np
import pytest

from explainers import embeddings as emb
from explainers.encoding import encode_text
from explainers.model import load_model
from tests.test_pages import _app
from ui.text import t

PAGE = "pages/embeddings.py"
DEFAULT = t("sidebar.sentence_a_default", "en")
OTHERS = ["The cat sat on the mat because it was warm.", "Paris is the capital of France and its largest city.",
          "She played the piano every evening after dinner with her brother."]


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("text", [DEFAULT, *OTHERS])
def test_the_rows_map_and_position_words_follow_the_measured_numbers(text):
    lm = load_model("built-in")
    enc = encode_text(lm.tokenizer, text, max_length=lm.max_positions)
    parts = emb.embedding_parts(lm.encoder, enc.input_ids, enc.token_type_ids)
    at = _app(PAGE, a=text)
    shown = [c.value for c in at.caption]
    T = len(enc.tokens)
    # every token: neighbouring position rows against rows 3 or more apart, brute force
    nxt = np.mean([_cos(parts.position[i], parts.position[i + 1]) for i in range(T - 1)])
    far = np.mean([_cos(parts.position[i], parts.position[j]) for i in range(T) for j in range(i + 3, T)])
    tok = np.mean([_cos(parts.token[i], parts.token[i + 1]) for i in range(T - 1)])
    fields = dict(next=nxt, far=3, far_cos=far, token=tok)
    assert t("embeddings.rows_smooth" if nxt > far else "embeddings.rows_not_smooth", "en", **fields) in shown
    # the map: share of variance on two components, and nearest neighbours kept, brute force
    x = parts.token.astype(np.float64) - parts.token.mean(0)
    s = np.linalg.svd(x, compute_uv=False)
    proj = emb.pca_2d(parts.token)
    d_full = np.array([[np.inf if i == j else np.linalg.norm(x[i] - x[j]) for j in range(T)] for i in range(T)])
    d_map = np.array([[np.inf if i == j else np.linalg.norm(proj.points[i] - proj.points[j]) for j in range(T)]
                      for i in range(T)])
    kept = int((d_full.argmin(1) == d_map.argmin(1)).sum())
    fields = dict(share=float((s[:2] ** 2).sum() / (s ** 2).sum()), n=T, k=kept, d=parts.token.shape[1])
    assert t("embeddings.pca_keeps" if 2 * kept >= T else "embeddings.pca_rough", "en", **fields) in shown
    # positions 0..63: mean cosine at distance 1, 8 and 32
    w = lm.encoder.embeddings.position_embeddings.weight[:64].detach().float().numpy()
    by = [np.mean([_cos(w[i], w[i + d]) for i in range(64 - d)]) for d in (1, 8, 32)]
    key = ("embeddings.positions_fade" if by[0] > by[1] > by[2] else
           "embeddings.positions_near_only" if by[0] > max(by[1:]) else "embeddings.positions_not_near")
    assert t(key, "en", last=63, d1=by[0], a=8, da=by[1], b=32, db=by[2]) in shown
    assert key == "embeddings.positions_fade"  # measured: 0.80 at 1 apart, 0.23 at 8, -0.02 at 32


def test_the_token_box_follows_a_new_sentence():
    at = _app(PAGE)
    at.selectbox(key="emb_token").set_value(3).run()  # a position the new sentence also has
    at.sidebar.text_area(key="a").set_value("The cat sat.").run()
    box = at.selectbox(key="emb_token")
    assert box.value == 1 and box.format_func(box.value) == "1 · the"
