import itertools

import numpy as np
import pytest
import tensorflow as tf

from seqkeras import SeqKerasError
from seqkeras.decoding import WordNgramLM, ctc_beam_search, ctc_greedy_decode


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def brute_force_label_log_probs(log_probs, blank):
    """log P(labels | x) for every labeling, summed over all V^T alignments."""
    num_frames, vocab_size = log_probs.shape
    totals = {}
    for path in itertools.product(range(vocab_size), repeat=num_frames):
        labels = tuple(
            label
            for t, label in enumerate(path)
            if label != blank and (t == 0 or path[t - 1] != label)
        )
        path_log_prob = log_probs[np.arange(num_frames), path].sum()
        totals[labels] = np.logaddexp(totals.get(labels, -np.inf), path_log_prob)
    return totals


def tf_greedy(logits, blank):
    decoded, _ = tf.nn.ctc_greedy_decoder(
        logits[:, None, :].astype(np.float32), [len(logits)], blank_index=blank
    )
    return tf.sparse.to_dense(decoded[0]).numpy()[0].tolist()


def tf_beam(logits, beam_width):
    """TensorFlow's beam search decoder; its blank is always the last class."""
    decoded, log_probs = tf.nn.ctc_beam_search_decoder(
        logits[:, None, :].astype(np.float32), [len(logits)], beam_width=beam_width
    )
    return tf.sparse.to_dense(decoded[0]).numpy()[0].tolist(), float(log_probs.numpy()[0, 0])


def tf_exact_log_prob(logits, labels, blank):
    """log P(labels | x) by the CTC forward algorithm (tf.nn.ctc_loss)."""
    loss = tf.nn.ctc_loss(
        tf.constant([labels], tf.int32),
        tf.constant(logits[None], tf.float32),
        [len(labels)],
        [len(logits)],
        logits_time_major=False,
        blank_index=blank,
    )
    return -float(loss.numpy()[0])


def test_course_example_collapses_repeats_and_drops_blanks():
    alphabet = "_ theq"
    frames = "ttt_h_eee___ ___qqq"
    logits = np.log(np.eye(len(alphabet))[[alphabet.index(c) for c in frames]] + 1e-3)
    labels = ctc_greedy_decode(logits, blank=0)
    assert "".join(alphabet[label] for label in labels) == "the q"


@pytest.mark.parametrize("seed", range(6))
def test_greedy_equals_tensorflow(seed):
    rng = np.random.default_rng(seed)
    num_frames, vocab_size = int(rng.integers(1, 40)), int(rng.integers(2, 7))
    logits = rng.normal(size=(num_frames, vocab_size)) * 2
    for blank in (0, vocab_size - 1):
        assert ctc_greedy_decode(logits, blank=blank) == tf_greedy(logits, blank)


def test_greedy_of_no_frames_is_empty():
    assert ctc_greedy_decode(np.zeros((0, 4))) == []


@pytest.mark.parametrize("seed", range(10))
def test_wide_beam_is_exact_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    num_frames, vocab_size = int(rng.integers(1, 6)), int(rng.integers(2, 4))
    log_probs = log_softmax(rng.normal(size=(num_frames, vocab_size)) * 2)
    blank = int(rng.integers(vocab_size))
    exact = brute_force_label_log_probs(log_probs, blank)
    result = ctc_beam_search(log_probs, beam_width=len(exact), blank=blank)
    assert {tuple(labels) for labels, _ in result} == set(exact)
    for labels, log_prob in result:
        assert log_prob == pytest.approx(exact[tuple(labels)], abs=1e-9)
    expected_order = sorted(exact.values(), reverse=True)
    np.testing.assert_allclose([log_prob for _, log_prob in result], expected_order)


@pytest.mark.parametrize("seed", range(8))
def test_top_1_and_log_prob_agree_with_tensorflow_when_the_beam_covers_all_prefixes(seed):
    # Two labels and at most 6 frames give at most 127 prefixes: both beams are exact.
    rng = np.random.default_rng(100 + seed)
    num_frames = int(rng.integers(1, 7))
    logits = rng.normal(size=(num_frames, 3)) * 2
    result = ctc_beam_search(logits, beam_width=128, blank=2)
    if len(result) > 1 and result[0][1] - result[1][1] < 1e-3:
        pytest.skip("two labelings are nearly tied")
    tf_labels, tf_log_prob = tf_beam(logits, beam_width=128)
    assert result[0][0] == tf_labels
    assert result[0][1] == pytest.approx(tf_log_prob, abs=1e-4)


