"""seqkeras as pip installs it: a TensorFlow-free runtime install, and Python 3.11 to 3.13.

Each test builds a fresh virtual environment from the wheel of this tree (pip may use its local
cache; the versions come from constraints.txt, or constraints-min.txt to test the lower bounds
of setup.cfg). Slow (pip installs), so marked `slow`; `make test` runs them.
"""

import configparser
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from tests.serve_helpers import wait_ready

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEXTS = ["The food was not good .", "The staff was friendly ."]
PYENV = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv")) / "versions"

pytestmark = pytest.mark.slow

# The fast, TensorFlow-free subset run under every interpreter (NumPy + the reference tools).
FAST_TESTS = (
    "tests/decoding/test_beam_search.py",
    "tests/decoding/test_ngram.py",
    "tests/decoding/test_sampling.py",
    "tests/decoding/test_decoding_package.py",
    "tests/metrics/test_bleu.py",
    "tests/metrics/test_edit_distance.py",
    "tests/runtime/test_labeling.py",
    "tests/text/test_preprocessor.py",
    "tests/text/test_vocabulary.py",
)
FAST_TEST_TOOLS = ("pytest", "sacrebleu", "jiwer")
NEEDS_TENSORFLOW = "tf_encode"  # -k expression: the tests of FAST_TESTS that use TensorFlow


