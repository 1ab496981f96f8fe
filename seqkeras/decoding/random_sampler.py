"""Ancestral sampling from the whole distribution."""

from __future__ import annotations

import numpy as np

from seqkeras.decoding.sampler import Sampler


class RandomSampler(Sampler):
    """Draws the next token from the whole (temperature-adjusted) distribution, ŷ<t> ~ p_T.

    Args:
        temperature: finite number >= 0 (0 means argmax).

    Example:

    >>> RandomSampler(temperature=0.5)([0.0, 1.0, 0.0], rng=0)
    1
    """

    def get_next_token(self, probs: np.ndarray, rng: np.random.Generator) -> int:
        return int(rng.choice(len(probs), p=probs / probs.sum()))
