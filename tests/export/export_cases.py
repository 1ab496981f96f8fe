"""Tiny models covering every recurrent layer and option the exporters must handle."""

import keras
import numpy as np

from seqkeras import layers

STEPS, FEATURES, UNITS, VOCAB = 5, 3, 4, 7


def randomize(model, seed=0):
    """Weights uniform in [-1, 1], so that every gate and peephole matters."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.uniform(-1.0, 1.0, weight.shape).astype(weight.dtype))
    return model


def sequence_model(make_layer, name):
    inputs = keras.Input((STEPS, FEATURES), name="x")
    return randomize(keras.Model(inputs, make_layer()(inputs), name=name))


def stacked_model():
    inputs = keras.Input((STEPS, FEATURES), name="x")
    hidden = layers.LSTM(UNITS, peephole=True, return_sequences=True)(inputs)
    hidden = layers.GRU(UNITS, return_sequences=True)(hidden)
    hidden = keras.layers.LSTM(UNITS)(hidden)
    return randomize(keras.Model(inputs, keras.layers.Dense(2)(hidden), name="stacked"))


def masked_model():
    tokens = keras.Input((STEPS,), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(VOCAB, FEATURES, mask_zero=True)(tokens)
    hidden = keras.layers.Bidirectional(layers.LSTM(UNITS, peephole=True, return_sequences=True))(
        hidden
    )
    hidden = layers.GRU(UNITS, minimal=True)(hidden)
    return randomize(keras.Model(tokens, hidden, name="masked"))


def step_model():
    """A decoder step: one token and the states in, logits and the new states out."""
    token = keras.Input((1,), dtype="int32", name="token")
    state_h = keras.Input((UNITS,), name="state_h")
    state_c = keras.Input((UNITS,), name="state_c")
    embedded = keras.layers.Embedding(VOCAB, FEATURES)(token)
    output, h, c = layers.LSTM(UNITS, peephole=True, return_state=True)(
        embedded, initial_state=[state_h, state_c]
    )
    logits = keras.layers.Dense(VOCAB)(output)
    return randomize(
        keras.Model(
            {"token": token, "state_h": state_h, "state_c": state_c},
            {"logits": logits, "h": h, "c": c},
            name="step",
        )
    )


CASES = {
    "keras_lstm": lambda: sequence_model(
        lambda: keras.layers.LSTM(UNITS, return_sequences=True), "keras_lstm"
    ),
    "keras_gru": lambda: sequence_model(lambda: keras.layers.GRU(UNITS), "keras_gru"),
    "lstm": lambda: sequence_model(lambda: layers.LSTM(UNITS), "lstm"),
    "peephole_lstm_backwards": lambda: sequence_model(
        lambda: layers.LSTM(UNITS, peephole=True, go_backwards=True, return_sequences=True),
        "peephole_lstm_backwards",
    ),
    "gru": lambda: sequence_model(lambda: layers.GRU(UNITS, return_sequences=True), "gru"),
    "minimal_gru": lambda: sequence_model(lambda: layers.GRU(UNITS, minimal=True), "minimal_gru"),
    "simple_rnn": lambda: sequence_model(
        lambda: layers.SimpleRNN(UNITS, return_sequences=True), "simple_rnn"
    ),
    "bidirectional_peephole": lambda: sequence_model(
        lambda: keras.layers.Bidirectional(layers.LSTM(UNITS, peephole=True)),
        "bidirectional_peephole",
    ),
    "stacked": stacked_model,
    "masked": masked_model,
    "step": step_model,
}

# The recurrent operators each case's ONNX graph (subgraphs included) must contain.
ONNX_RNN_NODES = {
    "keras_lstm": ["LSTM"],
    "keras_gru": ["GRU"],
    "lstm": ["LSTM"],
    "peephole_lstm_backwards": ["LSTM"],
    "gru": ["GRU"],
    "minimal_gru": ["GRU"],
    "simple_rnn": ["RNN"],
    "bidirectional_peephole": ["LSTM"],  # one direction="bidirectional" node
    "stacked": ["GRU", "LSTM", "LSTM"],
    # Masked layers: an If per layer, the native node for right-padded rows, a Loop otherwise.
    "masked": ["GRU", "LSTM", "LSTM", "Loop", "Loop", "Loop"],
    "step": ["LSTM"],
}


def sample_inputs(model, batch, seed=1):
    """Random inputs for `model`: float features, token ids with padding for masked models."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, tensor in zip(
        sorted(model.input) if isinstance(model.input, dict) else [model.input.name],
        keras.tree.flatten(model.input),
    ):
        shape = (batch, *tensor.shape[1:])
        if tensor.dtype.startswith("int"):
            ids = rng.integers(1, VOCAB, shape).astype(tensor.dtype)
            if len(shape) == 2 and shape[1] > 2:
                ids[: batch // 2 + 1, -2:] = 0  # right padding
                ids[-1, 1] = 0  # a masked step in the middle
            values[name] = ids
        else:
            values[name] = rng.normal(0.0, 1.5, shape).astype("float32")
    return values if isinstance(model.input, dict) else next(iter(values.values()))


def build(case):
    keras.utils.set_random_seed(0)
    return CASES[case]()
