"""The ELECTRA chapter through AppTest: the game on the page is `explainers.electra` at the same seed."""
from __future__ import annotations

import html
import re

import pytest
import torch

from tests.test_pages import _app, seen_keys
from ui.html import md_escape

TEXT = "the big red cat sat on the mat . the dog ran"


def _detection(gen_dir, disc_dir, text, rate, seed, temperature=1.0):
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    from explainers.electra import replaced_token_detection
    from explainers.encoding import encode_text
    from explainers.model import load_role

    gen = load_role(str(gen_dir), gen_dir, ElectraForMaskedLM)
    disc = load_role(str(disc_dir), disc_dir, ElectraForPreTraining)
    tok = gen.tokenizer
    enc = encode_text(tok, text, max_length=gen.max_positions)
    special = torch.tensor([[int(i in tok.all_special_ids) for i in enc.input_ids[0].tolist()]])
    return enc, replaced_token_detection(gen.model, disc.model, enc.input_ids, enc.attention_mask, special,
                                         mask_token_id=tok.mask_token_id, vocab_size=len(tok), rate=rate,
                                         temperature=temperature, token_type_ids=enc.token_type_ids, seed=seed)


def _pair_app(dirs, **query):
    gen_dir, disc_dir = dirs
    return _app("pages/electra.py", e_gen=str(gen_dir), e_disc=str(disc_dir), a=TEXT, **query)


def test_the_page_plays_the_training_game_at_the_same_seed(tiny_electra_dirs):
    at = _pair_app(tiny_electra_dirs, e_rate="40", e_seed="3")
    enc, d = _detection(*tiny_electra_dirs, TEXT, 0.4, 3)
    table = at.dataframe[0].value
    assert list(table["position"]) == d.positions
    assert list(table["original"]) == [enc.tokens[i] for i in d.positions]
    caught = sum(p >= 0.5 and y for p, y in zip(d.p_replaced[1:-1], d.replaced[1:-1]))
    assert at.metric[0].label == "Caught" and int(at.metric[0].value) == caught
    assert sum(int(m.value) for m in at.metric[:4]) == len(enc.tokens) - 2  # every real piece judged once


def test_resample_draws_with_the_next_seed(tiny_electra_dirs):
    at = _pair_app(tiny_electra_dirs, e_rate="50", e_seed="0")
    at.button[0].click().run()
    assert not at.exception and at.number_input(key="e_seed").value == 1
    _, d = _detection(*tiny_electra_dirs, TEXT, 0.5, 1)
    assert list(at.dataframe[0].value["position"]) == d.positions


def test_the_threshold_moves_pieces_between_caught_and_missed(tiny_electra_dirs):
    at = _pair_app(tiny_electra_dirs, e_rate="60", e_seed="2", e_thr="0.05")
    low = {m.label: int(m.value) for m in at.metric[:4]}
    at.slider(key="e_thr").set_value(0.95).run()
    high = {m.label: int(m.value) for m in at.metric[:4]}
    assert low["Caught"] + low["Missed"] == high["Caught"] + high["Missed"]  # the truth does not move
    assert low["Caught"] >= high["Caught"] and low["False alarms"] >= high["False alarms"]


def test_the_loss_shown_is_electra_loss_at_the_sliders_lambda(tiny_electra_dirs):
    """The bar shows what `electra_loss` (the training loss) returns for the page's corruption, at λ = 20."""
    from transformers import AutoTokenizer, ElectraForMaskedLM, ElectraForPreTraining

    from explainers.electra import corrupt, electra_loss

    at = _pair_app(tiny_electra_dirs, e_rate="40", e_seed="3", e_lambda="20")
    enc, d = _detection(*tiny_electra_dirs, TEXT, 0.4, 3)
    gen_dir, disc_dir = tiny_electra_dirs
    gen = ElectraForMaskedLM.from_pretrained(gen_dir).eval()
    disc = ElectraForPreTraining.from_pretrained(disc_dir).eval()
    tok = AutoTokenizer.from_pretrained(gen_dir)
    special = torch.tensor([[int(t in ("[CLS]", "[SEP]")) for t in enc.tokens]])
    with torch.no_grad():
        c = corrupt(gen, enc.input_ids, enc.attention_mask, special, mask_token_id=tok.mask_token_id,
                    vocab_size=len(tok), rate=0.4, token_type_ids=enc.token_type_ids,
                    generator=torch.Generator().manual_seed(3))
        ref = electra_loss(c, disc(input_ids=c.corrupted_ids, attention_mask=enc.attention_mask,
                                   token_type_ids=enc.token_type_ids).logits, enc.attention_mask, lam=20)
    assert c.corrupted_ids[0].tolist() == d.corrupted_ids  # the same round as the page's
    bar = " ".join(h.proto.body for h in at.get("html"))
    assert f"L = {float(ref.mlm):.2f} + 20 × {float(ref.disc):.3f} = {float(ref.total):.2f}" in bar
    assert f"λ · L_disc = 20 × {float(ref.disc):.3f} = {20 * float(ref.disc):.2f} nats" in bar


def test_an_unknown_pair_shows_an_error_and_falls_back_to_the_built_in_pair():
    at = _app("pages/electra.py", e_gen="no-such-user/no-such-generator")
    assert any(md_escape("Could not load 'no-such-user/no-such-generator'") in e.value for e in at.error)
    assert at.dataframe  # the built-in pair still plays


