"""Parity between a Keras model and its exported artifact, on the same inputs.

`verify` compares on the caller's inputs; `check_artifact` is what every export runs before
it writes a file: the comparison on generated inputs (`generated_inputs`: random values of
each input's declared dtype, and right-padded copies of the sequence inputs, so that masked
layers are exercised), and an `ExportError` if an output is off by more than the tolerance.
"""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from seqkeras.errors import ExportError, SeqKerasError
from seqkeras.runtime import load_artifact
from seqkeras.runtime.specs import TensorSpec, feed

from ._types import KerasModel, ModelInputs, PathLike
from .trace import all_layers, check_model, input_names, signature

DEFAULT_ATOL = 1e-4
# Generated inputs: this many random samples plus as many right-padded copies; free
# dimensions get GENERATED_STEPS steps; token ids are drawn below DEFAULT_ID_BOUND unless an
# Embedding takes fewer.
GENERATED_SAMPLES = 2
GENERATED_STEPS = 6
DEFAULT_ID_BOUND = 5
KERAS_CHUNK = 256


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """How far an artifact's outputs are from the Keras model's.

    Attributes:
        artifact: the artifact file.
        backend: `"tflite"` (LiteRT) or `"onnx"` (ONNX Runtime).
        max_abs_diff: dict output name -> max |artifact - keras| over all samples.
        atol: the tolerance `passed` is judged by.
        samples: how many input samples were compared.
    """

    artifact: str
    backend: str
    max_abs_diff: dict[str, float]
    atol: float
    samples: int

    @property
    def passed(self) -> bool:
        """Whether every output is within `atol` of Keras."""
        return all(diff <= self.atol for diff in self.max_abs_diff.values())

    def raise_if_failed(self) -> None:
        """Raises `ExportError` naming the outputs beyond `atol`."""
        if not self.passed:
            failed = {k: v for k, v in self.max_abs_diff.items() if v > self.atol}
            raise ExportError(
                f"{self.artifact}: outputs differ from Keras by more than {self.atol:g} "
                f"(max abs diff {failed})."
            )

    def to_json(self) -> dict[str, Any]:
        return {"max_abs_diff": dict(self.max_abs_diff), "atol": self.atol, "samples": self.samples}

    def __str__(self) -> str:
        lines = [f"{self.artifact} ({self.backend}, {self.samples} samples, atol {self.atol:g}):"]
        for name, diff in self.max_abs_diff.items():
            verdict = "ok" if diff <= self.atol else "FAIL"
            lines.append(f"  {name}: max abs diff {diff:.3g}  {verdict}")
        return "\n".join(lines)


def verify(
    model: KerasModel,
    artifact: PathLike,
    inputs: ModelInputs,
    *,
    atol: float = DEFAULT_ATOL,
    num_threads: int | None = None,
) -> VerifyReport:
    """Runs the Keras model and an exported artifact on the same inputs and compares outputs.

    The artifact runs through `seqkeras.runtime` (LiteRT for `.tflite`, ONNX Runtime for
    `.onnx`), the code path a deployment uses. Float32 exports agree within 1e-4; quantized
    ones differ more (judge those by the task's own metric).

    Args:
        model: the Keras model that was exported.
        artifact: the `.tflite` or `.onnx` file.
        inputs: model inputs (an array, a list in input order or a dict by input name),
            samples along dimension 0; a TFLite file with a fixed batch size runs them in
            chunks of that size.
        atol: the tolerance `VerifyReport.passed` uses.
        num_threads: threads for the engine (its default if None).

    Returns:
        A `VerifyReport` (`.max_abs_diff` per output, `.passed`, `.raise_if_failed()`).

    Raises:
        SeqKerasError: the inputs do not fit the model or the artifact.
        ExportError: the artifact's outputs are not the model's.

    Example:

    >>> report = export.verify(model, "model.tflite", x_test[:32])
    >>> report.raise_if_failed()
    """
    check_model(model, "verify")
    specs, outputs = signature(model)
    arrays = feed(specs, inputs, f"verify: model {model.name!r}")
    expected = _keras_outputs(model, [arrays[name] for name in input_names(model)])
    runtime_model = load_artifact(artifact, num_threads)
    actual = runtime_model.predict(arrays)
    if not isinstance(actual, dict):
        actual = {runtime_model.outputs[0].name: actual}
    names = [spec.name for spec in outputs]
    if sorted(actual) != sorted(names):
        raise ExportError(
            f"{artifact}: outputs {sorted(actual)} are not the model's outputs {sorted(names)}."
        )
    diffs = {}
    for name, reference in zip(names, expected):
        result = actual[name]
        if result.shape != np.shape(reference):
            raise ExportError(
                f"{artifact}: output {name!r} has shape {result.shape}, Keras gives "
                f"{np.shape(reference)}."
            )
        diff = np.abs(result.astype("float64") - np.asarray(reference, "float64"))
        diffs[name] = float(diff.max()) if diff.size else 0.0
    return VerifyReport(
        str(pathlib.Path(artifact)),
        runtime_model.backend,
        diffs,
        atol,
        len(next(iter(arrays.values()))),
    )


def _keras_outputs(model, arrays):
    """The model's flattened outputs on `arrays` (in input order), called in chunks of
    `KERAS_CHUNK` samples: a direct call costs a fraction of `model.predict`'s tracing."""
    chunks = []
    for start in range(0, max(len(arrays[0]), 1), KERAS_CHUNK):
        inputs = [array[start : start + KERAS_CHUNK] for array in arrays]
        results = model(keras.tree.pack_sequence_as(model.input, inputs), training=False)
        chunks.append([keras.ops.convert_to_numpy(r) for r in keras.tree.flatten(results)])
    return [np.concatenate(parts) for parts in zip(*chunks)]


