"""Native ONNX recurrent nodes for masked layers (sequence_lens), the minimal GRU and
Bidirectional (one direction="bidirectional" node)."""

import keras
import numpy as np
import onnx
import onnxruntime
import pytest
from onnx.reference import ReferenceEvaluator

from seqkeras import export, layers
from tests.export.export_cases import FEATURES, STEPS, UNITS, build, randomize

MASKS = {
    "right_padded": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]],
    "left_padded": [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1]],
    "holes": [[1, 0, 1, 1, 0], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1]],
    "empty_row": [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]],
}


def masked_model(make_layer, name):
    """Masking(0.0) in front of one recurrent layer; every output of the layer is an output."""
    inputs = keras.Input((STEPS, FEATURES), name="x")
    results = keras.tree.flatten(make_layer()(keras.layers.Masking(0.0)(inputs)))
    return randomize(keras.Model(inputs, results, name=name))


LAYERS = {
    "lstm_sequences": lambda: layers.LSTM(UNITS, return_sequences=True),
    "peephole_lstm_states": lambda: layers.LSTM(UNITS, peephole=True, return_state=True),
    "gru_backwards_sequences": lambda: layers.GRU(
        UNITS, go_backwards=True, return_sequences=True, return_state=True
    ),
    "minimal_gru_backwards": lambda: layers.GRU(UNITS, minimal=True, go_backwards=True),
    "simple_rnn_zero_output": lambda: layers.SimpleRNN(
        UNITS, return_sequences=True, zero_output_for_mask=True
    ),
    "keras_lstm": lambda: keras.layers.LSTM(UNITS, return_sequences=True),
    "bidirectional_peephole": lambda: keras.layers.Bidirectional(
        layers.LSTM(UNITS, peephole=True, return_sequences=True)
    ),
}


def padded_inputs(pattern, seed=0):
    x = np.random.default_rng(seed).normal(size=(3, STEPS, FEATURES)).astype("float32")
    return x * np.asarray(MASKS[pattern], "float32")[..., None]


def keras_outputs(model, x):
    return [keras.ops.convert_to_numpy(y) for y in keras.tree.flatten(model(x))]


def only_branch(path, branch, tmp_path):
    """A copy of the ONNX file whose every `If` runs its `branch` whatever its condition."""
    proto = onnx.load(str(path))
    for node in proto.graph.node:
        if node.op_type == "If":
            chosen = next(a.g for a in node.attribute if a.name == branch)
            for attribute in node.attribute:
                attribute.g.CopyFrom(chosen)
    copy = tmp_path / f"{branch}.onnx"
    onnx.save(proto, str(copy))
    return onnxruntime.InferenceSession(str(copy), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("native")
    cache = {}

    def get(name):
        if name not in cache:
            keras.utils.set_random_seed(0)
            model = masked_model(LAYERS[name], name)
            cache[name] = model, export.to_onnx(model, folder / f"{name}.onnx")
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_masked_layer_is_a_native_node_inside_an_if(name, exported):
    _, path = exported(name)
    operators = export.onnx_operators(path)
    native = sum(operators.get(op, 0) for op in ("LSTM", "GRU", "RNN"))
    assert native == (2 if name.startswith("bidirectional") else 1)
    assert operators["If"] == native


@pytest.mark.parametrize("pattern", sorted(MASKS))
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_masked_export_matches_keras_for_every_mask(name, pattern, exported):
    model, path = exported(name)
    x = padded_inputs(pattern)
    report = export.verify(model, path, x)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_native_branch_alone_is_exact_on_right_padded_rows(name, exported, tmp_path):
    # Every If forced to its native branch: what runs for right-padded rows, checked alone.
    model, path = exported(name)
    session = only_branch(path, "then_branch", tmp_path)
    x = padded_inputs("right_padded", seed=3)
    results = session.run(None, {"x": x})
    for got, expected in zip(results, keras_outputs(model, x)):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_minimal_gru_is_a_native_gru_with_the_reset_gate_open(models, tmp_path):
    model = models("minimal_gru")
    path = export.to_onnx(model, tmp_path / "minimal.onnx")
    assert export.onnx_operators(path).get("GRU") == 1 and "Loop" not in export.onnx_operators(path)
    x = np.random.default_rng(2).normal(size=(4, STEPS, FEATURES)).astype("float32")
    expected = keras_outputs(model, x)[0]
    # The ONNX operator specification's own evaluator, not only onnxruntime.
    (reference,) = ReferenceEvaluator(str(path)).run(None, {"x": x})
    np.testing.assert_allclose(reference, expected, atol=1e-5)
    (runtime,) = onnxruntime.InferenceSession(str(path)).run(None, {"x": x})
    np.testing.assert_allclose(runtime, expected, atol=1e-5)


def test_masked_stack_keeps_the_model_results_end_to_end(models, tmp_path):
    model = build("masked")  # Embedding(mask_zero) -> Bidirectional(peephole) -> minimal GRU
    path = export.to_onnx(model, tmp_path / "masked.onnx")
    operators = export.onnx_operators(path)
    assert operators["LSTM"] == 2 and operators["GRU"] == 1 and operators["If"] == 3
    ids = np.array([[1, 2, 3, 4, 5], [3, 4, 0, 0, 0], [0, 2, 2, 0, 1]], "int32")
    assert export.verify(model, path, ids).passed


BIDIRECTIONAL = {
    "lstm_peephole_sequences": lambda: layers.LSTM(UNITS, peephole=True, return_sequences=True),
    "gru_last": lambda: layers.GRU(UNITS),
    "minimal_gru_sequences": lambda: layers.GRU(UNITS, minimal=True, return_sequences=True),
    "simple_rnn_states": lambda: layers.SimpleRNN(UNITS, return_state=True),
    "keras_lstm_states": lambda: keras.layers.LSTM(UNITS, return_sequences=True, return_state=True),
}


@pytest.mark.parametrize("name", sorted(BIDIRECTIONAL))
def test_bidirectional_is_one_bidirectional_node(name, tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, FEATURES), name="x")
    results = keras.layers.Bidirectional(BIDIRECTIONAL[name]())(inputs)
    model = randomize(keras.Model(inputs, keras.tree.flatten(results), name=name))
    path = export.to_onnx(model, tmp_path / "bidirectional.onnx")
    (node,) = [n for n in onnx.load(str(path)).graph.node if n.op_type in ("LSTM", "GRU", "RNN")]
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attributes["direction"] == b"bidirectional"
    x = np.random.default_rng(4).normal(size=(3, STEPS, FEATURES)).astype("float32")
    assert export.verify(model, path, x).passed
