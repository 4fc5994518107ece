"""bertviz's head view and model view, drawn without the internet.

bertviz's JavaScript asks require.js to fetch jQuery and d3 from a CDN, so offline the view is blank. Here the
two libraries are inlined from pip packages (d3 v5 from `mpld3`, jQuery from `xstatic-jquery`), followed by a
few-line stand-in for require.js that hands them to bertviz's callback. The attention data goes in as JSON
with `<`, `>` and `&` escaped, so no token can close the `<script>` tag; tokens are drawn with d3's `.text()`.
Only the layers given are shipped, rounded to 3 decimals.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib.resources import files

import numpy as np

from explainers.errors import require

from ui.text import t

REQUIRE_SHIM = """
window.require = {config: function () {}};
window.requirejs = function (deps, callback) {
  var libs = {jquery: window.jQuery, d3: window.d3};
  callback.apply(null, deps.map(function (name) { return libs[name]; }));
};
"""


@lru_cache(maxsize=None)
def _asset(package: str, name: str) -> str:
    return (files(package) / name).read_text(encoding="utf-8")


def _libraries() -> str:
    jquery = _asset("xstatic.pkg.jquery", "data/jquery.min.js")
    d3 = _asset("mpld3", "js/d3.v5.min.js")
    return "".join(f"<script>{js}</script>" for js in (jquery, d3, REQUIRE_SHIM))


def safe_json(obj) -> str:
    return json.dumps(obj).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _format_tokens(tokens: list[str]) -> list[str]:
    return [piece.replace("Ġ", " ").replace("▁", " ").replace("</w>", "") for piece in tokens]


def _document(body: str) -> str:
    """A page with jQuery, d3 and the require.js stand-in, then `body`."""
    return (f'<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;background:white">'
            f'{_libraries()}{body}</body></html>')


def _page(view: str, vis_html: str, params: dict) -> str:
    js = _asset("bertviz", f"{view}.js").replace("PYTHON_PARAMS", safe_json(params))
    return _document(f"{vis_html}<script>{js}</script>")


# The head view on the page follows the chapter's Layer and Head sliders without being sent again: the sliders are
# bound to the page's address (?layer=…&head=…), which the frame (same origin, `st.iframe`) reads ten times a
# second, redrawing bertviz's view (its markup reset, its script run again with that layer and head) when they
# change and the view is on screen. The page then keeps one frame per sentence instead of reloading a 450 kB
# document on every move. A page with no such address (a downloaded file) opens on the layer and head it was made
# with.
FOLLOW_JS = """<script>
(() => {
  const root = document.getElementById("bertviz-head"), markup = root.innerHTML;
  const base = %(params)s, view = new Function(%(code)s), layers = base.include_layers, nHeads = %(heads)d;
  const whole = (value, fallback, ok) => {
    const n = Number(value);
    return value !== null && value !== "" && Number.isInteger(n) && ok(n) ? n : fallback;
  };
  let shown = null;
  function chosen() {
    let q = new URLSearchParams();
    try { if (window.parent !== window) q = new URLSearchParams(window.parent.location.search); } catch (e) {}
    return [whole(q.get("layer"), base.layer, n => layers.includes(n)),
            whole(q.get("head"), base.heads === null ? null : base.heads[0], n => n >= 0 && n < nHeads)];
  }
  function draw() {
    const [layer, head] = chosen(), key = layer + "," + head;
    if (key === shown) return;
    shown = key;
    root.innerHTML = markup;
    window.bertvizParams = Object.assign({}, base, {layer: layer, heads: head === null ? null : [head]});
    view();  // bertviz's script, compiled once: it reads window.bertvizParams each time it runs
  }
  let waiting = false, visible = true;
  function follow() {  // a new layer or head: redrawn once the page is idle, after Streamlit has drawn the move
    const [layer, head] = chosen();
    if (waiting || !visible || layer + "," + head === shown) return;
    waiting = true;
    (window.requestIdleCallback || setTimeout)(() => { waiting = false; draw(); }, {timeout: 300});
  }
  draw();
  setInterval(follow, 100);
  // off screen (scrolled away, a closed tab) the view waits: a redraw costs about 70 ms of the page's main thread,
  // which a slider moved above it would wait for; it catches up when it comes into view
  if ("IntersectionObserver" in window)
    new IntersectionObserver(seen => { visible = seen.some(e => e.isIntersecting); follow(); }).observe(root);
})();
</script>"""


def head_view_html(probs: np.ndarray, tokens: list[str], max_tokens: int, layer: int = 0,
                   head: int | None = None, lang: str | None = None) -> str:
    """bertviz head view of every layer (its own layer selector), for the first `max_tokens` tokens, opening on
    `layer` with only `head` drawn (None: all heads overlaid); its colour boxes switch heads on and off. In a page
    whose address names `layer` and `head` (the chapter's sliders) it shows and follows those (`FOLLOW_JS`)."""
    require(probs.ndim == 4 and probs.shape[-1] == len(tokens), "probs must be [L, H, T, T] for the tokens")
    n = min(len(tokens), max_tokens)
    toks = _format_tokens(tokens[:n])
    params = {
        "attention": [{"name": "All", "attn": np.round(probs[:, :, :n, :n], 3).tolist(),
                       "left_text": toks, "right_text": toks}],
        "default_filter": "0", "root_div_id": "bertviz-head", "layer": int(layer),
        "heads": None if head is None else [int(head)],
        "include_layers": list(range(probs.shape[0])),
    }
    label = html.escape(t("chips.bertviz_layer", lang))
    vis = ('<div id="bertviz-head" style="font-family:Helvetica,Arial,sans-serif">'
           f'<span style="user-select:none">{label} <select id="layer"></select></span>'
           '<div id="vis"></div></div>')
    code = _asset("bertviz", "head_view.js").replace("PYTHON_PARAMS", "window.bertvizParams")
    follow = FOLLOW_JS % {"params": safe_json(params), "code": safe_json(code), "heads": probs.shape[1]}
    return _document(vis + follow)


def model_view_html(probs: np.ndarray, tokens: list[str], max_tokens: int) -> str:
    """bertviz model view of every layer and head, for the first `max_tokens` tokens."""
    n = min(len(tokens), max_tokens)
    sub = probs[:, :, :n, :n]  # weights to tokens past the cap are not drawn (rows are not renormalised)
    toks = _format_tokens(tokens[:n])
    params = {
        "attention": [{"name": "All", "attn": np.round(sub, 3).tolist(), "left_text": toks, "right_text": toks}],
        "default_filter": "0", "root_div_id": "bertviz-model", "display_mode": "light",
        "include_layers": list(range(probs.shape[0])), "include_heads": list(range(probs.shape[1])),
        "total_heads": probs.shape[1],
    }
    vis = ('<div id="bertviz-model" style="font-family:Helvetica,Arial,sans-serif">'
           '<div id="vis"></div></div>')
    return _page("model_view", vis, params)
