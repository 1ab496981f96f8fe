"""A token <-> id vocabulary with reserved special tokens, saved as JSON (pure Python)."""

from __future__ import annotations

import collections
import json
import numbers
import os
from collections.abc import Iterable

from seqkeras.errors import VocabularyError
from seqkeras.files import atomic_write_text

PAD_TOKEN, UNK_TOKEN, SOS_TOKEN, EOS_TOKEN = "<pad>", "<unk>", "<sos>", "<eos>"
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, SOS_TOKEN, EOS_TOKEN)
JSON_FORMAT = "seqkeras.Vocabulary"
JSON_VERSION = 1


class Vocabulary:
    """Maps tokens to integer ids and back, with reserved special tokens.

    Ids 0-3 are `<pad>` (0, so zero-padding means padding), `<unk>` (what unknown tokens
    encode to), `<sos>` and `<eos>`; the ordinary tokens follow from id 4 in the order given.
    `Vocabulary.build` counts a corpus and orders tokens by decreasing frequency, ties in
    lexicographic order, so the same corpus always gives the same ids.

    Args:
        tokens: the ordinary tokens in id order (strings, unique, none of them special).

    Example:

    >>> vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]])
    >>> vocab.tokens
    ('<pad>', '<unk>', '<sos>', '<eos>', 'the', 'cat', 'dog')
    >>> vocab.encode(["the", "cow"], add_eos=True)
    [4, 1, 3]
    >>> vocab.decode([2, 4, 6, 3, 0], strip_special=True)
    ['the', 'dog']
    """

    pad_id, unk_id, sos_id, eos_id = range(len(SPECIAL_TOKENS))

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        tokens = list(tokens)
        self._ids = {token: token_id for token_id, token in enumerate(SPECIAL_TOKENS)}
        for index, token in enumerate(tokens):
            if not isinstance(token, str):
                raise VocabularyError(
                    f"tokens[{index}] must be a string, got {type(token).__name__}."
                )
            if token in self._ids:
                kind = "a reserved special token" if token in SPECIAL_TOKENS else "a duplicate"
                raise VocabularyError(f"tokens[{index}] = {token!r} is {kind}.")
            self._ids[token] = len(self._ids)
        self._tokens = (*SPECIAL_TOKENS, *tokens)

    @classmethod
    def build(
        cls, sequences: Iterable[Iterable[str]], max_size: int | None = None, min_freq: int = 1
    ) -> Vocabulary:
        """Builds a vocabulary from a corpus, most frequent tokens first.

        Args:
            sequences: iterable of token sequences, e.g. lists of words; a string is a
                sequence of characters, so a list of strings gives a character vocabulary.
                Special tokens in the corpus are not counted.
            max_size: optional total size, the 4 special tokens included: the `max_size - 4`
                most frequent tokens are kept.
            min_freq: tokens seen fewer times are left out (they will encode to `<unk>`).

        Returns:
            A `Vocabulary`.

        Example:

        >>> Vocabulary.build(["abba", "cab"], max_size=6).tokens[4:]
        ('a', 'b')
        """
        if max_size is not None and (
            isinstance(max_size, bool)
            or not isinstance(max_size, numbers.Integral)
            or max_size < len(SPECIAL_TOKENS)
        ):
            raise VocabularyError(
                f"max_size must be None or an integer >= {len(SPECIAL_TOKENS)} (the special "
                f"tokens count), got {max_size!r}."
            )
        if isinstance(min_freq, bool) or not isinstance(min_freq, numbers.Integral) or min_freq < 1:
            raise VocabularyError(f"min_freq must be an integer >= 1, got {min_freq!r}.")
        counts = collections.Counter()
        for index, sequence in enumerate(sequences):
            tokens = list(sequence)
            for token in tokens:
                if not isinstance(token, str):
                    raise VocabularyError(
                        f"sequences[{index}] holds {token!r}; tokens must be strings."
                    )
            counts.update(tokens)
        ranked = sorted(
            (
                token
                for token, count in counts.items()
                if count >= min_freq and token not in SPECIAL_TOKENS
            ),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIAL_TOKENS)]
        return cls(ranked)

    @property
    def tokens(self) -> tuple[str, ...]:
        """All tokens in id order, special tokens first."""
        return self._tokens

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __hash__(self) -> int:
        return hash(self._tokens)

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)})"

    def token_to_id(self, token: str) -> int:
        """Returns the id of `token`, or `unk_id` for an unknown token."""
        if not isinstance(token, str):
            raise VocabularyError(f"tokens must be strings, got {token!r}.")
        return self._ids.get(token, self.unk_id)

    def id_to_token(self, token_id: int) -> str:
        """Returns the token with id `token_id`; raises `VocabularyError` if out of range."""
        if (
            isinstance(token_id, bool)
            or not isinstance(token_id, numbers.Integral)
            or not 0 <= token_id < len(self._tokens)
        ):
            raise VocabularyError(
                f"token id {token_id!r} is not an integer in [0, {len(self._tokens)})."
            )
        return self._tokens[token_id]

    def encode(
        self, tokens: Iterable[str], add_sos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Maps tokens to ids, unknown tokens to `unk_id`.

        Args:
            tokens: iterable of token strings (a string is a sequence of characters).
            add_sos: whether to prepend `sos_id`.
            add_eos: whether to append `eos_id`.

        Returns:
            A list of `int` ids.
        """
        get, unk_id = self._ids.get, self.unk_id
        ids = [
            get(token, unk_id) if type(token) is str else self.token_to_id(token)
            for token in tokens
        ]
        if add_sos:
            ids.insert(0, self.sos_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int], strip_special: bool = False) -> list[str]:
        """Maps ids back to tokens.

        Args:
            ids: iterable of integer ids (a list, or a 1-D NumPy array).
            strip_special: whether to drop `<pad>`, `<sos>` and `<eos>` (`<unk>` is kept: it
                stands for a real token).

        Returns:
            A list of token strings.
        """
        tokens = [self.id_to_token(token_id) for token_id in ids]
        if strip_special:
            stripped = {PAD_TOKEN, SOS_TOKEN, EOS_TOKEN}
            tokens = [token for token in tokens if token not in stripped]
        return tokens

    def to_json(self) -> str:
        """Returns the vocabulary as a JSON string (all tokens in id order)."""
        return json.dumps(
            {"format": JSON_FORMAT, "version": JSON_VERSION, "tokens": list(self._tokens)},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str, source: str = "JSON") -> Vocabulary:
        """Builds a vocabulary from `to_json()`'s output.

        Args:
            text: the JSON string.
            source: what the text came from, named in error messages (e.g. a file path).

        Returns:
            A `Vocabulary`.

        Raises:
            VocabularyError: if the text is not a vocabulary written by `to_json()`.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise VocabularyError(f"{source} is not valid JSON: {error}") from error
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            raise VocabularyError(f"{source} is not a {JSON_FORMAT} (no matching 'format' key).")
        if data.get("version") != JSON_VERSION:
            raise VocabularyError(
                f"{source} has version {data.get('version')!r}; this seqkeras reads version "
                f"{JSON_VERSION}."
            )
        tokens = data.get("tokens")
        if not isinstance(tokens, list) or tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise VocabularyError(
                f"{source}: 'tokens' must be a list starting with the special tokens "
                f"{list(SPECIAL_TOKENS)}."
            )
        try:
            return cls(tokens[len(SPECIAL_TOKENS) :])
        except VocabularyError as error:
            raise VocabularyError(f"{source}: {error}") from error

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the vocabulary to a JSON file, atomically.

        The JSON goes to a temporary file in the same folder, which then replaces `path`, so
        readers never see a half-written file and a failed save leaves the old file intact.

        Args:
            path: the file path (str or path-like).
        """
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Reads a vocabulary written by `save()`.

        Args:
            path: the file path (str or path-like).

        Returns:
            A `Vocabulary`.

        Raises:
            FileNotFoundError: if there is no such file.
            VocabularyError: if the file does not hold a vocabulary.
        """
        path = os.fspath(path)
        with open(path, encoding="utf-8") as file:
            try:
                text = file.read()
            except UnicodeDecodeError as error:
                raise VocabularyError(f"{path} is not UTF-8 text: {error}") from error
        return cls.from_json(text, source=path)