def ctc_like_logits(rng, labels, vocab_size, blank, frames_per_label=3, peak=6.0):
    """Frame logits of an acoustic model that emits `labels` separated by blank runs."""
    path = []
    for label in labels:
        path += [label] * int(rng.integers(1, frames_per_label + 1))
        path += [blank] * int(rng.integers(0 if path[-1:] != [label] else 1, 3))
    path += [blank] * 2
    logits = rng.normal(size=(len(path), vocab_size))
    logits[np.arange(len(path)), path] += peak
    return logits


@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_tensorflow_on_peaked_ctc_outputs(seed):
    rng = np.random.default_rng(200 + seed)
    vocab_size = 7
    blank = vocab_size - 1
    labels = rng.integers(0, blank, size=int(rng.integers(3, 10))).tolist()
    for i in range(1, len(labels)):
        if labels[i] == labels[i - 1] and rng.random() < 0.5:
            labels[i] = (labels[i] + 1) % blank
    logits = ctc_like_logits(rng, labels, vocab_size, blank)
    # Both decoders prune differently, so the mass each keeps for the best labeling differs
    # slightly: both are within 2e-3 of the exact log-probability and never above it.
    result = ctc_beam_search(logits, beam_width=64, blank=blank)
    tf_labels, tf_log_prob = tf_beam(logits, beam_width=64)
    assert result[0][0] == tf_labels == labels
    exact = tf_exact_log_prob(logits, labels, blank)
    assert exact - 2e-3 <= result[0][1] <= exact + 1e-4
    assert result[0][1] == pytest.approx(tf_log_prob, abs=2e-3)


@pytest.mark.parametrize("seed", range(4))
def test_returned_log_probs_never_exceed_the_exact_ones(seed):
    rng = np.random.default_rng(300 + seed)
    logits = rng.normal(size=(25, 6)) * 3
    for labels, log_prob in ctc_beam_search(logits, beam_width=4, blank=0):
        assert log_prob <= tf_exact_log_prob(logits, labels, blank=0) + 1e-4


def test_beam_scores_are_sorted_and_at_most_beam_width():
    logits = np.random.default_rng(5).normal(size=(12, 5))
    result = ctc_beam_search(logits, beam_width=6)
    assert len(result) == 6
    scores = [log_prob for _, log_prob in result]
    assert scores == sorted(scores, reverse=True)
    assert all(0 not in labels for labels, _ in result)


def test_no_frames_decode_to_the_empty_labeling():
    assert ctc_beam_search(np.zeros((0, 3))) == [([], 0.0)]


def test_prefix_scorer_adds_its_log_weights_per_extension():
    rng = np.random.default_rng(6)
    log_probs = log_softmax(rng.normal(size=(4, 3)) * 2)
    exact = brute_force_label_log_probs(log_probs, blank=0)
    insertion_bonus = 0.7

    def scorer(prefix):
        return np.full(3, insertion_bonus)

    result = ctc_beam_search(log_probs, beam_width=len(exact), prefix_scorer=scorer)
    for labels, score in result:
        expected = exact[tuple(labels)] + insertion_bonus * len(labels)
        assert score == pytest.approx(expected, abs=1e-9)


