"""The trainers learn planted structure; the losses match NumPy; models save and load."""

import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.embeddings import (
    GloVe,
    GloVeLoss,
    NeuralLanguageModel,
    SkipGram,
    SkipGramLoss,
    build_corpus,
    cooccurrence_counts,
    glove_weight,
    huffman_tree,
)

# Two topics that share no word: words of one kind share contexts but never co-occur with
# each other ("cat" and "dog" are each only seen near "milk", "purrs", ...).
TOPICS = {
    "animal": (["cat", "dog", "kitten"], ["milk", "purrs", "fur", "paws", "vet"]),
    "vehicle": (["car", "truck", "van"], ["fuel", "road", "wheels", "engine", "garage"]),
}


def planted_corpus(sentences=600, seed=0):
    rng = np.random.default_rng(seed)
    corpus = []
    for _ in range(sentences):
        subjects, contexts = TOPICS["animal" if rng.random() < 0.5 else "vehicle"]
        words = [rng.choice(subjects), *rng.choice(contexts, 4)]
        corpus.append([str(w) for w in rng.permutation(words)])
    return corpus


def assert_topics_separate(kv):
    same = [kv.similarity("cat", "dog"), kv.similarity("car", "truck"), kv.similarity("van", "car")]
    across = [
        kv.similarity("cat", "car"),
        kv.similarity("dog", "truck"),
        kv.similarity("van", "cat"),
    ]
    assert min(same) > max(across), (same, across)


@pytest.fixture(scope="module")
def corpus():
    return planted_corpus()


def planted_skipgram(objective="negative_sampling"):
    """The SkipGram settings the tests below train on `planted_corpus`."""
    return SkipGram(
        vector_size=16,
        window=3,
        min_count=1,
        sample=0,
        objective=objective,
        batch_size=256,
        updates_per_step=32,
    )


@pytest.fixture(scope="module")
def negative_sampling(corpus):
    model = planted_skipgram()
    history = model.fit(corpus, epochs=4, verbose=0)
    return model, history


@pytest.fixture(scope="module")
def hierarchical(corpus):
    model = planted_skipgram(objective="hierarchical_softmax")
    model.fit(corpus, epochs=4, verbose=0)
    return model


def test_negative_sampling_learns_shared_contexts(negative_sampling):
    model, history = negative_sampling
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert_topics_separate(model.wv)
    assert model.model.get_layer("E").get_weights()[0].shape == (16, 16)


def test_hierarchical_softmax_learns_shared_contexts(hierarchical):
    assert_topics_separate(hierarchical.wv)


def test_hierarchical_softmax_is_a_distribution(hierarchical):
    """p(w | c) = Π σ(±θ_nᵀ e_c) along w's Huffman path sums to 1 over the vocabulary."""
    tree = huffman_tree(build_corpus(planted_corpus(), min_count=1).counts)
    vocab_size = len(tree.lengths)
    for context in (0, 7):
        logits = hierarchical.model.predict(
            {"context": np.full(vocab_size, context), "targets": tree.points}, verbose=0
        )
        signs = np.where(tree.codes == 0, 1.0, -1.0)
        p = np.prod(np.where(tree.codes >= 0, 1 / (1 + np.exp(-signs * logits)), 1.0), axis=1)
        assert p.sum() == pytest.approx(1.0, abs=1e-5)
        assert p.min() > 0


