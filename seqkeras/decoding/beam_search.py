"""Beam search with length normalization."""

from __future__ import annotations

import numpy as np

from seqkeras.decoding._tree import gather_rows
from seqkeras.decoding._types import Hypotheses, State, StepFn
from seqkeras.decoding._validation import check_int, check_log_probs, check_number


def beam_search(
    step_fn: StepFn,
    state: State,
    start_token: int,
    eos_token: int,
    beam_width: int = 3,
    max_len: int = 50,
    alpha: float = 0.7,
) -> Hypotheses:
    """Finds likely sequences by keeping the `beam_width` best partial hypotheses per step.

    Hypotheses are ranked by the length-normalized log-likelihood

        score(y) = (1 / Ty^α) · Σ_{t=1..Ty} log p(y<t> | x, y<1>, ..., y<t-1>)

    where Ty counts the generated tokens, `eos_token` included (α = 0: no normalization,
    α = 1: mean log-probability). At every step all extensions of the live hypotheses are
    ranked by their summed log-probability (equal lengths, so the same order as the score);
    extensions that end in `eos_token` and rank among the best `beam_width` are finished and
    kept, and the best `beam_width` other extensions stay live. The search stops once
    `beam_width` hypotheses have finished, no live hypothesis remains, or after `max_len` steps,
    when the live hypotheses count as finished too. With `beam_width=1` this is `greedy`.

    Args:
        step_fn: `step_fn(tokens, state) -> (log_probs, new_state)`: `tokens` is an int array
            of shape (n,) holding the last token of each of the n live hypotheses, `log_probs`
            has shape (n, vocab_size) (logits work too: rows are log-softmax normalized) and
            `state` is any nest of dicts / lists / tuples of arrays with leading dimension n
            (or None). Between steps the rows of `new_state` are gathered to follow the
            hypotheses that survive (rows may repeat). The first call has n = 1.
            `beam_search_batch` searches many inputs with one call per step.
        state: the state for the first call, leading dimension 1.
        start_token: the token id fed at the first step (e.g. `<sos>`).
        eos_token: the token id that finishes a hypothesis.
        beam_width: integer >= 1, the number of hypotheses kept.
        max_len: integer >= 1, the most tokens a hypothesis may have.
        alpha: length-normalization exponent α >= 0.

    Returns:
        Up to `beam_width` pairs `(tokens, score)`, best score first: `tokens` is the list of
        generated ids (`eos_token` last if it was produced, `start_token` excluded).

    Example:

    Token 0 is `<eos>`, 1 `<sos>`; `table[i]` holds log p(next token | previous token i).
    Greedy decoding takes the likelier first token 2 and keeps repeating it; the beam also
    keeps token 3, whose continuation `<eos>` gives the best sequence.

    >>> import numpy as np
    >>> table = np.log([[0.25, 0.25, 0.25, 0.25], [0.05, 0.05, 0.5, 0.4],
    ...                 [0.3, 0.05, 0.6, 0.05], [0.85, 0.05, 0.05, 0.05]])
    >>> def step_fn(tokens, state):
    ...     return table[tokens], state
    >>> [tokens for tokens, _ in beam_search(step_fn, None, 1, 0, beam_width=2, max_len=5)]
    [[3, 0], [2, 2, 0]]
    """
    return beam_search_batch(step_fn, state, 1, start_token, eos_token, beam_width, max_len, alpha)[
        0
    ]


