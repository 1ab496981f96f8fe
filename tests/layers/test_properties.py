"""Property-based tests: drawn layer configurations against the NumPy reference.

Each example draws a stack of one or two recurrent layers (cell, units, activations, bias,
return_sequences/state, go_backwards, unroll, Bidirectional), an input batch and a mask
pattern, and compares the Keras result with `numpy_reference`.
"""

import keras
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqkeras import layers
from tests.layers import numpy_reference

CELLS = {  # name -> (seqkeras layer, NumPy cell, fixed options)
    "simple_rnn": (layers.SimpleRNN, "simple_rnn", {}),
    "gru": (layers.GRU, "gru", {}),
    "minimal_gru": (layers.GRU, "gru", {"minimal": True}),
    "lstm": (layers.LSTM, "lstm", {}),
    "peephole_lstm": (layers.LSTM, "lstm", {"peephole": True}),
}
ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear"]
GATES = ["sigmoid", "hard_sigmoid", "tanh"]
MASKS = ["none", "right_padded", "left_padded", "holes"]
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def layer_configs(draw, last):
    """One layer's configuration; `last`: whether it is the top of the stack."""
    cell = draw(st.sampled_from(sorted(CELLS)))
    config = {
        "cell": cell,
        "units": draw(st.integers(1, 4)),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "use_bias": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "unroll": draw(st.booleans()),
        "bidirectional": draw(st.booleans()),
        "return_sequences": draw(st.booleans()) if last else True,
    }
    if cell != "simple_rnn":
        config["recurrent_activation"] = draw(st.sampled_from(GATES))
    # Bidirectional builds its backward half with go_backwards=True, whatever the layer's.
    config["go_backwards"] = config["go_backwards"] and not config["bidirectional"]
    config["return_state"] = last and not config["bidirectional"] and draw(st.booleans())
    return config


@st.composite
def stacks(draw):
    depth = draw(st.integers(1, 2))
    configs = [draw(layer_configs(last=i == depth - 1)) for i in range(depth)]
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 3)))
    pattern = draw(st.sampled_from(MASKS))
    seed = draw(st.integers(0, 2**16))
    return configs, shape, pattern, seed


def make_mask(pattern, batch, steps, rng):
    if pattern == "none":
        return None
    if pattern == "holes":
        return rng.random((batch, steps)) < 0.7
    lengths = rng.integers(0, steps + 1, batch)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    return mask if pattern == "right_padded" else mask[:, ::-1]


def make_layer(config):
    layer_class, _, fixed = CELLS[config["cell"]]
    options = {
        key: config[key]
        for key in ("units", "activation", "use_bias", "go_backwards", "unroll", "return_state")
    }
    if "recurrent_activation" in config:
        options["recurrent_activation"] = config["recurrent_activation"]
    layer = layer_class(return_sequences=config["return_sequences"], **options, **fixed)
    return keras.layers.Bidirectional(layer) if config["bidirectional"] else layer


def with_bias(config, weights):
    """The layer's weights with a zero bias in place of a missing one."""
    if config["use_bias"]:
        return weights
    return [*weights[:2], np.zeros(weights[1].shape[1]), *weights[2:]]


def reference_layer(config, x, mask, weights):
    """The NumPy result of one drawn layer: (output, states)."""
    _, cell, fixed = CELLS[config["cell"]]
    options = {"activation": numpy_reference.ACTIVATIONS[config["activation"]]}
    if "recurrent_activation" in config:
        options["gate"] = numpy_reference.ACTIVATIONS[config["recurrent_activation"]]
    if fixed.get("minimal"):
        options["minimal"] = True
    return_sequences = config["return_sequences"]
    if not config["bidirectional"]:
        return numpy_reference.run(
            cell,
            x,
            with_bias(config, weights),
            mask=mask,
            go_backwards=config["go_backwards"],
            return_sequences=return_sequences,
            **options,
        )
    half = len(weights) // 2
    halves = []
    for weights_half, backwards in ((weights[:half], False), (weights[half:], True)):
        # Bidirectional zeroes masked outputs when it returns sequences.
        output, _ = numpy_reference.run(
            cell,
            x,
            with_bias(config, weights_half),
            mask=mask,
            go_backwards=backwards,
            return_sequences=return_sequences,
            zero_output_for_mask=return_sequences,
            **options,
        )
        halves.append(output[:, ::-1] if backwards and return_sequences else output)
    return np.concatenate(halves, axis=-1), []


@PROPERTY_SETTINGS
@given(stacks())
def test_drawn_stacks_match_the_numpy_reference(stack):
    configs, shape, pattern, seed = stack
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype("float32")
    mask = make_mask(pattern, shape[0], shape[1], rng)
    hidden, expected = x, x.astype("float64")
    for config in configs:
        layer = make_layer(config)
        layer.build(hidden.shape)
        layer.set_weights(
            [rng.normal(scale=0.6, size=w.shape).astype("float32") for w in layer.get_weights()]
        )
        results = keras.tree.flatten(layer(hidden, mask=mask))
        expected, states = reference_layer(config, expected, mask, layer.get_weights())
        hidden = keras.ops.convert_to_numpy(results[0])
        np.testing.assert_allclose(hidden, expected, rtol=1e-4, atol=2e-5, err_msg=str(config))
        for state, expected_state in zip(results[1:], states):
            np.testing.assert_allclose(state, expected_state, rtol=1e-4, atol=2e-5)
