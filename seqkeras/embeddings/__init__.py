"""Word embeddings: skip-gram (negative sampling, softmax, hierarchical softmax), the neural
language model, GloVe, and `KeyedVectors` for similarity, analogies and transfer learning.

Importing this package does not import TensorFlow; the trainers do, on first use.
"""

import importlib

from seqkeras.embeddings.corpus import (
    Corpus,
    HuffmanTree,
    build_corpus,
    huffman_tree,
    keep_probabilities,
    noise_distribution,
)
from seqkeras.embeddings.evaluation import (
    AnalogyResult,
    WordPairsResult,
    evaluate_analogies,
    evaluate_word_pairs,
)
from seqkeras.embeddings.keyed_vectors import KeyedVectors, UnknownWordError
from seqkeras.embeddings.plot import plot_tsne

_LAZY = {
    "EmbeddingTrainer": "trainer",
    "GloVe": "glove",
    "GloVeLoss": "glove",
    "NeuralLanguageModel": "language_model",
    "SkipGram": "skipgram",
    "SkipGramLoss": "skipgram",
    "SlicedModel": "sliced_model",
    "cooccurrence_counts": "glove",
    "glove_weight": "glove",
}

__all__ = [
    "AnalogyResult",
    "Corpus",
    "HuffmanTree",
    "KeyedVectors",
    "UnknownWordError",
    "WordPairsResult",
    "build_corpus",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "huffman_tree",
    "keep_probabilities",
    "noise_distribution",
    "plot_tsne",
    *sorted(_LAZY),
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"seqkeras.embeddings.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seqkeras.embeddings' has no attribute {name!r}")
