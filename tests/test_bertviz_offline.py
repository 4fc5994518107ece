import re

import numpy as np

from ui.bertviz_offline import head_view_html, model_view_html, safe_json

TOKENS = ["[CLS]", "</script><script>alert(1)</script>", "&amp;", "[SEP]"]


def _probs(L=2, H=3, T=4):
    rng = np.random.default_rng(0)
    x = rng.random((L, H, T, T))
    return x / x.sum(-1, keepdims=True)


def test_no_script_is_loaded_from_the_network():
    for html in (head_view_html(_probs(), TOKENS, 48), model_view_html(_probs(), TOKENS, 40)):
        assert not re.search(r"<script[^>]+src=", html)
        assert "cdnjs" not in html.split("require.config")[0]  # only bertviz's own (unused) config names a CDN
        assert "window.requirejs" in html and "d3" in html and "jQuery" in html


def test_tokens_cannot_close_the_script_tag():
    html = head_view_html(_probs(), TOKENS, 48)
    assert "</script><script>alert(1)" not in html
    assert safe_json(["</script>"]) == '["\\u003c/script\\u003e"]'


def test_model_view_ships_at_most_the_cap():
    html = model_view_html(_probs(T=4), ["a", "b", "c", "d"], max_tokens=2)
    assert '"left_text": ["a", "b"]' in html
