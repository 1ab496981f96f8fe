"""Writing a bundle: every graph of a task in every format, plus `bundle.json`.

The folder is assembled beside its destination and renamed into place when complete, so an
interrupted or failed export never leaves a half bundle. The layout is documented in
`seqkeras.runtime.loading`, which reads it.
"""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import keras
from tqdm.auto import tqdm

import seqkeras
from seqkeras.errors import ExportError
from seqkeras.files import atomic_write_bytes, sha256, staged_directory
from seqkeras.runtime.loading import FORMAT, FORMAT_VERSION, MANIFEST

from ._types import KerasModel, ModelInputs, PathLike
from .onnx_export import DEFAULT_OPSET, onnx_operators, to_onnx
from .tflite_export import convert_tflite
from .trace import signature
from .verify import DEFAULT_ATOL, check_artifact

FORMATS = ("tflite", "onnx")
_GRAPH_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_TFLITE_OPTIONS = ("quantize", "representative_data", "batch_size", "sequence_length", "route")
_ONNX_OPTIONS = ("opset", "native_rnn", "quantize")
_VERSIONED = ("tensorflow", "keras", "tf2onnx", "onnx", "ai-edge-litert", "numpy")


def bundle(
    models: KerasModel | Mapping[str, KerasModel],
    path: PathLike,
    *,
    formats: Sequence[str] = FORMATS,
    task: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tflite_options: Mapping[str, Any] | None = None,
    onnx_options: Mapping[str, Any] | None = None,
    verify: bool = True,
    verify_inputs: ModelInputs | Mapping[str, ModelInputs] | None = None,
    atol: float = DEFAULT_ATOL,
    overwrite: bool = False,
    progress: bool = True,
) -> pathlib.Path:
    """Exports one or more Keras graphs into a bundle folder that `seqkeras.runtime` loads.

    Args:
        models: a Keras model (saved as graph `"model"`), or a dict graph name -> model, e.g.
            `{"encoder": encoder, "step": decoder_step}` for autoregressive tasks.
        path: the bundle folder to create.
        formats: which artifacts to write: `"tflite"` and/or `"onnx"`.
        task: the task's name, recorded for the runtime (e.g. `"dates"`).
        metadata: JSON-serializable dict of the task's settings (vocabularies, special tokens,
            decoding settings), stored in `bundle.json` for the runtime pipelines.
        tflite_options: keyword arguments of `to_tflite` (quantize, representative_data,
            batch_size, sequence_length, route).
        onnx_options: keyword arguments of `to_onnx` (opset, native_rnn, quantize).
        verify: check every artifact against Keras (in the engine that runs it) on generated
            inputs (`verify.generated_inputs`: random values per input dtype and right-padded
            rows) and on `verify_inputs`; the max abs differences are recorded in
            `bundle.json`, and a float32 artifact beyond `atol` fails the export (a quantized
            ONNX file's float32 graph is checked before quantization). False skips the check.
        verify_inputs: more inputs to verify on (for a dict of models: a dict graph name ->
            inputs), or None.
        atol: tolerance for float32 artifacts.
        overwrite: replace an existing bundle at `path`.
        progress: show a progress bar.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ExportError: a graph cannot be exported or fails verification (nothing is written).

    Example:

    >>> export.bundle({"encoder": enc, "step": step}, "bundle", task="dates",
    ...               metadata={"vocabulary": vocab}, verify_inputs={"encoder": x, "step": s})
    >>> seqkeras.runtime.load("bundle", backend="tflite")["encoder"].predict(x)
    """
    graph_inputs: object = verify_inputs
    if isinstance(models, keras.Model):
        models = {"model": models}
        graph_inputs = None if verify_inputs is None else {"model": verify_inputs}
    tflite_options = dict(tflite_options or {})
    onnx_options = dict(onnx_options or {})
    formats = _check_bundle_arguments(
        models, formats, metadata, graph_inputs, tflite_options, onnx_options
    )
    # Checked above: a dict graph name -> inputs, or None.
    inputs_by_graph = cast("Mapping[str, ModelInputs] | None", graph_inputs)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": task,
        "versions": _versions(),
        "graphs": {},
        "metadata": metadata or {},
    }
    steps = [(name, fmt) for name in models for fmt in formats]
    if pathlib.Path(path).exists() and not overwrite:
        raise ExportError(f"{path}: already exists; pass overwrite=True to replace it.")
    with staged_directory(path, overwrite) as staging:
        for name, fmt in tqdm(steps, desc="export", unit="artifact", disable=not progress):
            model = models[name]
            inputs, outputs = signature(model)
            graph = manifest["graphs"].setdefault(
                name,
                {
                    "inputs": [s.to_json() for s in inputs],
                    "outputs": [s.to_json() for s in outputs],
                    "artifacts": {},
                },
            )
            file = staging / f"{name}.{fmt}"
            entry = _write_artifact(model, fmt, file, tflite_options, onnx_options, verify, atol)
            if verify:
                report = check_artifact(
                    model,
                    file.read_bytes(),
                    file.suffix,
                    f"bundle (graph {name!r})",
                    inputs=None if inputs_by_graph is None else inputs_by_graph[name],
                    atol=atol,
                    sequence_length=entry.get("sequence_length"),
                    enforce=entry.get("quantize") is None,
                )
                entry["verification"] = report.to_json()
            graph["artifacts"][fmt] = {
                "file": file.name,
                "sha256": sha256(file),
                "bytes": file.stat().st_size,
                **entry,
            }
        atomic_write_bytes(
            staging / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
        )
    return pathlib.Path(path)


