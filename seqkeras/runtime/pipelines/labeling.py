"""Labeling text over one graph of label probabilities, in NumPy: tagging and classification.

The same classes serve the Keras tasks (their models wrapped to return NumPy arrays) and the
TF-free runtime (a bundle's graph), so both give the same labels:

    tag:      {"tokens": (n, T) int32, 0-padded} -> (n, T, len(tags)) tag probabilities
    classify: {"tokens": (n, T) int32, 0-padded} -> (n, len(labels)) class probabilities

In tagging, tag 0 is `<pad>`: the padding steps' target, ignored by the loss, never predicted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Sized
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from seqkeras.errors import SeqKerasError
from seqkeras.metrics.entity_f1 import entity_spans
from seqkeras.runtime.bundle import Bundle, register_pipeline
from seqkeras.text.preprocessor import Preprocessor, TextPreprocessor
from seqkeras.text.tokenizers import WordTokenizer
from seqkeras.text.vocabulary import PAD_TOKEN, Vocabulary

# run_model(encoded batch) -> probabilities: a runtime graph's `predict`, or a Keras model's.
RunModel = Callable[[np.ndarray], Any]
Steps = TypeVar("Steps", bound=Sized)


def split_inputs(
    inputs: Iterable[Any],
    split: Callable[[Any], Steps],
    length: int,
    what: str = "text",
    unit: str = "tokens",
) -> list[Steps]:
    """Checks a batch of inputs and splits each into its steps (tokens, bases...).

    Args:
        inputs: a list of inputs (a bare string is an error).
        split: `split(input) -> steps`; it raises `SeqKerasError` on a malformed input.
        length: the most steps an input may have.
        what, unit: the words for an input and a step in error messages.

    Returns:
        The list of each input's steps.

    Raises:
        SeqKerasError: `inputs` is not a non-empty list, or an input has no steps or more
            than `length`.
    """
    if isinstance(inputs, str):
        raise SeqKerasError(f"expected a list of {what}s, got one string; wrap it in a list.")
    inputs = list(inputs)
    if not inputs:
        raise SeqKerasError(f"expected at least one {what}, got an empty list.")
    step_lists = []
    for row, item in enumerate(inputs):
        steps = split(item)
        if not steps:
            raise SeqKerasError(f"input {row} is empty (or only whitespace).")
        if len(steps) > length:
            raise SeqKerasError(
                f"input {row} {item[:40]!r} has {len(steps)} {unit}; the most is {length}."
            )
        step_lists.append(steps)
    return step_lists


class LabelingPreprocessor(Preprocessor):
    """Base class: texts -> (n, T) token ids padded to a fixed T, and a list of label names.

    Args:
        text: a `TextPreprocessor` (or its config) with a `max_length`: the model's fixed
            number of steps T.
        labels: the label names, distinct.

    Attributes:
        length: the model's number of steps T (`text.max_length`).
    """

    def __init__(self, text: TextPreprocessor | dict[str, Any], labels: Iterable[str]) -> None:
        if isinstance(text, dict):
            text = TextPreprocessor.from_config(text)
        if not isinstance(text, TextPreprocessor) or not text.max_length:
            raise SeqKerasError(
                f"{type(self).__name__}: `text` must be a TextPreprocessor with a max_length."
            )
        labels = list(labels)
        if not labels or len(set(labels)) != len(labels):
            raise SeqKerasError(
                f"{type(self).__name__}: the labels must be distinct names, got {labels!r}."
            )
        self.text = text
        self.labels = labels
        self.length: int = text.max_length  # the model's number of steps T

    def tokenize(self, texts: Iterable[str]) -> list[list[str]]:
        """The tokens of each text (a list of token lists).

        Raises:
            SeqKerasError: `texts` is not a non-empty list of strings, a text has no tokens,
                or more than `length`.
        """
        return split_inputs(texts, self.text.tokenize, self.length)

    def encode_tokens(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, T) int32 ids of token lists, `<unk>` for unknown words, 0-padded."""
        lengths = np.array([len(tokens) for tokens in token_lists])
        ids = np.zeros((len(token_lists), self.length), np.int32)
        # The row-major order of the mask's True cells is the order of the tokens.
        ids[np.arange(self.length) < lengths[:, None]] = self.text.vocabulary.encode(
            [token for tokens in token_lists for token in tokens]
        )
        return ids

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """(n, T) int32 ids of texts (see `tokenize` for the errors)."""
        return self.encode_tokens(self.tokenize(texts))


