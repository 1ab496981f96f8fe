import collections
import itertools

import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.decoding import beam_search, beam_search_batch, greedy

EOS, SOS = 0, 1
Hidden = collections.namedtuple("Hidden", ["history", "length"])


class HistoryModel:
    """A toy decoder whose next-token distribution depends on the whole generated history.

    The model sees the history only through its state, a nest of a dict, a named tuple, a
    list and None whose arrays hold one row per hypothesis: a beam search that gathers state
    rows wrongly scores other sequences than the ones it returns.
    """

    def __init__(self, vocab_size, max_len, seed):
        self.vocab_size = vocab_size
        self.max_len = max_len
        self.logits = np.random.default_rng(seed).normal(size=(997, vocab_size)) * 2

    def initial_state(self):
        fed = np.full((1, self.max_len + 1), -1)
        return {"hidden": Hidden(fed, np.zeros(1, dtype=int)), "extra": [None]}

    def log_probs(self, history):
        """log p(next | history), history a tuple of generated token ids."""
        logits = self.logits[hash(history) % len(self.logits)]
        return logits - np.log(np.exp(logits).sum())

    def step_fn(self, tokens, state):
        fed, length = state["hidden"].history.copy(), state["hidden"].length.copy()
        assert len(fed) == len(length) == len(tokens)
        fed[np.arange(len(tokens)), length] = tokens
        length += 1
        log_probs = [self.log_probs(tuple(row[1:size])) for row, size in zip(fed, length)]
        return np.stack(log_probs), {"hidden": Hidden(fed, length), "extra": [None]}

    def all_hypotheses(self, alpha):
        """Every sequence beam search can return, scored by enumeration, best first."""
        scored = []
        non_eos = [token for token in range(self.vocab_size) if token != EOS]
        for length in range(1, self.max_len + 1):
            for prefix in itertools.product(non_eos, repeat=length - 1):
                for last in range(self.vocab_size):
                    tokens = (*prefix, last)
                    if last != EOS and length < self.max_len:
                        continue
                    total = sum(self.log_probs(tokens[:t])[tokens[t]] for t in range(length))
                    scored.append((list(tokens), total / length**alpha))
        scored.sort(key=lambda hypothesis: -hypothesis[1])
        return scored


