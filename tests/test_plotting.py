"""Plots readable at any size: one-epoch curves, and t-SNE labels that do not overlap."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.embeddings.plot import _overlap_area, _text_box, place_labels
from seqkeras.plotting import plot_curves


def test_one_epoch_is_a_point_at_epoch_1_with_sane_axes():
    figure = plot_curves({"training": [2.30], "validation": [2.31]}, ylabel="loss")
    axis = figure.axes[0]
    assert axis.get_xlim() == pytest.approx((0.5, 1.5))
    low, high = axis.get_ylim()
    assert low < 2.30 and high > 2.31 and high - low >= 0.1 * 2.31 * 0.99
    assert [tick for tick in axis.get_xticks() if 0.5 <= tick <= 1.5] == [1.0]
    assert [line.get_marker() for line in axis.lines] == ["o", "o"]
    plt.close(figure)


def test_many_epochs_get_integer_ticks_and_a_log_axis():
    figure = plot_curves({"loss": [3.0, 1.0, 0.3, 0.1, 0.05, 0.04, 0.03]}, log=True)
    axis = figure.axes[0]
    assert axis.get_yscale() == "log"
    ticks = [tick for tick in axis.get_xticks() if 0.5 <= tick <= 7.5]
    assert ticks and all(float(tick).is_integer() for tick in ticks)
    low, high = axis.get_ylim()
    assert low < 0.03 and high > 3.0
    figure.canvas.draw()
    labels = [label.get_text() for label in axis.get_yticklabels(minor=True)]
    assert "0.05" in labels and not any("times" in label for label in labels)
    plt.close(figure)


@pytest.mark.parametrize(
    ("curves", "options", "message"),
    [
        ({}, {}, "no curve"),
        ({"a": [np.nan]}, {}, "no finite"),
        ({"a": [0.0]}, {"log": True}, "> 0"),
    ],
)
def test_bad_curves(curves, options, message):
    with pytest.raises(SeqKerasError, match=message):
        plot_curves(curves, **options)


def overlapping_pairs(texts, figure):
    renderer = figure.canvas.get_renderer()
    boxes = [_text_box(text, renderer) for text in texts]
    return sum(_overlap_area(a, b) > 0 for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_labels_of_nearby_points_do_not_overlap():
    # 12 points on a small circle: labels at a fixed offset (as before) overlap.
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 0.03
    labels = [f"label{i}" for i in range(12)]
    figure, axis = plt.subplots(figsize=(6, 5))
    axis.set(xlim=(-1, 1), ylim=(-1, 1))
    naive = [
        axis.annotate(t, p, xytext=(3, 3), textcoords="offset points")
        for t, p in zip(labels, points)
    ]
    assert overlapping_pairs(naive, figure) > 0
    for text in naive:
        text.remove()
    placed = place_labels(axis, points, labels)
    assert len(placed) == 12
    assert overlapping_pairs(placed, figure) == 0
    plt.close(figure)
