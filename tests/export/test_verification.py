"""Every export is checked against Keras on generated inputs before it is written."""

import dataclasses
import importlib
import json

import keras
import numpy as np
import pytest
from seqkeras.export import onnx_export
from seqkeras.export.trace import signature

from seqkeras import ExportError, export, layers
from tests.export.export_cases import build

# `seqkeras.export.verify` is the function; the module of the same name:
verification = importlib.import_module("seqkeras.export.verify")


def test_generated_inputs_follow_dtypes_and_pad_sequences():
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    frames = keras.Input((7, 2), name="frames")
    state = keras.Input((4,), name="state")
    embedded = keras.layers.Embedding(3, 2, mask_zero=True)(tokens)
    joined = keras.layers.Concatenate()([embedded, frames[:, :6]])
    outputs = layers.GRU(4)(joined, initial_state=state)
    model = keras.Model({"tokens": tokens, "frames": frames, "state": state}, outputs)
    specs, _ = signature(model)
    arrays = verification.generated_inputs(model, specs)
    samples = verification.GENERATED_SAMPLES
    ids = arrays["tokens"]
    assert ids.dtype == np.int32 and ids.shape == (2 * samples, verification.GENERATED_STEPS)
    assert ids[:samples].min() >= 1 and ids.max() < 3  # within the Embedding's input_dim
    assert arrays["frames"].dtype == np.float32 and arrays["frames"].shape == (2 * samples, 7, 2)
    lengths = [int(np.count_nonzero(row)) for row in ids[samples:]]
    assert len(set(lengths)) == samples and all(0 < n < ids.shape[1] for n in lengths)
    for row, length in zip(ids[samples:], lengths):
        assert row[:length].all() and not row[length:].any()  # right-padded
    np.testing.assert_array_equal(ids[samples:, : min(lengths)], ids[:samples, : min(lengths)])
    assert not arrays["frames"][samples:, -1].any() and arrays["frames"][:samples, -1].all()
    np.testing.assert_array_equal(arrays["state"][samples:], arrays["state"][:samples])


@pytest.fixture
def wrong_native_gru(monkeypatch):
    """An exporter bug on purpose: the native GRU node gets a shifted bias."""
    describe = onnx_export.describe

    def shifted(layer):
        recurrence = describe(layer)
        if recurrence is None:
            return None
        return dataclasses.replace(recurrence, bias=recurrence.bias + 0.5)

    monkeypatch.setattr(onnx_export, "describe", shifted)


def test_to_onnx_refuses_to_write_a_wrong_artifact(wrong_native_gru, tmp_path):
    model = build("gru")
    with pytest.raises(ExportError, match=r"to_onnx: .*differs from Keras .*'gru\w*': '0\.\d+'"):
        export.to_onnx(model, tmp_path / "gru.onnx")
    assert list(tmp_path.iterdir()) == []
    path = export.to_onnx(model, tmp_path / "gru.onnx", verify=False)
    assert path.exists()


def test_bundle_refuses_a_wrong_artifact_without_verify_inputs(wrong_native_gru, tmp_path):
    with pytest.raises(ExportError, match=r"bundle \(graph 'model'\): the onnx export"):
        export.bundle(build("gru"), tmp_path / "b", formats=["onnx"], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_bundle_records_the_generated_verification(tmp_path):
    model = build("masked")
    path = export.bundle(model, tmp_path / "b", progress=False)
    manifest = json.loads((path / "bundle.json").read_text())
    for artifact in manifest["graphs"]["model"]["artifacts"].values():
        report = artifact["verification"]
        assert report["samples"] == 2 * verification.GENERATED_SAMPLES
        assert 0 <= max(report["max_abs_diff"].values()) <= 1e-4
    unchecked = export.bundle(model, tmp_path / "c", formats="onnx", verify=False, progress=False)
    manifest = json.loads((unchecked / "bundle.json").read_text())
    assert "verification" not in manifest["graphs"]["model"]["artifacts"]["onnx"]


def test_to_tflite_checks_the_given_inputs_too(tmp_path):
    model = build("lstm")
    x = np.random.default_rng(0).normal(size=(3, 5, 3)).astype("float32")
    export.to_tflite(model, tmp_path / "m.tflite", verify_inputs=x)
    with pytest.raises(ExportError, match="verify_inputs"):
        export.to_tflite(model, tmp_path / "n.tflite", verify_inputs=np.zeros((2, 4), "float32"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]
