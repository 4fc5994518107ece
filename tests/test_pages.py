"""Each chapter through Streamlit's AppTest: it renders, it follows the sidebar, bad input gets a message."""
from __future__ import annotations

import os

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.chapters import CHAPTERS
from ui.html import md_escape
from ui.text import t

ROOT = Path(__file__).resolve().parents[1]
PAGES = [c.file for c in CHAPTERS if c.key != "masking"]  # masking: below


def _app(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def seen_keys(at: AppTest, *kinds: str) -> set[str]:
    """Keys of the widgets of these kinds ("slider", "toggle", ...) drawn in the main area outside
    `ui.present.unseen`'s containers, which the browser never shows."""
    from streamlit.testing.v1.element_tree import Block

    def walk(node) -> list:
        if isinstance(node, Block):
            if getattr(node.proto, "id", "").split("-")[-1].startswith("unseen_"):
                return []
            return [w for child in node.children.values() for w in walk(child)]
        return [node] if node.type in kinds else []

    return {w.key for w in walk(at.main) if w.key}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page):
    at = _app(page)
    assert at.sidebar.text_area(key="a").value.startswith("The teacher")


def test_embeddings_page_shows_every_token_of_a_pair(builtin):
    at = _app("pages/embeddings.py", a="The cat sat.", b="It slept.")
    expected = builtin.tokenizer.convert_ids_to_tokens(builtin.tokenizer("The cat sat.", "It slept.")["input_ids"])
    assert at.selectbox(key="emb_token").options == [f"{i} · {t}" for i, t in enumerate(expected)]


def test_attention_page_follows_layer_and_head_from_the_url():
    at = _app("pages/attention.py", layer="3", head="7")
    assert at.slider(key="layer").value == 3 and at.slider(key="head").value == 7
    at.slider(key="head").set_value(2).run()
    assert not at.exception and at.slider(key="head").value == 2 and at.slider(key="layer").value == 3


def _clearest(folder_or_name: str, text: str) -> tuple[int, int]:
    from explainers import attention as att
    from explainers.encoding import encode_text
    from explainers.model import load_model

    lm = load_model(folder_or_name)
    enc = encode_text(lm.tokenizer, text, max_length=lm.max_positions)
    probs = att.attention_probs(lm.encoder, enc.input_ids, enc.attention_mask)
    stats = att.head_stats(probs, [i for i, tok in enumerate(enc.tokens) if tok == "[SEP]"])
    return att.clearest_head(stats)[:2]


def test_the_attention_chapter_opens_on_the_clearest_head_and_bertviz_shows_it_alone():
    at = _app("pages/attention.py")
    layer, head = _clearest("built-in", at.sidebar.text_area(key="a").value)
    assert (at.slider(key="layer").value, at.slider(key="head").value) == (layer, head) != (0, 0)
    assert f'"layer": {layer}, "heads": [{head}]' in at.get("iframe")[0].proto.srcdoc
    downloads = at.get("download_button")
    # the head view is drawn; the model view when its expander is opened (tests/test_attention_page.py)
    assert [(d.key, d.proto.label) for d in downloads] == [("dl_head_view", t("attention.download_head_view",
                                                                               layer=layer, head=head))]


@pytest.mark.parametrize("layer", ["99", "-4", "abc"])
def test_a_layer_out_of_range_in_the_url_falls_back_to_the_opening_layer(layer):
    """Streamlit drops a bound URL value outside the slider's range (or not a number) for the slider's default:
    the layer of the clearest head."""
    at = _app("pages/attention.py", layer=layer, head="5")
    opening = _clearest("built-in", at.sidebar.text_area(key="a").value)
    assert at.slider(key="layer").value == opening[0] and at.slider(key="head").value == 5


def test_layer_and_head_beyond_a_newly_chosen_smaller_model_reopen_on_its_clearest_head(tiny_bert_dir):
    """Layer 5, head 7 of the built-in model (6 × 12) do not exist in a 2-layer, 2-head model: `_valid` forgets
    them before the sliders are drawn, and they open on the small model's clearest head."""
    at = _app("pages/attention.py", layer="5", head="7")
    at.sidebar.text_input(key="model").set_value(str(tiny_bert_dir)).run()
    assert not at.exception
    assert at.slider(key="layer").max == 1 and at.slider(key="head").max == 1
    expected = _clearest(str(tiny_bert_dir), at.sidebar.text_area(key="a").value)
    assert (at.slider(key="layer").value, at.slider(key="head").value) == expected