class _Tagged(Protocol):
    @property
    def tags(self) -> list[str]: ...

    @property
    def length(self) -> int: ...


class _Labeled(Protocol):
    @property
    def labels(self) -> list[str]: ...


class TagLabels:
    """Mixin of the tagging preprocessors: tag names <-> ids, over `self.tags` (`<pad>` first)
    and `self.length` (the model's steps T)."""

    def encode_tags(self: _Tagged, tag_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, T) int32 tag ids, 0 (`<pad>`) after each sentence's end.

        Raises:
            SeqKerasError: a tag is not in `tags`.
        """
        tag_ids = {tag: index for index, tag in enumerate(self.tags)}
        ids = np.zeros((len(tag_lists), self.length), np.int32)
        for row, tags in enumerate(tag_lists):
            unknown = sorted(set(tags) - set(tag_ids))
            if unknown:
                raise SeqKerasError(f"sentence {row}: unknown tags {unknown}; known: {self.tags}.")
            ids[row, : len(tags)] = [tag_ids[tag] for tag in tags]
        return ids

    def decode_tags(
        self: _Tagged, probs: npt.ArrayLike, token_lists: Sequence[Sequence[str]]
    ) -> list[list[str]]:
        """Each sentence's tags: the most probable tag per token, `<pad>` excluded."""
        best = np.argmax(np.asarray(probs)[:, :, 1:], axis=-1) + 1
        return [
            [self.tags[index] for index in best[row, : len(tokens)]]
            for row, tokens in enumerate(token_lists)
        ]


class TaggingPreprocessor(TagLabels, LabelingPreprocessor):
    """Texts <-> padded token ids, and tag names <-> tag ids (NumPy only).

    Args:
        text: a `TextPreprocessor` (or its config) with a `max_length`: the model's fixed
            number of steps T.
        tags: the tag names, `"<pad>"` first.

    Example:

    >>> pre = TaggingPreprocessor.fit([["Ann", "left"]], [["B-PER", "O"]], max_length=8)
    >>> pre.encode(["Ann left"]).shape
    (1, 8)
    """

    def __init__(self, text: TextPreprocessor | dict[str, Any], tags: Iterable[str]) -> None:
        super().__init__(text, tags)
        if self.labels[0] != PAD_TOKEN:
            raise SeqKerasError(
                f"TaggingPreprocessor: `tags` must have {PAD_TOKEN!r} first, got {tags!r}."
            )

    @property
    def tags(self) -> list[str]:
        """The tag names, `<pad>` first."""
        return self.labels

    @classmethod
    def fit(
        cls,
        token_lists: Sequence[Sequence[str]],
        tag_lists: Sequence[Sequence[str]],
        max_length: int,
        min_freq: int = 1,
    ) -> TaggingPreprocessor:
        """The vocabulary (words seen `min_freq` times or more) and tag set of training data.

        Args:
            token_lists: the training sentences as token lists (the tokens of
                `WordTokenizer(lowercase=False)`).
            tag_lists: their tags, one per token.
            max_length: the most tokens a sentence may have (the model's steps).
            min_freq: rarer words encode to `<unk>`, so the model learns to tag unseen words.
        """
        vocabulary = Vocabulary.build(token_lists, min_freq=min_freq)
        tags = sorted({tag for tags in tag_lists for tag in tags})
        return cls(
            TextPreprocessor(WordTokenizer(lowercase=False), vocabulary, max_length),
            [PAD_TOKEN, *tags],
        )

    def get_config(self) -> dict[str, Any]:
        return {"text": self.text.get_config(), "tags": list(self.tags)}


