"""The bundle writer: artifacts + bundle.json, all or nothing."""

import json

import numpy as np
import pytest

from seqkeras import ExportError, export, runtime
from tests.export.export_cases import build, sample_inputs


@pytest.fixture(scope="module")
def task_bundle(tmp_path_factory):
    encoder, step = build("masked"), build("step")
    path = tmp_path_factory.mktemp("bundles") / "task"
    export.bundle(
        {"encoder": encoder, "step": step},
        path,
        task="demo",
        metadata={"vocabulary": ["<pad>", "a", "b"], "eos": 2},
        verify_inputs={"encoder": sample_inputs(encoder, 3), "step": sample_inputs(step, 2)},
        progress=False,
    )
    return path, encoder, step


def test_bundle_holds_every_graph_in_every_format_and_a_manifest(task_bundle):
    path = task_bundle[0]
    assert sorted(p.name for p in path.iterdir()) == [
        "bundle.json",
        "encoder.onnx",
        "encoder.tflite",
        "step.onnx",
        "step.tflite",
    ]
    manifest = json.loads((path / "bundle.json").read_text())
    assert manifest["task"] == "demo" and manifest["metadata"]["eos"] == 2
    assert {"seqkeras", "tensorflow", "keras", "tf2onnx", "onnx"} <= set(manifest["versions"])
    encoder_graph = manifest["graphs"]["encoder"]
    assert encoder_graph["inputs"] == [{"name": "tokens", "shape": [None, 5], "dtype": "int32"}]
    assert encoder_graph["outputs"][0]["shape"] == [None, 4]
    for artifact in encoder_graph["artifacts"].values():
        assert len(artifact["sha256"]) == 64 and artifact["bytes"] > 0
        assert max(artifact["verification"]["max_abs_diff"].values()) <= 1e-4
    assert set(encoder_graph["artifacts"]["tflite"]["layer_routes"].values()) == {"while"}
    assert encoder_graph["artifacts"]["onnx"]["operators"]["If"] == 3


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_loaded_bundle_predicts_what_keras_predicts(task_bundle, backend):
    path, encoder, step = task_bundle
    bundle = runtime.load(path, backend=backend)
    assert bundle.task == "demo" and bundle.metadata["vocabulary"][1] == "a"
    tokens = sample_inputs(encoder, 5, seed=7)
    np.testing.assert_allclose(bundle["encoder"].predict(tokens), encoder(tokens), atol=1e-4)
    inputs = sample_inputs(step, 3, seed=8)
    outputs = bundle["step"].predict(inputs)
    expected = step(inputs)
    for name in ("logits", "h", "c"):
        np.testing.assert_allclose(outputs[name], expected[name], atol=1e-4)


def test_failed_verification_leaves_nothing_behind(tmp_path):
    model = build("gru")
    inputs = sample_inputs(model, 2)
    with pytest.raises(ExportError, match="differs from Keras"):
        export.bundle(model, tmp_path / "b", verify_inputs=inputs, atol=1e-12, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_existing_bundle_is_kept_unless_overwrite(tmp_path):
    model = build("lstm")
    path = export.bundle(model, tmp_path / "b", formats=["onnx"], progress=False)
    with pytest.raises(ExportError, match="already exists"):
        export.bundle(model, path, formats=["tflite"], progress=False)
    export.bundle(model, path, formats=["tflite"], overwrite=True, progress=False)
    assert sorted(p.name for p in path.iterdir()) == ["bundle.json", "model.tflite"]
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"formats": ["pb"]}, "formats"),
        ({"formats": []}, "formats"),
        ({"metadata": {"f": object()}}, "JSON"),
        ({"models": {"a/b": None}}, "graph name"),
        ({"tflite_options": {"quantise": "int8"}}, "quantise"),
        ({"models": {"m": "not a model"}}, r"keras\.Model"),
    ],
)
def test_invalid_arguments_raise_export_error(tmp_path, arguments, message):
    model = arguments.pop("models", build("lstm"))
    with pytest.raises(ExportError, match=message):
        export.bundle(model, tmp_path / "b", progress=False, **arguments)
    assert list(tmp_path.iterdir()) == []
