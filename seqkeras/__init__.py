"""seqkeras: classic sequence models on Keras 3, exported to TFLite and ONNX.

`import seqkeras` is cheap: submodules (and TensorFlow with them) load on first use,
e.g. `seqkeras.layers` or `from seqkeras import layers`. It also lets Keras reload `.keras` files
that hold seqkeras layers: the classes are registered as soon as Keras itself is imported
(`seqkeras.saving`).
"""

import importlib

from seqkeras.errors import BundleError, ExportError, SeqKerasError, VocabularyError
from seqkeras.saving import install_import_hook

__version__ = "0.1.0"

_SUBMODULES = frozenset(
    {
        "compat",
        "datasets",
        "decoding",
        "embeddings",
        "export",
        "layers",
        "losses",
        "metrics",
        "runtime",
        "optional",
        "plotting",
        "saving",
        "text",
    }
)

__all__ = [
    "BundleError",
    "ExportError",
    "SeqKerasError",
    "VocabularyError",
    "__version__",
    *sorted(_SUBMODULES),
]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"seqkeras.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'seqkeras' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)


install_import_hook()
