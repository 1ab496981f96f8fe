"""Keras-native reloading: `import seqkeras` is enough for `keras.models.load_model`."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.saving import SERIALIZABLE_MODULES, load_model

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A `.keras` file with seqkeras layers, loss and metric, and its outputs on fixed inputs."""
    import keras

    from seqkeras import layers, losses, metrics

    inputs = keras.Input((None, 3))
    x = layers.LSTM(4, peephole=True, return_sequences=True)(inputs)
    x = layers.GRU(5, minimal=True, return_sequences=True)(x)
    model = keras.Model(inputs, keras.layers.Dense(6)(x))
    model.compile(loss=losses.CTCLoss(), metrics=[metrics.Perplexity(from_logits=True)])
    path = tmp_path_factory.mktemp("saved") / "m.keras"
    model.save(path)
    x_in = np.random.default_rng(0).random((2, 7, 3)).astype("float32")
    np.save(path.with_suffix(".npy"), x_in)
    return path, model.predict(x_in, verbose=0)


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


LOAD = """
import numpy as np
model = keras.models.load_model({path!r})
out = model.predict(np.load({inputs!r}), verbose=0)
np.save({out!r}, out)
print(sorted({{type(layer).__module__ for layer in model.layers}}), type(model.loss).__name__)
"""


@pytest.mark.parametrize(
    "imports",
    [
        "import seqkeras\nimport keras",  # seqkeras first: registered when keras is imported
        "import keras\nimport seqkeras",  # keras first: registered by `import seqkeras`
        "import seqkeras\nfrom seqkeras import layers\nimport keras",  # keras imported by layers
    ],
    ids=["seqkeras-first", "keras-first", "via-layers"],
)
def test_keras_load_model_after_import_seqkeras(saved, tmp_path, imports):
    path, expected = saved
    out = tmp_path / "out.npy"
    code = imports + LOAD.format(path=str(path), inputs=str(path.with_suffix(".npy")), out=str(out))
    result = _run(code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "seqkeras.layers.lstm" in result.stdout and "seqkeras.layers.gru" in result.stdout
    assert result.stdout.strip().endswith("CTCLoss")
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)


def test_without_seqkeras_keras_cannot_load_the_file(saved):
    """The reference: the import hook is what makes the file loadable."""
    path, _ = saved
    result = _run(f"import keras\nkeras.models.load_model({str(path)!r})")
    assert result.returncode != 0
    assert "seqkeras>" in result.stderr or "Could not locate" in result.stderr


def test_import_seqkeras_for_the_runtime_imports_no_tensorflow():
    code = (
        "import sys, seqkeras\n"
        "from seqkeras import runtime, decoding, metrics, text\n"
        "print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_registration_modules_exist():
    for module in SERIALIZABLE_MODULES:
        path = ROOT.joinpath(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module


def test_load_model_errors(tmp_path):
    with pytest.raises(SeqKerasError, match="does not exist"):
        load_model(tmp_path / "missing.keras")
    (tmp_path / "bad.keras").write_text("not a zip")
    with pytest.raises(SeqKerasError, match=r"not a \.keras file"):
        load_model(tmp_path / "bad.keras")
