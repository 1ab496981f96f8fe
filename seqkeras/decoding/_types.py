"""Type aliases of the decoding API (for annotations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

# A decoder state: None, an array, or dicts / lists / tuples nesting arrays (leading dim = rows).
State: TypeAlias = Any
# step_fn(tokens [n], state) -> (log_probs [n, vocab], new_state)
StepFn: TypeAlias = Callable[[np.ndarray, State], tuple[npt.ArrayLike, State]]
# A seed, a NumPy Generator, or None (fresh entropy).
Seed: TypeAlias = int | np.random.Generator | None
# (tokens, score) hypotheses, best first.
Hypotheses: TypeAlias = list[tuple[list[int], float]]
