"""The ELECTRA chapter through AppTest: the game on the page is `explainers.electra` at the same seed."""
from __future__ import annotations

import pytest
import torch

from tests.test_pages import _app
from ui.html import md_escape

TEXT = "the big red cat sat on the mat . the dog ran"


def _detection(gen_dir, disc_dir, text, rate, seed, temperature=1.0):
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    from explainers.electra import replaced_token_detection
    from explainers.model import encode_text, load_role

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


def test_the_loss_breakdown_is_mlm_plus_lambda_times_disc(tiny_electra_dirs):
    at = _pair_app(tiny_electra_dirs, e_rate="40", e_seed="3", e_lambda="20")
    _, d = _detection(*tiny_electra_dirs, TEXT, 0.4, 3)
    bar = " ".join(h.proto.body for h in at.get("html"))
    assert f"L = {d.mlm_loss:.2f} + 20 × {d.disc_loss:.3f} = {d.mlm_loss + 20 * d.disc_loss:.2f}" in bar
    assert f"λ · L_disc = 20 × {d.disc_loss:.3f} = {20 * d.disc_loss:.2f} nats" in bar


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
    assert any("no word pieces that can be masked" in i.value or "no word piece to replace" in i.value
               for i in at.info)
