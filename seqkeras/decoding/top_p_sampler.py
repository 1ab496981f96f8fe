"""Top-p (nucleus) sampling."""

from __future__ import annotations

import numbers

import numpy as np

from seqkeras.decoding._validation import check_int
from seqkeras.decoding.random_sampler import RandomSampler
from seqkeras.decoding.top_k_sampler import keep_top_k
from seqkeras.errors import SeqKerasError

# A nucleus whose mass reaches p up to float rounding counts as reaching it: temperature and
# renormalization round the probabilities, and an exact boundary (p = 0.4 + 0.3 + 0.15) must
# not pull in one more token.
MASS_TOLERANCE = 1e-9


class TopPSampler(RandomSampler):
    """Draws the next token from the nucleus: the fewest most probable tokens holding mass p.

    With tokens sorted by decreasing probability, the nucleus is the shortest prefix
    v_1 ... v_m with Σ_{i<=m} p_T(v_i) >= p (Holtzman et al. 2020); the draw is from the
    nucleus renormalized. With `k` set, the distribution is first cut to its k most probable
    tokens and renormalized, as by `TopKSampler`.

    Args:
        p: number in (0, 1]; 1 keeps every token with non-zero probability.
        k: optional integer >= 1, a top-k cut applied before the nucleus.
        temperature: finite number >= 0 (0 means argmax).

    Example:

    >>> TopPSampler(p=0.5)([0.1, 0.6, 0.3], rng=0)
    1
    """

    def __init__(self, p: float, k: int | None = None, temperature: float = 1.0) -> None:
        super().__init__(temperature=temperature)
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p <= 1:
            raise SeqKerasError(f"top_p must be a number in (0, 1], got {p!r}.")
        self.p: float = float(p)
        self.k: int | None = None if k is None else check_int(k, "top_k", 1)

    def get_next_token(self, probs: np.ndarray, rng: np.random.Generator) -> int:
        if self.k is not None:
            probs = keep_top_k(probs, self.k)
            probs = probs / probs.sum()
        order = np.argsort(-probs, kind="stable")
        nucleus_size = int(np.searchsorted(np.cumsum(probs[order]), self.p - MASS_TOLERANCE)) + 1
        nucleus = order[:nucleus_size]
        kept = np.zeros_like(probs)
        kept[nucleus] = probs[nucleus]
        return super().get_next_token(kept, rng)
