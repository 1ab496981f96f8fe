"""Keras -> ONNX through tf2onnx, with ONNX's own LSTM / GRU / RNN operators for the loops.

tf2onnx turns a Keras 3 `LSTM` into a native `LSTM` node but every other recurrent layer (GRU,
SimpleRNN, the seqkeras cells) into a generic `Loop`. Here each recurrent layer whose math an
ONNX operator computes (see `recurrence.describe`) is traced as a placeholder op carrying the
layer's inputs and initial states; after conversion the placeholder is replaced by the native
node plus the transposes around it. Masked layers keep their loop: ONNX's `sequence_lens`
describes right-padding only, a Keras mask may skip any step.
"""

import contextlib
import logging
import pathlib
import re

import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from onnx import helper, numpy_helper

from seqkeras.errors import ExportError
from seqkeras.files import atomic_write_bytes

from .recurrence import describe
from .trace import (
    check_model,
    replaced_loops,
    serving_function,
    signature,
    traced_layer_name,
)
from .verify import DEFAULT_ATOL, check_artifact

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Squeeze/Unsqueeze take their axes as inputs from opset 13 on
MAX_OPSET = max(tf2onnx.constants.OPSET_TO_IR_VERSION)

_PLACEHOLDER_OP = "PyFuncStateless"
_TOKEN = re.compile(r"seqkeras_rnn_\d+")
_ONNX_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
# Keras's LSTM gate blocks are i, f, c, o; ONNX's are i, o, f, c (GRU: z, r, h in both).
_ONNX_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [0, 1, 2], "RNN": [0]}


