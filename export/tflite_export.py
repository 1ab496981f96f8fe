"""Keras -> TFLite with builtin operators only, through one of three routes per recurrent layer.

Routes (measured in benchmarks/RESULTS.md, "Export latency"):

- `"while"`: a WHILE loop over the steps; any batch size and sequence length. The loop writes
  each step's output into the output sequence in place (`tflite_loop`; Keras's TensorArray
  would be Flex ops with a free batch size, and copies of the sequence at every step with a
  fixed one). XNNPACK runs the loop body. A seqkeras layer's x<t>·W + b is computed for all
  steps before the loop (one matmul); a masked loop stops after the last step some row keeps
  (padding costs no steps).
- `"unroll"`: straight-line ops, one copy of the step per time step. Needs a fixed sequence
  length; the file grows with it. Fastest for 1-2 steps (a decoder step), slower than WHILE
  from 4 steps on. The only route the int8 quantizer handles (it crashes on WHILE loops).
- `"fused"`: TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM kernel for LSTM layers, through the
  converter's Keras-LSTM fusion (a function carrying the `tf.api_implements` attribute
  "lstm_..."); other layers take `"while"`. The converter clips the cell state at 10, drops
  peepholes and may share the LSTM's state variables with other ops: all three are repaired in
  the flatbuffer. The kernel keeps its state in variable tensors that persist between
  invocations: reset them before every run (`Interpreter.reset_all_variables()`, Java
  `resetVariableTensors()`), as `seqkeras.runtime` does. An LSTM with a mask,
  `return_state=True` or initial states that are inputs takes `"while"`. Slower than WHILE
  under XNNPACK on the measured CPU.

`"auto"` (the default) unrolls loops of at most `AUTO_UNROLL_MAX_STEPS` steps and all loops
for int8, and takes WHILE otherwise.

The batch size `"auto"` (the default) leaves the batch dimension free (LiteRT resizes it to
any batch), except on the `"fused"` route: the fused kernel's state tensors need a fixed batch
size (a free one leaves every LSTM to WHILE), so it is 1 there.
A WHILE loop fixed at batch 1 ran a batch-1 call 0-8% faster than a free one (RESULTS).
"""

from __future__ import annotations

import dataclasses
import pathlib
import warnings

import tensorflow as tf

from seqkeras.errors import ExportError, SeqKerasError
from seqkeras.files import atomic_write_bytes
from seqkeras.runtime.specs import feed

from ._types import KerasModel, ModelInputs, OperatorCounts, PathLike
from .recurrence import describe
from .tflite_fused import fusable, fused_call, patch_fused_lstms
from .tflite_loop import outputs_written_in_place
from .tflite_operators import check_builtin_only, tflite_operators
from .trace import check_model, replaced_loops, serving_function, signature
from .verify import DEFAULT_ATOL, check_artifact

ROUTES = ("auto", "while", "unroll", "fused")
# "auto" unrolls loops of at most this many steps: measured faster than WHILE up to 2 steps
# (2-layer 256-unit LSTM, batch 1, XNNPACK), slower from 4 on.
AUTO_UNROLL_MAX_STEPS = 2
QUANTIZATIONS = (None, "float16", "dynamic", "int8")
REPRESENTATIVE_SAMPLES = 200


@dataclasses.dataclass(frozen=True)
class TFLiteArtifact:
    """A converted model before it is written.

    Attributes:
        content: the flatbuffer bytes.
        layer_routes: dict recurrent layer name -> the route it took (`"while"`, `"unroll"`
            or `"fused"`).
        operators: count of each operator in the file, e.g. {"WHILE": 1, ...}.
        batch_size: the file's fixed batch size, or None for a free one.
    """

    content: bytes
    layer_routes: dict[str, str]
    operators: OperatorCounts
    batch_size: int | None


