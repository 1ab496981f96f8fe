"""Plots readable at any size: one-epoch curves, labelled colorbars, t-SNE labels that do not
overlap."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.embeddings.plot import _overlap_area, _text_box, place_labels
from seqkeras.plotting import heatmap, plot_curves, save_figure
from seqkeras.png import decode_png
from tests.figure_helpers import colorbar_labels


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


def test_heatmap_has_a_colorbar_saying_what_the_colour_means(tmp_path):
    figure = plt.figure(figsize=(3, 2))
    axis = figure.subplots()
    values = np.array([[0.1, 0.9], [0.7, 0.3]])
    image = heatmap(axis, values, "attention weight α<t,t'>", vmin=0.0, vmax=1.0)
    assert len(figure.axes) == 2 and figure.axes[0] is axis
    assert colorbar_labels(figure) == ["attention weight α<t,t'>"]
    assert image.colorbar.mappable is image and image.get_clim() == (0.0, 1.0)
    np.testing.assert_array_equal(image.get_array(), values)
    path = save_figure(figure, tmp_path / "heatmap.png", dpi=50)
    assert decode_png(path.read_bytes()).shape[:2] == (100, 150)  # 2 x 3 inches at 50 dpi
    plt.close(figure)
