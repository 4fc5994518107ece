import torch

from explainers.corpus import pack
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
