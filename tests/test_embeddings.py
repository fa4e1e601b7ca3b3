"""Pretrained word vectors: found words copied, missing words keep their initialisation,
a wrong dimension is a clear error."""

import pytest
import torch

from rnnlab.data.embeddings import load_pretrained
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError

VOCAB = Vocab.from_list(["<unk>", "<pad>", "good", "bad", "film"])


@pytest.mark.parametrize("header", ["", "3 3\n"])  # GloVe, word2vec text
def test_found_words_are_copied_and_missing_words_kept(tmp_path, header):
    path = tmp_path / "vectors.txt"
    path.write_text(header + "good 1 2 3\nunrelated 9 9 9\nbad -1 -2 -3.5\n")
    weight = torch.randn(len(VOCAB), 3)
    before = weight.clone()
    assert load_pretrained(path, VOCAB, weight) == 2
    assert weight[VOCAB["good"]].tolist() == [1, 2, 3]
    assert weight[VOCAB["bad"]].tolist() == [-1, -2, -3.5]
    for missing in ("<unk>", "<pad>", "film"):
        assert torch.equal(weight[VOCAB[missing]], before[VOCAB[missing]])


def test_wrong_dimension_and_missing_file_are_clear_errors(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("good 1 2 3 4\n")
    with pytest.raises(RnnlabError, match="4-dimensional vector, but model.embed_size=3"):
        load_pretrained(path, VOCAB, torch.zeros(len(VOCAB), 3))
    with pytest.raises(RnnlabError, match="is not a file"):
        load_pretrained(tmp_path / "none.txt", VOCAB, torch.zeros(len(VOCAB), 3))


# 1e39 is a float, but inf in the float32 table
@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e999", "1e39"])
def test_a_non_finite_vector_is_refused_naming_the_file_line_and_word(tmp_path, value):
    """Issue 31: a NaN or inf vector was copied in, and training ended `diverged` instead
    of refusing the file."""
    path = tmp_path / "vectors.txt"
    path.write_text(f"good 1 2 3\nbad 1 {value} 3\n")
    with pytest.raises(RnnlabError) as error:
        load_pretrained(path, VOCAB, torch.zeros(len(VOCAB), 3))
    assert str(error.value) == (
        f"{path}:2 gives 'bad' a non-finite value ({value}); expected finite numbers"
    )