def run(*args, check=True, **kwargs):
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=900, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The wheel of this tree, built from a copy (the build must not write into the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("seqkeras", "export"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, source)
    (built,) = out.glob("seqkeras-*.whl")
    return built


def make_venv(path, python, *requirements, constraints="constraints.txt"):
    """A fresh venv at `path` for `python` with `requirements` installed under `constraints`."""
    run(python, "-m", "venv", path)
    pip = [path / "bin" / "python", "-m", "pip", "install", "--quiet"]
    run(*pip, "-c", ROOT / constraints, *requirements)
    return path / "bin"


def installed(bin_dir, distribution):
    code = (
        "import importlib.metadata as m, sys\n"
        f"try:\n    m.distribution({distribution!r})\nexcept m.PackageNotFoundError:\n"
        "    sys.exit(1)\n"
    )
    return run(bin_dir / "python", "-c", code, check=False).returncode == 0


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A sentiment bundle (ONNX, checked against Keras on export) and its answers here."""
    from seqkeras import runtime
    from seqkeras.tasks.sentiment import SentimentTask

    task = SentimentTask(smoke=True)
    task.preprocessor = task.build_preprocessor(task.data["train"])
    task.model = task.build_model()
    path = task.export(tmp_path_factory.mktemp("install") / "bundle", formats="onnx")
    loaded = runtime.load(path, backend="onnx")
    return path, loaded.predict(TEXTS), loaded.probabilities(TEXTS).tolist()


PREDICT = """
import json, sys
from seqkeras import runtime
bundle = runtime.load(sys.argv[1], backend="onnx")
texts = json.loads(sys.argv[2])
print(json.dumps({"labels": bundle.predict(texts),
                  "probabilities": bundle.probabilities(texts).tolist(),
                  "tensorflow": "tensorflow" in sys.modules}))
"""


def check_runtime_predict(bin_dir, bundle):
    path, labels, probabilities = bundle
    reply = json.loads(run(bin_dir / "python", "-c", PREDICT, path, json.dumps(TEXTS)).stdout)
    assert reply["labels"] == labels
    np.testing.assert_allclose(reply["probabilities"], probabilities, atol=1e-5)
    assert reply["tensorflow"] is False


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory, wheel):
    """`pip install seqkeras[onnx,serve]`: the runtime and the server, no TensorFlow."""
    return make_venv(
        tmp_path_factory.mktemp("runtime") / "venv",
        sys.executable,
        f"{wheel}[onnx,serve]",
        *FAST_TEST_TOOLS,
    )


def test_the_runtime_install_has_no_tensorflow(runtime_venv):
    for heavy in ("tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "tensorflow-text"):
        assert not installed(runtime_venv, heavy), heavy
    assert installed(runtime_venv, "onnxruntime") and installed(runtime_venv, "numpy")
    result = run(runtime_venv / "python", "-c", "import tensorflow", check=False)
    assert "No module named 'tensorflow'" in result.stderr


def test_runtime_predict_without_tensorflow(runtime_venv, bundle):
    check_runtime_predict(runtime_venv, bundle)


def test_seqkeras_predict_without_tensorflow(runtime_venv, bundle):
    path, labels, _ = bundle
    result = run(runtime_venv / "seqkeras", "predict", path, *TEXTS, "--backend", "onnx")
    assert result.stderr == ""
    assert json.dumps(labels) in result.stdout


def test_seqkeras_bench_without_tensorflow(runtime_venv, bundle):
    path, _, _ = bundle
    result = run(runtime_venv / "seqkeras", "bench", path, "--backend", "onnx", "--calls", "5")
    assert "onnx" in result.stdout


def test_seqkeras_serve_without_tensorflow(runtime_venv, bundle):
    path, labels, _ = bundle
    server = subprocess.Popen(
        [runtime_venv / "seqkeras", "serve", path, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        match = re.fullmatch(
            r"serving (\S+) \((\w+), (\w+)\) on (http://[\d.]+:\d+)/v1/predict\n", line
        )
        assert match, (line, server.stderr.read() if server.poll() is not None else "")
        assert match.group(2, 3) == ("sentiment", "onnx")
        wait_ready(int(match.group(4).rsplit(":", 1)[1]))
        with urllib.request.urlopen(f"{match.group(4)}/healthz", timeout=30) as response:
            assert json.load(response)["status"] == "ok"
        request = urllib.request.Request(
            f"{match.group(4)}/v1/predict",
            data=json.dumps({"inputs": TEXTS}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["outputs"] == labels
    finally:
        server.terminate()
        server.wait(timeout=30)


def interpreter(version):
    """A working python executable of `version` (e.g. "3.12"): pyenv's, else on PATH; or None."""
    candidates = sorted(PYENV.glob(f"{version}.*/bin/python{version}")) if PYENV.is_dir() else []
    candidates = [str(path) for path in reversed(candidates)] + [shutil.which(f"python{version}")]
    for candidate in filter(None, candidates):
        # pyenv's shims exist on PATH even for versions that are not selected: try each one.
        if subprocess.run([candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    return None


def run_fast_tests(bin_dir, tmp_path):
    """Runs FAST_TESTS with `bin_dir`'s python, from a copy so that they import the installed
    seqkeras, not this tree."""
    copy = tmp_path / "copy"
    for name in ("tests/__init__.py", "tests/conftest.py", *FAST_TESTS):
        for part in pathlib.Path(name).parents[:-1]:
            if (ROOT / part / "__init__.py").exists():
                (copy / part).mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / part / "__init__.py", copy / part / "__init__.py")
        shutil.copy(ROOT / name, copy / name)
    result = run(
        *(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("-k", f"not {NEEDS_TENSORFLOW}", *FAST_TESTS),
        cwd=copy,
        env={**os.environ, "SEQKERAS_SMOKE": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    where = run(bin_dir / "python", "-c", "import seqkeras; print(seqkeras.__file__)", cwd=copy)
    assert str(bin_dir.parent) in where.stdout


def test_fast_tests_in_the_runtime_install(runtime_venv, tmp_path):
    """Python 3.11 (this interpreter) with today's versions."""
    run_fast_tests(runtime_venv, tmp_path)


@pytest.mark.parametrize(
    ("version", "constraints"), [("3.12", "constraints-min.txt"), ("3.13", "constraints.txt")]
)
def test_fast_tests_and_runtime_under_each_python(tmp_path, wheel, bundle, version, constraints):
    """3.12 with the lower bounds of setup.cfg (numpy, onnxruntime), 3.13 with today's versions."""
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    bin_dir = make_venv(
        tmp_path / "venv", python, f"{wheel}[onnx]", *FAST_TEST_TOOLS, constraints=constraints
    )
    pins = dict(
        line.split("==") for line in (ROOT / constraints).read_text().split() if "==" in line
    )
    for name in ("numpy", "onnxruntime"):
        code = f"import importlib.metadata as m; print(m.version({name!r}))"
        assert run(bin_dir / "python", "-c", code).stdout.strip() == pins[name]
    check_runtime_predict(bin_dir, bundle)
    run_fast_tests(bin_dir, tmp_path)


def test_every_lower_bound_of_setup_cfg_is_pinned_in_constraints_min():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    pins = {}
    for line in (ROOT / "constraints-min.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    sections = [config["options"]["install_requires"]]
    sections += [
        config["options.extras_require"][extra] for extra in config["options.extras_require"]
    ]
    bounds = {}
    for section in sections:
        for requirement in section.split():
            if ">=" in requirement:
                name, version = requirement.split(">=")
                bounds[re.sub(r"\[.*\]", "", name).lower()] = version
    assert bounds == {name: pins[name] for name in bounds}