def test_prefix_scorer_acts_as_a_lexicon():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(10, 4))
    calls = []

    def no_label_2_after_label_1(prefix):
        calls.append(prefix)
        scores = np.zeros(4)
        if prefix[-1:] == (1,):
            scores[2] = -np.inf
        return scores

    unconstrained = ctc_beam_search(logits, beam_width=8)
    assert any((1, 2) in itertools.pairwise(labels) for labels, _ in unconstrained)
    result = ctc_beam_search(logits, beam_width=8, prefix_scorer=no_label_2_after_label_1)
    for labels, _ in result:
        assert all(pair != (1, 2) for pair in itertools.pairwise(labels))
    assert len(calls) == len(set(calls))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"log_probs": np.zeros(5)}, "2-D"),
        ({"log_probs": np.full((2, 3), np.nan)}, "NaN"),
        ({"log_probs": np.zeros((2, 3)), "blank": 3}, "blank"),
        ({"log_probs": np.zeros((2, 3)), "beam_width": 0}, "beam_width"),
        (
            {"log_probs": np.zeros((2, 3)), "prefix_scorer": lambda prefix: np.zeros(2)},
            "prefix_scorer",
        ),
        (
            {"log_probs": np.zeros((2, 3)), "prefix_scorer": lambda prefix: np.full(3, np.inf)},
            r"\+inf",
        ),
    ],
)
def test_bad_beam_search_inputs_raise(kwargs, message):
    with pytest.raises(SeqKerasError, match=message):
        ctc_beam_search(**kwargs)


def test_bad_greedy_inputs_raise():
    with pytest.raises(SeqKerasError, match="logits"):
        ctc_greedy_decode(np.zeros(4))
    with pytest.raises(SeqKerasError, match="blank"):
        ctc_greedy_decode(np.zeros((2, 4)), blank=-1)


def word_terms(text, lexicon=None, lm=None, lm_weight=1.0, word_bonus=0.0):
    """The word scoring of a transcript, as `ctc_beam_search` defines it (-inf: not allowed)."""
    words = text.split(" ")
    if lexicon is not None and text and not all(word in lexicon for word in words):
        return -np.inf
    if not text:
        return 0.0
    return sum(
        word_bonus + (0.0 if lm is None else lm_weight * lm(tuple(words[:i]), word))
        for i, word in enumerate(words)
    )


def letters(text, alphabet):
    return [alphabet.index(c) for c in text]


@pytest.mark.parametrize("seed", range(4))
def test_zero_lm_weight_without_lexicon_equals_plain_beam_search(seed):
    rng = np.random.default_rng(400 + seed)
    logits = rng.normal(size=(15, 5)) * 2
    lm = WordNgramLM().fit(["ab a", "b"])
    plain = ctc_beam_search(logits, beam_width=6)
    scored = ctc_beam_search(logits, beam_width=6, alphabet="_ abc", lm=lm, lm_weight=0.0)
    assert scored == plain


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("with_lm", [False, True])
def test_lexicon_search_equals_exhaustive_search_over_word_sequences(seed, with_lm):
    rng = np.random.default_rng(500 + seed)
    alphabet = "_ ab"
    lexicon = {"a", "ab", "ba", "bb"}
    log_probs = log_softmax(rng.normal(size=(int(rng.integers(3, 7)), 4)) * 2)
    scoring = {}
    if with_lm:
        lm = WordNgramLM(order=2, k=0.5).fit(["a ab", "ab ba a", "bb"])
        scoring = {"lm": lm, "lm_weight": 0.7, "word_bonus": 0.4}
    # Every sequence of lexicon words that fits in the frames, scored by the brute-force
    # CTC log-probability of its text plus its word terms.
    exact = brute_force_label_log_probs(log_probs, blank=0)
    expected = {}
    for count in range(len(log_probs) + 1):
        for words in itertools.product(sorted(lexicon), repeat=count):
            labels = tuple(letters(" ".join(words), alphabet))
            if labels in exact:
                expected[labels] = exact[labels] + word_terms(" ".join(words), lexicon, **scoring)
    result = ctc_beam_search(
        log_probs, beam_width=10_000, alphabet=alphabet, lexicon=lexicon, **scoring
    )
    assert len(result) == len(expected)
    for labels, score in result:
        assert score == pytest.approx(expected[tuple(labels)], abs=1e-9)
    np.testing.assert_allclose(
        [score for _, score in result], sorted(expected.values(), reverse=True)
    )


