"""From tokenized sentences to word ids: the vocabulary, subsampling, noise and Huffman codes.

The NumPy functions here define the distributions; `seqkeras.embeddings.pipeline` draws from
them inside `tf.data`.
"""

import collections
import heapq
import numbers
from typing import NamedTuple

import numpy as np

from seqkeras.errors import SeqKerasError


class Corpus(NamedTuple):
    """A tokenized corpus restricted to its vocabulary.

    Attributes:
        words: the vocabulary, most frequent first (ties in order of first appearance).
        counts: int64 (V,), occurrences of each word in the corpus, f(w).
        ids: int32 (N,), the corpus as word ids, out-of-vocabulary tokens dropped.
        sentence_ids: int32 (N,), the sentence each token of `ids` belongs to.
    """

    words: list
    counts: np.ndarray
    ids: np.ndarray
    sentence_ids: np.ndarray


def build_corpus(sentences, min_count=5):
    """Counts the words of `sentences`, keeps those seen at least `min_count` times, maps to ids.

    Args:
        sentences: iterable of sentences, each a list of string tokens.
        min_count: positive integer; rarer words are dropped (as word2vec and gensim do).

    Returns:
        A `Corpus`.
    """
    check_positive_int("build_corpus", "min_count", min_count)
    sentences = list(sentences)
    for sentence in sentences:
        if isinstance(sentence, str) or not all(isinstance(token, str) for token in sentence):
            raise SeqKerasError(
                "build_corpus: every sentence must be a list of string tokens, got "
                f"{str(sentence)[:60]!r}; tokenize first (e.g. gensim.utils.simple_preprocess)."
            )
    counter = collections.Counter(token for sentence in sentences for token in sentence)
    if not counter:
        raise SeqKerasError(f"build_corpus: the corpus is empty ({len(sentences)} sentences).")
    # Counter keeps first-appearance order, and sorted() is stable.
    words = [w for w, c in sorted(counter.items(), key=lambda wc: -wc[1]) if c >= min_count]
    if not words:
        raise SeqKerasError(
            f"build_corpus: no word occurs at least min_count={min_count} times in the "
            f"{sum(counter.values())} tokens; lower `min_count` or give more text."
        )
    index = {word: i for i, word in enumerate(words)}
    ids, sentence_ids = [], []
    for s, sentence in enumerate(sentences):
        kept = [index[token] for token in sentence if token in index]
        ids += kept
        sentence_ids += [s] * len(kept)
    counts = np.array([counter[word] for word in words], np.int64)
    return Corpus(words, counts, np.array(ids, np.int32), np.array(sentence_ids, np.int32))


def keep_probabilities(counts, sample=1e-3):
    """Subsampling of frequent words (word2vec's formula, as in gensim).

    With z(w) = f(w) / Σ f the word's frequency, an occurrence of w is kept with probability

        P_keep(w) = min(1, (sqrt(z(w) / sample) + 1) · sample / z(w))

    so words rarer than about `sample` are always kept. `sample=0` keeps everything.
    """
    counts = np.asarray(counts, np.float64)
    if not sample:
        return np.ones(len(counts), np.float32)
    if sample < 0:
        raise SeqKerasError(f"keep_probabilities: `sample` must be >= 0, got {sample!r}.")
    z = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(z / sample) + 1) * sample / z).astype(np.float32)


def noise_distribution(counts, power=0.75):
    """The negative-sampling distribution P(w) = f(w)^power / Σ_v f(v)^power (Mikolov et al.)."""
    weights = np.asarray(counts, np.float64) ** power
    return weights / weights.sum()


class AliasTable(NamedTuple):
    """A discrete distribution over 0..V−1 as Walker's alias table, for O(1) draws.

    Draw a bucket i uniformly, keep it with probability `accept[i]`, else take `alias[i]`.
    Word i then comes out with probability (accept[i] + Σ_{j: alias[j] = i} (1 − accept[j])) / V.

    Attributes:
        accept: float32 (V,), the probability of keeping each bucket.
        alias: int32 (V,), the word each bucket gives otherwise.
    """

    accept: np.ndarray
    alias: np.ndarray


def alias_table(probabilities):
    """Vose's construction of the `AliasTable` of `probabilities` (V,), in O(V).

    Each bucket starts with V·p(i); a bucket below 1 is topped up from one above 1, which
    becomes its alias and keeps what is left, until every bucket holds exactly 1.
    """
    scaled = np.asarray(probabilities, np.float64)
    scaled = scaled * len(scaled) / scaled.sum()
    accept = np.ones(len(scaled))
    alias = np.arange(len(scaled), dtype=np.int32)
    small, large = np.flatnonzero(scaled < 1).tolist(), np.flatnonzero(scaled >= 1).tolist()
    while small and large:
        short, donor = small.pop(), large.pop()
        accept[short], alias[short] = scaled[short], donor
        scaled[donor] -= 1 - scaled[short]
        (small if scaled[donor] < 1 else large).append(donor)
    # Buckets left over hold 1 up to rounding: they keep accept = 1.
    return AliasTable(accept.astype(np.float32), alias)


class HuffmanTree(NamedTuple):
    """Huffman codes of a vocabulary, for hierarchical softmax (word2vec's binary tree).

    The V words are the leaves; the V − 1 inner nodes are numbered 0..V−2, the root last. The
    path of word w has `lengths[w]` nodes, root first: `points[w, :lengths[w]]` are the inner
    nodes, `codes[w, :lengths[w]]` the branch taken at each (0 or 1). Rows are padded to the
    longest path with point 0 and code −1. Frequent words get short codes; the expected length
    is within one bit of the entropy of the word distribution, O(log V).
    """

    points: np.ndarray
    codes: np.ndarray
    lengths: np.ndarray


def huffman_tree(counts):
    """Builds the Huffman tree of word counts (V >= 2 words): see `HuffmanTree`."""
    counts = np.asarray(counts)
    vocab_size = len(counts)
    if vocab_size < 2:
        raise SeqKerasError(
            f"huffman_tree: hierarchical softmax needs at least 2 words, got {vocab_size}."
        )
    heap = [(int(c), node) for node, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.zeros(2 * vocab_size - 1, np.int64)
    branch = np.zeros(2 * vocab_size - 1, np.int8)
    for inner in range(vocab_size, 2 * vocab_size - 1):
        count1, node1 = heapq.heappop(heap)
        count2, node2 = heapq.heappop(heap)
        parent[node1] = parent[node2] = inner
        branch[node2] = 1
        heapq.heappush(heap, (count1 + count2, inner))
    root = 2 * vocab_size - 2
    paths = []
    for word in range(vocab_size):
        nodes, bits, node = [], [], word
        while node != root:
            bits.append(branch[node])
            node = parent[node]
            nodes.append(node - vocab_size)
        paths.append((nodes[::-1], bits[::-1]))
    depth = max(len(nodes) for nodes, _ in paths)
    points = np.zeros((vocab_size, depth), np.int32)
    codes = np.full((vocab_size, depth), -1, np.int8)
    for word, (nodes, bits) in enumerate(paths):
        points[word, : len(nodes)] = nodes
        codes[word, : len(bits)] = bits
    return HuffmanTree(points, codes, np.array([len(n) for n, _ in paths], np.int32))


def check_positive_int(where, argument, value):
    """Returns `value` as an int, or raises `SeqKerasError` unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SeqKerasError(f"{where}: `{argument}` must be a positive integer, got {value!r}.")
    return int(value)
