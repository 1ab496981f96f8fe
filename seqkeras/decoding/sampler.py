"""Base class of the token samplers."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seqkeras.decoding._types import Seed, State, StepFn
from seqkeras.decoding._validation import (
    as_generator,
    check_int,
    check_log_probs,
    check_number,
    check_probabilities,
)


class Sampler:
    """Base class of the strategies that pick the next token from a distribution.

    Before a subclass sees the distribution, it is sharpened or flattened by the temperature T:

        p_T(v) = p(v)^(1/T) / Σ_u p(u)^(1/T)       (T < 1 sharper, T > 1 flatter)

    and T = 0 means the argmax (the first one on ties). Subclasses override one method,
    `get_next_token(probs, rng)`; the base class turns step functions into a generation loop.

    Args:
        temperature: finite number >= 0.

    Example:

    >>> class LastTokenSampler(Sampler):
    ...     def get_next_token(self, probs, rng):
    ...         return len(probs) - 1
    >>> LastTokenSampler()([0.5, 0.5])
    1
    """

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = check_number(temperature, "temperature")

    def get_next_token(self, probs: np.ndarray, rng: np.random.Generator) -> int:
        """Picks a token id.

        Args:
            probs: float64 1-D array, the temperature-adjusted distribution (sums to 1).
            rng: a `np.random.Generator`.

        Returns:
            The chosen token id.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement get_next_token().")

    def __call__(self, probs: npt.ArrayLike, rng: Seed = None) -> int:
        """Picks a token id from `probs` (1-D probabilities summing to 1).

        Args:
            probs: 1-D array of probabilities; sums within 1e-3 of 1 are renormalized.
            rng: a `np.random.Generator`, an integer seed, or None (fresh entropy).

        Returns:
            The token id, an `int`.
        """
        probs = check_probabilities(probs)
        with np.errstate(divide="ignore"):
            log_probs = np.log(probs)
        return self._pick(log_probs, as_generator(rng))

    def generate(
        self,
        step_fn: StepFn,
        state: State,
        start_token: int,
        eos_token: int,
        max_len: int,
        rng: Seed = None,
    ) -> list[int]:
        """Generates one sequence token by token, feeding each token back in.

        Args:
            step_fn: `step_fn(tokens, state) -> (log_probs, new_state)` with `tokens` an int
                array of shape (1,), `log_probs` of shape (1, vocab_size) (logits work too: rows
                are log-softmax normalized) and `state` any nest of arrays with leading dim 1.
            state: the initial state passed to the first call of `step_fn`.
            start_token: the token id fed at the first step.
            eos_token: generation stops after this token id is produced.
            max_len: the most tokens to generate.
            rng: a `np.random.Generator`, an integer seed, or None.

        Returns:
            The generated token ids (`start_token` excluded, `eos_token` included when it was
            produced within `max_len` tokens).
        """
        token = check_int(start_token, "start_token", 0)
        eos_token = check_int(eos_token, "eos_token", 0)
        max_len = check_int(max_len, "max_len", 1)
        rng = as_generator(rng)
        tokens = []
        for _ in range(max_len):
            log_probs, state = step_fn(np.array([token]), state)
            token = self._pick(check_log_probs(log_probs, "step_fn's log_probs", 1)[0], rng)
            tokens.append(token)
            if token == eos_token:
                break
        return tokens

    def _pick(self, log_probs: np.ndarray, rng: np.random.Generator) -> int:
        if self.temperature == 0:
            probs = np.zeros_like(log_probs)
            probs[np.argmax(log_probs)] = 1.0
        else:
            scaled = log_probs / self.temperature
            probs = np.exp(scaled - scaled.max())
            probs /= probs.sum()
        return int(self.get_next_token(probs, rng))