def to_tflite(
    model: KerasModel,
    path: PathLike,
    *,
    quantize: str | None = None,
    representative_data: ModelInputs | None = None,
    batch_size: int | str | None = "auto",
    sequence_length: int | None = None,
    route: str = "auto",
    verify: bool = True,
    verify_inputs: ModelInputs | None = None,
    atol: float = DEFAULT_ATOL,
) -> pathlib.Path:
    """Exports a Keras model to a TFLite file made of builtin operators only.

    No Flex (SELECT_TF_OPS) and no custom operators: the file runs on the plain LiteRT
    runtime of a phone or a board. The operator list is checked after conversion.

    Args:
        model: a Keras Functional or Sequential model.
        path: the `.tflite` file to write (atomically).
        quantize: None (float32), `"float16"` (weights in float16), `"dynamic"` (weights in
            int8, activations float) or `"int8"` (int8 kernels calibrated on
            `representative_data`, float inputs and outputs).
        representative_data: for `"int8"`: model inputs (an array, a list or a dict of arrays,
            samples along dimension 0), typical of real data; the first 200 samples are used.
        batch_size: the fixed batch size of the file, None for a free one, or `"auto"`: free,
            except 1 for the `"fused"` route (the fused kernel's state needs a fixed batch).
        sequence_length: fixes dimension 1 of the inputs that leave it free. Required by the
            `"unroll"` route and by `"int8"`.
        route: how recurrent loops are exported: `"auto"`, `"while"`, `"unroll"` or
            `"fused"` (see the module documentation for the trade-offs).
        verify: before writing a float32 file, run it in LiteRT and Keras on generated inputs
            (`verify.generated_inputs`: random values per input dtype and right-padded rows)
            and refuse to write it if an output differs by more than `atol`. False skips it.
            Quantized files are not checked (judge them by the task's own metric).
        verify_inputs: more model inputs to verify on (an array, list or dict), or None.
        atol: the tolerance of the verification.

    Returns:
        `path`, as a `pathlib.Path`.

    Raises:
        ExportError: an argument is invalid, the converter fails, the result needs
            non-builtin operators (named with the layers they come from), or the verification
            failed (nothing is written).

    Example:

    >>> export.to_tflite(model, "model.tflite")
    >>> export.to_tflite(model, "model_int8.tflite", quantize="int8",
    ...                  representative_data=x_train[:200], sequence_length=50)
    """
    artifact = convert_tflite(
        model,
        quantize=quantize,
        representative_data=representative_data,
        batch_size=batch_size,
        sequence_length=sequence_length,
        route=route,
    )
    if verify and quantize is None:
        check_artifact(
            model,
            artifact.content,
            ".tflite",
            "to_tflite",
            inputs=verify_inputs,
            atol=atol,
            sequence_length=sequence_length,
        )
    return atomic_write_bytes(pathlib.Path(path), artifact.content)


def convert_tflite(
    model: KerasModel,
    *,
    quantize: str | None = None,
    representative_data: ModelInputs | None = None,
    batch_size: int | str | None = "auto",
    sequence_length: int | None = None,
    route: str = "auto",
) -> TFLiteArtifact:
    """`to_tflite` without the file: returns a `TFLiteArtifact`."""
    check_model(model, "to_tflite")
    _check_arguments(quantize, representative_data, batch_size, sequence_length, route)
    if quantize == "int8" and route != "unroll":
        if route != "auto":
            raise ExportError(
                f"to_tflite: route={route!r} cannot be quantized to int8 (the converter's int8 "
                "quantizer fails on WHILE loops); use route='unroll' with a fixed length."
            )
        route = "unroll"
    if batch_size == "auto":
        batch_size = 1 if route == "fused" else None
    traced = _trace(model, batch_size, sequence_length, route, quantize)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([traced.concrete], tf.Module())
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS,
        tf.lite.OpsSet.SELECT_TF_OPS,
    ]
    converter.allow_custom_ops = True
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.target_spec.supported_ops.insert(0, tf.lite.OpsSet.TFLITE_BUILTINS_INT8)
        converter.representative_dataset = _representative_dataset(
            traced.inputs, representative_data, traced.batch_size
        )
    try:
        with warnings.catch_warnings():
            # The int8 calibration runs TF's own deprecated interpreter: not the caller's concern.
            warnings.filterwarnings("ignore", "(?s).*tf.lite.Interpreter is deprecated")
            content = converter.convert()
    except Exception as error:  # the converter raises ConverterError, RuntimeError, ...
        raise ExportError(
            f"to_tflite: the TFLite converter failed on model {model.name!r}: "
            f"{str(error).strip().splitlines()[-1]}"
        ) from None
    check_builtin_only(content, model)
    layer_routes = traced.layer_routes
    if traced.fused:
        content, fused_layers = patch_fused_lstms(content, traced.fused)
        for name, _ in traced.fused:
            if name not in fused_layers:  # the converter kept the function's own loop
                layer_routes[name] = "while"
    return TFLiteArtifact(
        bytes(content), layer_routes, tflite_operators(content), traced.batch_size
    )


@dataclasses.dataclass
class _Traced:
    concrete: object
    inputs: list
    batch_size: int | None
    layer_routes: dict
    fused: list


def _trace(model, batch_size, sequence_length, route, quantize):
    """The serving function of `model` traced with each recurrent loop on its route."""
    inputs, outputs = signature(model, batch_size, sequence_length)
    traced = _Traced(None, inputs, batch_size, {}, [])

    def make_loop(layer, original):
        recurrence = describe(layer) if route == "fused" else None

        def inner_loop(sequences, initial_state, mask, training=False):
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
            steps = sequences.shape[1]
            if route == "unroll" and steps is None:
                raise ExportError(
                    f"to_tflite: route='unroll' needs a fixed sequence length, but layer "
                    f"{layer.name!r} gets a free one; pass sequence_length=..."
                )
            if route == "unroll" or (
                route == "auto" and steps is not None and steps <= AUTO_UNROLL_MAX_STEPS
            ):
                traced.layer_routes[layer.name] = "unroll"
                return _unrolled(layer, original, sequences, initial_state, mask, training)
            if route == "fused" and fusable(layer, recurrence, quantize, initial_state, mask):
                traced.layer_routes[layer.name] = "fused"
                traced.fused.append((layer.name, recurrence))
                return fused_call(recurrence, sequences, initial_state)
            traced.layer_routes[layer.name] = "while"
            return _while_loop(layer, original, sequences, initial_state, mask, training)

        return inner_loop

    function = serving_function(model, inputs, outputs)
    with replaced_loops(model, make_loop, unroll=False), outputs_written_in_place():
        traced.concrete = function.get_concrete_function()
    return traced


