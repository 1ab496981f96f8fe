"""Decoding several models jointly: one step function whose next-token distribution is the
mixture of theirs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from seqkeras.decoding._types import State, StepFn
from seqkeras.decoding._validation import check_log_probs
from seqkeras.errors import SeqKerasError


def ensemble(step_fns: Sequence[StepFn], weights: npt.ArrayLike | None = None) -> StepFn:
    """Joins models that share a target vocabulary into one step function for any search.

    At every step each model sees the same tokens and advances its own state; the joint
    distribution is the weighted mean of the models' probabilities,

        log p(y | ·) = log Σ_m w_m p_m(y | ·)        (Σ_m w_m = 1; equal weights by default)

    so the search ranks hypotheses by what the models agree on (an ensemble "decoded jointly in
    the beam", rather than each model searching alone and voting afterwards).

    Args:
        step_fns: the models' `step_fn(tokens, state) -> (log_probs, new_state)` (as for
            `beam_search`), all over the same vocabulary; `log_probs` may be logits.
        weights: one non-negative weight per model (normalized to sum 1), or None.

    Returns:
        A `step_fn` whose state is a list holding each model's state, in order: start a search
        with `[state_1, state_2, ...]`.

    Raises:
        SeqKerasError: no step functions, bad weights, or (at a step) models whose
            distributions have different shapes.

    Example:

    >>> import numpy as np
    >>> a = lambda tokens, state: (np.log([[0.9, 0.1]]), state)
    >>> b = lambda tokens, state: (np.log([[0.3, 0.7]]), state)
    >>> log_probs, _ = ensemble([a, b])(np.array([0]), [None, None])
    >>> np.exp(log_probs).round(2).tolist()
    [[0.6, 0.4]]
    """
    step_fns = list(step_fns)
    if not step_fns or not all(callable(step_fn) for step_fn in step_fns):
        raise SeqKerasError("ensemble: expected a non-empty list of step functions.")
    log_weights = _log_weights(weights, len(step_fns))

    def joint_step(tokens: np.ndarray, state: State) -> tuple[np.ndarray, list[State]]:
        if not isinstance(state, list) or len(state) != len(step_fns):
            raise SeqKerasError(
                f"ensemble: the state must be a list of {len(step_fns)} model states."
            )
        log_probs, new_states = [], []
        for index, (step_fn, model_state) in enumerate(zip(step_fns, state)):
            model_log_probs, new_state = step_fn(tokens, model_state)
            log_probs.append(check_log_probs(model_log_probs, f"model {index}'s log_probs"))
            new_states.append(new_state)
        if len({values.shape for values in log_probs}) > 1:
            shapes = [values.shape for values in log_probs]
            raise SeqKerasError(f"ensemble: the models' log_probs differ in shape: {shapes}.")
        weighted = np.stack(log_probs) + log_weights[:, None, None]
        return np.logaddexp.reduce(weighted, axis=0), new_states

    return joint_step


def _log_weights(weights: npt.ArrayLike | None, count: int) -> np.ndarray:
    if weights is None:
        return np.full(count, -np.log(count))
    values = np.asarray(weights, dtype=np.float64)
    if values.shape != (count,) or not np.isfinite(values).all() or (values < 0).any():
        raise SeqKerasError(
            f"ensemble: weights must be {count} finite non-negative numbers, got {weights!r}."
        )
    if values.sum() <= 0:
        raise SeqKerasError("ensemble: at least one weight must be positive.")
    with np.errstate(divide="ignore"):
        return np.log(values / values.sum())
