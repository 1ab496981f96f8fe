"""seqkeras.runtime: TF-free loading, integrity checks and input validation."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from seqkeras import BundleError, SeqKerasError, export, layers, runtime


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    keras.utils.set_random_seed(0)
    x = keras.Input((5, 3), name="x")
    hidden = layers.LSTM(4, peephole=True, return_sequences=True)(x)
    model = keras.Model(x, keras.layers.Dense(2)(layers.GRU(4)(hidden)))
    path = tmp_path_factory.mktemp("runtime") / "bundle"
    export.bundle(model, path, tflite_options={"batch_size": 2}, progress=False)
    return path, model


@pytest.fixture
def copy(bundle_dir, tmp_path):
    """A private copy of the bundle to damage."""
    return shutil.copytree(bundle_dir[0], tmp_path / "bundle")


def test_runtime_never_imports_tensorflow_or_keras(bundle_dir):
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import seqkeras.runtime as runtime
        for backend in ("onnx", "tflite"):
            bundle = runtime.load({str(bundle_dir[0])!r}, backend=backend)
            print(bundle.predict(np.zeros((3, 5, 3), "float32")).shape)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print("imported:", heavy)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.stdout.splitlines() == ["(3, 2)", "(3, 2)", "imported: []"]


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_predict_matches_keras_for_any_batch(bundle_dir, backend):
    path, model = bundle_dir
    bundle = runtime.load(path, backend=backend)
    for batch in (1, 2, 5):  # the TFLite graph runs batches of 2, the last one padded
        x = np.random.default_rng(batch).normal(size=(batch, 5, 3)).astype("float32")
        np.testing.assert_allclose(bundle.predict(x), model(x), atol=1e-4)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_run_is_predict_without_the_checks(bundle_dir, backend):
    path, model = bundle_dir
    bundle = runtime.load(path, backend=backend)
    graph = next(iter(bundle.graphs.values()))
    (name,), (output,) = [s.name for s in graph.inputs], [s.name for s in graph.outputs]
    for batch in (1, 2, 5):  # the TFLite graph runs batches of 2, the last one padded
        x = np.random.default_rng(batch).normal(size=(batch, 5, 3)).astype("float32")
        outputs = graph.run({name: x})
        assert list(outputs) == [output]
        np.testing.assert_array_equal(outputs[output], graph.predict(x))
        np.testing.assert_allclose(outputs[output], model(x), atol=1e-4)


def test_inputs_are_checked_by_name_shape_and_dtype(bundle_dir):
    bundle = runtime.load(bundle_dir[0], backend="tflite")
    good = np.zeros((2, 5, 3), "float32")
    np.testing.assert_allclose(bundle.predict({"x": good}), bundle.predict(good.astype("float64")))
    with pytest.raises(SeqKerasError, match=r"'x' must have shape \(N, 5, 3\), got \(2, 4, 3\)"):
        bundle.predict(np.zeros((2, 4, 3), "float32"))
    with pytest.raises(SeqKerasError, match="dtype float32"):
        bundle.predict(np.zeros((2, 5, 3), "int32"))
    with pytest.raises(SeqKerasError, match="missing"):
        bundle.predict({"tokens": good})
    with pytest.raises(SeqKerasError, match="empty batch"):
        bundle.predict(np.zeros((0, 5, 3), "float32"))
    with pytest.raises(SeqKerasError, match="backend"):
        runtime.load(bundle_dir[0], backend="tensorrt")


def test_integer_inputs_out_of_range_are_refused(tmp_path):
    tokens = keras.Input((3,), dtype="int32", name="tokens")
    model = keras.Model(tokens, keras.layers.Embedding(5, 2)(tokens))
    loaded = runtime.load_artifact(export.to_onnx(model, tmp_path / "embed.onnx"))
    assert loaded.predict(np.array([[1, 2, 4]], "int64")).shape == (1, 3, 2)
    with pytest.raises(SeqKerasError, match="outside the range of int32"):
        loaded.predict(np.array([[1, 2, 2**40]]))


def test_changed_artifact_fails_its_hash(copy):
    with open(copy / "model.onnx", "r+b") as file:
        file.seek(100)
        byte = file.read(1)
        file.seek(100)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(BundleError, match=r"model\.onnx: SHA-256 does not match"):
        runtime.load(copy, backend="onnx")
    runtime.load(copy, backend="tflite")  # the other artifact is intact


def test_missing_artifact_or_manifest(copy):
    (copy / "model.tflite").unlink()
    with pytest.raises(BundleError, match=r"model\.tflite is missing"):
        runtime.load(copy, backend="tflite")
    (copy / "bundle.json").unlink()
    with pytest.raises(BundleError, match=r"bundle\.json is missing"):
        runtime.load(copy)
    with pytest.raises(BundleError, match="no such directory"):
        runtime.load(copy / "nowhere")


def edit_manifest(path, change):
    manifest = json.loads((path / "bundle.json").read_text())
    change(manifest)
    (path / "bundle.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format_version=2), "format_version 2"),
        (lambda m: m.update(format="zip"), "not a seqkeras bundle manifest"),
        (lambda m: m["graphs"]["model"].pop("inputs"), "malformed"),
        (lambda m: m["graphs"]["model"]["artifacts"]["onnx"].update(file="../x.onnx"), "plain"),
        (lambda m: m["graphs"]["model"]["inputs"][0].update(name="tokens"), "differ"),
        (lambda m: m["graphs"]["model"]["inputs"][0].update(shape=[None, 7, 3]), "'x' is"),
        (lambda m: m["graphs"]["model"]["artifacts"].pop("onnx"), "no onnx artifact"),
    ],
)
def test_manifest_that_does_not_match_the_artifacts(copy, change, message):
    edit_manifest(copy, change)
    with pytest.raises(BundleError, match=message):
        runtime.load(copy, backend="onnx")


def test_unreadable_manifest_and_artifact(copy):
    (copy / "model.onnx").write_bytes(b"not onnx")
    edit_manifest(
        copy,
        lambda m: m["graphs"]["model"]["artifacts"]["onnx"].update(
            sha256=runtime.loading.sha256(copy / "model.onnx")
        ),
    )
    with pytest.raises(BundleError, match="not a loadable ONNX model"):
        runtime.load(copy, backend="onnx")
    (copy / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        runtime.load(copy)