def test_softmax_skipgram_learns(corpus):
    model = planted_skipgram(objective="softmax")
    history = model.fit(corpus, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert_topics_separate(model.wv)
    assert model.model.get_layer("theta").kernel.shape == (16, 16)


def test_neural_language_model_learns(corpus):
    model = NeuralLanguageModel(
        vector_size=8, context_size=2, hidden_units=16, min_count=1, learning_rate=0.01
    )
    history = model.fit(corpus, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] - 0.1
    assert model.model.get_layer("E").output.shape == (None, 2, 8)
    assert len(model.wv) == 16


def test_glove_learns_shared_contexts(corpus):
    model = GloVe(vector_size=16, window=3, min_count=1, x_max=10, batch_size=128)
    history = model.fit(corpus, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert_topics_separate(model.wv)
    e, theta = (model.model.get_layer(n).get_weights()[0] for n in ("E", "theta"))
    np.testing.assert_allclose(model.wv.vectors, e + theta)


def test_training_is_reproducible(corpus, negative_sampling):
    model, _ = negative_sampling
    again = planted_skipgram()
    again.fit(corpus, epochs=4, verbose=0)
    np.testing.assert_allclose(again.wv.vectors, model.wv.vectors, atol=1e-5)


def test_model_round_trip(negative_sampling, tmp_path):
    model = negative_sampling[0].model
    model.save(tmp_path / "skipgram.keras")
    loaded = keras.saving.load_model(tmp_path / "skipgram.keras")
    inputs = {"context": np.array([0, 3, 5]), "targets": np.array([[1, 2], [3, 4], [5, 6]])}
    np.testing.assert_array_equal(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    )
    assert isinstance(loaded.loss, SkipGramLoss)


def test_skipgram_loss_against_numpy():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 6)) * 3
    y = rng.choice([1.0, 0.0, -1.0], size=(5, 6))
    sigmoid = 1 / (1 + np.exp(-z))
    terms = -(y * np.log(sigmoid) + (1 - y) * np.log(1 - sigmoid))
    want = np.where(y >= 0, terms, 0).sum(axis=1)
    got = SkipGramLoss(reduction=None)(y, z)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-5)
    # negative sampling: −log σ(θ_tᵀe_c) − Σ log σ(−θ_nᵀe_c)
    row = np.array([[1.0, 0.0, 0.0]])
    scores = np.array([[2.0, -1.0, 0.5]])
    expected = np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0)) + np.log1p(np.exp(0.5))
    assert float(SkipGramLoss()(row, scores)) == pytest.approx(expected, rel=1e-5)


def test_glove_weight_against_numpy():
    x = np.array([0.0, 1.0, 10.0, 99.0, 100.0, 1e4])
    want = np.where(x < 100, (x / 100) ** 0.75, 1.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(glove_weight(x)), want, rtol=1e-6)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(glove_weight(x, x_max=10, alpha=0.5)),
        np.minimum(1.0, np.sqrt(x / 10)),
        rtol=1e-6,
    )


def test_glove_loss_against_numpy():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 300, size=8)
    prediction = rng.normal(size=(8, 1))
    weight = np.minimum(1.0, (x / 50) ** 0.6)
    want = weight * (prediction[:, 0] - np.log(x)) ** 2
    loss = GloVeLoss(x_max=50, alpha=0.6, reduction="sum")
    assert float(loss(x, prediction)) == pytest.approx(want.sum(), rel=1e-5)
    restored = GloVeLoss.from_config(loss.get_config())
    assert (restored.x_max, restored.alpha, restored.reduction) == (50.0, 0.6, "sum")
    with pytest.raises(SeqKerasError, match="x_max"):
        GloVeLoss(x_max=0)


def test_cooccurrence_against_a_loop():
    ids = np.array([0, 1, 2, 1, 0, 2, 2, 1], np.int32)
    sentence_ids = np.array([0, 0, 0, 0, 1, 1, 1, 1], np.int32)
    want = np.zeros((3, 3))
    for i in range(len(ids)):
        for j in range(len(ids)):
            d = abs(i - j)
            if 0 < d <= 2 and sentence_ids[i] == sentence_ids[j]:
                want[ids[i], ids[j]] += 1 / d
    got = cooccurrence_counts(ids, sentence_ids, 3, window=2).toarray()
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(got, got.T)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SkipGram(objective="cbow"), "objective"),
        (lambda: SkipGram(window=0), "window"),
        (lambda: SkipGram(sample=-1), "sample"),
        (lambda: SkipGram(vector_size=2.5), "vector_size"),
        (lambda: NeuralLanguageModel(context_size=0), "context_size"),
        (lambda: GloVe(alpha=-1), "alpha"),
        (lambda: GloVe(learning_rate=0), "learning_rate"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(SeqKerasError, match=message):
        make()


def test_bad_corpora():
    with pytest.raises(SeqKerasError, match="empty"):
        SkipGram().fit([])
    with pytest.raises(SeqKerasError, match="NeuralLanguageModel: the corpus gives no training"):
        NeuralLanguageModel(min_count=1).fit([["a", "b", "c", "d"]])
    with pytest.raises(SeqKerasError, match="GloVe: the corpus gives no training"):
        GloVe(min_count=1).fit([["a"], ["b"]])
    with pytest.raises(SeqKerasError, match="SkipGram: the corpus gives no training"):
        SkipGram(min_count=1).fit([["a"], ["b"]])
    with pytest.raises(SeqKerasError, match="epochs"):
        SkipGram(min_count=1).fit([["a", "b"]], epochs=0)
