"""Sampling one token, and generating a sequence greedily or by sampling."""

from __future__ import annotations

import numpy.typing as npt

from seqkeras.decoding._types import Seed, State, StepFn
from seqkeras.decoding.greedy_sampler import GreedySampler
from seqkeras.decoding.random_sampler import RandomSampler
from seqkeras.decoding.sampler import Sampler
from seqkeras.decoding.top_k_sampler import TopKSampler
from seqkeras.decoding.top_p_sampler import TopPSampler


def get_sampler(
    temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> Sampler:
    """Returns the `Sampler` for the given settings.

    Args:
        temperature: finite number >= 0; 0 means argmax, T < 1 sharper, T > 1 flatter.
        top_k: optional integer >= 1: sample among the k most probable tokens only.
        top_p: optional number in (0, 1]: sample within the nucleus of mass p (after the
            top-k cut when both are given).

    Returns:
        A `TopPSampler`, `TopKSampler` or `RandomSampler`.

    Example:

    >>> type(get_sampler(top_k=5)).__name__
    'TopKSampler'
    """
    if top_p is not None:
        return TopPSampler(top_p, k=top_k, temperature=temperature)
    if top_k is not None:
        return TopKSampler(top_k, temperature=temperature)
    return RandomSampler(temperature=temperature)


def sample(
    probs: npt.ArrayLike,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: Seed = None,
) -> int:
    """Samples a token id from a probability distribution.

    The distribution is first adjusted by the temperature, p_T(v) ∝ p(v)^(1/T), then cut
    to its top-k tokens and/or its nucleus of mass top_p, renormalized, and drawn from.

    Args:
        probs: 1-D array of probabilities (a softmax output). Sums within 1e-3 of 1 are
            renormalized; anything else raises.
        temperature: finite number >= 0; 0 means argmax (the first one on ties).
        top_k: optional integer >= 1.
        top_p: optional number in (0, 1].
        rng: a `np.random.Generator`, an integer seed, or None (fresh entropy).

    Returns:
        The sampled token id, an `int`.

    Raises:
        SeqKerasError: if `probs` is not a 1-D distribution or an argument is out of range.

    Example:

    >>> sample([0.1, 0.7, 0.2], temperature=0)
    1
    >>> sample([0.1, 0.7, 0.2], top_k=2, rng=0) in (1, 2)
    True
    """
    return get_sampler(temperature, top_k, top_p)(probs, rng)


def greedy(
    step_fn: StepFn, state: State, start_token: int, eos_token: int, max_len: int
) -> list[int]:
    """Generates a sequence by feeding back the most probable token at every step.

        ŷ<t> = argmax_v log p(v | ŷ<1>, ..., ŷ<t-1>)

    Args:
        step_fn: `step_fn(tokens, state) -> (log_probs, new_state)`: `tokens` is an int array
            of shape (1,), `log_probs` has shape (1, vocab_size), and `state` is any nest of
            dicts / lists / tuples of arrays with leading dimension 1 (or None).
        state: the state passed to the first call of `step_fn`.
        start_token: the token id fed at the first step (e.g. `<sos>`).
        eos_token: generation stops after this token id.
        max_len: the most tokens to generate.

    Returns:
        The generated token ids, `eos_token` included when it was produced.

    Example:

    >>> import numpy as np
    >>> def step_fn(tokens, state):
    ...     log_probs = np.log(np.full((1, 3), 0.1))
    ...     log_probs[0, (tokens[0] + 1) % 3] = np.log(0.8)
    ...     return log_probs, state
    >>> greedy(step_fn, None, start_token=0, eos_token=0, max_len=5)
    [1, 2, 0]
    """
    return GreedySampler().generate(step_fn, state, start_token, eos_token, max_len)


def sample_sequence(
    step_fn: StepFn,
    state: State,
    start_token: int,
    eos_token: int,
    max_len: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: Seed = None,
) -> list[int]:
    """Generates a sequence by sampling every next token (see `sample`) and feeding it back.

        ŷ<t> ~ p_T(v | ŷ<1>, ..., ŷ<t-1>), cut to top-k / top-p

    Args:
        step_fn: as for `greedy`.
        state: the state passed to the first call of `step_fn`.
        start_token: the token id fed at the first step.
        eos_token: generation stops after this token id.
        max_len: the most tokens to generate.
        temperature: finite number >= 0; 0 gives the greedy sequence.
        top_k: optional integer >= 1.
        top_p: optional number in (0, 1].
        rng: a `np.random.Generator`, an integer seed (reproducible sequences), or None.

    Returns:
        The generated token ids, `eos_token` included when it was produced.

    Example:

    >>> import numpy as np
    >>> def step_fn(tokens, state):
    ...     return np.log([[0.5, 0.5]]), state
    >>> len(sample_sequence(step_fn, None, 0, eos_token=1, max_len=4, rng=0)) <= 4
    True
    """
    sampler = get_sampler(temperature, top_k, top_p)
    return sampler.generate(step_fn, state, start_token, eos_token, max_len, rng=rng)
