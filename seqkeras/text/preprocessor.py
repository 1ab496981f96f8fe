"""Preprocessors: the fitted text <-> ids state of a task, saved as JSON (pure Python).

A task's Preprocessor is fitted on training data, saved beside the model (`preprocessor.json`)
and stored in an exported bundle's metadata, where the TF-free runtime rebuilds it with
`from_config`. `TextPreprocessor` (a tokenizer + a `Vocabulary`) covers character- and
word-level text; a task with several texts (source and target) composes several.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Self

from seqkeras.errors import SeqKerasError, VocabularyError
from seqkeras.optional import require
from seqkeras.text.tokenizers import Tokenizer, get_tokenizer
from seqkeras.text.vocabulary import SPECIAL_TOKENS, Vocabulary

JSON_FORMAT = "seqkeras.Preprocessor"


class Preprocessor:
    """Base class: subclasses implement `get_config()` and take its keys as `__init__` arguments."""

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-serializable dict that `from_config` turns back into this object."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_config().")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        return cls(**config)

    def to_json(self) -> str:
        """The preprocessor as a JSON string (its class name and config)."""
        return json.dumps(
            {"format": JSON_FORMAT, "class": type(self).__name__, "config": self.get_config()},
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, source: str = "JSON") -> Self:
        """Rebuilds a preprocessor from `to_json()`'s output.

        Args:
            text: the JSON string.
            source: what the text came from, named in error messages (e.g. a file path).

        Raises:
            SeqKerasError: the text is not a `cls` preprocessor.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SeqKerasError(f"{source} is not valid JSON: {error}") from None
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            raise SeqKerasError(f"{source} is not a {JSON_FORMAT} (no matching 'format' key).")
        if data.get("class") != cls.__name__:
            raise SeqKerasError(f"{source} holds a {data.get('class')!r}, not a {cls.__name__}.")
        try:
            return cls.from_config(data["config"])
        except (KeyError, TypeError) as error:
            raise SeqKerasError(f"{source}: malformed {cls.__name__} config ({error}).") from None

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = None  # type: ignore[assignment]


class TextPreprocessor(Preprocessor):
    """Text <-> token ids: a tokenizer, a `Vocabulary` and a maximum length.

    Encoding is pure Python and matches the tensorflow-text pipeline of `tf_encode` token for
    token, so the runtime encodes exactly as training did. Unknown tokens encode to `<unk>`.

    Args:
        tokenizer: a tokenizer from `seqkeras.text` or its config dict.
        vocabulary: a `Vocabulary`, or its token list (special tokens first).
        max_length: the most tokens a text may have (`<sos>`/`<eos>` not counted), or None.

    Example:

    >>> pre = TextPreprocessor.fit(["anna", "bob"], CharTokenizer())
    >>> pre.encode("ab", add_eos=True)
    [4, 5, 3]
    >>> pre.decode([4, 5, 3])
    'ab'
    """

    def __init__(
        self,
        tokenizer: Tokenizer | dict[str, Any],
        vocabulary: Vocabulary | list[str],
        max_length: int | None = None,
    ) -> None:
        self.tokenizer = get_tokenizer(tokenizer)
        if not isinstance(vocabulary, Vocabulary):
            tokens = list(vocabulary)
            if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
                raise VocabularyError(
                    f"vocabulary: a token list must start with {list(SPECIAL_TOKENS)}."
                )
            vocabulary = Vocabulary(tokens[len(SPECIAL_TOKENS) :])
        self.vocabulary = vocabulary
        self.max_length = max_length

    @classmethod
    def fit(
        cls,
        texts: Iterable[str],
        tokenizer: Tokenizer | dict[str, Any],
        max_size: int | None = None,
        min_freq: int = 1,
        max_length: int | None = None,
    ) -> TextPreprocessor:
        """Builds the vocabulary of `texts` as tokenized by `tokenizer` (see `Vocabulary.build`)."""
        tokenizer = get_tokenizer(tokenizer)
        vocabulary = Vocabulary.build(
            (tokenizer.tokenize(text) for text in texts), max_size=max_size, min_freq=min_freq
        )
        return cls(tokenizer, vocabulary, max_length)

    def get_config(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer.get_config(),
            "vocabulary": list(self.vocabulary.tokens),
            "max_length": self.max_length,
        }

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text` (a string)."""
        if not isinstance(text, str):
            raise SeqKerasError(f"expected a text string, got {type(text).__name__}.")
        return self.tokenizer.tokenize(text)

    def encode(self, text: str, add_sos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids of `text`, unknown tokens as `<unk>`.

        Raises:
            SeqKerasError: `text` is not a string or has more than `max_length` tokens.
        """
        tokens = self.tokenize(text)
        if self.max_length is not None and len(tokens) > self.max_length:
            raise SeqKerasError(
                f"text {text[:40]!r} has {len(tokens)} tokens; the most is {self.max_length}."
            )
        return self.vocabulary.encode(tokens, add_sos=add_sos, add_eos=add_eos)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of token ids: special tokens dropped, tokens joined by the tokenizer."""
        return self.tokenizer.detokenize(self.vocabulary.decode(ids, strip_special=True))

    def tf_encode(self, texts: Any) -> Any:
        """TensorFlow twin of `encode` for tf.data pipelines: tensorflow-text + a lookup table.

        Args:
            texts: a string tensor, scalar or 1-D.

        Returns:
            int32 ids: a 1-D tensor for a scalar, a `tf.RaggedTensor` (batch, None) for 1-D.
        """
        tf = require("tensorflow", "train", "tf.data pipelines")

        tokens = self.tokenizer.tf_tokenize(texts)
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(self.vocabulary.tokens),
                tf.range(len(self.vocabulary), dtype=tf.int32),
            ),
            default_value=self.vocabulary.unk_id,
        )
        if isinstance(tokens, tf.RaggedTensor):
            return tf.ragged.map_flat_values(table.lookup, tokens)
        return table.lookup(tokens)
