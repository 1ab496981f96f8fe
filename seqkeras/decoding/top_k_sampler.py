"""Top-k sampling."""

from __future__ import annotations

import numpy as np

from seqkeras.decoding._validation import check_int
from seqkeras.decoding.random_sampler import RandomSampler


def keep_top_k(probs: np.ndarray, k: int) -> np.ndarray:
    """Zeroes all but the `k` most probable entries of `probs` (lower ids win ties)."""
    kept = np.zeros_like(probs)
    top = np.argsort(-probs, kind="stable")[:k]
    kept[top] = probs[top]
    return kept


class TopKSampler(RandomSampler):
    """Draws the next token from the k most probable ones, renormalized.

        p'(v) = p_T(v) / Σ_{u ∈ top-k} p_T(u)   for v in the k most probable tokens, else 0

    Args:
        k: integer >= 1; a k of the vocabulary size or more keeps every token.
        temperature: finite number >= 0 (0 means argmax).

    Example:

    >>> TopKSampler(k=1)([0.2, 0.5, 0.3], rng=0)
    1
    """

    def __init__(self, k: int, temperature: float = 1.0) -> None:
        super().__init__(temperature=temperature)
        self.k = check_int(k, "top_k", 1)

    def get_next_token(self, probs: np.ndarray, rng: np.random.Generator) -> int:
        return super().get_next_token(keep_top_k(probs, self.k), rng)
