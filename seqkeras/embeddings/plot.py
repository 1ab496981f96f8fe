"""A t-SNE picture of chosen words."""

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_path
from seqkeras.optional import require


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
    for word, (x, y) in zip(words, points, strict=True):
        ax.annotate(word, (x, y), textcoords="offset points", xytext=(3, 3), fontsize=9)
    ax.set_title(title or f"t-SNE of {len(words)} word vectors")
    ax.set_xticks([])
    ax.set_yticks([])
    figure = ax.figure
    if path is not None:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    return figure
