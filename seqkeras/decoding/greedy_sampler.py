"""Greedy decoding: always the most probable token."""

from __future__ import annotations

import numpy as np

from seqkeras.decoding.sampler import Sampler


class GreedySampler(Sampler):
    """Picks the most probable token, ŷ<t> = argmax_v p(v) (the first one on ties).

    The temperature does not change the argmax, so this sampler takes none.

    Example:

    >>> GreedySampler()([0.2, 0.5, 0.3])
    1
    """

    def __init__(self) -> None:
        super().__init__(temperature=1.0)

    def get_next_token(self, probs: np.ndarray, rng: np.random.Generator) -> int:
        return int(np.argmax(probs))
