"""The ELECTRA chapter's outcome sentences (issue 27): every sentence that says what the reader sees (the replaced
pieces score higher, your word is caught, how many pieces the discriminator catches, how many positions teach)
is worded from the numbers beside it, on the default sentence and on three others, for the built-in pair."""
from __future__ import annotations

import pytest

from explainers import electra, electra_heldout
from explainers.model import BUILTIN_NAME
from tests.test_electra_page import _detection
from tests.test_pages import _app
from ui import electra as E
from ui.state import DEFAULT_A

PAIR = (BUILTIN_NAME, BUILTIN_NAME, "cpu")
SENTENCES = [DEFAULT_A, "The cat sat on the mat because it was tired.",
             "She plays the piano every evening after dinner.", "We ate ice cream in the living room with Jane Austen."]
SEED, RATE = 16, 0.15  # the page's default draw

pytestmark = pytest.mark.skipif(not E.GENERATOR_DIR.is_dir() or not E.DISCRIMINATOR_DIR.is_dir(),
                                reason="the built-in ELECTRA pair is not built")


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


@pytest.mark.parametrize("text", SENTENCES)
def test_the_verdicts_sentence_says_whether_replaced_pieces_scored_higher_as_they_did(text):
    at = _app("pages/electra.py", a=text)
    enc, d = _detection(E.GENERATOR_DIR, E.DISCRIMINATOR_DIR, text, RATE, SEED)
    real = range(1, len(enc.tokens) - 1)
    rep = [d.p_replaced[i] for i in real if d.replaced[i]]
    orig = [d.p_replaced[i] for i in real if not d.replaced[i]]
    said = [c for c in _captions(at) if "On this round" in c or "Nothing was replaced this round" in c]
    assert len(said) == 1, _captions(at)
    if not rep:
        assert "every piece is original" in said[0] and f"{sum(orig) / len(orig):.2f}" in said[0]
        return
    mean_rep, mean_orig = sum(rep) / len(rep), sum(orig) / len(orig)
    assert f"= {mean_rep:.2f} on average and the originals {mean_orig:.2f}" in said[0]
    if mean_rep > mean_orig:
        assert "it is surer where a piece was replaced" in said[0] and "not surer" not in said[0]
    else:
        assert "here it is not surer where a piece was replaced" in said[0]


def test_the_verdicts_sentence_follows_a_round_where_the_fakes_pass():
    """Seed 16 on the second sentence: its two fakes score P 0.06 and 0.08 (measured), below the originals'
    highest: the sentence still compares the means it shows, whichever way they fall."""
    sep = electra.separation([0.1, 0.2, 0.9, 0.1], [0, 1, 0, 0], [False, True, True, False])
    assert not sep.apart and sep.replaced == 0.2 and sep.original == 0.9
    sep = electra.separation([0.1, 0.8, 0.2, 0.1], [0, 1, 0, 0], [False, True, True, False])
    assert sep.apart
    assert electra.separation([0.1, 0.2, 0.3], [0, 0, 0], [False, True, False]).replaced is None


@pytest.mark.parametrize("text", SENTENCES)
def test_every_token_teaches_counts_the_positions_of_this_round(text):
    at = _app("pages/electra.py", a=text)
    enc, d = _detection(E.GENERATOR_DIR, E.DISCRIMINATOR_DIR, text, RATE, SEED)
    said = [c for c in _captions(at) if "discriminator learns at all" in c or "still learns at all" in c]
    assert len(said) == 1
    n, m = len(enc.tokens), len(d.positions)
    assert m < n  # [CLS] and [SEP] are never masked: the discriminator always has more
    if m:
        assert f"all {n} positions and the generator at the {m} masked ones: {n / m:.1f} times" in said[0]
    else:
        assert f"still learns at all {n} positions" in said[0]


@pytest.mark.parametrize("text, position, word", [(DEFAULT_A, None, None), (SENTENCES[1], 2, "banana"),
                                                  (SENTENCES[2], 3, "drums"), (SENTENCES[3], 4, "dog")])
