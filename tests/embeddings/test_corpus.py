"""Vocabulary, subsampling, noise distribution, Huffman codes, and the tf.data pipeline."""

import collections
import itertools

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf
from gensim.models import Word2Vec

from seqkeras import SeqKerasError
from seqkeras.datasets import lee_corpus
from seqkeras.embeddings import build_corpus, huffman_tree, keep_probabilities, noise_distribution
from seqkeras.embeddings.corpus import alias_table
from seqkeras.embeddings.pipeline import batch_stream, sample_words, skipgram_pairs, subsample


@pytest.fixture(scope="module")
def lee():
    return build_corpus(lee_corpus(), min_count=2)


@pytest.fixture(scope="module")
def gensim_vocab():
    """gensim's vocabulary tables for the same corpus and settings (no training)."""
    model = Word2Vec(vector_size=8, min_count=2, sample=1e-3, hs=1, negative=5, workers=1)
    model.build_vocab(lee_corpus())
    return model


def test_build_corpus_orders_and_filters():
    sentences = [["b", "a", "c"], ["a", "d", "b"], ["a", "x"]]
    corpus = build_corpus(sentences, min_count=2)
    assert corpus.words == ["a", "b"]
    np.testing.assert_array_equal(corpus.counts, [3, 2])
    np.testing.assert_array_equal(corpus.ids, [1, 0, 0, 1, 0])
    np.testing.assert_array_equal(corpus.sentence_ids, [0, 0, 1, 1, 2])


def test_build_corpus_matches_gensim_vocabulary(lee, gensim_vocab):
    wv = gensim_vocab.wv
    assert sorted(lee.words) == sorted(wv.index_to_key)
    for word in ("the", "fire", "australia"):
        assert lee.counts[lee.words.index(word)] == wv.get_vecattr(word, "count")
    assert len(lee.ids) == sum(lee.counts)


@pytest.mark.parametrize(
    "sentences, min_count, message",
    [
        ([], 1, "empty"),
        ([[], []], 1, "empty"),
        ([["a", "b"]], 2, "min_count=2"),
        (["a sentence"], 1, "list of string tokens"),
        ([["a", 3]], 1, "list of string tokens"),
        ([["a"]], 0, "positive integer"),
    ],
)
def test_build_corpus_errors(sentences, min_count, message):
    with pytest.raises(SeqKerasError, match=message):
        build_corpus(sentences, min_count=min_count)


def test_keep_probabilities_match_gensim(lee, gensim_vocab):
    keep = keep_probabilities(lee.counts, 1e-3)
    wv = gensim_vocab.wv
    gensim_keep = np.array([wv.get_vecattr(w, "sample_int") / 2**32 for w in lee.words])
    np.testing.assert_allclose(keep, np.minimum(gensim_keep, 1.0), atol=1e-6)
    assert keep[0] < 0.2  # "the"
    assert keep[-1] == 1.0
    np.testing.assert_array_equal(keep_probabilities(lee.counts, 0), 1.0)


def test_noise_distribution_is_f_to_the_three_quarters(lee, gensim_vocab):
    p = noise_distribution(lee.counts)
    reference = lee.counts**0.75 / np.sum(lee.counts**0.75)
    np.testing.assert_allclose(p, reference, rtol=1e-12)
    # gensim's cumulative table, in its own word order
    cumulative = gensim_vocab.cum_table / gensim_vocab.cum_table[-1]
    theirs = np.diff(cumulative, prepend=0.0)
    order = [gensim_vocab.wv.key_to_index[w] for w in lee.words]
    np.testing.assert_allclose(p, theirs[order], atol=1e-7)


def test_alias_table_holds_the_distribution_exactly(lee):
    """Word i comes out with probability (accept[i] + Σ_{alias[j] = i} (1 − accept[j])) / V."""
    for p in (noise_distribution(lee.counts), np.array([0.5, 0.5]), np.array([0.0, 0.1, 0.9])):
        table = alias_table(p)
        accept = table.accept.astype(np.float64)
        implied = accept + np.bincount(table.alias, weights=1 - accept, minlength=len(p))
        np.testing.assert_allclose(implied / len(p), p, atol=1e-7)
        assert table.accept.dtype == np.float32 and table.alias.dtype == np.int32


