"""The private Keras APIs seqkeras relies on, imported in one place.

Keras 3 keeps a few things seqkeras needs outside its public API (`keras.src`). They are
imported here only, and checked against the shapes seqkeras uses (tests/test_compat.py), so
that a Keras release that moves or changes one fails here, at import, with a message naming
the symbol and the Keras version, instead of deep inside a layer.

- `DropoutRNNCell`: the mixin that caches one dropout mask per sequence; `keras.layers.RNN`
  only prepares and resets masks for cells that inherit from it.
- `backend`: Keras's backend module, for `backend.rnn`, the loop over time steps (masking,
  go_backwards, unroll, zero outputs).
- `get_keras_mask`: the Keras mask attached to a tensor (`None` if it has none).
- `reduce_weighted_values`: how Keras losses apply sample weights and the reduction.
- `build_for_training(model, data_batch)`: creates the optimizer's and compiled metrics'
  variables, as `model.fit` does before its first step (`Model._symbolic_build`); the strategy
  loop of `seqkeras.training` calls it inside `strategy.scope()`.
"""

from __future__ import annotations

import importlib
from typing import Any

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

keras = require("keras", "keras", "seqkeras.layers")

# name -> (module, attribute) in the Keras versions seqkeras is tested with (constraints*.txt)
PRIVATE_SYMBOLS = {
    "DropoutRNNCell": ("keras.src.layers.rnn.dropout_rnn_cell", "DropoutRNNCell"),
    "backend": ("keras.src", "backend"),
    "get_keras_mask": ("keras.src.backend", "get_keras_mask"),
    "reduce_weighted_values": ("keras.src.losses.loss", "reduce_weighted_values"),
}


def private_symbol(name: str) -> Any:
    """Imports one of `PRIVATE_SYMBOLS`, or raises a `SeqKerasError` naming it and Keras's version.

    Args:
        name: a key of `PRIVATE_SYMBOLS`.

    Returns:
        The Keras object.

    Raises:
        SeqKerasError: this Keras release does not have it where seqkeras expects it.
    """
    module, attribute = PRIVATE_SYMBOLS[name]
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise SeqKerasError(
            f"seqkeras needs the private Keras API {module}.{attribute}, which Keras "
            f"{keras.__version__} does not have ({error}); install a Keras version within "
            "seqkeras's tested range (constraints.txt) or report it."
        ) from None


DropoutRNNCell = private_symbol("DropoutRNNCell")
backend = private_symbol("backend")
if not callable(getattr(backend, "rnn", None)):
    raise SeqKerasError(
        f"seqkeras needs keras.src.backend.rnn, which Keras {keras.__version__} lacks."
    )
get_keras_mask = private_symbol("get_keras_mask")
reduce_weighted_values = private_symbol("reduce_weighted_values")


if not callable(getattr(keras.Model, "_symbolic_build", None)):
    raise SeqKerasError(
        f"seqkeras needs keras.Model._symbolic_build, which Keras {keras.__version__} lacks."
    )


def build_for_training(model: Any, data_batch: Any) -> None:
    """Builds `model`'s optimizer and compiled-metric variables for batches like `data_batch`."""
    model._symbolic_build(data_batch=data_batch)
