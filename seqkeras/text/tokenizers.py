"""Character and word tokenizers: tensorflow-text for tf.data, a pure-Python twin for inference.

Each tokenizer has two implementations that give the same tokens: `tokenize(text)` (pure
Python, used by the TF-free runtime) and `tf_tokenize(texts)` (tensorflow-text, used in
training pipelines). Characters are Unicode code points (an emoji with a skin-tone modifier is
two), lowercasing is the simple Unicode mapping of `tf.strings.lower` / `str.lower`, and word
splitting uses only ASCII whitespace and ASCII punctuation as delimiters, so both regex engines
(RE2 and Python's `re`) read the patterns the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

_WHITESPACE_CHARS = r" \t\n\r\f\v"
_PUNCTUATION_CHARS = r"!-/:-@\[-`{-~"  # the ASCII punctuation characters
_WHITESPACE = f"[{_WHITESPACE_CHARS}]+"
_PUNCTUATION = f"[{_PUNCTUATION_CHARS}]"


class Tokenizer:
    """Base class: `tokenize`, `tf_tokenize`, `detokenize`, and a config for JSON."""

    separator = ""

    def _split(self, text: str) -> list[str]:
        raise NotImplementedError(f"{type(self).__name__} must implement _split().")

    def _tf_split(self, texts: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement _tf_split().")

    def __init__(self, lowercase: bool = False) -> None:
        if not isinstance(lowercase, bool):
            raise SeqKerasError(f"{type(self).__name__}: `lowercase` must be a bool.")
        self.lowercase = lowercase

    def get_config(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "lowercase": self.lowercase}

    def tokenize(self, text: str) -> list[str]:
        """The tokens of one string, as a list of strings."""
        if not isinstance(text, str):
            raise SeqKerasError(f"{type(self).__name__}: expected a string, got {text!r}.")
        return self._split(text.lower() if self.lowercase else text)

    def tf_tokenize(self, texts: Any) -> Any:
        """The tokens of a string tensor: 1-D for a scalar, a `tf.RaggedTensor` for a batch."""
        tf = require("tensorflow", "train", "tf.data pipelines")

        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if self.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        return self._tf_split(texts)

    def detokenize(self, tokens: Iterable[str]) -> str:
        """Joins tokens back into text (lowercasing is not undone)."""
        return self.separator.join(tokens)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "class")
        return f"{type(self).__name__}({arguments})"


class CharTokenizer(Tokenizer):
    """Splits text into Unicode code points (`tensorflow_text.UnicodeCharTokenizer`).

    Args:
        lowercase: lowercase the text first.

    Example:

    >>> CharTokenizer(lowercase=True).tokenize("Zoë")
    ['z', 'o', 'ë']
    """

    def _split(self, text):
        return list(text)

    def _tf_split(self, texts):
        tf = require("tensorflow", "train", "tf.data pipelines")
        tensorflow_text = require("tensorflow_text", "train", "tf.data tokenizers")

        code_points = tensorflow_text.UnicodeCharTokenizer().tokenize(texts)
        return tf.strings.unicode_encode(tf.expand_dims(code_points, -1), "UTF-8")


class WordTokenizer(Tokenizer):
    """Splits text into words at whitespace, punctuation marks kept as tokens of their own.

    The split is `tensorflow_text.regex_split`; a word is a run of characters that are neither
    ASCII whitespace nor ASCII punctuation (so accented letters, digits and emoji stay in words).

    Args:
        lowercase: lowercase the text first (default True).
        split_punctuation: make each ASCII punctuation mark a token (default True); if False,
            split at whitespace only.

    Example:

    >>> WordTokenizer().tokenize("Hello, wörld!")
    ['hello', ',', 'wörld', '!']
    """

    separator = " "

    def __init__(self, lowercase: bool = True, split_punctuation: bool = True) -> None:
        super().__init__(lowercase)
        if not isinstance(split_punctuation, bool):
            raise SeqKerasError("WordTokenizer: `split_punctuation` must be a bool.")
        self.split_punctuation = split_punctuation
        # tensorflow-text splits at delimiters; Python finds the tokens between them: runs of
        # characters that are no delimiter, and each kept punctuation mark.
        if split_punctuation:
            self._delimiters, self._kept = f"{_WHITESPACE}|{_PUNCTUATION}", _PUNCTUATION
            word = f"[^{_WHITESPACE_CHARS}{_PUNCTUATION_CHARS}]+"
            self._token = re.compile(f"{word}|{_PUNCTUATION}")
        else:
            self._delimiters, self._kept = _WHITESPACE, ""
            self._token = re.compile(f"[^{_WHITESPACE_CHARS}]+")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "split_punctuation": self.split_punctuation}

    def _split(self, text):
        return self._token.findall(text)

    def _tf_split(self, texts):
        tensorflow_text = require("tensorflow_text", "train", "tf.data tokenizers")

        if texts.shape.rank == 0:  # regex_split gives scalars a batch dimension of 1
            return tensorflow_text.regex_split(texts[None], self._delimiters, self._kept)[0]
        return tensorflow_text.regex_split(texts, self._delimiters, self._kept)


TOKENIZERS = {cls.__name__: cls for cls in (CharTokenizer, WordTokenizer)}


def get_tokenizer(identifier: Tokenizer | dict[str, Any]) -> Tokenizer:
    """A tokenizer from an instance (returned as is) or a config dict from `get_config()`."""
    if isinstance(identifier, Tokenizer):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class") in TOKENIZERS:
        config = {k: v for k, v in identifier.items() if k != "class"}
        try:
            return TOKENIZERS[identifier["class"]](**config)
        except TypeError as error:
            raise SeqKerasError(f"bad tokenizer config {identifier!r}: {error}") from None
    raise SeqKerasError(
        f"expected a tokenizer, or a config with 'class' in {sorted(TOKENIZERS)}; "
        f"got {identifier!r}."
    )