def _check_arguments(quantize, representative_data, batch_size, sequence_length, route):
    if route not in ROUTES:
        raise ExportError(f"to_tflite: `route` must be one of {ROUTES}, got {route!r}.")
    if quantize not in QUANTIZATIONS:
        raise ExportError(
            f"to_tflite: `quantize` must be one of {QUANTIZATIONS}, got {quantize!r}."
        )
    if quantize == "int8" and representative_data is None:
        raise ExportError(
            "to_tflite: quantize='int8' needs `representative_data` (typical model inputs) to "
            "calibrate the int8 ranges."
        )
    if batch_size == "auto":
        batch_size = None
    for name, value in (("batch_size", batch_size), ("sequence_length", sequence_length)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value <= 0
        ):
            raise ExportError(
                f"to_tflite: `{name}` must be a positive integer or None, got {value!r}."
            )


def _representative_dataset(inputs, data, batch_size):
    free_batch = [dataclasses.replace(s, shape=(None, *s.shape[1:])) for s in inputs]
    try:
        arrays = feed(free_batch, data, "to_tflite: representative_data")
    except SeqKerasError as error:
        raise ExportError(str(error)) from None
    size = batch_size or 1
    samples = min(REPRESENTATIVE_SAMPLES, len(next(iter(arrays.values()))))
    if samples < size:
        raise ExportError(
            f"to_tflite: representative_data has {samples} samples, fewer than batch_size={size}."
        )

    def dataset():
        for start in range(0, samples - size + 1, size):
            yield {name: array[start : start + size] for name, array in arrays.items()}

    return dataset


def _unrolled(layer, original, sequences, initial_state, mask, training):
    """The layer's loop traced unrolled (straight-line ops).

    A go_backwards layer runs forward over the reversed sequence: keras's unrolled loop zeroes
    the masked outputs of a go_backwards layer at the unreversed steps (Bidirectional's
    backward half over padded input gets wrong outputs), its WHILE loop does not.
    """
    backwards = layer.go_backwards
    if backwards:
        sequences = tf.reverse(sequences, [1])
        mask = None if mask is None else tf.reverse(mask, [1])
    layer.__dict__.update(unroll=True, go_backwards=False)
    try:
        return original(sequences, initial_state, mask, training=training)
    finally:
        layer.__dict__.update(unroll=False, go_backwards=backwards)


def _while_loop(layer, original, sequences, initial_state, mask, training):
    """The layer's WHILE loop (over its projected inputs, `_projected_first`), run only up to
    the last step that some row keeps.

    The steps after it are masked in every row: they leave the states as they are and their
    outputs follow from the loop's other outputs (zeros, or each row's last output repeated),
    so they are added afterwards instead of computed. Padded input costs nothing then: the
    LiteRT loop over a right-padded date runs as many steps as the date has characters.
    """
    if mask is None:
        return _projected_first(layer, original, sequences, initial_state, mask, training)
    steps = tf.shape(mask)[1]
    kept = tf.reduce_any(tf.cast(mask, tf.bool), axis=0)
    length = tf.reduce_max(tf.where(kept, tf.range(1, steps + 1), 1))
    last_output, outputs, states = _projected_first(
        layer, original, sequences[:, :length], initial_state, mask[:, :length], training
    )
    if not layer.return_sequences:
        return last_output, outputs, states
    skipped = steps - length
    if layer.go_backwards:  # outputs in reading order: the skipped steps were read first
        outputs = tf.pad(outputs, [[0, 0], [skipped, 0], [0, 0]])
    elif layer.zero_output_for_mask:
        outputs = tf.pad(outputs, [[0, 0], [0, skipped], [0, 0]])
    else:
        outputs = tf.concat([outputs, tf.repeat(outputs[:, -1:], skipped, axis=1)], 1)
    outputs.set_shape([*sequences.shape[:2], *outputs.shape[2:]])
    return last_output, outputs, states


def _projected_first(layer, original, sequences, initial_state, mask, training):
    """The loop over x<t>·W + b computed for all steps in one matmul before it, for the layers
    that accept it: the loop body keeps the recurrent matmuls only."""
    if training or not getattr(layer, "accepts_projected_inputs", False):
        return original(sequences, initial_state, mask, training=training)
    projected = layer.cell.project_inputs(sequences)
    return original(projected, initial_state, mask, training=training, inputs_projected=True)
