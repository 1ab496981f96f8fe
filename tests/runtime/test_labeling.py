"""The labeling pipelines' NumPy half: tagging and classification preprocessors (no TensorFlow)."""

import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.runtime.pipelines.labeling import (
    ClassificationPreprocessor,
    Classifier,
    Tagger,
    TaggingPreprocessor,
)

TOKENS = [["Ann", "met", "Bob", "Smith", "."], ["Bob", "left", "."]]
TAGS = [["B-PER", "O", "B-PER", "I-PER", "O"], ["B-PER", "O", "O"]]


@pytest.fixture
def preprocessor():
    return TaggingPreprocessor.fit(TOKENS, TAGS, max_length=6, min_freq=2)


def test_fit_keeps_frequent_words_and_puts_pad_first(preprocessor):
    assert preprocessor.tags == ["<pad>", "B-PER", "I-PER", "O"]
    vocabulary = preprocessor.text.vocabulary
    assert "Bob" in vocabulary and "Ann" not in vocabulary
    ids = preprocessor.encode(["Ann met Bob ."])
    assert ids.shape == (1, 6) and ids.dtype == np.int32
    assert ids[0, 0] == vocabulary.unk_id and list(ids[0, 4:]) == [0, 0]


def test_json_round_trip(preprocessor):
    assert TaggingPreprocessor.from_json(preprocessor.to_json()) == preprocessor


def test_tags_encode_with_padding_and_decode_without_pad(preprocessor):
    ids = preprocessor.encode_tags(TAGS)
    assert list(ids[1]) == [1, 3, 3, 0, 0, 0]
    probs = np.zeros((2, 6, 4))
    probs[:, :, 0] = 1.0  # <pad> most probable everywhere: never predicted
    probs[:, :, 3] = 0.5
    assert preprocessor.decode_tags(probs, TOKENS) == [["O"] * 5, ["O"] * 3]


def test_tagger_entities(preprocessor):
    def run_model(ids):
        probs = np.zeros((*ids.shape, 4))
        probs[..., 3] = 1.0
        probs[:, 2, :] = [0, 1, 0, 0]
        probs[:, 3, :] = [0, 0, 1, 0]
        return probs

    tagger = Tagger(run_model, preprocessor)
    assert tagger.predict(["Ann met Bob Smith ."]) == [["O", "O", "B-PER", "I-PER", "O"]]
    assert tagger.entities(["Ann met Bob Smith ."]) == [[("PER", "Bob Smith")]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: p.encode(["a b c d e f g"]), "7 tokens; the most is 6"),
        (lambda p: p.encode(["  "]), "empty"),
        (lambda p: p.encode("Ann"), "list of texts"),
        (lambda p: p.encode_tags([["B-XYZ"]]), "unknown tags"),
        (lambda p: TaggingPreprocessor(p.text, ["O", "<pad>"]), "<pad>"),
    ],
)
def test_errors(preprocessor, call, message):
    with pytest.raises(SeqKerasError, match=message):
        call(preprocessor)


def test_classification_preprocessor_lowercases_and_decodes_the_argmax():
    preprocessor = ClassificationPreprocessor.fit(
        ["Not good .", "Great food"], ["negative", "positive"], max_length=5
    )
    assert preprocessor.labels == ["negative", "positive"]
    assert ClassificationPreprocessor.from_json(preprocessor.to_json()) == preprocessor
    ids = preprocessor.encode(["NOT great"])
    assert list(ids[0, :2]) == preprocessor.text.vocabulary.encode(["not", "great"])
    assert list(preprocessor.encode_labels(["positive", "negative"])) == [1, 0]
    classifier = Classifier(lambda ids: np.tile([[0.2, 0.8]], (len(ids), 1)), preprocessor)
    assert classifier.predict(["good", "not good"]) == ["positive", "positive"]
    with pytest.raises(SeqKerasError, match="unknown labels"):
        preprocessor.encode_labels(["neutral"])
    with pytest.raises(SeqKerasError, match="distinct"):
        ClassificationPreprocessor(preprocessor.text, ["a", "a"])