@contextlib.contextmanager
def quiet_tf2onnx():
    """tf2onnx logs the recurrence placeholders as unsupported ops before they are replaced;
    ops that really are unsupported are reported by `_check_operators`."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def to_onnx(
    model,
    path,
    *,
    opset=DEFAULT_OPSET,
    native_rnn=True,
    verify=True,
    verify_inputs=None,
    atol=DEFAULT_ATOL,
):
    """Exports a Keras model to an ONNX file that runs in onnxruntime with any batch size.

    Recurrent layers become ONNX `LSTM` (peepholes included), `GRU` (`linear_before_reset`
    0 or 1) or `RNN` nodes where the operator computes the same function; the others (minimal
    GRU, masked layers, unusual activations) become a `Loop`.

    Args:
        model: a Keras Functional or Sequential model.
        path: the `.onnx` file to write (atomically: it appears complete or not at all).
        opset: the ONNX opset, 13 to 18.
        native_rnn: use the native recurrent operators; False keeps every loop a `Loop`.
        verify: before writing, run the file in ONNX Runtime and Keras on generated inputs
            (`verify.generated_inputs`: random values per input dtype and right-padded rows)
            and refuse to write it if an output differs by more than `atol`. False skips it.
        verify_inputs: more model inputs to verify on (an array, list or dict), or None.
        atol: the tolerance of the verification.

    Returns:
        `path`, as a `pathlib.Path`.

    Raises:
        ExportError: the model cannot be converted, the graph needs operators outside the
            standard ONNX domain (named with the layer they come from), or the verification
            failed (nothing is written).

    Example:

    >>> export.to_onnx(model, "model.onnx")
    >>> onnxruntime.InferenceSession("model.onnx").run(None, {"tokens": ids})
    """
    check_model(model, "to_onnx")
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"to_onnx: `opset` must be an integer from {MIN_OPSET} to {MAX_OPSET}, got {opset!r}."
        )
    inputs, outputs = signature(model)
    shared = sorted({s.name for s in inputs} & {s.name for s in outputs})
    if shared:
        raise ExportError(
            f"to_onnx: model {model.name!r} has inputs and outputs both named {shared}; ONNX "
            "tensor names are unique in a graph. Rename the outputs (e.g. 'h' -> 'next_h')."
        )
    placeholders = {}
    shapes = {}

    def make_loop(layer, original):
        recurrence = describe(layer) if native_rnn else None
        if recurrence is None:
            return original

        def inner_loop(sequences, initial_state, mask, training=False):
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
            if mask is not None:
                return original(sequences, initial_state, mask, training=training)
            token = f"seqkeras_rnn_{len(placeholders)}"
            placeholders[token] = recurrence
            results = tf.numpy_function(
                _never_called,
                [sequences, *initial_state],
                [sequences.dtype] * (2 + len(initial_state)),
                stateful=False,
                name=token,
            )
            batch, steps = sequences.shape[0], sequences.shape[1]
            results[1].set_shape((batch, steps, recurrence.units))
            for tensor in (results[0], *results[2:]):
                tensor.set_shape((batch, recurrence.units))
            # tf2onnx cannot infer what the placeholder returns: it is told.
            shapes.update({t.name: list(t.shape) for t in results})
            return results[0], results[1], list(results[2:])

        return inner_loop

    function = serving_function(model, inputs, outputs)
    with replaced_loops(model, make_loop, unroll=False), quiet_tf2onnx():
        function.get_concrete_function()
        try:
            proto, _ = tf2onnx.convert.from_function(
                function,
                input_signature=function.input_signature,
                opset=opset,
                shape_override=shapes,
            )
        except (ValueError, TypeError, NotImplementedError, KeyError) as error:
            raise ExportError(
                f"to_onnx: tf2onnx could not convert model {model.name!r}: {error}"
            ) from None
    _replace_placeholders(proto, placeholders)
    _name_outputs(proto, function, outputs)
    _check_operators(proto, model)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as error:
        raise ExportError(
            f"to_onnx: the ONNX graph of {model.name!r} is invalid: {error}"
        ) from None
    content = proto.SerializeToString()
    if verify:
        check_artifact(model, content, ".onnx", "to_onnx", inputs=verify_inputs, atol=atol)
    return atomic_write_bytes(pathlib.Path(path), content)


def _never_called(*args):
    raise AssertionError("seqkeras export placeholder: replaced in the ONNX graph, never run")


def onnx_weights(recurrence):
    """W, R, B (and P for a peephole LSTM) in ONNX's layout, one direction."""
    order = _ONNX_GATE_ORDER[recurrence.kind]

    def reorder(array):
        blocks = np.split(array, len(order), axis=-1)
        return np.concatenate([blocks[i] for i in order], axis=-1)

    weights = {
        "W": reorder(recurrence.kernel).T[None],
        "R": reorder(recurrence.recurrent_kernel).T[None],
        "B": np.concatenate([reorder(recurrence.bias), reorder(recurrence.recurrent_bias)])[None],
    }
    if recurrence.peephole is not None:
        p_i, p_f, p_o = recurrence.peephole
        weights["P"] = np.concatenate([p_i, p_o, p_f])[None]
    return {name: np.ascontiguousarray(w, dtype="float32") for name, w in weights.items()}


