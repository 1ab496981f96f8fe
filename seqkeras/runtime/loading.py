"""Loading exported bundles: `bundle.json` plus the artifacts it names, checked before use.

Layout of a bundle folder (written by `seqkeras.export.bundle`):

    bundle.json         the manifest below
    <graph>.onnx        one file per graph and format
    <graph>.tflite

    {
      "format": "seqkeras.bundle", "format_version": 1,
      "task": "dates" | null,
      "versions": {"seqkeras": "0.1.0", "tensorflow": "2.21.0", ...},
      "graphs": {
        "<graph>": {
          "inputs":  [{"name": ..., "shape": [null, 50, 64], "dtype": "float32"}, ...],
          "outputs": [...],
          "artifacts": {
            "onnx":   {"file": "<graph>.onnx", "sha256": ..., "bytes": ..., ...},
            "tflite": {"file": "<graph>.tflite", "sha256": ..., "bytes": ..., ...}
          }
        }
      },
      "metadata": {...}   the task's own settings (vocabularies, special tokens, decoding)
    }
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping
from typing import Any

from seqkeras.errors import BundleError, SeqKerasError
from seqkeras.files import sha256
from seqkeras.runtime.bundle import PIPELINES, Bundle
from seqkeras.runtime.engines import ENGINES, MODULES, installed
from seqkeras.runtime.model import Model
from seqkeras.runtime.specs import TensorSpec

MANIFEST = "bundle.json"
FORMAT = "seqkeras.bundle"
FORMAT_VERSION = 1


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Returns the parsed and validated `bundle.json` of the bundle folder `path`."""
    path = pathlib.Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise BundleError(f"{path}: not a bundle folder (no such directory).")
    if not manifest_path.is_file():
        raise BundleError(f"{path}: not a seqkeras bundle ({MANIFEST} is missing).")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{manifest_path}: not valid JSON ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{manifest_path}: not a seqkeras bundle manifest.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{manifest_path}: bundle format_version {version!r}; this seqkeras reads "
            f"version {FORMAT_VERSION}. Re-export the model with this seqkeras version."
        )
    graphs = manifest.get("graphs")
    if not isinstance(graphs, dict) or not graphs:
        raise BundleError(f"{manifest_path}: 'graphs' must be a non-empty object.")
    for name, graph in graphs.items():
        try:
            graph["inputs"] = [TensorSpec.from_json(s) for s in graph["inputs"]]
            graph["outputs"] = [TensorSpec.from_json(s) for s in graph["outputs"]]
            artifacts = graph["artifacts"]
            for artifact in artifacts.values():
                _check_file_name(artifact["file"], manifest_path)
                if not isinstance(artifact["sha256"], str):
                    raise TypeError("'sha256' must be a string")
        except (KeyError, TypeError, ValueError) as error:
            raise BundleError(
                f"{manifest_path}: graph {name!r} is malformed ({type(error).__name__}: {error})."
            ) from None
    return manifest


def _check_file_name(name: object, manifest_path: pathlib.Path) -> None:
    if not isinstance(name, str) or pathlib.PurePath(name).name != name or name in ("", ".", ".."):
        raise BundleError(f"{manifest_path}: artifact file {name!r} must be a plain file name.")


def available_backends(manifest: dict[str, Any]) -> list[str]:
    """The backends that every graph of `manifest` has and whose engine is installed, in the
    order `load` prefers them (ONNX Runtime first)."""
    present = set.intersection(*(set(g["artifacts"]) for g in manifest["graphs"].values()))
    return [backend for backend in ENGINES if backend in present and installed(backend)]


def choose_backend(manifest: dict[str, Any], path: str | os.PathLike[str]) -> str:
    """The backend `load` uses by default (see `available_backends`).

    Raises:
        BundleError: no backend of the bundle has its engine installed.
    """
    backends = available_backends(manifest)
    if not backends:
        formats = set.union(*(set(g["artifacts"]) for g in manifest["graphs"].values()))
        needs = " or ".join(
            f"{MODULES[f][0]} (pip install 'seqkeras[{MODULES[f][1]}]')"
            for f in ENGINES
            if f in formats
        )
        raise BundleError(f"{path}: no engine to run it is installed; it needs {needs}.")
    return backends[0]