@pytest.mark.parametrize("page", PAGES[1:])
def test_empty_text_gets_a_friendly_message(page):
    at = _app(page, a="")
    assert any("Sentence A is empty" in e.value for e in at.info)


@pytest.mark.parametrize("page", PAGES[1:])
def test_ten_thousand_characters_are_truncated_with_a_note(page):
    at = _app(page, a="The class read a long story aloud. " * 300)
    assert any("cut to 512 tokens" in w.value for w in at.warning)


@pytest.mark.parametrize("text", ["I ❤️ 🤖 transformers", "東京は日本の首都です", "שלום עולם",
                                  "<script>alert('x')</script><img src=x onerror=alert(1)>",
                                  "Paris is the [MASK] of France. [CLS] [SEP]", "tab\there\x00\x1b[31m red"])
def test_unusual_text_renders_on_every_chapter(text):
    for page in PAGES[1:]:
        _app(page, a=text)


def test_unknown_model_id_shows_an_error_and_keeps_the_previous_model():
    at = _app("pages/attention.py", model="no-such-user/no-such-model")
    assert any(md_escape("'no-such-user/no-such-model'") in e.value for e in at.sidebar.error)
    assert any(f"Still using **{md_escape('built-in')}**" in e.value for e in at.sidebar.error)
    assert at.slider(key="layer").max == 5  # the built-in model's 6 layers are still shown


def test_a_local_model_folder_can_be_chosen_and_survives_a_typo(tiny_bert_dir):
    at = _app("pages/attention.py", model=str(tiny_bert_dir), a="the cat sat on the mat")
    assert not at.sidebar.error
    assert at.slider(key="layer").max == 1 and at.slider(key="head").max == 1
    at.sidebar.text_input(key="model").set_value("/no/such/folder").run()
    assert not at.exception
    assert any(f"Still using **{md_escape(str(tiny_bert_dir))}**" in e.value for e in at.sidebar.error)
    assert at.slider(key="layer").max == 1


def test_masking_page_masks_with_the_training_function(tiny_bert_dir):
    """The chosen positions on the page, and what the model reads at each ([MASK], a random piece or the original),
    are exactly what `mask_tokens` draws with the same seed and the page's [MASK] / random shares."""
    import torch

    from explainers.masking import Action, mask_tokens
    from explainers.encoding import encode_text
    from explainers.model import load_model

    text = "the big red cat sat on the mat . the dog ran"
    at = _app("pages/masking.py", model=str(tiny_bert_dir), a=text, rate="60", seed="3", p_mask="60",
              p_random="30")
    lm = load_model(str(tiny_bert_dir))
    enc = encode_text(lm.tokenizer, text, max_length=lm.max_positions)
    special = torch.tensor([[int(i in lm.tokenizer.all_special_ids) for i in enc.input_ids[0].tolist()]])
    expected = mask_tokens(enc.input_ids, special, mask_token_id=lm.tokenizer.mask_token_id,
                           vocab_size=len(lm.tokenizer), rate=0.6, p_mask=0.6, p_random=0.3,
                           generator=torch.Generator().manual_seed(3))
    table = at.dataframe[0].value
    positions = expected.selected[0].nonzero()[:, 0].tolist()
    assert list(table["position"]) == positions
    assert list(table["original"]) == [enc.tokens[i] for i in positions]
    read = lm.tokenizer.convert_ids_to_tokens(expected.input_ids[0].tolist())
    what = {Action.MASKED: "{}", Action.RANDOM: "{} (random)", Action.UNCHANGED: "{} (unchanged)"}
    actions = [Action(int(expected.action[0, i])) for i in positions]
    assert {Action.MASKED, Action.RANDOM} <= set(actions)  # both shares drawn: swapping them cannot pass unseen
    assert list(table["model read"]) == [what[a].format(read[i]) for a, i in zip(actions, positions)]


