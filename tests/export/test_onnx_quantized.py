"""`to_onnx(quantize="dynamic")`: int8 weights through ONNX Runtime's quantizer, in files,
bundles and the command line."""

import json

import keras
import numpy as np
import onnxruntime
import pytest
from onnx import TensorProto, helper

from export.onnx_export import _sort_topologically
from seqkeras import ExportError, cli, export, layers, runtime
from seqkeras.tasks.seq2seq_model import build_seq2seq, inference_models
from tests.export.export_cases import build

STEPS, FEATURES, UNITS = 12, 16, 64


def wide_model(masked=False):
    """Wide enough for the quantizer to touch the weights."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, FEATURES), name="x")
    hidden = keras.layers.Masking(0.0)(inputs) if masked else inputs
    hidden = layers.LSTM(UNITS, peephole=True, return_sequences=True)(hidden)
    hidden = layers.GRU(UNITS, return_sequences=True)(hidden)
    hidden = layers.LSTM(UNITS)(hidden)
    return keras.Model(inputs, keras.layers.Dense(8)(hidden), name="masked" if masked else "wide")


@pytest.fixture(scope="module")
def models():
    return {"wide": wide_model(), "masked": wide_model(masked=True)}


def inputs(padding):
    x = np.random.default_rng(0).normal(size=(6, STEPS, FEATURES)).astype("float32")
    if padding == "right":
        x[3:, 7:] = 0.0
    elif padding == "holes":
        x[1, 2:4] = 0.0
        x[4, 9:] = 0.0
    return x


def max_diff(model, path, x):
    return float(np.abs(runtime.load_artifact(path).predict(x) - model(x).numpy()).max())


@pytest.mark.parametrize(
    ("name", "padding"), [("wide", None), ("masked", "right"), ("masked", "holes")]
)
def test_dynamic_quantization_stores_int8_lstm_weights_close_to_keras(
    models, tmp_path, name, padding
):
    model = models[name]
    reference = export.to_onnx(model, tmp_path / "float32.onnx")
    path = export.to_onnx(model, tmp_path / "int8.onnx", quantize="dynamic")
    operators = export.onnx_operators(path)
    # Both LSTMs hold int8 weights; ONNX Runtime's quantizer has no GRU kernel (it stays float).
    assert operators.get("LSTM", 0) == 0 and operators["DynamicQuantizeLSTM"] == 2
    assert operators["GRU"] == 1
    if name == "masked":  # the native nodes sit in `If` branches, and are quantized there
        assert operators["If"] == 3
    else:  # (a masked model also keeps each layer's `Loop`, with its own weights, for holes)
        assert path.stat().st_size <= 0.6 * reference.stat().st_size
    x = inputs(padding)
    assert max_diff(model, reference, x) <= 1e-4
    assert 0.0 < max_diff(model, path, x) <= 5e-2


def test_seq2seq_encoder_quantizes_into_a_loadable_graph(tmp_path):
    # The tasks' masked Bidirectional encoder, end to end (the trained dates encoder came out of
    # the quantizer out of topological order: see the last test).
    keras.utils.set_random_seed(0)
    encoder = inference_models(build_seq2seq(20, 15, 9, units=UNITS))["encoder"]
    path = export.to_onnx(encoder, tmp_path / "int8.onnx", quantize="dynamic")
    assert export.onnx_operators(path)["DynamicQuantizeLSTM"] == 2
    ids = np.random.default_rng(0).integers(1, 20, (4, 9)).astype("int32")
    ids[2:, 5:] = 0
    outputs = runtime.load_artifact(path).predict({"source": ids})
    for name, expected in encoder({"source": ids}).items():
        np.testing.assert_allclose(outputs[name], expected, atol=5e-2)


def test_unknown_quantization_is_refused(models, tmp_path):
    with pytest.raises(ExportError, match="`quantize` must be one of"):
        export.to_onnx(models["wide"], tmp_path / "m.onnx", quantize="int8")
    assert not list(tmp_path.iterdir())


def test_quantized_graph_that_onnx_runtime_cannot_load_is_refused(tmp_path):
    # ONNX Runtime 1.31 aborts the process (a C++ assertion) loading what its quantizer makes
    # of this decoder step's `Loop` graph: the file is loaded in a child process first.
    model = build("step")
    with pytest.raises(ExportError, match="cannot load the quantized graph"):
        export.to_onnx(model, tmp_path / "step.onnx", quantize="dynamic", native_rnn=False)
    assert not list(tmp_path.iterdir())
    path = export.to_onnx(model, tmp_path / "step.onnx", quantize="dynamic")  # native LSTM
    assert export.onnx_operators(path)["DynamicQuantizeLSTM"] == 1


def test_float32_graph_is_verified_before_quantization(models, tmp_path):
    with pytest.raises(ExportError, match="differs from Keras"):
        export.to_onnx(models["wide"], tmp_path / "m.onnx", quantize="dynamic", atol=1e-12)
    assert not list(tmp_path.iterdir())


def test_bundle_records_the_quantized_artifact_and_its_error(models, tmp_path):
    model = models["wide"]
    path = export.bundle(
        model,
        tmp_path / "b",
        formats=["onnx"],
        onnx_options={"quantize": "dynamic"},
        progress=False,
    )
    artifact = json.loads((path / "bundle.json").read_text())["graphs"]["model"]["artifacts"][
        "onnx"
    ]
    assert artifact["quantize"] == "dynamic"
    assert artifact["operators"]["DynamicQuantizeLSTM"] == 2
    assert 0.0 < max(artifact["verification"]["max_abs_diff"].values()) <= 5e-2
    x = inputs(None)
    predicted = runtime.load(path, backend="onnx")["model"].predict(x)
    np.testing.assert_allclose(predicted, model(x), atol=5e-2)


def test_command_line_dynamic_quantization_applies_to_both_formats(models, tmp_path):
    models["wide"].save(tmp_path / "model.keras")
    out = tmp_path / "bundle"
    assert (
        cli.main(
            ["export", str(tmp_path / "model.keras"), "--quantize", "dynamic", "--out", str(out)]
        )
        == 0
    )
    artifacts = json.loads((out / "bundle.json").read_text())["graphs"]["model"]["artifacts"]
    assert {fmt: a["quantize"] for fmt, a in artifacts.items()} == {
        "tflite": "dynamic",
        "onnx": "dynamic",
    }
    assert "DynamicQuantizeLSTM" in artifacts["onnx"]["operators"]


def test_quantized_graph_is_put_back_in_topological_order():
    # What the quantizer did to the trained dates encoder's backward `If` branch: a node
    # placed before the node whose output it reads. Here at both levels: the branch reads `y`
    # from the enclosing graph, whose producer comes after the `If`.
    value = helper.make_tensor_value_info
    branch = helper.make_graph(
        [
            helper.make_node("Mul", ["b", "two"], ["out"]),
            helper.make_node("Add", ["y", "two"], ["b"]),
        ],
        "then",
        [],
        [value("out", TensorProto.FLOAT, [1])],
        initializer=[helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])],
    )
    other = helper.make_graph(
        [helper.make_node("Identity", ["y"], ["same"])],
        "else",
        [],
        [value("same", TensorProto.FLOAT, [1])],
    )
    graph = helper.make_graph(
        [
            helper.make_node("If", ["cond"], ["z"], then_branch=branch, else_branch=other),
            helper.make_node("Neg", ["x"], ["y"]),
        ],
        "g",
        [value("x", TensorProto.FLOAT, [1]), value("cond", TensorProto.BOOL, [])],
        [value("z", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    with pytest.raises(Exception, match="topologically sorted"):
        onnxruntime.InferenceSession(model.SerializeToString())
    _sort_topologically(model.graph)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    x = np.array([3.0], "float32")
    assert session.run(None, {"x": x, "cond": np.array(True)})[0] == [(-3.0 + 2.0) * 2.0]
    assert session.run(None, {"x": x, "cond": np.array(False)})[0] == [-3.0]