def load(
    bundle_dir: str | os.PathLike[str],
    backend: str | Mapping[str, str] | None = None,
    num_threads: int | None = None,
) -> Bundle:
    """Loads an exported bundle for inference with NumPy and its engines, without TensorFlow.

    Every artifact the chosen backend needs is checked against the manifest before use: the
    file exists, its SHA-256 matches, and its inputs and outputs are those recorded.

    Args:
        bundle_dir: the bundle folder (written by `seqkeras.export.bundle`).
        backend: `"onnx"` (ONNX Runtime) or `"tflite"` (LiteRT); None: the first the bundle
            has and this machine can run (`available_backends`). Per graph:
            `"encoder=onnx,step=tflite"` or a dict graph name -> backend, each graph in the
            engine fastest for it (graphs not named get the default).
        num_threads: threads the engine may use (its default if None).

    Returns:
        A `Bundle`: a task's bundle as its pipeline's subclass (registered with
        `register_pipeline`), whose `predict(inputs, **options)` gives the task's answers;
        a plain bundle's `predict` runs its only graph; `run_graph(name, inputs)` any graph.

    Raises:
        BundleError: the bundle is missing, incomplete, corrupt or of another format version.
        SeqKerasError: `backend` is not one of the two, or names a graph the bundle lacks.

    Example:

    >>> bundle = seqkeras.runtime.load("dates_bundle", backend="tflite")
    >>> probs = bundle.predict(token_ids)
    """
    path = pathlib.Path(bundle_dir)
    named = _named_backends(backend)
    manifest = read_manifest(path)
    unknown = [name for name in named if name is not None and name not in manifest["graphs"]]
    if unknown:
        raise SeqKerasError(
            f"runtime.load: {path} has no graph {', '.join(map(repr, unknown))} (its graphs: "
            f"{', '.join(manifest['graphs'])})."
        )
    backends = {
        name: named.get(name) or named.get(None) or choose_backend(manifest, path)
        for name in manifest["graphs"]
    }
    graphs = {}
    for name, graph in manifest["graphs"].items():
        engine_name = backends[name]
        artifact = graph["artifacts"].get(engine_name)
        if artifact is None:
            raise BundleError(
                f"{path}: graph {name!r} has no {engine_name} artifact "
                f"(it has: {', '.join(sorted(graph['artifacts'])) or 'none'})."
            )
        file = path / artifact["file"]
        if not file.is_file():
            raise BundleError(f"{path}: {artifact['file']} is missing.")
        if sha256(file) != artifact["sha256"]:
            raise BundleError(
                f"{file}: SHA-256 does not match {MANIFEST}; the file is corrupt or was replaced."
            )
        engine = ENGINES[engine_name](file, num_threads)
        _check_signature(file, "input", graph["inputs"], engine.inputs)
        _check_signature(file, "output", graph["outputs"], engine.outputs)
        graphs[name] = Model(
            name,
            engine,
            _with_fixed_dimensions(graph["inputs"], engine.inputs),
            _with_fixed_dimensions(graph["outputs"], engine.outputs),
        )
    described = next(iter(backends.values()))
    if len(set(backends.values())) > 1:
        described = ",".join(f"{name}={backend}" for name, backend in backends.items())
    return pipeline_class(manifest, path)(path, described, manifest, graphs)


def _named_backends(backend: object) -> dict[str | None, str]:
    """`load`'s `backend` as a dict graph name (None: every other graph) -> backend."""
    if backend is None:
        return {}
    if isinstance(backend, str):
        backend = (
            dict(part.partition("=")[::2] for part in backend.split(","))
            if "=" in backend
            else {None: backend}
        )
    if not isinstance(backend, Mapping):
        raise SeqKerasError(f"runtime.load: `backend` must be a string, got {backend!r}.")
    for value in backend.values():
        if value not in ENGINES:
            raise SeqKerasError(
                f"runtime.load: `backend` must be one of {sorted(ENGINES)} (per graph: "
                f"'encoder=onnx,step=tflite'), got {value!r}."
            )
    return dict(backend)


def registered_pipelines() -> dict[str, type[Bundle]]:
    """Every pipeline kind -> its `Bundle` class (importing `seqkeras.runtime.pipelines`
    registers them)."""
    import seqkeras.runtime.pipelines  # noqa: F401

    return PIPELINES


def pipeline_class(manifest: dict[str, Any], path: str | os.PathLike[str]) -> type[Bundle]:
    """The `Bundle` class for a manifest: its pipeline's, or `Bundle` when it names none."""
    kind = (manifest.get("metadata") or {}).get("pipeline")
    if kind is None:
        return Bundle
    pipelines = registered_pipelines()
    if kind not in pipelines:
        raise BundleError(
            f"{path}: pipeline {kind!r} is unknown to this seqkeras (it knows {sorted(pipelines)})."
        )
    return pipelines[kind]


def _with_fixed_dimensions(
    recorded: list[TensorSpec], actual: list[TensorSpec]
) -> list[TensorSpec]:
    """The recorded specs, with the dimensions (batch aside) the artifact fixes filled in."""
    by_name = {spec.name: spec for spec in actual}
    return [
        TensorSpec(
            spec.name,
            tuple(
                r if r is not None or i == 0 else a
                for i, (r, a) in enumerate(zip(spec.shape, by_name[spec.name].shape))
            ),
            spec.dtype,
        )
        for spec in recorded
    ]


def _check_signature(
    file: pathlib.Path, kind: str, recorded: list[TensorSpec], actual: list[TensorSpec]
) -> None:
    by_name = {spec.name: spec for spec in actual}
    if sorted(by_name) != sorted(spec.name for spec in recorded):
        raise BundleError(
            f"{file}: {kind}s {sorted(by_name)} differ from those in {MANIFEST} "
            f"{sorted(spec.name for spec in recorded)}."
        )
    for spec in recorded:
        if not spec.compatible_with(by_name[spec.name]):
            raise BundleError(
                f"{file}: {kind} {spec.name!r} is {by_name[spec.name].to_json()} in the file but "
                f"{spec.to_json()} in {MANIFEST}."
            )