def test_masking_page_hides_every_occurrence_of_a_chosen_word_as_training_does(tiny_bert_dir):
    """With "Whole words" and "Every occurrence" on, the page's choice is `mask_tokens(..., every_occurrence=
    content_pieces(vocab))`: both "dog"s or neither; "the" as it was drawn."""
    import torch

    from explainers.masking import content_pieces, mask_tokens, word_ids_from_tokens
    from explainers.encoding import encode_text
    from explainers.model import load_model

    text = "the dog sat on the mat . the big dog ran"
    lm = load_model(str(tiny_bert_dir))
    enc = encode_text(lm.tokenizer, text, max_length=lm.max_positions)
    special = torch.tensor([[int(i in lm.tokenizer.all_special_ids) for i in enc.input_ids[0].tolist()]])
    dogs = [i for i, tok in enumerate(enc.tokens) if tok == "dog"]
    for seed in range(50):  # a seed whose plain draw takes one "dog" but not the other
        kw = dict(mask_token_id=lm.tokenizer.mask_token_id, vocab_size=len(lm.tokenizer), rate=0.3,
                  word_ids=word_ids_from_tokens([enc.tokens]))
        plain = mask_tokens(enc.input_ids, special, generator=torch.Generator().manual_seed(seed), **kw)
        if int(plain.selected[0, dogs].sum()) == 1:
            break
    every = mask_tokens(enc.input_ids, special, generator=torch.Generator().manual_seed(seed),
                        every_occurrence=content_pieces(lm.tokenizer.get_vocab()), **kw)
    assert every.selected[0, dogs].all()
    at = _app("pages/masking.py", model=str(tiny_bert_dir), a=text, rate="30", seed=str(seed), whole="true",
              every="true")
    assert list(at.dataframe[0].value["position"]) == every.selected[0].nonzero()[:, 0].tolist()


@pytest.mark.parametrize("rate,expected", [("0", 15), ("999", 15), ("abc", 15), ("-3", 15), ("7", 7), ("1", 1)])
def test_masking_rate_from_the_url_falls_back_to_the_default_when_invalid(tiny_bert_dir, rate, expected):
    at = _app("pages/masking.py", model=str(tiny_bert_dir), a="the cat sat on the mat", rate=rate)
    assert at.slider(key="rate").value == expected


@pytest.mark.parametrize("page,key,minimum,default", [
    ("pages/masking.py", "rate", 1, 15), ("pages/masking.py", "p_mask", 0, 80),
    ("pages/electra.py", "e_rate", 1, 15), ("pages/electra.py", "e_lambda", 1, 50),
    ("pages/distillation.py", "d_rate", 1, 15), ("pages/distillation.py", "d_temp", 0.5, 1.0)])
def test_a_shared_link_at_a_sliders_minimum_keeps_it(page, key, minimum, default):
    """Streamlit drops a bound value equal to the widget's default from the URL: the default must be the page's
    (15 %), not the slider's minimum, or a link at 1 % opens at 15 %."""
    at = _app(page, **{key: str(minimum)})
    assert at.slider(key=key).value == minimum
    assert at.query_params[key] in (str(minimum), [str(minimum)])
    assert _app(page).slider(key=key).value == default


def test_masking_page_explains_a_model_without_mlm_head(tiny_distilbert_dir):
    at = _app("pages/masking.py", model=str(tiny_distilbert_dir), a="the cat sat")
    assert any("no masked-language-model head" in w.value for w in at.warning)


def test_text_with_nothing_maskable_gets_a_message(tiny_bert_dir):
    at = _app("pages/masking.py", model=str(tiny_bert_dir), a="[MASK] [MASK]")
    assert any("no word pieces that can be masked" in i.value for i in at.info)


def test_fill_in_the_blank_without_mask_gets_a_hint(tiny_bert_dir):
    at = _app("pages/masking.py", model=str(tiny_bert_dir), a="the cat sat", fill="the cat sat on the mat")
    assert any("There is no [MASK]" in i.value for i in at.info)


def test_choosing_an_example_fills_both_sentences():
    at = _app("pages/embeddings.py")
    at.sidebar.selectbox(key="example").set_value("A sentence pair").run()
    assert not at.exception
    assert at.sidebar.text_area(key="a").value == "The cat sat on the mat."
    assert at.sidebar.text_area(key="b").value == "It was warm in the sun."
    assert sum("[SEP]" in t for t in at.selectbox(key="emb_token").options) == 2


def test_a_model_name_from_a_shared_link_cannot_inject_a_link():
    at = _app("pages/overview.py", model="[click me](http://example.com/x)")
    shown = [e.value for e in at.sidebar.error]
    assert shown and all("](http" not in v for v in shown)
    assert any("\\[click me\\]\\(http://example\\.com/x\\)" in v for v in shown)


