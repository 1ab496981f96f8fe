"""The compiled training loop (`jit_compile`) against TensorFlow's loop differentiated by
TensorFlow: same outputs, same gradients for the inputs, the initial states and every weight."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqkeras import layers
from seqkeras.errors import SeqKerasError
from seqkeras.layers.recurrent_layer import MAX_UNROLLED_TRAINING_STEPS, RecurrentLayer

CELLS = {
    "lstm": lambda **kw: layers.LSTM(5, **kw),
    "lstm-peephole": lambda **kw: layers.LSTM(5, peephole=True, **kw),
    "lstm-relu-hard": lambda **kw: layers.LSTM(
        5, activation="relu", recurrent_activation="tanh", **kw
    ),
    "gru": lambda **kw: layers.GRU(5, **kw),
    "gru-minimal": lambda **kw: layers.GRU(5, minimal=True, **kw),
    "simple-rnn": lambda **kw: layers.SimpleRNN(5, **kw),
    "simple-rnn-relu": lambda **kw: layers.SimpleRNN(5, activation="relu", **kw),
}


def twins(make, **options):
    """The same layer twice with equal weights: compiled loop, and TensorFlow's loop."""
    compiled, reference = make(jit_compile=True, **options), make(jit_compile=False, **options)
    return compiled, reference


def values_and_gradients(layer, x, initial_state, mask):
    with tf.GradientTape() as tape:
        tape.watch([x, *initial_state])
        outputs = layer(x, initial_state=initial_state, mask=mask, training=True)
        outputs = keras.tree.flatten(outputs)
        loss = sum(tf.reduce_sum(o * tf.cos(3.0 * o + float(i))) for i, o in enumerate(outputs))
    gradients = tape.gradient(loss, [x, *initial_state, *layer.trainable_variables])
    return outputs, gradients


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(return_sequences=True, return_state=True),
        dict(return_sequences=True, go_backwards=True),
        dict(return_state=True, go_backwards=True),
    ],
    ids=["last", "sequences-states", "backwards", "states-backwards"],
)
@pytest.mark.parametrize("masking", ["none", "right-padded", "holes", "holes-zero-output"])
def test_compiled_loop_equals_tensorflows_loop_and_its_autodiff(cell, options, masking):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 7, 4)).astype("float32"))
    mask = None
    if masking != "none":
        mask = np.ones((3, 7), dtype=bool)
        mask[1, 4:] = False
        mask[2, 1:] = False
        if masking.startswith("holes"):
            mask[0, [0, 3]] = False
    compiled, reference = twins(CELLS[cell], **options)
    zero_output = masking == "holes-zero-output"
    compiled.zero_output_for_mask = reference.zero_output_for_mask = zero_output
    compiled.build(x.shape)
    reference.build(x.shape)
    weights = [
        w + rng.normal(scale=0.3, size=w.shape).astype("float32") for w in reference.get_weights()
    ]
    reference.set_weights(weights)
    compiled.set_weights(weights)
    state_count = 2 if cell.startswith("lstm") else 1
    initial_state = [
        tf.constant(rng.normal(size=(3, 5)).astype("float32")) for _ in range(state_count)
    ]

    ours, our_gradients = values_and_gradients(compiled, x, initial_state, mask)
    theirs, their_gradients = values_and_gradients(reference, x, initial_state, mask)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(our_gradients) == len(their_gradients) == 1 + state_count + len(weights)
    for a, b in zip(our_gradients, their_gradients):
        np.testing.assert_allclose(a, b, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "simple-rnn"])
@pytest.mark.parametrize("batch", [1, 4])
def test_a_step_on_the_batch_halves_equals_the_whole_batch(cell, batch):
    """The full GRU runs its compiled steps on the batch's two halves (covered above, at an
    odd batch); any cell can, down to a batch of one (an empty half)."""
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(batch, 6, 4)).astype("float32"))
    mask = np.ones((batch, 6), dtype=bool)
    mask[-1, 3:] = False
    halved, reference = twins(CELLS[cell], return_sequences=True)
    halved.cell.compiled_step_in_halves = True
    halved.build(x.shape)
    reference.build(x.shape)
    halved.set_weights(reference.get_weights())
    initial_state = [tf.zeros((batch, 5))] * (2 if cell == "lstm" else 1)
    ours, our_gradients = values_and_gradients(halved, x, initial_state, mask)
    theirs, their_gradients = values_and_gradients(reference, x, initial_state, mask)
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-5)
    for a, b in zip(our_gradients, their_gradients):
        np.testing.assert_allclose(a, b, atol=2e-5, rtol=1e-4)


