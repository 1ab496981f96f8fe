"""Keras-native reloading of `.keras` files that hold seqkeras layers, losses and metrics.

`import seqkeras` is lazy (it must not import TensorFlow when only the runtime is used), so the
modules that register seqkeras classes with Keras are not imported with it. Instead
`import seqkeras` installs a small import hook: as soon as Keras is imported (or at once, if it
already is), the seqkeras classes are registered, and `keras.saving.load_model("m.keras")` works
as it does after `import keras_hub`. Registration waits until no seqkeras module is half-way
through its own import, so that `from seqkeras import layers` (which imports Keras) never sees a
partially initialised module.

`load_model` is the same with seqkeras's errors: a missing or corrupt file is a `SeqKerasError`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
import threading
import zipfile
from typing import Any

from seqkeras.errors import SeqKerasError

# Every module that registers classes with `keras.saving.register_keras_serializable`.
SERIALIZABLE_MODULES = (
    "seqkeras.layers",
    "seqkeras.losses",
    "seqkeras.metrics.perplexity",
    "seqkeras.embeddings.glove",
    "seqkeras.embeddings.skipgram",
)

_state = threading.local()
_registered = False


def register_serializables(strict: bool = True) -> list[str]:
    """Imports every module that registers seqkeras classes with Keras.

    Args:
        strict: raise when a module cannot be imported; with `strict=False` a module whose
            optional dependency is missing (e.g. `scipy` for GloVe without the `tasks` extra) is
            skipped.

    Returns:
        The names of the modules that are now registered.
    """
    global _registered
    _registered = True
    registered = []
    for module in SERIALIZABLE_MODULES:
        try:
            importlib.import_module(module)
        except (ImportError, SeqKerasError):
            if strict:
                raise
            continue
        registered.append(module)
    return registered


def _depth() -> int:
    return getattr(_state, "depth", 0)


def _register_when_idle() -> None:
    if not _registered and _depth() == 0 and "keras" in sys.modules:
        register_serializables(strict=False)


class _NotifyingLoader(importlib.abc.Loader):
    """Runs a module's own loader, then registers seqkeras once Keras is importable."""

    def __init__(self, loader: Any):
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        _state.depth = _depth() + 1
        try:
            self._loader.exec_module(module)
        finally:
            _state.depth -= 1
        _register_when_idle()


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Wraps the loaders of `keras` and of seqkeras's own modules (see the module docstring)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if _registered or not (fullname == "keras" or fullname.startswith("seqkeras.")):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _NotifyingLoader(spec.loader)
                return spec
        return None


def install_import_hook() -> None:
    """Registers seqkeras's Keras classes now if Keras is imported, else when it is."""
    if "keras" in sys.modules:
        register_serializables(strict=False)
    elif not any(isinstance(finder, _KerasImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _KerasImportHook())


def load_model(path: str | os.PathLike[str], compile: bool = True) -> Any:
    """`keras.saving.load_model` for files that may hold seqkeras objects.

    Args:
        path: a `.keras` file.
        compile: whether to compile the model after loading (as in Keras).

    Returns:
        The `keras.Model`.

    Raises:
        SeqKerasError: the file is missing or is not a readable `.keras` file.

    Example:

    >>> import seqkeras.saving
    >>> seqkeras.saving.load_model("missing.keras")
    Traceback (most recent call last):
    ...
    seqkeras.errors.SeqKerasError: load_model: 'missing.keras' does not exist.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SeqKerasError(f"load_model: {path!r} does not exist.")
    if not zipfile.is_zipfile(path):
        raise SeqKerasError(f"load_model: {path!r} is not a .keras file (not a zip archive).")
    import keras

    register_serializables(strict=False)
    try:
        return keras.saving.load_model(path, compile=compile)
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise SeqKerasError(f"load_model: cannot load {path!r}: {error}") from None