def test_lm_scores_words_without_a_lexicon():
    rng = np.random.default_rng(8)
    alphabet = "_ ab"
    log_probs = log_softmax(rng.normal(size=(5, 4)) * 2)
    lm = WordNgramLM(order=1).fit(["a a b", "ab"])
    scoring = {"lm": lm, "lm_weight": 1.5, "word_bonus": -0.2}
    exact = brute_force_label_log_probs(log_probs, blank=0)
    result = ctc_beam_search(log_probs, beam_width=len(exact), alphabet=alphabet, **scoring)
    assert len(result) == len(exact)
    for labels, score in result:
        text = "".join(alphabet[i] for i in labels)
        expected = exact[tuple(labels)] + word_terms(" ".join(text.split()), **scoring)
        assert score == pytest.approx(expected, abs=1e-9)


def peaked(alphabet, frames):
    """Log-probabilities of frames given as {character: probability} (the rest shared)."""
    rows = []
    for frame in frames:
        rest = (1 - sum(frame.values())) / (len(alphabet) - len(frame))
        rows.append([frame.get(c, rest) for c in alphabet])
    return np.log(rows)


def test_lexicon_turns_an_acoustically_preferred_non_word_into_a_word():
    alphabet = "_ egnotw"
    frames = [{"t": 0.9}, {"w": 0.9}, {"e": 0.5, "o": 0.4}, {"_": 0.9}]
    log_probs = peaked(alphabet, frames)

    def text(result):
        return "".join(alphabet[i] for i in result[0][0])

    assert text(ctc_beam_search(log_probs, beam_width=8)) == "twe"
    lexicon = {"two", "one", "go"}
    assert text(ctc_beam_search(log_probs, 8, alphabet=alphabet, lexicon=lexicon)) == "two"


def test_language_model_picks_the_likelier_word():
    alphabet = "_ dgnopuw"
    frames = [{"u": 0.9}, {"p": 0.9}, {" ": 0.9}, {"n": 0.5, "g": 0.45}, {"o": 0.9}]
    log_probs = peaked(alphabet, frames)
    lexicon = {"up", "down", "go", "no"}
    lm = WordNgramLM(order=2).fit(["up go", "up go", "down no"])

    def text(**options):
        result = ctc_beam_search(log_probs, 8, alphabet=alphabet, lexicon=lexicon, **options)
        return "".join(alphabet[i] for i in result[0][0])

    assert text() == "up no"
    assert text(lm=lm, lm_weight=1.0) == "up go"


def test_a_beam_left_inside_words_gives_no_transcript():
    log_probs = np.log([[0.1, 0.9]])
    assert ctc_beam_search(log_probs, beam_width=1, alphabet="_a", lexicon={"aa"}) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lexicon": {"ab"}}, "need the `alphabet`"),
        ({"lexicon": {"ab"}, "alphabet": "_ a"}, "vocab_size=4"),
        ({"lexicon": {"ab"}, "alphabet": "_ aa"}, "distinct"),
        ({"lexicon": {"ab"}, "alphabet": ["_", " ", "a", "bc"]}, "vocab_size=4"),
        ({"lexicon": "ab", "alphabet": "_ ab"}, "set of words"),
        ({"lexicon": True, "alphabet": "_ ab"}, "set of words"),
        ({"lexicon": {"ab", 3}, "alphabet": "_ ab"}, "strings"),
        ({"lexicon": {"ac"}, "alphabet": "_ ab"}, r"\['c'\]"),
        ({"lexicon": {"a b"}, "alphabet": "_ ab"}, r"\[' '\]"),
        ({"lexicon": {""}, "alphabet": "_ ab"}, "empty"),
        ({"lm": "model", "alphabet": "_ ab"}, "callable"),
        ({"lm": lambda context, word: float("nan"), "alphabet": "_ ab"}, "log-probability"),
        ({"lm": lambda context, word: 0.5, "alphabet": "_ ab"}, "log-probability"),
        ({"lm": lambda context, word: -1.0, "alphabet": "_ ab", "lm_weight": -1}, "lm_weight"),
        ({"word_bonus": np.inf, "alphabet": "_ ab"}, "word_bonus"),
        (
            {"lexicon": {"ab"}, "alphabet": "_ ab", "prefix_scorer": lambda p: np.zeros(4)},
            "not both",
        ),
    ],
)
def test_bad_word_scoring_arguments_raise(kwargs, message):
    log_probs = np.log(np.full((6, 4), 0.25))
    with pytest.raises(SeqKerasError, match=message):
        ctc_beam_search(log_probs, beam_width=4, **kwargs)