def test_try_to_fool_it_says_caught_and_how_the_word_ranks_from_its_scores(text, position, word):
    query = {"a": text} | ({"e_pos": str(position), "e_word": word} if word else {})
    at = _app("pages/electra.py", **query)
    position = at.selectbox(key="e_pos").value
    word = at.text_input(key="e_word").value
    ed = E.edit(*PAIR, text, "", int(position), word)
    p = max(ed.p_replaced[i] for i in ed.new_positions)
    originals = [q for q, y in zip(ed.p_replaced[1:-1], ed.changed[1:-1]) if not y]
    verdict = [m.value for m in at.markdown if "P(replaced) = **" in m.value]
    assert len(verdict) == 1 and f"**{p:.2f}**" in verdict[0]
    assert ("**Caught.**" in verdict[0]) == (p >= 0.5) and ("fooled it" in verdict[0]) == (p < 0.5)
    higher = sum(q >= p for q in originals)
    rank = [c for c in _captions(at) if "original pieces" in c and "your word" in c.lower()]
    assert len(rank) == 1
    if higher == 0:
        assert rank[0].startswith(f"Your word scores above all {len(originals)} original pieces")
    else:
        assert rank[0].startswith(f"{higher} of the sentence's {len(originals)} original pieces score at least")
    assert f"{max(originals):.2f})" in rank[0]


@pytest.mark.parametrize("threshold", [0.5, 0.2, 0.9])
def test_the_roc_step_counts_the_replaced_pieces_caught_at_the_chosen_threshold(threshold):
    at = _app("pages/electra.py", e_roc_thr=str(threshold))
    r, h = E.heldout_roc(*PAIR)
    scores, labels = h.scores.flatten(), h.labels.flatten()
    flagged = scores >= threshold
    caught = int((flagged & (labels == 1)).sum())
    wrong = int((flagged & (labels == 0)).sum())
    said = [c for c in _captions(at) if c.startswith(f"At threshold {threshold:.2f} it catches")]
    assert len(said) == 1
    assert f"catches {caught:,} of the {r.positives:,} replaced pieces" in said[0]
    assert f"wrongly flags {wrong:,} of the {r.negatives:,} originals" in said[0]
    assert ("is above guessing" in said[0]) == (r.auc > 0.5)


def test_the_fool_it_picker_follows_a_new_sentence_and_the_verdict_follows_the_picker():
    at = _app("pages/electra.py")
    at.selectbox(key="e_pos").set_value(2).run()
    assert at.selectbox(key="e_pos").value == 2
    text = SENTENCES[2]
    at.sidebar.text_area(key="a").set_value(text).run()
    assert not at.exception
    enc = E.encoded(*PAIR, text, "")
    positions = list(range(1, len(enc.tokens) - 1))
    middle = positions[len(positions) // 2]
    assert at.selectbox(key="e_pos").value == middle  # re-derived, not the old sentence's 2
    assert at.selectbox(key="e_pos").format_func(middle) == f"{middle} · {enc.tokens[middle]}"

    def shown_p() -> str:
        return next(m.value for m in at.markdown if "P(replaced) = **" in m.value)

    ed = E.edit(*PAIR, text, "", middle, "banana")
    assert f"**{max(ed.p_replaced[i] for i in ed.new_positions):.2f}**" in shown_p()
    at.selectbox(key="e_pos").set_value(positions[0]).run()
    ed = E.edit(*PAIR, text, "", positions[0], "banana")
    assert f"**{max(ed.p_replaced[i] for i in ed.new_positions):.2f}**" in shown_p()
    at.number_input(key="e_seed").set_value(3).run()  # another draw of the game leaves the picker alone
    assert at.selectbox(key="e_pos").value == positions[0] and not at.warning


def test_the_stronger_generator_step_words_its_sentence_from_the_three_makers():
    at = _app("pages/electra.py")
    makers = E.fake_makers(*PAIR)
    assert [m.name for m in makers] == ["random", "generator", "teacher"]  # weakest first, by measured top-1
    said = [m.value for m in at.markdown if "the discriminator's AUC" in m.value or "does not always" in m.value]
    assert len(said) == 1, [m.value for m in at.markdown]
    weak, strong = makers[0], makers[-1]
    template = "The better the fakes" if electra_heldout.harder_as_stronger(makers) else "does not always make"
    assert template in said[0]
    for number in (f"{weak.auc:.3f}", f"{strong.auc:.3f}", f"{weak.caught:.0%}", f"{strong.caught:.0%}",
                   f"{strong.generator_top1:.0%}"):
        assert number in said[0], (number, said[0])
    table = at.dataframe[-1].value
    assert list(table.iloc[:, 1]) == [f"{m.generator_top1:.1%}" for m in makers]
