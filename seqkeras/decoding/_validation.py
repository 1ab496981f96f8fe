"""Argument checks shared by the decoders; each raises `SeqKerasError` naming the argument."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import numpy.typing as npt

from seqkeras.decoding._types import Seed
from seqkeras.errors import SeqKerasError

# Probabilities summing to within this relative distance of 1 are renormalized; float32
# softmax outputs over large vocabularies sum to 1 only up to rounding.
PROBABILITY_SUM_TOLERANCE = 1e-3


def check_int(value: Any, name: str, minimum: int) -> int:
    """Returns `value` as an `int` if it is an integer >= `minimum` (bools are not integers)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise SeqKerasError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_number(value: Any, name: str, minimum: float = 0.0) -> float:
    """Returns `value` as a `float` if it is a finite real number >= `minimum`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < minimum
    ):
        raise SeqKerasError(f"{name} must be a finite number >= {minimum}, got {value!r}.")
    return float(value)


def as_generator(rng: Seed) -> np.random.Generator:
    """Returns a `np.random.Generator` for `rng`: a Generator, an integer seed, or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise SeqKerasError(
        f"rng must be a numpy.random.Generator, an integer seed or None, got {rng!r}."
    )


def check_probabilities(probs: npt.ArrayLike) -> np.ndarray:
    """Returns `probs` as a float64 1-D distribution, renormalized if it sums to about 1.

    Raises:
        SeqKerasError: if `probs` is not 1-D, is empty, holds NaN, infinite or negative
            values, or does not sum to 1 within `PROBABILITY_SUM_TOLERANCE`.
    """
    probs = _as_float_array(probs, "probs")
    if probs.ndim != 1 or probs.size == 0:
        raise SeqKerasError(
            f"probs must be a non-empty 1-D array of probabilities, got shape {probs.shape}."
        )
    if not np.all(np.isfinite(probs)):
        raise SeqKerasError("probs must not contain NaN or infinite values.")
    if probs.min() < 0:
        index = int(np.argmin(probs))
        raise SeqKerasError(
            f"probs must be non-negative, got {probs[index]} at index {index}; "
            "pass softmax outputs, not logits."
        )
    total = probs.sum()
    if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise SeqKerasError(
            f"probs must sum to 1 (within {PROBABILITY_SUM_TOLERANCE}), got {total:.6g}; "
            "pass softmax outputs, not logits or unnormalized scores."
        )
    return probs / total


def check_log_probs(log_probs: npt.ArrayLike, name: str, num_rows: int | None = None) -> np.ndarray:
    """Returns a 2-D array of log-probabilities (or logits), log-softmax normalized per row.

    log_softmax(z)_v = z_v - log Σ_u exp(z_u), so normalized log-probabilities pass unchanged.
    -inf entries (tokens that cannot occur) are allowed; NaN and +inf are not, and every row
    needs at least one finite entry.

    Raises:
        SeqKerasError: naming `name` when the array has the wrong shape or bad values.
    """
    log_probs = _as_float_array(log_probs, name)
    if log_probs.ndim != 2 or log_probs.shape[1] == 0:
        raise SeqKerasError(
            f"{name} must be a 2-D array of shape (rows, vocab_size), got shape {log_probs.shape}."
        )
    if num_rows is not None and log_probs.shape[0] != num_rows:
        raise SeqKerasError(
            f"{name} must have {num_rows} rows (one per input token), got shape {log_probs.shape}."
        )
    row_max = log_probs.max(axis=1, keepdims=True)
    if not np.isfinite(row_max).all():  # a row's max is NaN, +inf or -inf only when it has one
        if np.isnan(log_probs).any() or np.isposinf(log_probs).any():
            raise SeqKerasError(f"{name} must not contain NaN or +inf values.")
        row = int(np.flatnonzero(np.isneginf(row_max))[0])
        raise SeqKerasError(f"{name} row {row} is all -inf: no token has non-zero probability.")
    return log_softmax(log_probs, row_max)


def log_softmax(logits: npt.ArrayLike, row_max: np.ndarray | None = None) -> np.ndarray:
    """Row-wise log-softmax in float64: z_v - log Σ_u exp(z_u), computed after subtracting
    each row's max (`row_max`, when the caller has it)."""
    logits = np.asarray(logits, dtype=np.float64)
    if row_max is None:
        row_max = logits.max(axis=-1, keepdims=True)
    shifted = logits - row_max
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _as_float_array(values: npt.ArrayLike, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise SeqKerasError(f"{name} must be an array of numbers: {error}") from error
