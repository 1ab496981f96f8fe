"""TFLite routes (WHILE, unrolled, fused LSTM kernel), quantization and export errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from seqkeras.export.tflite_export import convert_tflite

from seqkeras import ExportError, export, layers, runtime
from tests.export.export_cases import FEATURES, STEPS, UNITS, randomize, sample_inputs

TOLERANCE = 1e-4


def parity(model, path, inputs):
    return max(export.verify(model, path, inputs).max_abs_diff.values())


@pytest.mark.parametrize(
    ("case", "lstm_layers"), [("keras_lstm", 1), ("bidirectional_peephole", 2), ("stacked", 2)]
)
def test_fused_route_runs_lstms_in_the_fused_kernel_with_parity(
    case, lstm_layers, models, tmp_path
):
    model = models(case)
    path = export.to_tflite(model, tmp_path / "fused.tflite", route="fused")
    operators = export.tflite_operators(path)
    assert operators["UNIDIRECTIONAL_SEQUENCE_LSTM"] == lstm_layers
    inputs = sample_inputs(model, batch=3)
    assert parity(model, path, inputs) <= TOLERANCE
    # The kernel's state persists between invocations; the runtime resets it each run.
    loaded = runtime.load_artifact(path)
    np.testing.assert_array_equal(loaded.predict(inputs), loaded.predict(inputs))


def test_fused_route_does_not_clip_the_cell_state(tmp_path):
    """The converter clips c<t> at 10 in the fused kernel; Keras does not."""
    inputs = keras.Input((20, 1), name="x")
    layer = keras.layers.LSTM(1)
    model = keras.Model(inputs, layer(inputs))
    kernel, recurrent_kernel, bias = (np.zeros(w.shape, "float32") for w in layer.weights)
    kernel[0, 2] = 20.0  # candidate = tanh(20 x) = ±1
    bias[[0, 1, 3]] = 20.0  # input, forget and output gates open
    layer.set_weights([kernel, recurrent_kernel, bias])
    x = np.concatenate([np.ones(12), -np.ones(8)]).reshape(1, 20, 1).astype("float32")
    path = export.to_tflite(model, tmp_path / "fused.tflite", route="fused")
    operators = export.tflite_operators(path)
    assert operators["UNIDIRECTIONAL_SEQUENCE_LSTM"] == 1 and "WHILE" not in operators
    # c rises to 12 then falls to 4: a<T> = tanh(4); clipped at 10 it would be tanh(2).
    np.testing.assert_allclose(model(x), np.tanh(4.0).reshape(1, 1), atol=1e-4)
    assert parity(model, path, x) <= TOLERANCE


def test_fused_route_leaves_what_the_kernel_cannot_compute_to_the_loop(models, tmp_path):
    model = models("step")  # its LSTM starts from input states and returns its state
    path = export.to_tflite(model, tmp_path / "step.tflite", route="fused")
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" not in export.tflite_operators(path)
    assert parity(model, path, sample_inputs(model, batch=2)) <= TOLERANCE


def test_auto_route_unrolls_single_steps_and_loops_over_sequences(models):
    step = convert_tflite(models("step"))
    assert set(step.layer_routes.values()) == {"unroll"} and "WHILE" not in step.operators
    encoder = convert_tflite(models("stacked"))
    assert list(encoder.layer_routes.values()) == ["while"] * 3
    assert encoder.operators["WHILE"] == 3


def test_auto_batch_size_is_free_except_on_the_fused_route(models):
    assert convert_tflite(models("stacked")).batch_size is None
    assert convert_tflite(models("step")).batch_size is None
    fused = convert_tflite(models("keras_lstm"), route="fused")
    assert fused.batch_size == 1 and set(fused.layer_routes.values()) == {"fused"}


@pytest.mark.parametrize("case", ["stacked", "step", "masked"])
def test_a_free_batch_size_matches_keras_at_every_batch_size(case, models, tmp_path):
    model = models(case)
    path = export.to_tflite(model, tmp_path / "free.tflite", batch_size=None)
    loaded = runtime.load_artifact(path)
    assert loaded.batch_size is None
    inputs = sample_inputs(model, batch=7)
    for size in (7, 1, 3, 7):  # one interpreter, resized between calls
        part = keras.tree.map_structure(lambda array, size=size: array[:size], inputs)
        assert parity(model, path, part) <= TOLERANCE
        fresh = runtime.load_artifact(path).predict(part)
        for value, expected in zip(
            keras.tree.flatten(loaded.predict(part)), keras.tree.flatten(fresh)
        ):
            np.testing.assert_array_equal(value, expected)


def test_unrolled_route_has_no_loop_and_matches_keras(models, tmp_path):
    model = models("masked")
    path = export.to_tflite(model, tmp_path / "unrolled.tflite", route="unroll")
    assert "WHILE" not in export.tflite_operators(path)
    assert parity(model, path, sample_inputs(model, batch=3)) <= TOLERANCE


TRIMMED_LAYERS = {
    "lstm_sequences": lambda: layers.LSTM(UNITS, return_sequences=True),
    "lstm_zero_outputs": lambda: layers.LSTM(
        UNITS, return_sequences=True, zero_output_for_mask=True, return_state=True
    ),
    "gru_backwards": lambda: layers.GRU(UNITS, return_sequences=True, go_backwards=True),
    "bidirectional": lambda: keras.layers.Bidirectional(
        layers.LSTM(UNITS, peephole=True, return_sequences=True)
    ),
    "simple_rnn_last": lambda: layers.SimpleRNN(UNITS),
    "keras_lstm": lambda: keras.layers.LSTM(UNITS, return_sequences=True, go_backwards=True),
}


@pytest.mark.parametrize("layer", TRIMMED_LAYERS)
@pytest.mark.parametrize("batch_size", [1, 4, None])
def test_while_route_skips_the_steps_masked_in_every_row_with_keras_results(
    layer, batch_size, tmp_path
):
    inputs = keras.Input((7, FEATURES), name="x")
    outputs = TRIMMED_LAYERS[layer]()(keras.layers.Masking(0.0)(inputs))
    model = randomize(keras.Model(inputs, outputs))
    path = export.to_tflite(model, tmp_path / "masked.tflite", batch_size=batch_size)
    assert export.tflite_operators(path)["WHILE"] >= 1
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, FEATURES)).astype("float32")
    steps = np.arange(7)
    right_padded = steps[None, :] < np.array([7, 3, 1, 0])[:, None]
    middle = (steps == 3)[None, :] & (np.arange(4) == 2)[:, None]
    for kept in (right_padded, right_padded[:, ::-1], middle, np.zeros_like(middle)):
        assert parity(model, path, np.where(kept[..., None], x, 0.0)) <= TOLERANCE


def fully_connected_per_subgraph(path):
    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    fully_connected = {
        i
        for i, code in enumerate(codes)
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        == schema.BuiltinOperator.FULLY_CONNECTED
    }
    counts = []
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        operators = (subgraph.Operators(o) for o in range(subgraph.OperatorsLength()))
        counts.append(sum(op.OpcodeIndex() in fully_connected for op in operators))
    return counts


def test_while_route_projects_the_inputs_of_all_steps_before_the_loop(tmp_path):
    inputs = keras.Input((6, FEATURES), name="x")
    hidden = layers.LSTM(UNITS, return_sequences=True, peephole=True)(inputs)
    model = randomize(keras.Model(inputs, layers.GRU(UNITS, go_backwards=True)(hidden)))
    path = export.to_tflite(model, tmp_path / "projected.tflite", route="while")
    main, *loops = fully_connected_per_subgraph(path)
    assert main == 2  # x<t>·W + b of every step, one per layer
    # The loop bodies keep the recurrent matmuls only: the LSTM's a<t-1>·U, the GRU's
    # c<t-1>·[Uu Ur] and (Γr * c<t-1>)·Uc.
    assert sorted(count for count in loops if count) == [1, 2]
    x = np.random.default_rng(0).normal(size=(3, 6, FEATURES)).astype("float32")
    assert parity(model, path, x) <= TOLERANCE


def free_length_model():
    inputs = keras.Input((None, FEATURES), name="x")
    return randomize(keras.Model(inputs, layers.LSTM(UNITS, peephole=True)(inputs)))


def test_while_route_takes_any_sequence_length(tmp_path):
    model = free_length_model()
    path = export.to_tflite(model, tmp_path / "free.tflite")
    for steps in (2, 9):
        x = np.random.default_rng(steps).normal(size=(2, steps, FEATURES)).astype("float32")
        assert parity(model, path, x) <= TOLERANCE


def test_sequence_length_fixes_the_time_dimension(tmp_path):
    model = free_length_model()
    path = export.to_tflite(model, tmp_path / "fixed.tflite", sequence_length=6, route="unroll")
    loaded = runtime.load_artifact(path)
    assert loaded.inputs[0].shape == (None, 6, FEATURES)
    x = np.ones((1, 6, FEATURES), "float32")
    np.testing.assert_allclose(loaded.predict(x), model(x), atol=TOLERANCE)


def test_batch_size_greater_than_one(models, tmp_path):
    model = models("gru")
    path = export.to_tflite(model, tmp_path / "batch2.tflite", batch_size=2)
    loaded = runtime.load_artifact(path)
    assert loaded.batch_size == 2
    assert parity(model, path, sample_inputs(model, batch=5)) <= TOLERANCE  # 2 + 2 + 1 padded


@pytest.fixture(scope="module")
def wide_model():
    """Wide enough for the quantizer to touch the weights (it skips tiny tensors)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, 16), name="x")
    hidden = layers.LSTM(64, peephole=True, return_sequences=True)(inputs)
    hidden = layers.GRU(64)(hidden)
    return keras.Model(inputs, keras.layers.Dense(8)(hidden))


