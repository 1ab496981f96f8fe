"""Plots that stay readable: training curves at any number of epochs, heatmaps with labelled
colorbars, figures saved atomically.

A curve of one epoch is a single point: matplotlib then centres the x axis on 0 (from -0.04 to
0.04) and zooms the y axis into the fourth digit. `plot_curves` draws points joined by lines at
epochs 1..n, with integer epoch ticks, an x range of [0.5, n + 0.5] and a y range of at least
±10% around flat data. A heatmap says what its colours mean: `heatmap` draws a matrix with a
colorbar labelled with the quantity (e.g. "attention weight α<t,t'>").
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_path
from seqkeras.optional import require

MIN_RELATIVE_SPAN = 0.1


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    ax: Any = None,
    xlabel: str = "epoch",
    ylabel: str | None = None,
    title: str | None = None,
    log: bool = False,
    ylim: tuple[float, float] | None = None,
) -> Any:
    """Draws one curve per entry of `curves` (e.g. training and validation loss per epoch).

    Args:
        curves: label -> values, one value per epoch (lists, arrays, or a Keras history's lists).
        ax: a matplotlib Axes to draw in (default: a new 6 x 3.5 inch figure).
        xlabel: the x axis label.
        ylabel: the y axis label.
        title: the plot's title.
        log: a logarithmic y axis (values must be > 0).
        ylim: fixed y limits (e.g. (0, 1) for an accuracy), else chosen from the data.

    Returns:
        The matplotlib `Figure`.

    Raises:
        SeqKerasError: `curves` is empty, a curve has no finite value, or `log` with values <= 0.

    Example:

    >>> from seqkeras.plotting import plot_curves
    >>> figure = plot_curves({"training": [2.3], "validation": [2.4]}, ylabel="loss")
    >>> tuple(float(limit) for limit in figure.axes[0].get_xlim())
    (0.5, 1.5)
    """
    ticker = require("matplotlib.ticker", "keras", "plot_curves")
    if not curves:
        raise SeqKerasError("plot_curves: no curve to draw.")
    arrays = {label: np.asarray(values, dtype=float).ravel() for label, values in curves.items()}
    finite = np.concatenate([values[np.isfinite(values)] for values in arrays.values()])
    if finite.size == 0:
        raise SeqKerasError(f"plot_curves: no finite value in {sorted(arrays)}.")
    if log and finite.min() <= 0:
        raise SeqKerasError("plot_curves: log=True needs values > 0.")
    if ax is None:
        ax = require("matplotlib.pyplot", "keras", "plot_curves").subplots(figsize=(6, 3.5))[1]
    epochs = max(len(values) for values in arrays.values())
    for label, values in arrays.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=label)
    ax.set_xlim(0.5, epochs + 0.5)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, min_n_ticks=1))
    if log:
        ax.set_yscale("log")
        plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")  # 2.5, not 2.5×10⁰
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    ax.set_ylim(ylim if ylim is not None else _padded_range(finite, log))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if len(arrays) > 1:
        ax.legend()
    return ax.figure


def _padded_range(values: np.ndarray, log: bool) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    if log:
        margin = max((high / low) ** 0.05, 1.0 + MIN_RELATIVE_SPAN)
        return low / margin, high * margin
    span = max(high - low, MIN_RELATIVE_SPAN * max(abs(low), abs(high), 1e-12))
    pad = 0.05 * (high - low) if high - low >= span else (span - (high - low)) / 2
    return low - pad, high + pad


def heatmap(ax: Any, values: npt.ArrayLike, label: str, **imshow_options: Any) -> Any:
    """Draws a matrix with `ax.imshow` and a colorbar labelled `label`.

    Args:
        ax: the matplotlib Axes to draw in (the colorbar takes room from it).
        values: a 2-D array of the quantity (rows are drawn top to bottom).
        label: what a colour means, e.g. "attention weight α<t,t'>".
        **imshow_options: passed to `ax.imshow` (`cmap`, `vmin`, `vmax`, `aspect`...).

    Returns:
        The `AxesImage`; its colorbar is `image.colorbar`.

    Example:

    >>> from matplotlib.figure import Figure
    >>> axis = Figure().subplots()
    >>> image = heatmap(axis, [[0.2, 0.8], [0.6, 0.4]], "P(tag)", vmin=0.0, vmax=1.0)
    >>> image.colorbar.ax.get_ylabel()
    'P(tag)'
    """
    image = ax.imshow(values, **imshow_options)
    ax.figure.colorbar(image, ax=ax, label=label)
    return image


def save_figure(
    figure: Any, path: str | os.PathLike[str], dpi: int = 120, **savefig_options: Any
) -> pathlib.Path:
    """Saves `figure` as a PNG at `path`, atomically, laid out tightly unless it has a layout
    engine of its own (e.g. `Figure(layout="constrained")`).

    Args:
        figure: a matplotlib `Figure`.
        path: the PNG file to write.
        dpi: its resolution in dots per inch.
        **savefig_options: more arguments of `Figure.savefig` (e.g. `bbox_inches="tight"`).

    Returns:
        `path` as a `pathlib.Path`.
    """
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png", **savefig_options)
    return pathlib.Path(path)
