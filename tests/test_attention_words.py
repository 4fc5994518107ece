"""The attention chapter's outcome sentence follows the numbers (issue 27): the opening head's caption names the
habit and the share measured for the default sentence and three others; the head view follows the sliders."""
from __future__ import annotations

import numpy as np
import pytest

from explainers import attention as att
from explainers.encoding import encode_text
from explainers.model import load_model
from tests.test_pages import _app
from ui.text import t

PAGE = "pages/attention.py"
DEFAULT = t("sidebar.sentence_a_default", "en")
OTHERS = ["The cat sat on the mat because it was warm.", "Paris is the capital of France and its largest city.",
          "She played the piano every evening after dinner with her brother."]
NAMES = {"to_prev": "previous token", "to_next": "next token", "to_self": "itself"}


@pytest.mark.parametrize("text", [DEFAULT, *OTHERS])
def test_the_opening_head_says_which_habit_and_what_share_was_measured(text):
    lm = load_model("built-in")
    enc = encode_text(lm.tokenizer, text, max_length=lm.max_positions)
    probs = att.attention_probs(lm.encoder, enc.input_ids, enc.attention_mask)  # [L, H, T, T]
    L, H, T = probs.shape[:3]
    # brute force: every head's mean weight on i-1, i+1 and i; the largest of them all
    shares = {(k, l, h): np.mean([probs[l, h, i, i + d] for i in range(T) if 0 <= i + d < T])
              for l in range(L) for h in range(H) for k, d in (("to_prev", -1), ("to_next", 1), ("to_self", 0))}
    (kind, layer, head), share = max(shares.items(), key=lambda kv: kv[1])
    at = _app(PAGE, a=text)
    assert (at.slider(key="layer").value, at.slider(key="head").value) == (layer, head)
    expected = t("attention.opened_on", "en", n=L * H, pattern=NAMES[kind], share=share)
    assert expected in [c.value for c in at.caption]
    at.slider(key="head").set_value((head + 1) % H).run()
    assert expected not in [c.value for c in at.caption], "the caption belongs to the opening head only"


def test_the_head_view_follows_the_layer_and_head_sliders():
    at = _app(PAGE)
    at.slider(key="layer").set_value(3).run()
    at.slider(key="head").set_value(7).run()
    assert not at.exception
    # the frame reads the sliders from the page's address (the browser test watches it redraw); the file offered
    # for download is the chosen head's
    assert "window.parent.location.search" in at.get("iframe")[0].proto.srcdoc
    assert at.get("download_button")[0].proto.label == t("attention.download_head_view", "en", layer=3, head=7)