@pytest.mark.parametrize(
    ("quantize", "max_diff", "max_size_ratio"),
    [("float16", 1e-2, 0.6), ("dynamic", 5e-2, 0.45), ("int8", 0.2, 0.6)],
)
def test_quantized_exports_shrink_and_stay_close(
    wide_model, tmp_path, quantize, max_diff, max_size_ratio
):
    x = np.random.default_rng(0).normal(size=(64, STEPS, 16)).astype("float32")
    reference = export.to_tflite(wide_model, tmp_path / "float32.tflite")
    path = export.to_tflite(
        wide_model, tmp_path / f"{quantize}.tflite", quantize=quantize, representative_data=x
    )
    assert path.stat().st_size <= max_size_ratio * reference.stat().st_size
    operators = export.tflite_operators(path)
    assert all(op.isupper() for op in operators)
    assert parity(wide_model, path, x[:8]) <= max_diff


def test_fused_kernel_with_int8_weights(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, 16), name="x")
    model = keras.Model(inputs, keras.layers.LSTM(64)(inputs))
    path = export.to_tflite(model, tmp_path / "hybrid.tflite", route="fused", quantize="dynamic")
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in export.tflite_operators(path)
    x = np.random.default_rng(0).normal(size=(4, STEPS, 16)).astype("float32")
    assert parity(model, path, x) <= 5e-2


