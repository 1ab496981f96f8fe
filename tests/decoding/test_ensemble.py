import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.decoding import beam_search, ensemble
from tests.decoding.test_beam_search import EOS, SOS, HistoryModel


class MixtureModel(HistoryModel):
    """The reference: a HistoryModel whose distribution is the weighted mean of two others'."""

    def __init__(self, models, weights):
        self.vocab_size, self.max_len = models[0].vocab_size, models[0].max_len
        self.models, self.weights = models, weights

    def log_probs(self, history):
        probs = sum(w * np.exp(m.log_probs(history)) for m, w in zip(self.models, self.weights))
        return np.log(probs)


@pytest.mark.parametrize("weights", [None, [0.25, 0.75]])
def test_joint_beam_search_equals_enumerating_the_mixture(weights):
    models = [HistoryModel(4, 4, seed) for seed in (10, 11)]
    reference = MixtureModel(models, [0.5, 0.5] if weights is None else weights)
    joint = ensemble([m.step_fn for m in models], weights)
    state = [m.initial_state() for m in models]

    found = beam_search(joint, state, SOS, EOS, beam_width=200, max_len=4, alpha=0.7)
    expected = reference.all_hypotheses(alpha=0.7)

    assert [tokens for tokens, _ in found] == [tokens for tokens, _ in expected[: len(found)]]
    np.testing.assert_allclose(
        [score for _, score in found], [score for _, score in expected[: len(found)]], rtol=1e-9
    )


def test_one_model_and_identical_models_change_nothing():
    model = HistoryModel(5, 5, seed=3)
    alone = beam_search(model.step_fn, model.initial_state(), SOS, EOS, beam_width=3, max_len=5)
    for joint, state in (
        (ensemble([model.step_fn]), [model.initial_state()]),
        (ensemble([model.step_fn] * 3), [model.initial_state()] * 3),
    ):
        found = beam_search(joint, state, SOS, EOS, beam_width=3, max_len=5)
        assert [t for t, _ in found] == [t for t, _ in alone]
        np.testing.assert_allclose([s for _, s in found], [s for _, s in alone], rtol=1e-12)


def test_logits_are_normalized_and_forbidden_tokens_stay_forbidden():
    def logits(tokens, state):
        return np.tile([[5.0, 1.0, -np.inf]], (len(tokens), 1)), state

    def log_probs(tokens, state):
        return np.log(np.tile([[0.5, 0.5, 0.0]], (len(tokens), 1))), state

    with np.errstate(divide="ignore"):
        joint, _ = ensemble([logits, log_probs])(np.array([0, 0]), [None, None])
    expected = 0.5 * np.exp([5.0, 1.0]) / np.exp([5.0, 1.0]).sum() + 0.25
    np.testing.assert_allclose(np.exp(joint[:, :2]), [expected, expected])
    assert (joint[:, 2] == -np.inf).all()


def test_a_zero_weight_silences_a_model():
    a = HistoryModel(4, 4, seed=1)
    b = HistoryModel(4, 4, seed=2)
    joint = ensemble([a.step_fn, b.step_fn], weights=[1.0, 0.0])
    found = beam_search(joint, [a.initial_state(), b.initial_state()], SOS, EOS, max_len=4)
    alone = beam_search(a.step_fn, a.initial_state(), SOS, EOS, max_len=4)
    assert [t for t, _ in found] == [t for t, _ in alone]


@pytest.mark.parametrize(
    ("step_fns", "weights", "match"),
    [
        ([], None, "non-empty list"),
        (["not a function"], None, "non-empty list"),
        ([lambda t, s: (t, s)] * 2, [1.0], "2 finite non-negative"),
        ([lambda t, s: (t, s)] * 2, [1.0, -1.0], "2 finite non-negative"),
        ([lambda t, s: (t, s)] * 2, [1.0, np.nan], "2 finite non-negative"),
        ([lambda t, s: (t, s)] * 2, [0.0, 0.0], "one weight must be positive"),
    ],
)
def test_bad_arguments_are_named(step_fns, weights, match):
    with pytest.raises(SeqKerasError, match=match):
        ensemble(step_fns, weights)


def test_bad_states_and_mismatched_vocabularies_are_named():
    small = lambda tokens, state: (np.zeros((len(tokens), 3)), state)  # noqa: E731
    large = lambda tokens, state: (np.zeros((len(tokens), 4)), state)  # noqa: E731
    joint = ensemble([small, large])
    with pytest.raises(SeqKerasError, match="list of 2 model states"):
        joint(np.array([0]), None)
    with pytest.raises(SeqKerasError, match="differ in shape"):
        joint(np.array([0]), [None, None])