class Tagger:
    """Tags texts through a graph of per-token tag probabilities.

    Args:
        run_model: `run_model(ids) -> probs`: (n, T) int32 -> (n, T, len(tags)) arrays.
        preprocessor: a `TaggingPreprocessor`.
    """

    def __init__(self, run_model: RunModel, preprocessor: TaggingPreprocessor) -> None:
        self.run_model = run_model
        self.preprocessor = preprocessor

    def tag(self, texts: Iterable[str]) -> tuple[list[list[str]], list[list[str]]]:
        """`(token_lists, tag_lists)`: each text's tokens and their predicted tags."""
        token_lists = self.preprocessor.tokenize(texts)
        probs = self.run_model(self.preprocessor.encode_tokens(token_lists))
        return token_lists, self.preprocessor.decode_tags(probs, token_lists)

    def predict(self, texts: Iterable[str]) -> list[list[str]]:
        """The tags of each text's tokens: a list of lists of tag strings."""
        return self.tag(texts)[1]

    def entities(self, texts: Iterable[str]) -> list[list[tuple[str, str]]]:
        """Each text's entities as `(type, text)` pairs, e.g. `[("PER", "Teddy Roosevelt")]`."""
        token_lists, tag_lists = self.tag(texts)
        separator = self.preprocessor.text.tokenizer.separator
        return [
            [(kind, separator.join(tokens[start:stop])) for kind, start, stop in entity_spans(tags)]
            for tokens, tags in zip(token_lists, tag_lists)
        ]


