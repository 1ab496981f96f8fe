"""Keras -> ONNX through tf2onnx, with ONNX's own LSTM / GRU / RNN operators for the loops.

tf2onnx turns a Keras 3 `LSTM` into a native `LSTM` node but every other recurrent layer (GRU,
SimpleRNN, the seqkeras cells) into a generic `Loop`. Here each recurrent layer whose math an
ONNX operator computes (see `recurrence.describe`) becomes the native node
(`onnx_recurrent.NativeLoops`); a masked layer runs natively with `sequence_lens` on
right-padded rows and keeps its `Loop` for any other mask (chosen at run time, in the graph);
an unmasked `Bidirectional` becomes one bidirectional node. With `quantize="dynamic"` the
weights are stored in int8 by ONNX Runtime's quantizer (`LSTM` -> `DynamicQuantizeLSTM`).
"""

from __future__ import annotations

import contextlib
import logging
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import onnx
import tf2onnx
from onnx import helper

from seqkeras.errors import ExportError
from seqkeras.files import atomic_write_bytes

from ._types import KerasModel, ModelInputs, OperatorCounts, PathLike
from .onnx_recurrent import NativeLoops
from .recurrence import describe
from .trace import (
    all_layers,
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
QUANTIZATIONS = (None, "dynamic")


@contextlib.contextmanager
def quiet_logger(name: str | None) -> Iterator[None]:
    """Silences logger `name` (None: the root logger) for the block: tf2onnx logs the
    recurrence placeholders as unsupported ops before they are replaced (ops that really are
    unsupported are reported by `_check_operators`), and ONNX Runtime's quantizer advises a
    pre-processing pass the graphs written here do not need."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def to_onnx(
    model: KerasModel,
    path: PathLike,
    *,
    opset: int = DEFAULT_OPSET,
    native_rnn: bool = True,
    quantize: str | None = None,
    verify: bool = True,
    verify_inputs: ModelInputs | None = None,
    atol: float = DEFAULT_ATOL,
) -> pathlib.Path:
    """Exports a Keras model to an ONNX file that runs in onnxruntime with any batch size.

    Recurrent layers become ONNX `LSTM` (peepholes included), `GRU` (`linear_before_reset`
    0 or 1; the minimal GRU with its reset gate held at 1) or `RNN` nodes where the operator
    computes the same function; the others (unusual activations) become a `Loop`. A masked
    layer gets an `If`: the native node with `sequence_lens` when every row is right-padded
    (valid steps first, at least one), its `Loop` for any other mask.

    Args:
        model: a Keras Functional or Sequential model.
        path: the `.onnx` file to write (atomically: it appears complete or not at all).
        opset: the ONNX opset, 13 to 18.
        native_rnn: use the native recurrent operators; False keeps every loop a `Loop`.
        quantize: None (float32) or `"dynamic"`: weights in int8 (one scale per tensor),
            activations quantized at run time, by ONNX Runtime's dynamic quantizer; `LSTM`
            nodes become `DynamicQuantizeLSTM` and `MatMul`s with a constant weight
            `MatMulInteger`. These are ONNX Runtime operators (domain `com.microsoft`): the
            file runs in ONNX Runtime, not in other ONNX engines. `GRU` and `RNN` nodes stay
            float32, and the `Loop` a masked layer keeps for masks with holes holds its own
            copy of the weights, only partly quantized: a masked model's file shrinks less.
        verify: before writing, run the float32 graph in ONNX Runtime and Keras on generated
            inputs (`verify.generated_inputs`: random values per input dtype and right-padded
            rows) and refuse to write it if an output differs by more than `atol`. False skips
            it. A quantized file is written after its float32 graph passed; judge its own
            error by the task's metric.
        verify_inputs: more model inputs to verify on (an array, list or dict), or None.
        atol: the tolerance of the verification.

    Returns:
        `path`, as a `pathlib.Path`.

    Raises:
        ExportError: the model cannot be converted, the graph needs operators outside the
            standard ONNX domain (named with the layer they come from), the verification
            failed, or ONNX Runtime cannot quantize the graph or load the quantized one
            (nothing is written).

    Example:

    >>> export.to_onnx(model, "model.onnx")
    >>> onnxruntime.InferenceSession("model.onnx").run(None, {"tokens": ids})
    >>> export.to_onnx(model, "model_int8.onnx", quantize="dynamic")  # 1/4 the size
    """
    check_model(model, "to_onnx")
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"to_onnx: `opset` must be an integer from {MIN_OPSET} to {MAX_OPSET}, got {opset!r}."
        )
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"to_onnx: `quantize` must be one of {QUANTIZATIONS}, got {quantize!r}.")
    inputs, outputs = signature(model)
    shared = sorted({s.name for s in inputs} & {s.name for s in outputs})
    if shared:
        raise ExportError(
            f"to_onnx: model {model.name!r} has inputs and outputs both named {shared}; ONNX "
            "tensor names are unique in a graph. Rename the outputs (e.g. 'h' -> 'next_h')."
        )
    halves = {}
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.Bidirectional):
            halves[id(layer.forward_layer)] = (id(layer), False)
            halves[id(layer.backward_layer)] = (id(layer), True)
    loops = NativeLoops(describe if native_rnn else lambda layer: None, halves)
    function = serving_function(model, inputs, outputs)
    with replaced_loops(model, loops.make_loop, unroll=False), quiet_logger("tf2onnx"):
        function.get_concrete_function()
        try:
            proto, _ = tf2onnx.convert.from_function(
                function,
                input_signature=function.input_signature,
                opset=opset,
                shape_override=loops.shapes,
            )
        except (ValueError, TypeError, NotImplementedError, KeyError) as error:
            raise ExportError(
                f"to_onnx: tf2onnx could not convert model {model.name!r}: {error}"
            ) from None
    loops.replace(proto.graph)
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
    if quantize == "dynamic":
        content = _with_int8_weights(proto)
        if verify:  # it must also run on those inputs; its error (quantization's) is not judged
            check_artifact(
                model, content, ".onnx", "to_onnx", inputs=verify_inputs, atol=atol, enforce=False
            )
    return atomic_write_bytes(pathlib.Path(path), content)


def _with_int8_weights(proto: onnx.ModelProto) -> bytes:
    """`proto` through ONNX Runtime's dynamic quantizer, `If` branches and `Loop` bodies
    included (a masked layer's native node sits in an `If`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="seqkeras-quantize-") as folder, quiet_logger(None):
        path = pathlib.Path(folder) / "int8.onnx"
        try:
            quantize_dynamic(
                proto, path, weight_type=QuantType.QInt8, extra_options={"EnableSubgraph": True}
            )
        except Exception as error:  # the quantizer raises assorted, unrelated exception types
            raise ExportError(
                f"to_onnx: ONNX Runtime's quantizer failed on this graph "
                f"({type(error).__name__}: {error}); export it with quantize=None."
            ) from None
        quantized = onnx.load(str(path))
        _sort_topologically(quantized.graph)
        content = quantized.SerializeToString()
        path.write_bytes(content)
        _check_loadable(path)
    return content


def _check_loadable(path: pathlib.Path) -> None:
    """Loads the quantized file in a child process: on some graphs the quantizer writes (a
    decoder step exported with `native_rnn=False`), ONNX Runtime's loader fails a C++ assertion
    and aborts the whole process."""
    load = "import sys, onnxruntime; onnxruntime.InferenceSession(sys.argv[1])"
    try:
        result = subprocess.run(
            [sys.executable, "-c", load, str(path)], capture_output=True, text=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        result = subprocess.CompletedProcess([], -1, "", "no answer in 600 s")
    if result.returncode:
        message = (result.stderr.strip().splitlines() or ["no message"])[-1][-300:]
        raise ExportError(
            f"to_onnx: ONNX Runtime cannot load the quantized graph (exit status "
            f"{result.returncode}: {message}); export it with quantize=None, or with "
            "native_rnn=True if it was off."
        )


def _sort_topologically(graph: onnx.GraphProto) -> None:
    """Orders `graph`'s nodes, and those of its subgraphs, so that each comes after the nodes
    whose outputs it reads, as ONNX requires: the quantizer can break the order inside `If`
    branches."""
    produced = {name for node in graph.node for name in node.output}
    pending = [(node, _reads(node) & produced) for node in graph.node]
    ordered: list[onnx.NodeProto] = []
    available: set[str] = set()
    while pending:
        waiting = [(node, needs) for node, needs in pending if not needs <= available]
        if len(waiting) == len(pending):
            raise ExportError("to_onnx: the quantized graph has a cycle; use quantize=None.")
        for node, needs in pending:
            if needs <= available:
                copy = onnx.NodeProto()
                copy.CopyFrom(node)
                ordered.append(copy)
        available.update(name for node in ordered for name in node.output)
        pending = waiting
    del graph.node[:]
    graph.node.extend(ordered)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                _sort_topologically(attribute.g)


def _reads(node: onnx.NodeProto) -> set[str]:
    """The tensor names `node` reads, those its subgraphs take from enclosing graphs included."""
    names = set(node.input) - {""}
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            for inner in attribute.g.node:
                names |= _reads(inner)
    return names


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
    foreign: dict[str, set[str]] = {}
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


def onnx_operators(path: PathLike) -> OperatorCounts:
    """Count of each operator type in an ONNX file, subgraphs (`If` branches, `Loop` bodies)
    included, e.g. {"LSTM": 2, ...}."""
    proto = onnx.load(str(path), load_external_data=False)
    counts: OperatorCounts = {}

    def count(graph: Any) -> None:
        for node in graph.node:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    count(attribute.g)

    count(proto.graph)
    return counts
