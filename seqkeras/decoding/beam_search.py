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
    start_token = check_int(start_token, "start_token", 0)
    eos_token = check_int(eos_token, "eos_token", 0)
    beam_width = check_int(beam_width, "beam_width", 1)
    max_len = check_int(max_len, "max_len", 1)
    alpha = check_number(alpha, "alpha")

    live_tokens: list[list[int]] = [[]]
    live_log_probs = np.zeros(1)
    last_tokens = np.array([start_token])
    finished = []
    for _ in range(max_len):
        log_probs, state = step_fn(last_tokens, state)
        log_probs = check_log_probs(log_probs, "step_fn's log_probs", len(live_tokens))
        totals = (live_log_probs[:, None] + log_probs).ravel()
        ranked = np.argsort(-totals, kind="stable")[: 2 * beam_width]
        rows, next_tokens = np.divmod(ranked, log_probs.shape[1])
        survivors: list[int] = []
        for rank, (row, token, total) in enumerate(zip(rows, next_tokens, totals[ranked])):
            if total == -np.inf:
                break
            if token == eos_token:
                if rank < beam_width:
                    finished.append((live_tokens[row] + [eos_token], total))
            elif len(survivors) < beam_width:
                survivors.append(rank)
        if len(finished) >= beam_width or not survivors:
            break
        survivor_rows, survivor_tokens = rows[survivors], next_tokens[survivors]
        state = gather_rows(state, survivor_rows, len(live_tokens))
        live_tokens = [
            live_tokens[row] + [int(token)] for row, token in zip(survivor_rows, survivor_tokens)
        ]
        live_log_probs = totals[ranked[survivors]]
        last_tokens = survivor_tokens
    else:
        finished.extend(zip(live_tokens, live_log_probs))

    scored = [(tokens, float(total) / len(tokens) ** alpha) for tokens, total in finished]
    scored.sort(key=lambda hypothesis: -hypothesis[1])
    return scored[:beam_width]
