"""Behaviour every seqkeras sequence layer shares, checked for each cell and option."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqkeras import SeqKerasError, layers
from tests.layers import numpy_reference

LAYERS = {
    "simple_rnn": lambda units, **kw: layers.SimpleRNN(units, **kw),
    "gru": lambda units, **kw: layers.GRU(units, **kw),
    "minimal_gru": lambda units, **kw: layers.GRU(units, minimal=True, **kw),
    "lstm": lambda units, **kw: layers.LSTM(units, **kw),
    "peephole_lstm": lambda units, **kw: layers.LSTM(units, peephole=True, **kw),
}
REFERENCE = {  # NumPy cell and its options, per entry of LAYERS
    "simple_rnn": ("simple_rnn", {}),
    "gru": ("gru", {}),
    "minimal_gru": ("gru", {"minimal": True}),
    "lstm": ("lstm", {}),
    "peephole_lstm": ("lstm", {}),
}
CELLS = {
    "simple_rnn": lambda units: layers.SimpleRNNCell(units),
    "gru": lambda units: layers.GRUCell(units),
    "minimal_gru": lambda units: layers.GRUCell(units, minimal=True),
    "lstm": lambda units: layers.LSTMCell(units),
    "peephole_lstm": lambda units: layers.LSTMCell(units, peephole=True),
}
BATCH, TIME, FEATURES, UNITS = 3, 6, 4, 5


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, 4:] = False  # right padding
    mask[1, :2] = False  # left padding
    return x, mask


def randomized(layer, seed=0):
    """Non-trivial weights everywhere (biases and peepholes start at 0 or 1)."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()]
    )
    return layer


def built(name, x, **options):
    layer = LAYERS[name](UNITS, **options)
    layer.build(x.shape)
    return randomized(layer)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked+backwards"])
