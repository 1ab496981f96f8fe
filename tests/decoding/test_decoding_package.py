import doctest
import importlib
import subprocess
import sys

import pytest

import seqkeras
from seqkeras import decoding


def test_decoding_never_imports_tensorflow_or_keras():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import seqkeras.decoding as decoding\n"
        "decoding.beam_search(lambda t, s: (np.zeros((len(t), 3)), s), None, 1, 0, max_len=2)\n"
        "decoding.ctc_beam_search(np.zeros((3, 4)))\n"
        "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_names():
    assert seqkeras.decoding is decoding
    for name in decoding.__all__:
        assert callable(getattr(decoding, name)), name
    assert {
        "sample",
        "greedy",
        "sample_sequence",
        "beam_search",
        "ctc_greedy_decode",
        "ctc_beam_search",
    } <= set(decoding.__all__)


@pytest.mark.parametrize(
    "module",
    [
        "beam_search",
        "ctc",
        "ensemble",
        "greedy_sampler",
        "ngram",
        "random_sampler",
        "sampler",
        "sampling",
        "top_k_sampler",
        "top_p_sampler",
    ],
)
def test_docstring_examples_run(module):
    module = importlib.import_module(f"seqkeras.decoding.{module}")
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
