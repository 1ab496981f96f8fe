"""Row gathering over decoder states: nested dicts, lists and tuples of arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from seqkeras.errors import SeqKerasError


def gather_rows(state: Any, rows: np.ndarray, num_rows: int) -> Any:
    """Returns `state` with every array replaced by its rows `rows` (along axis 0).

    Args:
        state: None, an array, or a dict / list / tuple (named tuples included) nesting them.
            Every array has a leading dimension of `num_rows`.
        rows: 1-D integer array of the rows to take, in order (repeats allowed).
        num_rows: the leading dimension every array must have.

    Returns:
        A state of the same structure whose arrays have leading dimension `len(rows)`.
    """
    if state is None:
        return None
    if isinstance(state, dict):
        return {key: gather_rows(value, rows, num_rows) for key, value in state.items()}
    if isinstance(state, list):
        return [gather_rows(value, rows, num_rows) for value in state]
    if isinstance(state, tuple):
        values = [gather_rows(value, rows, num_rows) for value in state]
        return type(state)(*values) if hasattr(state, "_fields") else tuple(values)
    array = np.asarray(state)
    if array.ndim == 0 or array.shape[0] != num_rows:
        raise SeqKerasError(
            f"every array in the decoder state must have a leading dimension of {num_rows} "
            f"(one row per hypothesis), got an array of shape {array.shape}."
        )
    return np.take(array, rows, axis=0)