def generated_inputs(
    model: KerasModel, specs: Sequence[TensorSpec], seed: int = 0
) -> dict[str, np.ndarray]:
    """Inputs for `model` drawn from each input's declared dtype, samples along dimension 0.

    Float inputs are normal(0, 1.5); integer inputs are ids in [1, n) with n the smallest
    `input_dim` of the model's Embedding layers (at most `DEFAULT_ID_BOUND`); bool inputs are
    fair coins. The first `GENERATED_SAMPLES` samples are random; the next are the same
    samples with the tails of their sequence inputs (integer inputs of rank >= 2, float inputs
    of rank >= 3, more than one step) set to zero, the padding `mask_zero=True` and
    `Masking(0.0)` read as masked: right-padded rows of different lengths.

    Args:
        model: the Keras model.
        specs: the `TensorSpec`s of its inputs (a fixed dimension is kept, a free one gets
            `GENERATED_STEPS`).
        seed: the random seed.

    Returns:
        A dict input name -> array.
    """
    rng = np.random.default_rng(seed)
    bounds = [layer.input_dim for layer in all_layers(model) if hasattr(layer, "input_dim")]
    id_bound = max(2, min([DEFAULT_ID_BOUND, *bounds]))
    samples = GENERATED_SAMPLES
    lengths = None
    arrays = {}
    for spec in specs:
        shape = (samples, *(GENERATED_STEPS if d is None else d for d in spec.shape[1:]))
        dtype = np.dtype(spec.dtype)
        values: np.ndarray
        if dtype.kind == "f":
            values = rng.normal(0.0, 1.5, shape)
        elif dtype.kind in "iu":
            values = rng.integers(1, id_bound, shape)
        elif dtype.kind == "b":
            values = rng.random(shape) < 0.5
        else:
            raise ExportError(
                f"cannot generate verification inputs of dtype {spec.dtype} for input "
                f"{spec.name!r}; pass verify_inputs=... or verify=False."
            )
        values = values.astype(dtype)
        padded = values.copy()
        sequence_rank = 2 if dtype.kind in "iub" else 3
        if len(shape) >= sequence_rank and shape[1] > 1:
            if lengths is None:
                lengths = [max(1, shape[1] - 1 - i * (shape[1] // 2)) for i in range(samples)]
            for row, length in enumerate(lengths):
                padded[row, min(length, shape[1] - 1) :] = 0
        arrays[spec.name] = np.concatenate([values, padded])
    return arrays


def check_artifact(
    model: KerasModel,
    content: bytes,
    suffix: str,
    function_name: str,
    *,
    inputs: ModelInputs | None = None,
    atol: float = DEFAULT_ATOL,
    sequence_length: int | None = None,
    enforce: bool = True,
) -> VerifyReport:
    """Verifies artifact bytes against Keras before they are written anywhere.

    Args:
        model: the Keras model the artifact was exported from.
        content: the artifact's bytes.
        suffix: `".onnx"` or `".tflite"` (picks the engine).
        function_name: the exporting function, for the error message.
        inputs: model inputs to compare on as well as the generated ones, or None.
        atol: the largest max abs difference allowed per output.
        sequence_length: the fixed sequence length of the artifact's inputs, if any.
        enforce: raise if the artifact is off by more than `atol` (False for a quantized
            artifact: the report is only recorded).

    Returns:
        The `VerifyReport` (max over the generated and the given inputs).

    Raises:
        ExportError: an output differs by more than `atol`, or the model cannot run on the
            inputs.
    """
    specs, _ = signature(model, sequence_length=sequence_length)
    with tempfile.TemporaryDirectory(prefix="seqkeras-verify-") as folder:
        artifact = pathlib.Path(folder) / f"artifact{suffix}"
        artifact.write_bytes(content)
        reports = []
        for description, values in (
            ("generated inputs", generated_inputs(model, specs)),
            ("the given verify_inputs", inputs),
        ):
            if values is None:
                continue
            try:
                report = verify(model, artifact, values, atol=atol)
            except ExportError:
                raise
            except (SeqKerasError, ValueError, TypeError, tf.errors.OpError) as error:
                raise ExportError(
                    f"{function_name}: model {model.name!r} could not be verified on "
                    f"{description}: {error} Pass verify_inputs=... or verify=False."
                ) from None
            reports.append((description, report))
    for description, report in reports:
        if enforce and not report.passed:
            failed = {k: f"{v:.3g}" for k, v in report.max_abs_diff.items() if v > atol}
            raise ExportError(
                f"{function_name}: the {suffix[1:]} export of model {model.name!r} differs from "
                f"Keras on {description} by more than {atol:g} (max abs diff per output: "
                f"{failed}); it was not written (verify=False writes it anyway)."
            )
    return merged(report for _, report in reports)


def merged(reports: Iterable[VerifyReport]) -> VerifyReport:
    """One `VerifyReport` from several of the same artifact: max diffs, summed samples."""
    reports = list(reports)
    diffs: dict[str, float] = {}
    for report in reports:
        for name, diff in report.max_abs_diff.items():
            diffs[name] = max(diff, diffs.get(name, 0.0))
    return dataclasses.replace(
        reports[0], max_abs_diff=diffs, samples=sum(r.samples for r in reports)
    )