@register_pipeline("tag")
class TaggingBundle(Bundle):
    """A tagging bundle: one `"model"` graph; `predict(texts)` gives each token's tag.

    Metadata: `"preprocessor"` (a `TaggingPreprocessor` config).

    Example:

    >>> bundle = seqkeras.runtime.load("ner_bundle", backend="tflite")
    >>> bundle.predict(["He said , Teddy Roosevelt was a great president ."])
    [['O', 'O', 'O', 'B-PER', 'I-PER', 'O', 'O', 'O', 'O', 'O']]
    >>> bundle.entities(["Anna works for Siemens AG in Berlin ."])
    [[('PER', 'Anna'), ('ORG', 'Siemens AG'), ('LOC', 'Berlin')]]
    """

    input_kind = "texts"
    preprocessor_class = TaggingPreprocessor
    preprocessor: TaggingPreprocessor

    def setup(self) -> None:
        self.tagger = Tagger(self["model"].predict, self.preprocessor)

    def answer(self, texts: Sequence[str]) -> list[list[str]]:
        return self.tagger.predict(texts)

    def scored(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Each text's tokens, their tags and each tag's probability."""
        token_lists = self.preprocessor.tokenize(texts)
        probs = np.asarray(self["model"].predict(self.preprocessor.encode_tokens(token_lists)))
        tag_lists = self.preprocessor.decode_tags(probs, token_lists)
        tag_ids = {tag: index for index, tag in enumerate(self.preprocessor.tags)}
        return [
            {
                "tokens": tokens,
                "tags": tags,
                "scores": [float(probs[row, step, tag_ids[tag]]) for step, tag in enumerate(tags)],
            }
            for row, (tokens, tags) in enumerate(zip(token_lists, tag_lists))
        ]

    def entities(self, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        """`Tagger.entities`: each text's `(type, text)` entities."""
        return self.tagger.entities(texts)


class ClassLabels:
    """Mixin of the classification preprocessors: class names <-> ids, over `self.labels`."""

    def encode_labels(self: _Labeled, labels: Iterable[str]) -> np.ndarray:
        """(n,) int32 class ids.

        Raises:
            SeqKerasError: a label is not one of `labels`.
        """
        labels = list(labels)
        unknown = sorted(set(labels) - set(self.labels))
        if unknown:
            raise SeqKerasError(f"unknown labels {unknown}; known: {self.labels}.")
        return np.array([self.labels.index(label) for label in labels], np.int32)

    def decode_labels(self: _Labeled, probs: npt.ArrayLike) -> list[str]:
        """The most probable class name of each row of (n, len(labels)) probabilities."""
        return [self.labels[index] for index in np.argmax(np.asarray(probs), axis=-1)]


class ClassificationPreprocessor(ClassLabels, LabelingPreprocessor):
    """Texts -> padded token ids (lowercased words), and class names <-> class ids.

    Args:
        text: a `TextPreprocessor` (or its config) with a `max_length`.
        labels: the class names, in the order of the model's outputs.

    Example:

    >>> pre = ClassificationPreprocessor.fit(["not good", "great"], ["negative", "positive"], 8)
    >>> pre.encode(["Not great ."]).shape
    (1, 8)
    """

    @classmethod
    def fit(
        cls, texts: Iterable[str], labels: Iterable[str], max_length: int, min_freq: int = 1
    ) -> ClassificationPreprocessor:
        """The vocabulary of `texts` (lowercased words) and the sorted set of `labels`."""
        tokenizer = WordTokenizer(lowercase=True)
        vocabulary = Vocabulary.build(
            (tokenizer.tokenize(text) for text in texts), min_freq=min_freq
        )
        return cls(TextPreprocessor(tokenizer, vocabulary, max_length), sorted(set(labels)))

    def get_config(self) -> dict[str, Any]:
        return {"text": self.text.get_config(), "labels": list(self.labels)}


class Classifier:
    """Classifies inputs (texts, keypoint clips...) through a graph of class probabilities.

    Args:
        run_model: `run_model(encoded) -> probs`: the preprocessor's encoding, e.g. (n, T)
            int32 ids -> (n, len(labels)) arrays.
        preprocessor: a `ClassificationPreprocessor`, or another `ClassLabels` preprocessor
            with an `encode(inputs)` (e.g. `frames.KeypointPreprocessor`).
    """

    def __init__(self, run_model: RunModel, preprocessor: Any) -> None:
        self.run_model = run_model
        self.preprocessor = preprocessor

    def probabilities(self, inputs: Any) -> np.ndarray:
        """(n, len(labels)) class probabilities of the inputs."""
        return np.asarray(self.run_model(self.preprocessor.encode(inputs)))

    def predict(self, inputs: Any) -> list[str]:
        """The most probable class name of each input."""
        return self.preprocessor.decode_labels(self.probabilities(inputs))


@register_pipeline("classify")
class ClassificationBundle(Bundle):
    """A text classification bundle: one `"model"` graph; `predict(texts)` gives class names.

    Metadata: `"preprocessor"` (a `preprocessor_class` config: a `ClassificationPreprocessor`;
    subclasses for other inputs set their own).

    Example:

    >>> bundle = seqkeras.runtime.load("sentiment_bundle")
    >>> bundle.predict(["The food was not good .", "The service was not terrible ."])
    ['negative', 'positive']
    """

    input_kind = "texts"
    preprocessor_class: type[Preprocessor] = ClassificationPreprocessor

    def setup(self) -> None:
        self.classifier = Classifier(self["model"].predict, self.preprocessor)

    def answer(self, inputs: Any) -> list[str]:
        return self.classifier.predict(inputs)

    def scored(self, inputs: Any) -> list[dict[str, Any]]:
        """Each input's class name and the probability of every class."""
        probs = self.probabilities(inputs)
        labels = self.preprocessor.decode_labels(probs)
        return [
            {"label": label, "probabilities": dict(zip(self.preprocessor.labels, map(float, row)))}
            for label, row in zip(labels, probs)
        ]

    def probabilities(self, inputs: Any) -> np.ndarray:
        """`Classifier.probabilities`: (n, len(labels)) class probabilities."""
        return self.classifier.probabilities(inputs)
