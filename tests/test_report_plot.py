"""A table's plot (results/tableN.png): plain-number ticks on its log axis, every point
inside the axes, and labels that stack rather than rotate (issue 31, item 5)."""

import re

import pytest

from rnnlab.tables import report
from rnnlab.tables.study import EntryRuns

pytest.importorskip("matplotlib")


def runs_of(*perplexities: tuple[float, float]) -> list[EntryRuns]:
    """One entry per (train, held-out) pair, two seeds each 5% apart."""
    return [
        EntryRuns(
            finished=[{"train_perplexity": t * f, "val_perplexity": v * f} for f in (0.95, 1.05)]
        )
        for t, v in perplexities
    ]


TABLE20 = {  # as results/published.yaml's table 20: its 4- and 5-layer points the highest
    "title": "nn.LSTM with 32 hidden units: num_layers",
    "entries": [
        {"model.num_layers": n, "perplexity": p, "tokens_per_sec": 1.0}
        for n, p in ((1, 4.2), (2, 2.09), (3, 2.54), (4, 17.4), (5, 17.5))
    ],
}
TABLE10 = {  # two varying keys with long values, and a published figure missing
    "title": "nn.RNN (API) against the scratch RNN (h=512), a title long enough to wrap",
    "entries": [
        {"model": m, "data.sampling": s, "perplexity": p, "tokens_per_sec": 1.0}
        for m, s, p in (
            ("rnn_scratch", "sequential", 1.26),
            ("rnn_scratch", "random", 1.43),
            ("rnn", "sequential", 1.03),
            ("rnn", "random", None),
        )
    ],
}


@pytest.mark.parametrize(
    "spec, runs",
    [
        (TABLE20, runs_of((4.4, 12), (3.4, 15), (7.5, 10), (17.3, 17.1), (17.4, 17.2))),
        (TABLE10, runs_of((1.03, 150), (1.5, 42), (1.03, 210), (1.45, 42))),
        (TABLE20, runs_of(*[(5.5, 9), (6, 11), (7, 12), (8, 15), (9, 16)])),  # under a decade
    ],
)
def test_plot_has_plain_ticks_and_every_point_inside(spec, runs):
    from matplotlib import pyplot as plt

    figure = report.figure("tableN", spec, runs)
    figure.canvas.draw()
    axis = figure.axes[0]
    low, high = axis.get_ylim()
    shown = [t for t in axis.get_yticklabels() if low <= t.get_position()[1] <= high]
    assert len(shown) >= 3
    assert all(re.fullmatch(r"\d+(\.\d+)?", t.get_text()) for t in shown), [
        t.get_text() for t in shown
    ]
    points = [y for line in axis.get_lines() for y in line.get_ydata() if y == y]  # not NaN
    bars = [y for bar in axis.collections for segment in bar.get_segments() for _, y in segment]
    assert points and bars and all(low < y < high for y in points + bars)
    labels = axis.get_xticklabels()
    assert len(labels) == len(spec["entries"])
    assert all(label.get_rotation() == 0 for label in labels)
    assert all(len(line) <= 12 for label in labels for line in label.get_text().split("\n"))
    plt.close(figure)


def test_the_title_wraps_inside_the_figure():
    from matplotlib import pyplot as plt

    title = "Scratch RNN (h=512): sequential partitioning against random sampling"
    spec = dict(TABLE10, title=title)
    figure = report.figure("table9", spec, runs_of((1, 2), (1, 2), (1, 2), (1, 2)))
    figure.canvas.draw()
    box = figure.axes[0].title.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= figure.bbox.x1 and box.y1 <= figure.bbox.y1
    plt.close(figure)


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "table20.png"
    report.plot("table20", TABLE20, runs_of(*[(4, 10)] * 5), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