@pytest.mark.parametrize(("seed", "alpha"), [(0, 0.7), (1, 0.0), (2, 1.0), (3, 0.7)])
def test_wide_beam_equals_brute_force_enumeration(seed, alpha):
    model = HistoryModel(vocab_size=3, max_len=4, seed=seed)
    expected = model.all_hypotheses(alpha)
    result = beam_search(
        model.step_fn,
        model.initial_state(),
        SOS,
        EOS,
        beam_width=64,
        max_len=4,
        alpha=alpha,
    )
    assert [tokens for tokens, _ in result] == [tokens for tokens, _ in expected]
    np.testing.assert_allclose([s for _, s in result], [s for _, s in expected], rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_narrow_beam_returns_the_best_of_what_it_finished(seed):
    model = HistoryModel(vocab_size=4, max_len=5, seed=seed)
    exact = {tuple(tokens): score for tokens, score in model.all_hypotheses(0.7)}
    result = beam_search(model.step_fn, model.initial_state(), SOS, EOS, 3, 5)
    assert 1 <= len(result) <= 3
    scores = [score for _, score in result]
    assert scores == sorted(scores, reverse=True)
    for tokens, score in result:
        assert score == pytest.approx(exact[tuple(tokens)], rel=1e-12)


@pytest.mark.parametrize(("beam_width", "alpha"), [(1, 0.7), (3, 0.7), (5, 0.0)])
def test_a_batch_finds_what_each_input_finds_alone(beam_width, alpha):
    models = [HistoryModel(vocab_size=4, max_len=6, seed=seed) for seed in range(6)]
    rows_per_call = []

    def step_fn(tokens, state):
        which, hidden = state
        rows_per_call.append(len(tokens))
        _, hidden = models[0].step_fn(tokens, hidden)  # the history update is the same for all
        history = hidden["hidden"]
        log_probs = [
            models[model].log_probs(tuple(row[1:size]))
            for model, row, size in zip(which, history.history, history.length)
        ]
        return np.stack(log_probs), (which, hidden)

    alone = [
        beam_search(model.step_fn, model.initial_state(), SOS, EOS, beam_width, 6, alpha)
        for model in models
    ]
    initial = models[0].initial_state()["hidden"]
    state = (
        np.arange(len(models)),
        {
            "hidden": Hidden(np.repeat(initial.history, len(models), 0), np.zeros(6, int)),
            "extra": [None],
        },
    )
    result = beam_search_batch(step_fn, state, len(models), SOS, EOS, beam_width, 6, alpha)
    assert result == alone
    if beam_width == 1:  # the inputs stop at different steps, the rest keep their rows
        expected = [greedy(m.step_fn, m.initial_state(), SOS, EOS, 6) for m in models]
        assert [hypotheses[0][0] for hypotheses in result] == expected
        assert len(set(map(len, expected))) > 1
    assert rows_per_call[0] == len(models)
    assert len(rows_per_call) <= 6  # one call per step for all inputs


@pytest.mark.parametrize("seed", range(12))
def test_beam_width_one_equals_greedy(seed):
    rng = np.random.default_rng(seed)
    vocab_size = int(rng.integers(3, 8))
    table = np.log(rng.dirichlet(np.full(vocab_size, 0.3), size=vocab_size))

    def step_fn(tokens, state):
        return table[tokens], state + 1

    max_len = int(rng.integers(1, 12))
    expected = greedy(step_fn, np.zeros(1), SOS, EOS, max_len)
    result = beam_search(step_fn, np.zeros(1), SOS, EOS, beam_width=1, max_len=max_len)
    assert len(result) == 1
    assert result[0][0] == expected
    path = [SOS, *expected]
    total = sum(table[path[t], path[t + 1]] for t in range(len(expected)))
    assert result[0][1] == pytest.approx(total / len(expected) ** 0.7)


def test_beam_finds_what_greedy_misses():
    table = np.log(
        [
            [0.25, 0.25, 0.25, 0.25],
            [0.05, 0.05, 0.5, 0.4],
            [0.3, 0.05, 0.6, 0.05],
            [0.85, 0.05, 0.05, 0.05],
        ]
    )

    def step_fn(tokens, state):
        return table[tokens], state

    assert greedy(step_fn, None, SOS, EOS, 5) == [2, 2, 2, 2, 2]
    best_tokens, best_score = beam_search(step_fn, None, SOS, EOS, beam_width=2, max_len=5)[0]
    assert best_tokens == [3, 0]
    assert best_score == pytest.approx(np.log(0.4 * 0.85) / 2**0.7)


def test_alpha_trades_length_against_likelihood():
    # p(<eos>) = 0.5 at once, or "2 2 <eos>" with 0.5 * 0.9 * 1: less likely, better per token.
    next_token_probs = np.array([[0.5, 1e-9, 0.5], [0.1, 1e-9, 0.9], [1.0, 1e-9, 1e-9]])

    def step_fn(tokens, state):
        return np.log(np.tile(next_token_probs[int(state[0])], (len(tokens), 1))), state + 1

    for alpha, expected in [(0.0, [0]), (0.1, [0]), (0.5, [2, 2, 0]), (1.0, [2, 2, 0])]:
        result = beam_search(step_fn, np.zeros(1), SOS, EOS, beam_width=4, max_len=3, alpha=alpha)
        assert result[0][0] == expected


def test_forbidden_tokens_never_appear_and_unfinished_hypotheses_are_returned():
    def step_fn(tokens, state):
        log_probs = np.log(np.tile([0.0, 0.0, 0.5, 0.5], (len(tokens), 1)) + 1e-300)
        log_probs[:, :2] = -np.inf
        return log_probs, state

    result = beam_search(step_fn, None, SOS, EOS, beam_width=3, max_len=4)
    assert len(result) == 3
    for tokens, score in result:
        assert len(tokens) == 4 and set(tokens) <= {2, 3}
        assert score == pytest.approx(4 * np.log(0.5) / 4**0.7)


def test_errors_name_the_argument():
    def step_fn(tokens, state):
        return np.zeros((len(tokens), 3)), state

    with pytest.raises(SeqKerasError, match="beam_width"):
        beam_search(step_fn, None, SOS, EOS, beam_width=0)
    with pytest.raises(SeqKerasError, match="max_len"):
        beam_search(step_fn, None, SOS, EOS, max_len=-1)
    with pytest.raises(SeqKerasError, match="alpha"):
        beam_search(step_fn, None, SOS, EOS, alpha=-0.5)
    with pytest.raises(SeqKerasError, match="leading dimension of 1"):
        beam_search(step_fn, {"h": np.zeros((2, 4))}, SOS, EOS)
    with pytest.raises(SeqKerasError, match="leading dimension"):
        beam_search(step_fn, {"step": 3}, SOS, EOS)
    with pytest.raises(SeqKerasError, match="1 rows"):
        beam_search(lambda tokens, state: (np.zeros((2, 3)), state), None, SOS, EOS)