def _write_artifact(model, fmt, file, tflite_options, onnx_options, verify, atol):
    """Writes one artifact of `model` and returns its `bundle.json` entry. The caller verifies
    the artifact; only a quantized ONNX file's float32 graph is verified here, before
    quantization."""
    if fmt == "tflite":
        artifact = convert_tflite(model, **tflite_options)
        atomic_write_bytes(file, artifact.content)
        return {
            "quantize": tflite_options.get("quantize"),
            "route": tflite_options.get("route", "auto"),
            "layer_routes": artifact.layer_routes,
            "batch_size": artifact.batch_size,
            "sequence_length": tflite_options.get("sequence_length"),
            "operators": artifact.operators,
        }
    quantize = onnx_options.get("quantize")
    to_onnx(model, file, verify=verify and quantize is not None, atol=atol, **onnx_options)
    return {
        "quantize": quantize,
        "opset": onnx_options.get("opset", DEFAULT_OPSET),
        "operators": onnx_operators(file),
    }


def _check_bundle_arguments(graphs, formats, metadata, verify_inputs, tflite_options, onnx_options):
    if not isinstance(graphs, dict) or not graphs:
        raise ExportError("bundle: `models` must be a keras.Model or a non-empty dict of them.")
    for name, model in graphs.items():
        if not isinstance(name, str) or not _GRAPH_NAME.fullmatch(name):
            raise ExportError(
                f"bundle: graph name {name!r} must be letters, digits, '_', '.' or '-' "
                "(it names the artifact files)."
            )
        if not isinstance(model, keras.Model):
            raise ExportError(
                f"bundle: graph {name!r} must be a keras.Model, got {type(model).__name__}."
            )
    for name, options, allowed in (
        ("tflite_options", tflite_options, _TFLITE_OPTIONS),
        ("onnx_options", onnx_options, _ONNX_OPTIONS),
    ):
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ExportError(f"bundle: `{name}` takes {list(allowed)}, got unknown {unknown}.")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if not formats or any(f not in FORMATS for f in formats) or len(set(formats)) != len(formats):
        raise ExportError(
            f"bundle: `formats` must be distinct values of {FORMATS}, got {formats!r}."
        )
    try:
        json.dumps(metadata or {})
    except (TypeError, ValueError) as error:
        raise ExportError(f"bundle: `metadata` must be JSON-serializable ({error}).") from None
    if verify_inputs is not None:
        given = verify_inputs if isinstance(verify_inputs, dict) else {}
        missing = sorted(set(graphs) - set(given))
        if missing:
            raise ExportError(
                f"bundle: `verify_inputs` must be a dict graph name -> inputs; missing {missing}."
            )
    return formats


def _versions():
    versions = {"seqkeras": seqkeras.__version__}
    for package in _VERSIONED:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