def test_non_builtin_tensorflow_op_is_reported_with_its_layer(tmp_path):
    inputs = keras.Input((4,), name="x")
    outputs = keras.layers.Lambda(lambda x: tf.math.bessel_i0e(x) * 2.0, name="bessel")(inputs)
    with pytest.raises(ExportError, match=r"layer bessel"):
        export.to_tflite(keras.Model(inputs, outputs), tmp_path / "bessel.tflite")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"route": "scan"}, "route"),
        ({"quantize": "int4"}, "quantize"),
        ({"quantize": "int8"}, "representative_data"),
        ({"batch_size": 0}, "batch_size"),
        ({"sequence_length": 2.5}, "sequence_length"),
        (
            {"route": "while", "quantize": "int8", "representative_data": np.zeros((2, 5, 3))},
            "int8",
        ),
    ],
)
def test_invalid_arguments_raise_export_error(models, tmp_path, arguments, message):
    with pytest.raises(ExportError, match=message):
        export.to_tflite(models("lstm"), tmp_path / "bad.tflite", **arguments)


def test_unrolling_needs_a_fixed_length(tmp_path):
    with pytest.raises(ExportError, match="sequence_length"):
        export.to_tflite(free_length_model(), tmp_path / "u.tflite", route="unroll")


def test_stateful_layers_and_non_models_are_refused(tmp_path):
    inputs = keras.Input(batch_shape=(1, STEPS, FEATURES))
    stateful = keras.Model(inputs, layers.LSTM(UNITS, stateful=True, name="memory")(inputs))
    with pytest.raises(ExportError, match="'memory' is stateful"):
        export.to_tflite(stateful, tmp_path / "s.tflite")
    with pytest.raises(ExportError, match=r"keras\.Model"):
        export.to_tflite(layers.LSTM(UNITS), tmp_path / "s.tflite")