def test_a_text_too_long_for_the_address_stays_out_of_it():
    """8,000 CJK characters are 72 KB percent-encoded: in the URL they made a reload fail with HTTP 400."""
    at = _app("pages/embeddings.py")
    at.sidebar.text_area(key="a").input("我" * 8000).run()
    assert not at.exception
    assert "a" not in at.query_params
    assert any("too long for the page's address" in c.value for c in at.sidebar.caption)
    assert at.sidebar.text_area(key="a").value == "我" * 8000  # still the text the pages explain
    at.sidebar.text_area(key="a").input("a short one").run()
    assert not any("too long for the page's address" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("chapter", CHAPTERS[1:], ids=[c.key for c in CHAPTERS[1:]])
def test_every_chapter_ends_with_a_link_to_the_next(chapter):
    from ui.chapters import next_chapter
    from ui.text import t

    at = _app(chapter.file)
    links = [(p.proto.label, p.proto.page) for p in at.main.get("page_link")]
    nxt = next_chapter(chapter.key)
    wanted = [] if nxt is None else [(t("common.next_chapter", chapter=nxt.title), nxt.url_path)]
    prefix = t("common.next_chapter", chapter="\0").split("\0")[0]  # "Next: "
    assert [link for link in links if link[0].startswith(prefix)] == wanted, links


def test_the_built_in_models_rate_curve_is_drawn_at_once_and_another_models_on_request(tiny_bert_dir):
    """The built-in teacher's "Why 15 %?" curve ships with it (10 seeds, with their spread); a user's model gets
    a button that measures it, so the chapter does not wait for twelve passes over the held-out text."""
    at = _app("pages/masking.py")
    names = [json.loads(c.proto.config)["toImageButtonOptions"]["filename"] for c in at.get("plotly_chart")]
    assert "inside-bert-masking-why-15-percent" in names
    assert any("10 seeds" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == t("masking.curve_measure")]
    at.sidebar.text_input(key="model").set_value(str(tiny_bert_dir)).run()
    assert not any("seeds" in c.value for c in at.caption)
    button = next(b for b in at.button if b.label == t("masking.curve_measure"))
    n = len(at.get("plotly_chart"))
    button.click().run()
    assert not at.exception and len(at.get("plotly_chart")) == n + 1
    assert any("seed 0" in c.value for c in at.caption)


def test_the_link_to_this_view_carries_the_page_the_sentence_and_the_presenter_step():
    import html
    from urllib.parse import parse_qs, urlsplit

    at = _app("pages/masking.py", a="A cat & a <dog>", present="1", step="3")
    box = next(h.value for h in at.sidebar.get("html") if "inside-bert-link" in h.value)
    url = urlsplit(html.unescape(re.search(r'<input readonly value="([^"]*)"', box).group(1)))
    query = parse_qs(url.query)
    assert url.path == "/masking" and query["a"] == ["A cat & a <dog>"]
    assert query["present"] == ["1"] and query["step"] == ["3"]


def test_the_link_to_the_front_page_is_the_apps_root():
    from ui.links import view_link

    assert view_link("http://h:8501/", "", "", {}) == "http://h:8501/"
    assert view_link("https://h/", "/bert/", "masking", {"rate": ["20"]}) == "https://h/bert/masking?rate=20"


def test_the_masking_chapters_logit_lens_waits_for_its_toggle_then_shows_teacher_and_student():
    """Off by default (it would cost two more passes on every slider move); on, from the address too: the
    teacher's and the student's lens, two more figures."""
    off = _app("pages/masking.py", rate="30", seed="1")
    assert off.toggle(key="lens").value is False and "lens_pos" not in [s.key for s in off.selectbox]
    on = _app("pages/masking.py", rate="30", seed="1", lens="true")
    assert on.toggle(key="lens").value is True and on.selectbox(key="lens_pos").options
    assert len(on.get("plotly_chart")) == len(off.get("plotly_chart")) + 2


ORDER_PROBE = """
import builtins, json, sys
order = []
real_import = builtins.__import__

def probe(name, *args, **kwargs):
    if name.split(".")[0] == "torch" and "torch" not in sys.modules and "torch" not in order:
        order.append("torch")
    return real_import(name, *args, **kwargs)

builtins.__import__ = probe
from streamlit.testing.v1 import AppTest
import ui.present as present
steps = present.steps
present.steps = lambda key, *a, **k: order.append("page:" + key) or steps(key, *a, **k)
at = AppTest.from_file("app.py", default_timeout=120)
for key, value in json.loads(sys.argv[1]).items():
    at.query_params[key] = value
at.run()
if sys.argv[2]:
    at.switch_page(sys.argv[2]).run()
assert not at.exception, [e.value for e in at.exception]
print(json.dumps(order))
"""


def test_a_fresh_process_draws_the_overview_before_it_imports_torch():
    """Issue 29's cold start: the overview needs no model, so a fresh server's first visitor reads it while torch
    and transformers load (the sidebar's model box is drawn after it); a chapter loads them first."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", ORDER_PROBE, json.dumps({}), "pages/embeddings.py"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "INSIDE_BERT_WARM": "0"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["page:overview", "torch", "page:embeddings"]