def test_a_typed_replacement_is_escaped_and_judged(tiny_electra_dirs):
    at = _pair_app(tiny_electra_dirs)
    at.text_input(key="e_word").set_value("<b>dog</b>").run()
    assert not at.exception
    verdict = [m.value for m in at.markdown if "P(replaced)" in m.value and "your" in m.value]
    assert verdict and "<b>" not in verdict[0] and md_escape("<b>dog</b>") in verdict[0]


@pytest.mark.parametrize("text", ["[MASK] [CLS]", "🤖🤖"])
def test_text_without_maskable_pieces_gets_a_message(tiny_electra_dirs, text):
    gen_dir, disc_dir = tiny_electra_dirs
    at = _app("pages/electra.py", e_gen=str(gen_dir), e_disc=str(disc_dir), a=text)
    shown = " ".join(i.value for i in at.info)
    assert "no word pieces that can be masked" in shown and "no word piece to replace" in shown  # game, fool it


def _judged(at) -> list[tuple[str, str]]:
    """(piece, truth line) for each chip of "Try to fool it", the last set of scored chips on the page."""
    body = [h.proto.body for h in at.get("html") if "flagged: p ≥" in h.proto.body][-1]
    chips = re.findall(r'<bdi dir="ltr">(.*?)</bdi>.*?<div style="font-size:\.68em">(.*?)</div></div>', body)
    return [(html.unescape(tok), re.sub(r"^[✓✗] ", "", truth)) for tok, truth in chips]


@pytest.mark.parametrize("word,pieces", [("dog", ["dog"]), ("playing", ["play", "##ing"])])
def test_try_to_fool_it_marks_exactly_the_typed_pieces_as_replaced(tiny_electra_dirs, word, pieces):
    """[CLS] the big red cat … : the pieces typed in place of "cat" (position 4) are the replaced ones, each
    showing the piece it took the place of; every other piece is an original."""
    at = _pair_app(tiny_electra_dirs)
    at.selectbox(key="e_pos").set_value(4).run()
    at.text_input(key="e_word").set_value(word).run()
    assert not at.exception
    tokens = ["[CLS]", *TEXT.split(), "[SEP]"]
    edited = tokens[:4] + pieces + tokens[5:]
    replaced = range(4, 4 + len(pieces))
    assert _judged(at) == [(t, "<b>replaced</b> (was cat)" if i in replaced else "&nbsp;" if t in ("[CLS]", "[SEP]")
                            else "original") for i, t in enumerate(edited)]


def test_typing_the_piece_that_is_already_there_replaces_nothing(tiny_electra_dirs):
    at = _pair_app(tiny_electra_dirs)
    at.selectbox(key="e_pos").set_value(4).run()
    at.text_input(key="e_word").set_value("cat").run()
    assert "replaced" not in " ".join(truth for _, truth in _judged(at))
    assert any("is the piece that was already there" in c.value for c in at.caption)


def test_in_presenter_mode_each_part_of_the_game_is_a_step_of_its_own_on_the_same_round(tiny_electra_dirs):
    """Step 1 draws the controls and the generator's guesses; → opens the discriminator's verdict on the round
    those controls drew (rate 40 %, seed 3), without the controls, the pair box or the sizes caption."""
    from ui.text import t

    at = _pair_app(tiny_electra_dirs, present="1", step="1", e_rate="40", e_seed="3")
    enc, d = _detection(*tiny_electra_dirs, TEXT, 0.4, 3)
    assert list(at.dataframe[0].value["position"]) == d.positions and not at.metric
    assert not [e for e in at.main.expander if e.label == t("electra.pair")]
    assert not [c for c in at.caption if c.value.startswith("Generator:")]
    at.button(key="present_next").click().run()
    assert not at.exception and not at.dataframe and seen_keys(at, "slider") == {"e_thr"}  # the threshold alone
    caught = sum(p >= 0.5 and y for p, y in zip(d.p_replaced[1:-1], d.replaced[1:-1]))
    assert at.metric[0].label == "Caught" and int(at.metric[0].value) == caught
    for step, key in (("3", "e_lambda"), ("4", "e_word")):
        at.button(key="present_next").click().run()
        assert not at.exception and at.query_params["step"] in (step, [step])
        assert key in seen_keys(at, "slider", "text_input") and not at.metric


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 6])
def test_every_presenter_step_draws_without_code_names(tiny_electra_dirs, step):
    from harness.walk import code_identifiers, find_code

    at = _pair_app(tiny_electra_dirs, present="1", step=str(step))
    text = " ".join(e.value for e in [*at.main.markdown, *at.main.caption])
    assert not find_code(text, code_identifiers())


def test_a_generator_with_another_vocabulary_is_refused_by_name(tiny_electra_dirs):
    """The tiny generator (19 pieces) beside the built-in discriminator: the message names both, and the chapter
    goes on with the built-in pair."""
    gen_dir, _ = tiny_electra_dirs
    at = _app("pages/electra.py", e_gen=str(gen_dir))
    refused = [e.value for e in at.error if "use different vocabularies" in e.value]
    assert len(refused) == 1, refused  # generator first, then the discriminator, as the words say
    assert refused[0].startswith(md_escape(f"'{gen_dir}' and 'built-in' use")), refused
    assert at.slider(key="e_rate").value == 15  # the built-in pair's game is drawn