def test_negative_samples_follow_the_noise_distribution(lee):
    p = noise_distribution(lee.counts)
    draws = 400_000
    table = alias_table(p)
    shape = tf.constant([draws // 4, 4])
    ids = sample_words(table.accept, table.alias, shape, tf.constant([3, 4])).numpy()
    assert ids.shape == (draws // 4, 4)
    frequency = np.bincount(ids.ravel(), minlength=len(p)) / draws
    tolerance = 5 * np.sqrt(p * (1 - p) / draws) + 1e-6
    assert np.all(np.abs(frequency - p) <= tolerance)
    expected = p * draws
    assert expected.min() >= 5  # the chi-square test's condition
    observed = np.bincount(ids.ravel(), minlength=len(p))
    assert scipy.stats.chisquare(observed, expected).pvalue > 1e-4


def test_huffman_codes_are_prefix_free_and_short(lee):
    tree = huffman_tree(lee.counts)
    vocab_size = len(lee.counts)
    codes = ["".join(map(str, row[:n])) for row, n in zip(tree.codes, tree.lengths, strict=True)]
    assert len(set(codes)) == vocab_size
    ordered = sorted(codes)
    assert not any(b.startswith(a) for a, b in itertools.pairwise(ordered))
    # a full binary tree: Kraft's sum is exactly 1
    assert np.sum(2.0**-tree.lengths) == pytest.approx(1.0)
    # inner nodes on a path are distinct and in range; all paths start at the root
    for row, n in zip(tree.points, tree.lengths, strict=True):
        assert len(set(row[:n])) == n and row[:n].max() < vocab_size - 1
    assert set(tree.points[:, 0]) == {vocab_size - 2}
    # optimal: the expected length is within one bit of the entropy, so O(log V)
    p = lee.counts / lee.counts.sum()
    entropy = -np.sum(p * np.log2(p))
    expected = np.sum(p * tree.lengths)
    assert entropy <= expected < entropy + 1
    assert expected < np.log2(vocab_size)
    assert tree.lengths.max() < 3 * np.log2(vocab_size)


def test_huffman_expected_length_matches_gensim(lee, gensim_vocab):
    tree = huffman_tree(lee.counts)
    wv = gensim_vocab.wv
    theirs = np.array([len(wv.get_vecattr(w, "code")) for w in lee.words])
    assert np.dot(lee.counts, tree.lengths) == np.dot(lee.counts, theirs)


def test_huffman_needs_two_words():
    with pytest.raises(SeqKerasError, match="at least 2 words"):
        huffman_tree([5])
    tree = huffman_tree([5, 1])
    np.testing.assert_array_equal(tree.lengths, [1, 1])


def test_subsampling_statistics():
    keep = np.array([1.0, 0.5, 0.1], np.float32)
    ids = np.tile(np.arange(3, dtype=np.int32), 30_000)
    kept, sentences = subsample(ids, ids * 0, keep, tf.constant([1, 2]))
    fraction = np.bincount(kept.numpy(), minlength=3) / 30_000
    np.testing.assert_allclose(fraction, keep, atol=0.015)
    assert fraction[0] == 1.0
    assert len(sentences.numpy()) == len(kept.numpy())


def test_skipgram_pairs_window_statistics():
    """On a corpus of distinct words (id = position), pairs reveal their offsets."""
    window, length, sentences = 4, 40, 500
    ids = np.arange(length * sentences, dtype=np.int32)
    sentence_ids = ids // length
    keep = np.ones(len(ids), np.float32)
    context, target = skipgram_pairs(ids, sentence_ids, keep, window, tf.constant([5, 6]))
    context, target = context.numpy(), target.numpy()
    offset = context - target
    assert np.all(sentence_ids[context] == sentence_ids[target])
    assert np.all((offset != 0) & (np.abs(offset) <= window))
    # distance d is kept when the target's reduced window b ~ U{1..window} reaches it
    counts = collections.Counter(np.abs(offset))
    for d in range(1, window + 1):
        positions = 2 * (length - d) * sentences
        expected = positions * (window - d + 1) / window
        assert abs(counts[d] - expected) < 5 * np.sqrt(expected), d
    # the pairs of a target are consecutive, targets come in a shuffled order
    starts = np.flatnonzero(np.diff(target) != 0)
    assert len(starts) == len(ids) - 1
    assert not np.all(np.diff(target[np.r_[0, starts + 1]]) > 0)


def test_skipgram_pairs_are_reproducible(lee):
    keep = keep_probabilities(lee.counts, 1e-3)
    first = skipgram_pairs(lee.ids, lee.sentence_ids, keep, 5, tf.constant([1, 1]))
    again = skipgram_pairs(lee.ids, lee.sentence_ids, keep, 5, tf.constant([1, 1]))
    other = skipgram_pairs(lee.ids, lee.sentence_ids, keep, 5, tf.constant([1, 2]))
    np.testing.assert_array_equal(first[0], again[0])
    assert len(first[0]) != len(other[0]) or not np.array_equal(first[0], other[0])


def test_batch_stream_pads_each_pass():
    def make_pass(seed):
        order = tf.random.experimental.stateless_shuffle(tf.range(10), seed)
        return {"x": order}, order * 10

    dataset, steps = batch_stream(make_pass, batch_size=4, seed=0)
    assert steps == 3
    batches = list(dataset.take(6).as_numpy_iterator())
    weights = np.concatenate([w for _, _, w in batches])
    np.testing.assert_array_equal(weights, [1] * 10 + [0] * 2 + [1] * 10 + [0] * 2)
    first = np.concatenate([x["x"] for x, _, _ in batches[:3]])[:10]
    second = np.concatenate([x["x"] for x, _, _ in batches[3:]])[:10]
    assert sorted(first) == sorted(second) == list(range(10))
    assert not np.array_equal(first, second)  # every pass draws a new order
    np.testing.assert_array_equal(batches[0][1], batches[0][0]["x"] * 10)