def test_gradients_match_finite_differences(name, masked):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 3))
    mask = np.array([[True, True, True, False], [False, True, True, True]]) if masked else None
    layer = LAYERS[name](3, return_sequences=True, go_backwards=masked, dtype="float64")
    layer.build(x.shape)
    randomized(layer)
    weights = layer.get_weights()

    def loss(weight_values):
        layer.set_weights(weight_values)
        return float(tf.reduce_sum(tf.sin(layer(x, mask=mask, training=True))))

    with tf.GradientTape() as tape:
        value = tf.reduce_sum(tf.sin(layer(x, mask=mask, training=True)))
    analytic = [g.numpy() for g in tape.gradient(value, layer.trainable_weights)]
    epsilon = 1e-6
    for index, weight in enumerate(weights):
        for position in list(np.ndindex(weight.shape))[:: max(1, weight.size // 7)]:
            shifted = [w.copy() for w in weights]
            shifted[index][position] += epsilon
            upper = loss(shifted)
            shifted[index][position] -= 2 * epsilon
            lower = loss(shifted)
            numeric = (upper - lower) / (2 * epsilon)
            np.testing.assert_allclose(analytic[index][position], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", LAYERS)
def test_cell_in_keras_rnn_equals_sequence_layer(name, inputs):
    x, _ = inputs
    layer = built(name, x, return_sequences=True)
    rnn = keras.layers.RNN(CELLS[name](UNITS), return_sequences=True)
    rnn.build(x.shape)
    rnn.set_weights(layer.get_weights())
    np.testing.assert_allclose(rnn(x), layer(x), atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_padded_steps_leave_the_final_state_unchanged(name, inputs):
    x, _ = inputs
    layer = built(name, x, return_state=True)
    padded = np.concatenate([x, np.full((BATCH, 3, FEATURES), 9.0, "float32")], axis=1)
    mask = np.concatenate([np.ones((BATCH, TIME), bool), np.zeros((BATCH, 3), bool)], axis=1)
    for training in (False, True):
        expected = layer(x, training=training)
        got = layer(padded, mask=mask, training=training)
        for e, g in zip(keras.tree.flatten(expected), keras.tree.flatten(got)):
            np.testing.assert_allclose(g, e, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_embedding_mask_zero_propagates(name):
    ids = np.array([[3, 1, 2, 0, 0], [1, 2, 3, 4, 1]])
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(5, FEATURES, mask_zero=True)(inputs)
    model = keras.Model(inputs, LAYERS[name](UNITS)(embedded))
    np.testing.assert_allclose(model(ids)[0], model(ids[:1, :3])[0], atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_go_backwards_reverses_the_sequence(name, inputs):
    x, _ = inputs
    forward = built(name, x, return_sequences=True)
    backward = LAYERS[name](UNITS, return_sequences=True, go_backwards=True)
    backward.build(x.shape)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(x), forward(x[:, ::-1]), atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_return_state_and_initial_state(name, inputs):
    x, _ = inputs
    layer = built(name, x, return_sequences=True, return_state=True)
    sequence, *states = layer(x)
    assert len(states) == (2 if "lstm" in name else 1)
    np.testing.assert_allclose(sequence[:, -1], states[0], atol=1e-6)
    # Running the second half from the first half's final states continues the sequence.
    _, *half_states = layer(x[:, :3])
    second, *_ = layer(x[:, 3:], initial_state=half_states)
    np.testing.assert_allclose(second, sequence[:, 3:], atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_stateful_carries_states_between_batches(name, inputs):
    x, _ = inputs
    whole = built(name, x, return_sequences=True)
    stateful = LAYERS[name](UNITS, return_sequences=True, stateful=True)
    stateful.build(x.shape)
    stateful.set_weights(whole.get_weights())
    first, second = stateful(x[:, :3]), stateful(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole(x), atol=1e-5)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :3]), first, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_bidirectional_concatenates_both_directions(name, inputs):
    x, _ = inputs
    bidirectional = keras.layers.Bidirectional(LAYERS[name](UNITS, return_sequences=True))
    bidirectional.build(x.shape)
    forward, backward = bidirectional.forward_layer, bidirectional.backward_layer
    assert backward.go_backwards and type(backward) is type(forward)
    expected = np.concatenate([forward(x), backward(x)[:, ::-1]], axis=-1)
    np.testing.assert_allclose(bidirectional(x), expected, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_masked_bidirectional_is_exact_unrolled_or_not(name, inputs):
    # The backward half of an unrolled Bidirectional over padded rows used to zero valid steps
    # (Keras's unrolled loop applies zero_output_for_mask in input order).
    x, mask = inputs
    cell, options = REFERENCE[name]
    results = {}
    for unroll in (False, True):
        bidirectional = keras.layers.Bidirectional(
            LAYERS[name](UNITS, return_sequences=True, unroll=unroll)
        )
        bidirectional.build(x.shape)
        randomized(bidirectional)
        results[unroll] = keras.ops.convert_to_numpy(bidirectional(x, mask=mask))
        forward = bidirectional.forward_layer.get_weights()
        backward = bidirectional.backward_layer.get_weights()
    expected = numpy_reference.bidirectional(
        cell, x.astype("float64"), forward, backward, mask=mask, **options
    )
    np.testing.assert_allclose(results[True], expected, atol=1e-5)
    np.testing.assert_allclose(results[False], expected, atol=1e-5)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("name", LAYERS)
def test_masked_go_backwards_is_exact_unrolled_or_not(name, return_sequences, inputs):
    x, mask = inputs
    cell, options = REFERENCE[name]
    for unroll in (False, True):
        for zero_output_for_mask in (False, True):
            layer = built(
                name,
                x,
                go_backwards=True,
                unroll=unroll,
                return_sequences=return_sequences,
                return_state=True,
                zero_output_for_mask=zero_output_for_mask,
            )
            output, *states = layer(x, mask=mask)
            expected, expected_states = numpy_reference.run(
                cell,
                x.astype("float64"),
                layer.get_weights(),
                mask=mask,
                go_backwards=True,
                return_sequences=return_sequences,
                zero_output_for_mask=zero_output_for_mask,
                **options,
            )
            np.testing.assert_allclose(output, expected, atol=1e-5)
            for state, expected_state in zip(states, expected_states):
                np.testing.assert_allclose(state, expected_state, atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_stacked_layers_and_stacked_cells(name, inputs):
    x, _ = inputs
    first = built(name, x, return_sequences=True)
    second = LAYERS[name](UNITS)
    second.build((BATCH, TIME, UNITS))
    randomized(second, seed=1)
    stacked = keras.layers.RNN(keras.layers.StackedRNNCells([CELLS[name](UNITS) for _ in "ab"]))
    stacked.build(x.shape)
    stacked.set_weights(first.get_weights() + second.get_weights())
    np.testing.assert_allclose(stacked(x), second(first(x)), atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_keras_file_round_trip(name, inputs, tmp_path):
    x, _ = inputs
    model_inputs = keras.Input((None, FEATURES))
    hidden = keras.layers.Bidirectional(LAYERS[name](UNITS, return_sequences=True))(model_inputs)
    outputs = LAYERS[name](UNITS, dropout=0.1, recurrent_dropout=0.1)(hidden)
    model = keras.Model(model_inputs, keras.layers.Dense(2)(outputs))
    randomized(model)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]


@pytest.mark.parametrize("name", LAYERS)
def test_dropout_only_in_training(name, inputs):
    x, _ = inputs
    layer = built(name, x, dropout=0.5, recurrent_dropout=0.5, seed=3)
    np.testing.assert_array_equal(layer(x), layer(x))
    assert not np.allclose(layer(x, training=True), layer(x))


@pytest.mark.parametrize("name", LAYERS)
def test_trains_with_fit(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5, 2)).astype("float32")
    y = x[:, 0, :1]  # remember the first step
    inputs = keras.Input((5, 2))
    model = keras.Model(inputs, keras.layers.Dense(1)(LAYERS[name](8)(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(0.02, clipnorm=1.0), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.LSTM(0), "units"),
        (lambda: layers.GRU(-3), "units"),
        (lambda: layers.SimpleRNN(2.5), "units"),
        (lambda: layers.LSTMCell("8"), "units"),
        (lambda: layers.GRUCell(True), "units"),
        (lambda: layers.SimpleRNN(4, activation="tanhh"), "activation"),
        (lambda: layers.LSTM(4, recurrent_activation="nope"), "recurrent_activation"),
        (lambda: layers.GRU(4, dropout=1.5), "dropout"),
        (lambda: layers.LSTMCell(4, recurrent_dropout=-0.1), "recurrent_dropout"),
    ],
)
def test_bad_arguments_raise_seqkeras_error(make, message):
    with pytest.raises(SeqKerasError, match=message):
        make()


@pytest.mark.parametrize("name", LAYERS)
def test_wrong_input_rank_raises_seqkeras_error(name):
    with pytest.raises(SeqKerasError, match=r"\(batch, time, features\)"):
        LAYERS[name](UNITS)(np.zeros((2, 3), "float32"))
    with pytest.raises(SeqKerasError, match=r"\(batch, features\)"):
        CELLS[name](UNITS).build((2, 3, 4))
