"""A t-SNE picture of chosen words."""

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require
from seqkeras.plotting import save_figure


def plot_tsne(kv, words, path=None, perplexity=5.0, seed=0, title=None, ax=None):
    """Projects the vectors of `words` to 2-D with scikit-learn's t-SNE and plots them, labelled.

    The vectors are scaled to unit length first, so distances reflect cosine similarity.

    Args:
        kv: a `KeyedVectors`.
        words: the words to show (at least 3, all in the vocabulary).
        path: if given, the figure is saved there as PNG.
        perplexity: t-SNE's perplexity, clipped below the number of words.
        seed: t-SNE's random state.
        title: the plot's title.
        ax: a matplotlib Axes to draw in (default: a new figure).

    Returns:
        The matplotlib `Figure`.
    """
    plt = require("matplotlib.pyplot", "keras", "plot_tsne")
    TSNE = require("sklearn.manifold", "tasks", "plot_tsne").TSNE

    words = list(words)
    if len(words) < 3:
        raise SeqKerasError(f"plot_tsne: need at least 3 words, got {len(words)}.")
    vectors = np.stack([kv[word] for word in words])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    points = TSNE(
        n_components=2,
        perplexity=min(float(perplexity), len(words) - 1.0),
        init="pca",
        random_state=seed,
    ).fit_transform(vectors)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(points[:, 0], points[:, 1], s=12)
    margin = 0.08 * np.ptp(points, axis=0) + 1e-6
    ax.set_xlim(points[:, 0].min() - margin[0], points[:, 0].max() + margin[0])
    ax.set_ylim(points[:, 1].min() - margin[1], points[:, 1].max() + margin[1])
    place_labels(ax, points, words)
    ax.set_title(title or f"t-SNE of {len(words)} word vectors")
    ax.set_xticks([])
    ax.set_yticks([])
    figure = ax.figure
    if path is not None:
        save_figure(figure, path, bbox_inches="tight")
    return figure


# Where a label may go around its point: 8 directions at growing distances (in points); a label
# away from its point gets a thin leader line.
LABEL_DISTANCES = (4, 14, 26, 40, 56)
LABEL_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0))
_ALIGNMENT = {1: ("left", "bottom"), 0: ("center", "center"), -1: ("right", "top")}


def place_labels(ax, points, labels, fontsize=9):
    """Labels each point at the nearest position (`LABEL_DISTANCES` x `LABEL_DIRECTIONS`) free of
    the labels placed before it.

    Where every position overlaps, the label takes the one with the least area overlapping other
    labels or outside the axes.
    The axes limits must be final (label boxes are measured on screen).

    Returns:
        The matplotlib `Text` objects, one per label.
    """
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed, texts = [], []
    for label, (x, y) in zip(labels, points, strict=True):
        best = None
        for distance in LABEL_DISTANCES:
            for dx, dy in LABEL_DIRECTIONS:
                leader = {"arrowstyle": "-", "lw": 0.5, "color": "0.6"} if distance > 4 else None
                text = ax.annotate(
                    label,
                    (x, y),
                    xytext=(dx * distance, dy * distance),
                    textcoords="offset points",
                    ha=_ALIGNMENT[dx][0],
                    va=_ALIGNMENT[dy][1],
                    fontsize=fontsize,
                    arrowprops=leader,
                )
                box = _text_box(text, renderer)
                outside = box.width * box.height - _overlap_area(box, frame)
                overlap = outside + sum(_overlap_area(box, other) for other in placed)
                if best is None or overlap < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (overlap, text, box)
                else:
                    text.remove()
                if overlap == 0:
                    break
            if best[0] == 0:
                break
        placed.append(best[2])
        texts.append(best[1])
    return texts


def _text_box(annotation, renderer):
    """The screen box of an annotation's text alone (without its leader line)."""
    annotation.update_positions(renderer)  # places the text relative to its point
    text_class = require("matplotlib.text", "keras", "place_labels").Text
    return text_class.get_window_extent(annotation, renderer)


def _overlap_area(a, b):
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)
