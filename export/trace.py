"""From a Keras model to one TensorFlow graph with its weights as constants.

Both converters start here: `signature` names the model's inputs and outputs and fixes the
dimensions an artifact needs fixed, `replaced_loops` swaps the loop of chosen recurrent layers
for an export-specific one while the graph is traced, and `serving_function` traces the model
under a `keras.StatelessScope` that maps every variable to a constant, so the graph needs no
variable freezing (which would inline the functions the TFLite converter fuses).
"""

import contextlib
import re

import keras
import tensorflow as tf

from seqkeras.errors import ExportError
from seqkeras.runtime import TensorSpec


def _clean_name(name):
    return re.sub(r"[^A-Za-z0-9_.\-/]", "_", name).lstrip("_./-") or "tensor"


def _unique(names):
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}_{count}")
    return unique


def check_model(model, function_name):
    """Raises `ExportError` unless `model` is a built Keras model with inputs and outputs."""
    if not isinstance(model, keras.Model):
        raise ExportError(f"{function_name}: expected a keras.Model, got {type(model).__name__}.")
    try:
        model.input  # noqa: B018  (a subclassed model has none and raises)
    except (AttributeError, ValueError):
        raise ExportError(
            f"{function_name}: model {model.name!r} has no defined inputs/outputs; export a "
            "Functional or Sequential model built on keras.Input."
        ) from None
    for layer in recurrent_layers(model):
        if layer.stateful:
            raise ExportError(
                f"{function_name}: layer {layer.name!r} is stateful; an exported graph keeps no "
                "state between calls. Rebuild it with stateful=False and pass the states as "
                "explicit inputs (initial_state) and outputs (return_state=True)."
            )


def input_names(model):
    """The names of the model's inputs in flattened order: dict keys, else `keras.Input` names."""
    structure = model.input
    if isinstance(structure, dict):
        names = sorted(structure)
    else:
        names = [tensor.name for tensor in keras.tree.flatten(structure)]
    return _unique([_clean_name(name) for name in names])


def output_names(model):
    """The names of the model's outputs in flattened order: dict keys, else the layer names."""
    structure = model.output
    if isinstance(structure, dict):
        names = sorted(structure)
    else:
        names = list(model.output_names)
    return _unique([_clean_name(name) for name in names])


def signature(model, batch_size=None, sequence_length=None):
    """The `TensorSpec`s the traced graph takes and the names of its outputs.

    Args:
        model: a Keras model.
        batch_size: the fixed batch size, or None for a free one.
        sequence_length: fixes dimension 1 of every input of rank >= 2 that the model leaves
            free, or None to leave it free.

    Returns:
        `(inputs, outputs)`: lists of `TensorSpec`; the outputs with a free batch dimension.
    """
    specs = []
    for name, tensor in zip(input_names(model), keras.tree.flatten(model.input)):
        shape = list(tensor.shape)
        shape[0] = batch_size
        if sequence_length is not None and len(shape) >= 2 and shape[1] is None:
            shape[1] = sequence_length
        specs.append(TensorSpec(name, tuple(shape), keras.backend.standardize_dtype(tensor.dtype)))
    outputs = [
        TensorSpec(name, (None, *tensor.shape[1:]), keras.backend.standardize_dtype(tensor.dtype))
        for name, tensor in zip(output_names(model), keras.tree.flatten(model.output))
    ]
    return specs, outputs


def serving_function(model, inputs, outputs):
    """A `tf.function` over `inputs` returning a dict output name -> tensor (`TensorSpec`s).

    The model's variables enter the graph as constants holding their current values.
    """
    values = [(variable, variable.numpy()) for variable in model.variables]
    structure = model.input

    def serve(*args):
        mapping = [(variable, tf.constant(value)) for variable, value in values]
        with keras.StatelessScope(state_mapping=mapping):
            results = model(keras.tree.pack_sequence_as(structure, list(args)), training=False)
        return {spec.name: x for spec, x in zip(outputs, keras.tree.flatten(results))}

    return tf.function(
        serve,
        input_signature=[tf.TensorSpec(s.shape, s.dtype, name=s.name) for s in inputs],
        autograph=False,
    )


def all_layers(model):
    """Every layer inside `model`, nested models and wrapped layers included."""
    return list(model._flatten_layers(include_self=False, recursive=True))


def recurrent_layers(model):
    """The `keras.layers.RNN` layers inside `model` (Bidirectional's two halves included)."""
    return [layer for layer in all_layers(model) if isinstance(layer, keras.layers.RNN)]


_PATCHED = ("inner_loop", "unroll", "use_cudnn")


@contextlib.contextmanager
def replaced_loops(model, make_loop, unroll):
    """Within the block, every recurrent layer of `model` traces its export-time loop.

    Args:
        model: a Keras model.
        make_loop: `make_loop(layer, original_inner_loop)` returns the `inner_loop` to trace
            for `layer` (same arguments and results as `keras.layers.RNN.inner_loop`).
        unroll: whether the loops keras traces are unrolled (straight-line ops, fixed length).

    Keras's cuDNN path is switched off: it would put GPU-only ops in the graph.
    """
    saved = []
    try:
        for layer in recurrent_layers(model):
            saved.append((layer, {k: layer.__dict__[k] for k in _PATCHED if k in layer.__dict__}))
            object.__setattr__(layer, "inner_loop", make_loop(layer, layer.inner_loop))
            object.__setattr__(layer, "unroll", unroll)
            object.__setattr__(layer, "use_cudnn", False)
        yield
    finally:
        for layer, attributes in saved:
            for key in _PATCHED:
                layer.__dict__.pop(key, None)
            layer.__dict__.update(attributes)


def traced_layer_name(model, tensor_name):
    """The innermost layer of `model` named in a graph tensor/node name, or None.

    A layer's name scope in the traced graph may carry a `_<n>` suffix ("encoder_1" for
    layer "encoder").
    """
    names = {layer.name for layer in all_layers(model)}
    found = []
    for part in re.split(r"[/:;]", tensor_name):
        stripped = re.sub(r"_\d+$", "", part)
        if stripped in names or part in names:
            found.append(stripped if stripped in names else part)
    return found[-1] if found else None