def _native_nodes(prefix, recurrence, node):
    """Nodes and initializers computing a placeholder's outputs with one native RNN node."""
    sequences, *states = node.input
    last, all_outputs, *final_states = node.output
    initializers = []

    def const(name, array):
        initializers.append(numpy_helper.from_array(np.asarray(array), f"{prefix}/{name}"))
        return f"{prefix}/{name}"

    def tensor(name):
        return f"{prefix}/{name}"

    nodes = [helper.make_node("Transpose", [sequences], [tensor("time_major")], perm=[1, 0, 2])]
    time_major = tensor("time_major")
    if recurrence.go_backwards:
        nodes.append(
            helper.make_node(
                "Slice",
                [
                    time_major,
                    const("reverse_starts", np.array([-1], "int64")),
                    const("reverse_ends", np.array([np.iinfo("int64").min], "int64")),
                    const("reverse_axes", np.array([0], "int64")),
                    const("reverse_steps", np.array([-1], "int64")),
                ],
                [tensor("reversed")],
            )
        )
        time_major = tensor("reversed")
    axis_0 = const("axis_0", np.array([0], "int64"))
    axis_1 = const("axis_1", np.array([1], "int64"))
    initial = []
    for i, state in enumerate(states):
        nodes.append(helper.make_node("Unsqueeze", [state, axis_0], [tensor(f"initial_{i}")]))
        initial.append(tensor(f"initial_{i}"))
    weights = onnx_weights(recurrence)
    operands = [time_major, const("W", weights["W"]), const("R", weights["R"])]
    operands += [const("B", weights["B"]), "", *initial]
    activations = [_ONNX_ACTIVATIONS[recurrence.activation]]
    attributes = {"hidden_size": recurrence.units}
    if recurrence.kind == "LSTM":
        activations = [_ONNX_ACTIVATIONS[recurrence.gate_activation], *activations * 2]
        if "P" in weights:
            operands.append(const("P", weights["P"]))
    elif recurrence.kind == "GRU":
        activations = [_ONNX_ACTIVATIONS[recurrence.gate_activation], *activations]
        attributes["linear_before_reset"] = int(recurrence.reset_after)
    attributes["activations"] = activations
    native_outputs = [tensor("Y"), tensor("Y_h")] + ([tensor("Y_c")] if len(states) == 2 else [])
    nodes.append(
        helper.make_node(recurrence.kind, operands, native_outputs, name=prefix, **attributes)
    )
    nodes += [
        helper.make_node("Squeeze", [tensor("Y"), axis_1], [tensor("Y_squeezed")]),
        helper.make_node("Transpose", [tensor("Y_squeezed")], [all_outputs], perm=[1, 0, 2]),
        helper.make_node("Squeeze", [tensor("Y_h"), axis_0], [last]),
        helper.make_node("Identity", [last], [final_states[0]]),
    ]
    if len(states) == 2:
        nodes.append(helper.make_node("Squeeze", [tensor("Y_c"), axis_0], [final_states[1]]))
    return nodes, initializers


def _replace_placeholders(proto, placeholders):
    graph = proto.graph
    nodes = []
    for node in graph.node:
        match = _TOKEN.search(node.name) if node.op_type == _PLACEHOLDER_OP else None
        if match is None or match.group() not in placeholders:
            nodes.append(node)
            continue
        prefix = node.name
        new_nodes, initializers = _native_nodes(prefix, placeholders[match.group()], node)
        nodes.extend(new_nodes)
        graph.initializer.extend(initializers)
    del graph.node[:]
    graph.node.extend(nodes)


def _name_outputs(proto, function, outputs):
    """Gives the graph outputs the model's names and shapes (tf2onnx names them after TF
    tensors, and knows no shape for what a replaced placeholder computes)."""
    concrete = function.get_concrete_function()
    by_name = {spec.name: spec for spec in outputs}
    by_name.update({concrete.structured_outputs[spec.name].name: spec for spec in outputs})
    for output in proto.graph.output:
        spec = by_name[output.name]
        if spec.name != output.name:
            proto.graph.node.append(helper.make_node("Identity", [output.name], [spec.name]))
        dims = [
            "batch" if i == 0 else d if d is not None else f"{spec.name}_dim{i}"
            for i, d in enumerate(spec.shape)
        ]
        output.CopyFrom(
            helper.make_tensor_value_info(
                spec.name, helper.np_dtype_to_tensor_dtype(np.dtype(spec.dtype)), dims
            )
        )


def _check_operators(proto, model):
    """Raises `ExportError` naming every node that is not a standard ONNX operator."""
    foreign = {}
    for node in proto.graph.node:
        if node.domain not in ("", "ai.onnx") or not onnx.defs.has(node.op_type):
            layer = traced_layer_name(model, node.name) or "?"
            foreign.setdefault(node.op_type, set()).add(layer)
    if foreign:
        listing = "; ".join(
            f"{op} (layer {', '.join(sorted(layers))})" for op, layers in sorted(foreign.items())
        )
        raise ExportError(
            f"to_onnx: model {model.name!r} needs operators that are not standard ONNX "
            f"operators (tf2onnx could not convert them): {listing}."
        )


def onnx_operators(path):
    """Count of each operator type in an ONNX file's main graph, e.g. {"LSTM": 2, ...}."""
    proto = onnx.load(str(path), load_external_data=False)
    counts = {}
    for node in proto.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts
