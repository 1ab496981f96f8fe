"""The package as installed: lazy imports, packaging metadata, the command line."""

import configparser
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import seqkeras
from seqkeras import cli
from seqkeras.saving import load_model

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_import_seqkeras_does_not_import_tensorflow():
    code = "import sys, seqkeras; print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_submodules_load_on_first_use():
    assert seqkeras.layers.LSTM.__module__ == "seqkeras.layers.lstm"
    assert issubclass(seqkeras.SeqKerasError, ValueError)
    assert seqkeras.export.__name__ == "seqkeras.export"


def test_every_package_is_listed_in_setup_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "seqkeras").rglob("__init__.py")
    } | {"seqkeras.export"}
    assert found == listed


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--smoke", "--out", str(out), "--verbose", "0"]) == 0
    return out


def test_demo_trains_exports_and_checks_the_runtime(demo_dir, capsys):
    manifest = json.loads((demo_dir / "bundle" / "bundle.json").read_text())
    assert manifest["task"] == "dates"
    for graph in ("encoder", "step"):
        artifacts = manifest["graphs"][graph]["artifacts"]
        assert set(artifacts) == {"tflite", "onnx"}
        for artifact in artifacts.values():
            assert max(artifact["verification"]["max_abs_diff"].values()) <= 1e-4
    assert (demo_dir / "attention.png").stat().st_size > 0
    assert (demo_dir / "task" / "model.keras").is_file()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A folder with a plain Keras model holding a seqkeras layer, as `export` takes it."""
    import keras

    from seqkeras import layers

    out = tmp_path_factory.mktemp("model")
    inputs = keras.Input((None, 2))
    outputs = keras.layers.Dense(1)(layers.LSTM(4, peephole=True)(inputs))
    keras.Model(inputs, outputs).save(out / "model.keras")
    return out


def test_export_and_predict_commands(model_dir, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    assert cli.main(["export", str(model_dir), "--to", "onnx", "--out", str(bundle)]) == 0
    x = np.random.default_rng(0).random((3, 20, 2)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    capsys.readouterr()
    assert cli.main(["predict", str(bundle), str(tmp_path / "x.npy")]) == 0
    predicted = np.array(json.loads(capsys.readouterr().out)["outputs"])
    expected = load_model(model_dir / "model.keras").predict(x, verbose=0)
    np.testing.assert_allclose(predicted, expected, atol=1e-5)


def test_commands_report_bad_input_without_a_traceback(model_dir, tmp_path, capsys):
    (tmp_path / "model.keras").write_text("not a model")
    assert cli.main(["export", str(tmp_path), "--out", str(tmp_path / "b")]) == 2
    assert "not a .keras file" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    bundle = tmp_path / "bundle"
    assert cli.main(["export", str(model_dir), "--to", "onnx", "--out", str(bundle)]) == 0
    assert cli.main(["predict", str(bundle), str(tmp_path / "missing.npy")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_load_model_registers_seqkeras_classes_in_a_fresh_process(model_dir):
    code = (
        "import sys, seqkeras.saving as s; "
        f"m = s.load_model({str(model_dir / 'model.keras')!r}); print(type(m.layers[1]).__module__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "seqkeras.layers.lstm", result.stderr[-2000:]
