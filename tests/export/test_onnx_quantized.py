"""`to_onnx(quantize="dynamic")`: int8 weights through ONNX Runtime's quantizer, in files,
bundles and the command line."""

import json

import keras
import numpy as np
import pytest

from seqkeras import ExportError, cli, export, layers, runtime

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
    else:  # (a masked model also keeps its layers' float32 `Loop`s for masks with holes)
        assert path.stat().st_size <= 0.6 * reference.stat().st_size
    x = inputs(padding)
    assert max_diff(model, reference, x) <= 1e-4
    assert 0.0 < max_diff(model, path, x) <= 5e-2


def test_unknown_quantization_is_refused(models, tmp_path):
    with pytest.raises(ExportError, match="`quantize` must be one of"):
        export.to_onnx(models["wide"], tmp_path / "m.onnx", quantize="int8")
    assert not list(tmp_path.iterdir())


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
