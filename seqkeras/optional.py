"""Imports of optional libraries, failing with the extra that installs them.

The base install of seqkeras is the TensorFlow-free runtime (NumPy only); everything else comes
with an extra of `pip install seqkeras[EXTRA]` (setup.cfg): `onnx`, `litert`, `serve`, `ray`,
`keras`/`train`, `tasks`, `bench`, `all`, `dev`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from seqkeras.errors import SeqKerasError

EXTRAS = frozenset({"onnx", "litert", "serve", "ray", "keras", "train", "tasks", "bench", "all"})


class MissingDependencyError(SeqKerasError, ImportError):
    """An optional library is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, purpose: str | None = None) -> ModuleType:
    """Imports `module`, or says which seqkeras extra installs it.

    Args:
        module: the module to import, e.g. `"gensim"` or `"sklearn.manifold"`.
        extra: the extra of setup.cfg that installs it, e.g. `"tasks"`.
        purpose: what needs it, for the message (default: the module's name).

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: (a `SeqKerasError` and an `ImportError`) the module is not
            installed.

    Example:

    >>> from seqkeras.optional import require
    >>> require("json", "tasks").dumps([1])
    '[1]'
    >>> try:
    ...     require("no_such_module", "tasks", "the example")
    ... except MissingDependencyError as error:
    ...     print(error)
    the example needs 'no_such_module', which is not installed: pip install 'seqkeras[tasks]'
    """
    if extra not in EXTRAS:
        raise ValueError(f"require: unknown extra {extra!r}; expected one of {sorted(EXTRAS)}.")
    try:
        return importlib.import_module(module)
    except ImportError as error:
        missing = error.name or module
        raise MissingDependencyError(
            f"{purpose or module} needs {missing.split('.')[0]!r}, which is not installed: "
            f"pip install 'seqkeras[{extra}]'"
        ) from None
