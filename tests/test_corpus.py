import torch

from explainers.corpus import pack
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


def test_the_held_out_split_depends_only_on_the_document():
    doc = "cat: feline mammal usually having thick soft fur."
    assert in_test_split(doc, 0.02) == in_test_split(doc, 0.02)
    share = sum(in_test_split(f"document number {i}", 0.02) for i in range(20000)) / 20000
    assert abs(share - 0.02) < 0.004