def test_masked_bidirectional_lstm_trains_compiled_like_tensorflows_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 6, 3)).astype("float32")
    x[:3, 4:] = 0.0
    y = rng.normal(size=(8, 6, 1)).astype("float32")
    histories = []
    for jit_compile in (True, False):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((6, 3)),
                keras.layers.Masking(0.0),
                keras.layers.Bidirectional(
                    layers.LSTM(
                        4, jit_compile=jit_compile, dropout=0.2, seed=3, return_sequences=True
                    )
                ),
                keras.layers.Dense(1),
            ]
        )
        model.compile(keras.optimizers.Adam(0.01), "mse")
        histories.append(model.fit(x, y, epochs=3, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-4)


@pytest.fixture
def compiled(monkeypatch):
    """The layers that run `compiled_inner_loop`, in call order."""
    layers_compiled = []
    original = RecurrentLayer.compiled_inner_loop

    def spy(layer, *args):
        layers_compiled.append(layer)
        return original(layer, *args)

    monkeypatch.setattr(RecurrentLayer, "compiled_inner_loop", spy)
    return layers_compiled


def test_auto_compiles_the_float32_lstm_and_full_gru_and_keeps_tensorflows_loop_for_the_others(
    compiled,
):
    x = np.ones((2, 4, 3), "float32")
    lstm, gru = layers.LSTM(3), layers.GRU(3)
    for layer in (
        lstm,
        gru,
        layers.GRU(3, minimal=True),
        layers.SimpleRNN(3),
        layers.LSTM(3, dtype="mixed_bfloat16"),
        layers.GRU(3, dtype="mixed_bfloat16"),
    ):
        layer(x, training=True)
        layer(x, training=False)
    assert compiled == [lstm, gru]


@pytest.mark.parametrize(
    "cores, intra, inter, compiles",
    [
        (2, 0, 0, True),  # TensorFlow's defaults: one thread per core in both pools
        (2, 2, 1, True),
        (2, 1, 1, True),
        (1, 0, 0, True),
        (2, 1, 2, False),  # the setting where TensorFlow's loop was measured faster
        (2, 1, 0, False),
    ],
)
def test_auto_keeps_tensorflows_loop_for_one_intra_op_thread_and_several_inter_op_threads(
    compiled, monkeypatch, cores, intra, inter, compiles
):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    monkeypatch.setattr(tf.config.threading, "get_intra_op_parallelism_threads", lambda: intra)
    monkeypatch.setattr(tf.config.threading, "get_inter_op_parallelism_threads", lambda: inter)
    x = np.ones((2, 4, 3), "float32")
    layers.LSTM(3, name="auto")(x, training=True)
    layers.LSTM(3, jit_compile=True, name="required")(x, training=True)
    assert [layer.name for layer in compiled] == (
        ["auto", "required"] if compiles else ["required"]
    )


@pytest.mark.parametrize(
    "make, steps, unrolls",
    [
        (lambda: layers.SimpleRNN(3), 4, True),
        (lambda: layers.SimpleRNN(3), MAX_UNROLLED_TRAINING_STEPS, True),
        (lambda: layers.SimpleRNN(3), MAX_UNROLLED_TRAINING_STEPS + 1, False),
        (lambda: layers.SimpleRNN(3), None, False),
        (lambda: layers.SimpleRNN(3, jit_compile=False), 4, False),
        (lambda: layers.GRU(3, minimal=True), 4, False),
        (lambda: layers.LSTM(3, jit_compile=False), 4, False),
    ],
)
def test_auto_unrolls_the_simple_rnns_training_over_short_known_lengths(make, steps, unrolls):
    assert make().unrolls_training(keras.KerasTensor((2, steps, 3))) is unrolls


def test_the_unrolled_training_loop_equals_tensorflows_loop_behind_a_mask():
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(4, 6, 3)).astype("float32"))
    mask = tf.constant(np.arange(6) < np.array([[6], [4], [2], [5]]))
    auto, loop = (
        keras.layers.Bidirectional(
            layers.SimpleRNN(5, return_sequences=True, jit_compile=jit_compile)
        )
        for jit_compile in ("auto", False)
    )
    auto.build(x.shape)
    loop.build(x.shape)
    loop.set_weights(auto.get_weights())

    def run(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, mask=mask, training=True)
            loss = tf.reduce_sum(y * tf.cos(3.0 * y))
        return y, tape.gradient(loss, [x, *layer.trainable_variables])

    def loops(layer):
        graph = tf.function(lambda: run(layer)).get_concrete_function().graph
        return [op for op in graph.get_operations() if op.type in ("While", "StatelessWhile")]

    assert not loops(auto) and loops(loop)
    (ours, our_gradients), (theirs, their_gradients) = run(auto), run(loop)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    for a, b in zip(our_gradients, their_gradients):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_auto_falls_back_to_tensorflows_loop_where_the_compiled_one_cannot_run():
    x = np.ones((2, 4, 3), "float32")
    mask = np.array([[True] * 4, [True, True, False, False]])
    for layer, call in [
        (layers.LSTM(3, recurrent_dropout=0.5), dict()),
        (layers.LSTM(3, activation="softplus"), dict()),
        (layers.LSTM(3, unroll=True), dict(mask=mask)),
    ]:
        assert layer(x, training=True, **call).shape == (2, 3)


@pytest.mark.parametrize(
    "layer, call, blocker",
    [
        (layers.LSTM(3, recurrent_dropout=0.5, jit_compile=True), dict(), "recurrent_dropout"),
        (layers.GRU(3, activation="softplus", jit_compile=True), dict(), "`activation`"),
        (layers.SimpleRNN(3, unroll=True, jit_compile=True), dict(), "unroll"),
    ],
)
def test_required_compiled_loop_names_what_prevents_it(layer, call, blocker):
    with pytest.raises(SeqKerasError, match=blocker):
        layer(np.ones((2, 2, 3), "float32"), training=True, **call)


def test_jit_compile_is_validated_and_kept_in_the_config():
    with pytest.raises(SeqKerasError, match="jit_compile"):
        layers.GRU(3, jit_compile="yes")
    layer = layers.GRU(3, jit_compile=False)
    assert layers.GRU.from_config(layer.get_config()).jit_compile is False
