import torch

from explainers.corpus import alone_share, pack
from training import everyday
from training.build_corpus import in_test_split

CLS, SEP, PAD = 101, 102, 0


def test_documents_are_packed_whole_and_framed():
    docs = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
    out = pack(docs, CLS, SEP, PAD, seq_len=8)  # room for 6 pieces a row
    assert out["input_ids"].tolist() == [[CLS, 1, 2, 3, 4, 5, SEP, PAD], [CLS, 6, 7, 8, 9, SEP, PAD, PAD]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0]]
    assert torch.equal(out["special"].bool(), (out["input_ids"] == CLS) | (out["input_ids"] == SEP)
                       | (out["attention_mask"] == 0))


def test_a_document_longer_than_a_row_is_cut_into_pieces():
    out = pack([list(range(1, 15))], CLS, SEP, PAD, seq_len=8)
    body = [row[1:row.index(SEP)] for row in out["input_ids"].tolist()]
    assert body == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], [13, 14]]


def test_a_document_marked_alone_gets_rows_of_its_own_and_the_rest_pack_around_it():
    docs = [[1, 2], [3, 4], [5, 6, 7, 8, 9, 10, 11, 12], [13]]
    out = pack(docs, CLS, SEP, PAD, seq_len=8, alone=[False, True, True, False])
    body = [row[1:row.index(SEP)] for row in out["input_ids"].tolist()]
    assert body == [[3, 4], [5, 6, 7, 8, 9, 10], [11, 12], [1, 2, 13]]
    flags = alone_share(20000, 0.1, seed=3)
    assert flags == alone_share(20000, 0.1, seed=3) and abs(sum(flags) / 20000 - 0.1) < 0.01


def test_the_held_out_split_is_a_hash_of_the_key_at_the_requested_share():
    held = [f"document number {i}" for i in range(200) if in_test_split(f"document number {i}", 0.02)]
    assert held == ["document number 15", "document number 139", "document number 142"]  # SHA-1 byte 0 < 5.12
    share = sum(in_test_split(f"document number {i}", 0.02) for i in range(20000)) / 20000
    assert abs(share - 0.02) < 0.004


def test_everyday_documents_never_repeat_a_sentence_and_are_seeded():
    docs = everyday.documents(seed=3)
    assert docs == everyday.documents(seed=3) and docs != everyday.documents(seed=4)
    for doc in docs[:500]:
        parts = [p for p in doc.split(". ") if p]
        assert len(parts) == len(set(parts)), doc
    text = " ".join(docs)
    assert "Paris is the capital of France." in text and "Young cats are called kittens." in text


def test_cloze_filter_drops_a_filled_in_prompt_only():
    keep = everyday.cloze_filter([("Tokyo is the capital of [MASK].", ["japan"])])
    assert not keep("We went there. Tokyo is the capital of Japan. It rained.")
    assert keep("Tokyo, the capital of Japan, is large.") and keep("Kyoto is the capital of Japan.")


def test_near_prompt_filter_drops_the_answer_beside_the_words_next_to_the_blank():
    keep = everyday.near_prompt_filter([("The sun rises in the [MASK].", ["east", "morning"]),
                                        ("The [MASK] barked at the mailman.", ["dog"]),
                                        ("Two [MASK] here.", ["blanks"]), ("[MASK] and [MASK].", ["x"])])
    assert not keep("The sun rises in the east and sets in the west.")
    assert not keep("Every day it rises in the morning.")  # the three words before the blank, then an answer
    assert not keep("A big dog barked at the cat.")  # an answer, then the three words after the blank
    assert keep("The sun sets in the west.") and keep("The dog barked.") and keep("A cat barked at the dog.")
    assert keep("Two blanks here.")  # one word beside the blank is not a context


def test_the_project_never_writes_a_classroom_or_cloze_sentence_into_its_text():
    from training.build_corpus import CLASSROOM, CLOZE, cloze_pairs

    pairs = cloze_pairs(CLASSROOM) + cloze_pairs(CLOZE)
    assert len(cloze_pairs(CLASSROOM)) == 15
    keep = everyday.near_prompt_filter(pairs)
    docs = everyday.documents(0, keep=keep)
    text = " ".join(docs).lower()
    assert "the sun rises in the east" not in text and "paris is the capital of france" not in text
    assert "paris is the capital of" in " ".join(everyday.documents(0)).lower(), "unfiltered, the text holds it"
    assert "the capital of germany is berlin" in text, "facts no prompt asks stay"


def test_a_share_of_the_glosses_is_kept_by_hash_and_sources_can_be_chosen(tmp_path):
    from training.build_corpus import Config, _hash_share, build

    shares = [_hash_share(f"gloss:{i}") for i in range(20000)]
    assert abs(sum(s < 0.25 for s in shares) / 20000 - 0.25) < 0.01 and shares == [_hash_share(f"gloss:{i}")
                                                                                     for i in range(20000)]
    m = build(Config(out=tmp_path, only=("everyday",), max_documents=50, sample_out=tmp_path / "sample.txt"))
    assert set(m["sources"]) == {"everyday"} and m["train"]["documents"] == 50
    assert (tmp_path / "sample.txt").read_text().count("\n") == m["test"]["documents"]
