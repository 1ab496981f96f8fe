"""Padding id sequences (NumPy) and batching tf.data pipelines by sequence length."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require


def pad_sequences(
    sequences: Iterable[Sequence[int] | np.ndarray],
    length: int | None = None,
    value: int = 0,
    dtype: npt.DTypeLike = "int32",
) -> np.ndarray:
    """Right-pads id sequences into one array.

    Args:
        sequences: iterable of id sequences (lists or 1-D arrays).
        length: the padded length; the longest sequence's if None.
        value: the padding id (`<pad>` = 0).
        dtype: the array's dtype.

    Returns:
        An array of shape (len(sequences), length).

    Raises:
        SeqKerasError: a sequence is longer than `length`.

    Example:

    >>> pad_sequences([[5, 6, 7], [8]])
    array([[5, 6, 7],
           [8, 0, 0]], dtype=int32)
    """
    sequences = [list(sequence) for sequence in sequences]
    longest = max((len(sequence) for sequence in sequences), default=0)
    if length is None:
        length = longest
    elif isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
        raise SeqKerasError(f"pad_sequences: `length` must be an integer >= 0, got {length!r}.")
    if longest > length:
        raise SeqKerasError(
            f"pad_sequences: a sequence has {longest} ids, more than `length` = {length}."
        )
    padded = np.full((len(sequences), length), value, dtype=dtype)
    for row, sequence in zip(padded, sequences):
        row[: len(sequence)] = sequence
    return padded


def bucket_by_length(
    dataset: Any, batch_size: int, boundaries: Sequence[int], drop_remainder: bool = False
) -> Any:
    """Batches variable-length sequences with others of similar length, padded with 0.

    A thin wrapper of `tf.data.Dataset.bucket_by_sequence_length`: an element (a tensor, or a
    tuple of tensors such as `(inputs, targets)`) goes to the bucket of its first tensor's
    length, and each batch is padded only to its longest element, not the dataset's.

    Args:
        dataset: a `tf.data.Dataset` of 1-D tensors or tuples of them.
        batch_size: sequences per batch.
        boundaries: increasing lengths separating the buckets, e.g. `[8, 16, 32]`.
        drop_remainder: drop each bucket's last, smaller batch.

    Returns:
        The batched `tf.data.Dataset`.
    """
    tf = require("tensorflow", "train", "tf.data pipelines")

    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise SeqKerasError(
            f"bucket_by_length: `batch_size` must be an integer, got {batch_size!r}."
        )
    boundaries = [int(b) for b in boundaries]
    if batch_size < 1 or any(b <= a for a, b in zip([0, *boundaries], boundaries)):
        raise SeqKerasError(
            "bucket_by_length: `batch_size` must be >= 1 and `boundaries` increasing positive "
            f"lengths, got {batch_size!r} and {boundaries!r}."
        )
    return dataset.bucket_by_sequence_length(
        lambda *element: tf.shape(tf.nest.flatten(element)[0])[0],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        drop_remainder=drop_remainder,
    )
