"""scripts/ngram_baseline.py: the interpolated Witten-Bell n-gram is a distribution, learns
a pattern, and reads a data=text run's split from the same overrides as training."""

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ngram_baseline.py"
spec = importlib.util.spec_from_file_location("ngram_baseline", SCRIPT)
ngram = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ngram)


@pytest.mark.parametrize("history", [(), (1,), (1, 2), (3, 3), (0, 4)])
def test_witten_bell_probabilities_sum_to_one(history):
    model = ngram.WittenBell([1, 2, 3, 1, 2, 1, 3, 3, 2, 1] * 3, order=3, vocab_size=5)
    assert sum(model.probability(history, token) for token in range(5)) == pytest.approx(1.0)


def test_witten_bell_learns_a_repeated_pattern_and_the_unigram_does_not():
    pattern = [0, 1, 2, 3] * 50
    model = ngram.WittenBell(pattern, order=3, vocab_size=4)
    assert model.perplexity(pattern, [0, 1, 2, 3] * 5) < 1.2
    assert ngram.unigram_perplexity(pattern, [0, 1, 2, 3] * 5, 4) == pytest.approx(4, rel=0.01)
    assert math.isfinite(model.perplexity(pattern, [3, 2, 1, 0]))  # unseen, still finite


def test_the_script_reads_a_text_run_split(tmp_path):
    (tmp_path / "a.txt").write_text("abcd" * 500)
    (tmp_path / "t.txt").write_text("abcdx" * 4)
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--order",
            "3",
            "data=text",
            f"data.path={tmp_path / 'a.txt'}",
            f"data.test_path={tmp_path / 't.txt'}",
            "data.preprocess=raw",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "train 1,800, val 200, test 20, vocab 5" in result.stdout  # <unk> and a-d
    assert "3-gram (interpolated Witten-Bell) test perplexity" in result.stdout
