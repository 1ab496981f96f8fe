"""ONNX export options and errors (the layer matrix is in test_layers.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqkeras import ExportError, export, layers, runtime
from tests.export.export_cases import sample_inputs


def test_native_rnn_off_keeps_loops_with_the_same_results(models, tmp_path):
    model = models("peephole_lstm_backwards")
    path = export.to_onnx(model, tmp_path / "loop.onnx", native_rnn=False)
    operators = export.onnx_operators(path)
    assert "LSTM" not in operators and operators["Loop"] == 1
    report = export.verify(model, path, sample_inputs(model, batch=2))
    assert max(report.max_abs_diff.values()) <= 1e-4


def test_inputs_and_outputs_keep_the_model_names(models, tmp_path):
    model = models("step")
    loaded = runtime.load_artifact(export.to_onnx(model, tmp_path / "step.onnx", opset=13))
    assert [s.name for s in loaded.inputs] == ["state_c", "state_h", "token"]
    assert sorted(s.name for s in loaded.outputs) == ["c", "h", "logits"]
    assert all(s.shape[0] is None for s in loaded.inputs + loaded.outputs)


@pytest.mark.parametrize("opset", [12, 19, "17", True])
def test_unsupported_opset_is_refused(models, tmp_path, opset):
    with pytest.raises(ExportError, match="opset"):
        export.to_onnx(models("lstm"), tmp_path / "m.onnx", opset=opset)
    assert not list(tmp_path.iterdir())


def test_operator_without_onnx_equivalent_is_reported_with_its_layer(tmp_path):
    inputs = keras.Input((4,), name="x")
    outputs = keras.layers.Lambda(lambda x: tf.math.bessel_i0e(x) * 2.0, name="bessel")(inputs)
    with pytest.raises(ExportError, match=r"BesselI0e \(layer bessel\)"):
        export.to_onnx(keras.Model(inputs, outputs), tmp_path / "bessel.onnx")
    assert not (tmp_path / "bessel.onnx").exists()


def test_existing_file_is_replaced_whole(models, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    export.to_onnx(models("gru"), path)
    x = np.zeros((1, 5, 3), "float32")
    np.testing.assert_allclose(runtime.load_artifact(path).predict(x), models("gru")(x), atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_inputs_and_outputs_sharing_a_name_are_refused(tmp_path):
    state = keras.Input((4,), name="h")
    model = keras.Model(state, {"h": keras.layers.Dense(4)(state)})
    with pytest.raises(ExportError, match=r"both named \['h'\]"):
        export.to_onnx(model, tmp_path / "m.onnx")


@pytest.mark.parametrize("gate", ["tanh", "relu"])
def test_gru_with_non_sigmoid_gates_exports_what_keras_computes(tmp_path, gate):
    # Negating the update-gate blocks turns Γu into ONNX's z = 1 - Γu for a sigmoid only.
    inputs = keras.Input((1, 1), name="x")
    model = keras.Model(inputs, layers.GRU(1, recurrent_activation=gate)(inputs))
    model.set_weights([np.array([[1.0, 0.0, 1.0]]), np.zeros((1, 3)), np.zeros(3)])
    x = np.ones((1, 1, 1), "float32")
    expected = np.tanh(1.0) * np.tanh(1.0) if gate == "tanh" else 1.0 * np.tanh(1.0)
    np.testing.assert_allclose(model(x), [[expected]], atol=1e-6)  # 0.58003 for tanh
    path = export.to_onnx(model, tmp_path / "gru.onnx")
    np.testing.assert_allclose(runtime.load_artifact(path).predict(x), [[expected]], atol=1e-5)
    assert "Loop" in export.onnx_operators(path)
