import json

import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, runtime
from seqkeras.datasets.sentiment import review_corpus
from seqkeras.embeddings import KeyedVectors, SkipGram
from seqkeras.runtime.pipelines.labeling import ClassificationBundle
from seqkeras.tasks.sentiment import SentimentTask, build_model
from seqkeras.text.tokenizers import WordTokenizer

TEXTS = ["The food was not good .", "The staff was never rude .", "The coffee was excellent ."]


@pytest.fixture(scope="module")
def task():
    task = SentimentTask(smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def average():
    task = SentimentTask({"model": "average"}, smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("sentiment") / "bundle")


def test_the_lstm_handles_negations_the_average_gets_wrong(task, average):
    negations = [example for example in task.data["test"] if example.kind == "negation"]
    plain = [example for example in task.data["test"] if example.kind == "plain"]
    assert len(negations) > 20
    lstm = task.evaluate(negations)["accuracy"]
    baseline = average.evaluate(negations)["accuracy"]
    assert lstm > 0.8 and baseline < 0.5
    # The average is no straw man: it gets reviews without negation right.
    assert average.evaluate(plain)["accuracy"] > 0.8


def test_evaluate_reports_each_kind(task):
    result = task.evaluate()
    kinds = ("plain", "negation", "contrast", "lacking")
    assert set(result) == {"accuracy", *(f"accuracy_{kind}" for kind in kinds)}
    assert result["accuracy"] > 0.8


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_labels_equal_keras(task, bundle_path, backend):
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, ClassificationBundle)
    texts = TEXTS + [example.text for example in task.data["test"][:40]]
    assert bundle.predict(texts) == task.predict(texts)
    np.testing.assert_allclose(
        bundle.probabilities(texts), task.classifier.probabilities(texts), atol=1e-4
    )
    manifest = json.loads((bundle_path / "bundle.json").read_text())
    assert manifest["metadata"]["pipeline"] == "classify"


def test_pretrained_vectors_initialize_the_embedding(task, tmp_path):
    vocabulary = task.preprocessor.text.vocabulary
    words = ["good", "not", "food"]
    vectors = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    KeyedVectors(words, vectors).save_word2vec_format(tmp_path / "vectors.txt")
    config = {**task.config, "embeddings": str(tmp_path / "vectors.txt")}
    model = build_model(config, vocabulary, 2, task.preprocessor.length)
    matrix = model.get_layer("embedding").get_weights()[0]
    assert matrix.shape == (len(vocabulary), 5)
    for word, vector in zip(words, vectors):
        if word in vocabulary:
            np.testing.assert_allclose(matrix[vocabulary.encode([word])[0]], vector, atol=1e-6)


@pytest.fixture(scope="module")
def pretrained_vectors(tmp_path_factory):
    """Skip-gram vectors of unlabeled reviews that use every sentiment word (smoke's 15 each)."""
    tokenizer = WordTokenizer(lowercase=True)
    corpus = review_corpus(3000, seed=5, max_words=SentimentTask.smoke_config["max_words"])
    skip_gram = SkipGram(
        vector_size=16, window=5, min_count=1, batch_size=1024, updates_per_step=32, seed=1
    )
    skip_gram.fit([tokenizer.tokenize(review) for review in corpus], epochs=5, verbose=0)
    path = tmp_path_factory.mktemp("vectors") / "reviews.vec"
    skip_gram.wv.save_word2vec_format(path)
    return path


def test_frozen_pretrained_vectors_transfer_to_words_never_seen_labeled(pretrained_vectors):
    config = {"model": "average", "unseen_word_share": 0.5, "epochs": 4}
    learned = SentimentTask(config, smoke=True)
    frozen = SentimentTask(
        {**config, "embeddings": str(pretrained_vectors), "train_embeddings": False}, smoke=True
    )
    unseen = [example for example in learned.data["unseen"] if example.kind == "plain"]
    assert len(unseen) > 50 and frozen.data["unseen"] == learned.data["unseen"]
    labeled_words = {w for e in learned.data["train"] for w in e.text.lower().split()}
    assert all(set(e.text.lower().split()) - labeled_words for e in unseen)
    for task in (learned, frozen):
        task.fit(verbose=0)
        assert task.evaluate(task.data["test"])["accuracy_plain"] > 0.9
    # Without transfer an unseen word is <unk>: a coin toss; with it, its vector tells.
    assert learned.evaluate(unseen)["accuracy"] < 0.7
    assert frozen.evaluate(unseen)["accuracy"] > 0.9
    assert set(frozen.preprocessor.text.vocabulary.tokens) >= {
        w for e in unseen for w in e.text.lower().split()
    }


def test_unknown_model_kind_and_bad_inputs(task):
    with pytest.raises(SeqKerasError, match="'model' must be one of"):
        build_model({**task.config, "model": "cnn"}, task.preprocessor.text.vocabulary, 2, 30)
    with pytest.raises(SeqKerasError, match="list of texts"):
        task.predict("The food was good .")
    with pytest.raises(SeqKerasError, match="empty"):
        task.predict([" "])


def test_cli_predict_classifies_texts(task, bundle_path, capsys):
    assert cli.main(["predict", str(bundle_path), *TEXTS]) == 0
    assert json.loads(capsys.readouterr().out) == {"outputs": task.predict(TEXTS)}
