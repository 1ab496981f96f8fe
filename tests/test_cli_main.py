"""`seqkeras` itself: --version, quiet native logs (-v shows them), one-line errors with exit 2."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import seqkeras
from seqkeras import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


def seqkeras_command(*args, env=None):
    """Runs `python -m seqkeras.cli ARGS` as a user would, without the test suite's log settings."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "seqkeras.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=300,
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A TFLite + ONNX bundle of a tiny peephole-LSTM model, and an input file for it."""
    import keras

    from seqkeras import layers

    out = tmp_path_factory.mktemp("cli_main")
    inputs = keras.Input((None, 2))
    outputs = keras.layers.Dense(1)(layers.LSTM(3, peephole=True)(inputs))
    keras.Model(inputs, outputs).save(out / "model.keras")
    assert cli.main(["export", str(out), "--to", "tflite,onnx", "--out", str(out / "b")]) == 0
    np.save(out / "x.npy", np.zeros((1, 4, 2), "float32"))
    return out / "b", out / "x.npy"


def test_version():
    result = seqkeras_command("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"seqkeras {seqkeras.__version__}"


def test_tflite_predict_prints_no_native_log_lines(bundle):
    path, x = bundle
    result = seqkeras_command("predict", path, x, "--backend", "tflite")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert '"outputs"' in result.stdout


@pytest.mark.parametrize("where", ["before", "after"])
def test_v_shows_the_native_logs(bundle, where):
    path, x = bundle
    args = ["predict", path, x, "--backend", "tflite"]
    args = ["-v", *args] if where == "before" else [*args, "-v"]
    result = seqkeras_command(*args)
    assert result.returncode == 0, result.stderr
    assert "XNNPACK" in result.stderr  # LiteRT's own line, hidden without -v


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["bogus"],
        ["predict"],
        ["predict", "BUNDLE", "x", "--backend", "foo"],
        ["bench", "BUNDLE", "--calls", "many"],
        ["serve", "BUNDLE", "--port", "eighty"],
        ["export"],
        ["train"],
    ],
    ids=lambda args: " ".join(args) or "nothing",
)
def test_a_bad_argument_is_one_line_and_exit_2(args):
    result = seqkeras_command(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "error:" in lines[0], result.stderr


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    result = seqkeras_command("predict", tmp_path / "no_bundle", "x")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("seqkeras predict:")


def test_an_unexpected_error_is_one_line_on_the_command_line_and_a_traceback_with_v():
    code = (
        "import sys, seqkeras.cli as c\n"
        "def broken(args): raise RuntimeError('boom')\n"
        "c.predict.run = broken\n"
        "sys.argv = ['seqkeras', *sys.argv[1:]]\n"
        "sys.exit(c.main())\n"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code, "predict", "B", "x"], capture_output=True, text=True
    )
    assert quiet.returncode == 1
    assert quiet.stderr.strip().splitlines() == [
        "seqkeras predict: internal error: RuntimeError: boom (-v shows the traceback)"
    ]
    loud = subprocess.run(
        [sys.executable, "-c", code, "-v", "predict", "B", "x"], capture_output=True, text=True
    )
    assert loud.returncode == 1 and "Traceback" in loud.stderr


def test_a_library_caller_gets_the_exception(monkeypatch):
    monkeypatch.setattr(cli.predict, "run", lambda args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["predict", "B", "x"])