def beam_search_batch(
    step_fn: StepFn,
    state: State,
    batch_size: int,
    start_token: int,
    eos_token: int,
    beam_width: int = 3,
    max_len: int = 50,
    alpha: float = 0.7,
) -> list[Hypotheses]:
    """`beam_search` of `batch_size` independent inputs at once: one `step_fn` call per step
    for the live hypotheses of every input that is still searching.

    The rows of each call are grouped by input, in input order (the first call has one row per
    input); an input leaves the calls once its search stops. Each input's hypotheses are those
    `beam_search` finds for it alone.

    Args:
        step_fn: as in `beam_search`.
        state: the state of the first call, leading dimension `batch_size`.
        batch_size: integer >= 1, the number of inputs.
        start_token, eos_token, beam_width, max_len, alpha: as in `beam_search`.

    Returns:
        One list of up to `beam_width` `(tokens, score)` pairs per input, best score first.
    """
    batch_size = check_int(batch_size, "batch_size", 1)
    start_token = check_int(start_token, "start_token", 0)
    eos_token = check_int(eos_token, "eos_token", 0)
    beam_width = check_int(beam_width, "beam_width", 1)
    max_len = check_int(max_len, "max_len", 1)
    alpha = check_number(alpha, "alpha")
    if beam_width == 1:
        return _greedy_batch(step_fn, state, batch_size, start_token, eos_token, max_len, alpha)

    beams = [_Beam(eos_token, beam_width) for _ in range(batch_size)]
    searching = list(range(batch_size))
    last_tokens = np.full(batch_size, start_token)
    for _ in range(max_len):
        log_probs, state = step_fn(last_tokens, state)
        num_rows = len(last_tokens)
        log_probs = check_log_probs(log_probs, "step_fn's log_probs", num_rows)
        kept_rows, kept_tokens, still_searching, offset = [], [], [], 0
        for index in searching:
            rows = len(beams[index].tokens)
            survivors = beams[index].extend(log_probs[offset : offset + rows])
            if survivors is not None:
                kept_rows.append(offset + survivors[0])
                kept_tokens.append(survivors[1])
                still_searching.append(index)
            offset += rows
        searching = still_searching
        if not searching:
            break
        survivor_rows = np.concatenate(kept_rows)
        if len(survivor_rows) != num_rows or (survivor_rows != np.arange(num_rows)).any():
            state = gather_rows(state, survivor_rows, num_rows)
        last_tokens = np.concatenate(kept_tokens)
    else:
        for index in searching:
            beams[index].finished.extend(zip(beams[index].tokens, beams[index].log_probs))
    return [beam.best(alpha) for beam in beams]


def _greedy_batch(
    step_fn: StepFn,
    state: State,
    batch_size: int,
    start_token: int,
    eos_token: int,
    max_len: int,
    alpha: float,
) -> list[Hypotheses]:
    """`beam_search_batch` with `beam_width=1`, every input in one array operation per step:
    each row keeps its most probable extension (the first of ties, as the beam's stable sort)."""
    tokens: list[list[int]] = [[] for _ in range(batch_size)]
    totals = np.zeros(batch_size)
    searching = np.arange(batch_size)
    last_tokens = np.full(batch_size, start_token)
    for _ in range(max_len):
        log_probs, state = step_fn(last_tokens, state)
        num_rows = len(searching)
        log_probs = check_log_probs(log_probs, "step_fn's log_probs", num_rows)
        extended = totals[searching, None] + log_probs
        best = extended.argmax(axis=1)
        totals[searching] = extended[np.arange(num_rows), best]
        for index, token in zip(searching.tolist(), best.tolist()):
            tokens[index].append(token)
        live = best != eos_token
        if not live.all():
            if not live.any():
                break
            state = gather_rows(state, np.flatnonzero(live), num_rows)
            searching, best = searching[live], best[live]
        last_tokens = best
    return [[(ids, float(total) / len(ids) ** alpha)] for ids, total in zip(tokens, totals)]


class _Beam:
    """The live and finished hypotheses of one input."""

    def __init__(self, eos_token: int, beam_width: int):
        self.eos_token, self.beam_width = eos_token, beam_width
        self.tokens: list[list[int]] = [[]]
        self.log_probs = np.zeros(1)
        self.finished: list[tuple[list[int], float]] = []

    def extend(self, log_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """One step: `log_probs` (live hypotheses, vocab). Returns the rows and tokens of the
        hypotheses that stay live, or None once the search of this input stops."""
        width, vocab_size = self.beam_width, log_probs.shape[1]
        totals = (self.log_probs[:, None] + log_probs).ravel()
        ranked = np.argsort(-totals, kind="stable")[: 2 * width]
        rows: list[int] = []
        tokens: list[int] = []
        kept: list[float] = []
        for rank, (index, total) in enumerate(zip(ranked.tolist(), totals[ranked].tolist())):
            if total == -np.inf:
                break
            row, token = divmod(index, vocab_size)
            if token == self.eos_token:
                if rank < width:
                    self.finished.append((self.tokens[row] + [self.eos_token], total))
            elif len(rows) < width:
                rows.append(row)
                tokens.append(token)
                kept.append(total)
        if len(self.finished) >= width or not rows:
            return None
        self.tokens = [self.tokens[row] + [token] for row, token in zip(rows, tokens)]
        self.log_probs = np.array(kept)
        return np.array(rows), np.array(tokens)

    def best(self, alpha: float) -> Hypotheses:
        scored = [(tokens, float(total) / len(tokens) ** alpha) for tokens, total in self.finished]
        scored.sort(key=lambda hypothesis: -hypothesis[1])
        return scored[: self.beam_width]
