"""Reading exported bundles: `bundle.json` plus the artifacts it names, checked before use.

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

import json
import pathlib
import typing

import numpy as np

from seqkeras.errors import BundleError, SeqKerasError
from seqkeras.files import sha256
from seqkeras.runtime.contract import LimitError, rows
from seqkeras.runtime.engines import ENGINES, MODULES, installed
from seqkeras.runtime.model import Model
from seqkeras.runtime.specs import TensorSpec

MANIFEST = "bundle.json"
FORMAT = "seqkeras.bundle"
FORMAT_VERSION = 1


PIPELINES = {}


def register_pipeline(kind):
    """Class decorator: registers a `Bundle` subclass for bundles with metadata pipeline=kind."""

    def decorator(bundle_class):
        bundle_class.kind = kind
        PIPELINES[kind] = bundle_class
        return bundle_class

    return decorator


class Bundle:
    """A loaded bundle: its graphs as runtime `Model`s, the task's settings, and its contract.

    A bundle exported from a task comes back as its pipeline's subclass (registered with
    `register_pipeline`), which declares the contract the command line and the server read:

    - `input_kind`: `"texts"`, `"prefixes"` or `"arrays"` (`seqkeras.runtime.contract`);
      `array_dtype` for arrays.
    - `options`: dict name -> `Option` (type, default, bounds) of `predict`'s keyword options;
      `limits`: the most `"inputs"` per call (and, for generation, `"generated"` texts).
    - `predict(inputs, **options)`: the task's answer per input (options keyword-only);
      `predict_scored(inputs, **options)`: one dict per input with scores as well;
      `run_graph(name, inputs)`: one raw graph.
    - `concurrent`: whether calls may run in parallel threads. ONNX Runtime sessions run
      concurrently; a LiteRT interpreter is not thread-safe, so its engine serializes calls
      with a lock (correct from any thread, one call at a time).

    A bundle without a pipeline (a plain exported model) takes `"arrays"`: `predict` runs its
    only graph on a batch (an array, a list of rows, or a dict by input name).

    Subclasses set `preprocessor_class` (loaded from the manifest's `"preprocessor"`) and
    build the rest in `setup()`; any error there becomes a `BundleError` naming the bundle.

    Attributes:
        path: the bundle folder.
        backend: `"onnx"` or `"tflite"`.
        task: the task name recorded at export (or None).
        metadata: the task's settings from the manifest (a dict).
        versions: the library versions that wrote the bundle.
        graphs: dict graph name -> `Model`.
    """

    kind = None
    input_kind = "arrays"
    options: typing.ClassVar[dict] = {}
    limits: typing.ClassVar[dict] = {"inputs": 256}
    preprocessor_class = None

    def __init__(self, path, backend, manifest, graphs):
        self.path = path
        self.backend = backend
        self.task = manifest.get("task")
        self.metadata = manifest.get("metadata") or {}
        self.versions = manifest.get("versions") or {}
        self.graphs = graphs
        self.options = dict(type(self).options)
        self.limits = dict(type(self).limits)
        try:
            if self.preprocessor_class is not None:
                self.preprocessor = self.preprocessor_class.from_config(
                    self.metadata["preprocessor"]
                )
            self.setup()
        except (KeyError, TypeError, ValueError, SeqKerasError) as error:
            raise BundleError(
                f"{path}: not a valid {self.kind or 'seqkeras'} bundle ({error})."
            ) from None

    def setup(self):
        """Builds what `predict` needs from `metadata` and `graphs` (subclasses)."""

    @property
    def array_dtype(self):
        """For `"arrays"` bundles: the dtype each input array is converted to (a plain
        bundle's: its graph's first input's)."""
        return next(iter(self.graphs.values())).inputs[0].dtype

    def read_arguments(self, arguments):
        """The inputs of command-line arguments: the strings themselves for texts and
        prefixes (no prefix: one empty one), `read_files(arguments)` for arrays."""
        if self.input_kind == "arrays":
            return self.read_files(arguments)
        if self.input_kind == "prefixes":
            return list(arguments) or [""]
        return list(arguments)

    def read_files(self, paths):
        """A plain bundle's inputs: one .npy file per input of its graph (`read_arrays`)."""
        return read_arrays(paths, next(iter(self.graphs.values())).inputs)

    def __getitem__(self, name):
        if name not in self.graphs:
            raise SeqKerasError(
                f"{self.path}: no graph {name!r}; the bundle has {sorted(self.graphs)}."
            )
        return self.graphs[name]

    @property
    def concurrent(self):
        """Whether `predict` may run in several threads at once (see the class docstring)."""
        return all(graph.engine.concurrent for graph in self.graphs.values())

    def run_graph(self, name, inputs):
        """`Model.predict` of the graph `name` (an array, a list in input order, or a dict)."""
        return self[name].predict(inputs)

    def check_options(self, options):
        """The options with defaults filled in, each checked against its declaration.

        Raises:
            SeqKerasError: an unknown option, or a value of the wrong type, non-finite or out
                of bounds (the message names the option).
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise SeqKerasError(f"unknown options {unknown}; this bundle takes: {known}.")
        return {
            name: option.check(options[name]) if name in options else option.default
            for name, option in self.options.items()
        }

    def check_inputs(self, inputs, options):
        """Checks the request-wide limits; returns `inputs` as a list (or an array batch).

        Raises:
            SeqKerasError: `inputs` is one string instead of a list.
            LimitError: more inputs than `limits["inputs"]`.
        """
        if isinstance(inputs, str):
            raise SeqKerasError("expected a list of inputs, got one string; wrap it in a list.")
        if isinstance(inputs, dict) or hasattr(inputs, "shape"):
            count = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
        else:
            inputs = list(inputs)
            count = len(inputs)
        if count > self.limits["inputs"]:
            raise LimitError(f"{count} inputs; the most per call is {self.limits['inputs']}.")
        return inputs

    def predict(self, inputs, *, graph=None, **options):
        """The answer for each input, with keyword `options` (see `options`).

        Args:
            inputs: a list of inputs of `input_kind`.
            graph: run this raw graph instead (`run_graph(graph, inputs)`; no options).
            **options: the bundle's declared options.

        Raises:
            SeqKerasError: bad inputs or options; `LimitError` past the bundle's limits.
        """
        if graph is not None:
            if options:
                raise SeqKerasError("predict: a raw `graph` run takes no options.")
            return self.run_graph(graph, inputs)
        options = self.check_options(options)
        return self.answer(self.check_inputs(inputs, options), **options)

    def predict_scored(self, inputs, **options):
        """One dict per input: `predict`'s answer and, where the task has them, its scores."""
        options = self.check_options(options)
        return self.scored(self.check_inputs(inputs, options), **options)

    def answer(self, inputs):
        """`predict` after the checks: a plain bundle runs its only graph."""
        if len(self.graphs) != 1:
            raise SeqKerasError(
                f"{self.path}: the bundle has graphs {sorted(self.graphs)}; use run_graph."
            )
        return self.run_graph(next(iter(self.graphs)), inputs)

    def scored(self, inputs, **options):
        """`predict_scored` after the checks; subclasses add their scores."""
        return [{"output": output} for output in rows(self.answer(inputs, **options))]

    def limit(self, **highs):
        """Lowers the upper bound of options and limits by name (never raises one); returns self.

        Raises:
            SeqKerasError: an unknown name, or a value above the declared bound.
        """
        for name, high in highs.items():
            if name in self.limits:
                if isinstance(high, bool) or not isinstance(high, int) or high < 1:
                    raise SeqKerasError(f"limit `{name}` must be an integer >= 1, got {high!r}.")
                if high > self.limits[name]:
                    raise SeqKerasError(
                        f"limit `{name}` can only be lowered: the bundle allows "
                        f"{self.limits[name]}."
                    )
                self.limits[name] = high
            elif name in self.options:
                self.options[name] = self.options[name].lowered(high)
            else:
                known = sorted([*self.limits, *(n for n, o in self.options.items() if o.high)])
                raise SeqKerasError(f"cannot limit {name!r}; the bounded names are {known}.")
        return self

    def describe(self):
        """The contract as JSON: task, backend, input kind, options (wire ones), limits."""
        return {
            "task": self.task,
            "backend": self.backend,
            "inputs": self.input_kind,
            "options": {
                name: option.to_json()
                for name, option in self.options.items()
                if option.type is not None
            },
            "limits": dict(self.limits),
        }

    def warm_up(self):
        """Runs every graph once on a batch of zeros (first-call allocations happen here)."""
        for graph in self.graphs.values():
            graph.predict(
                {
                    spec.name: np.zeros(
                        [1 if d is None else d for d in (1, *spec.shape[1:])], spec.dtype
                    )
                    for spec in graph.inputs
                }
            )

    def __repr__(self):
        graphs = sorted(self.graphs)
        return f"<seqkeras.runtime.Bundle {str(self.path)!r} ({self.backend}): {graphs}>"


def read_arrays(paths, specs):
    """One .npy file per input spec: the array (one input) or a dict name -> array.

    Raises:
        SeqKerasError: not one file per input, or a file is not a .npy array.
    """
    if len(paths) != len(specs):
        raise SeqKerasError(
            f"give one .npy file per model input {[spec.name for spec in specs]}, got {len(paths)}."
        )
    arrays = []
    for path in paths:
        try:
            arrays.append(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as error:
            raise SeqKerasError(f"cannot read {path!r} as a .npy array: {error}") from None
    if len(arrays) == 1:
        return arrays[0]
    return {spec.name: array for spec, array in zip(specs, arrays)}


def read_manifest(path):
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


def _check_file_name(name, manifest_path):
    if not isinstance(name, str) or pathlib.PurePath(name).name != name or name in ("", ".", ".."):
        raise BundleError(f"{manifest_path}: artifact file {name!r} must be a plain file name.")


def available_backends(manifest):
    """The backends that every graph of `manifest` has and whose engine is installed, in the
    order `load` prefers them (ONNX Runtime first)."""
    present = set.intersection(*(set(g["artifacts"]) for g in manifest["graphs"].values()))
    return [backend for backend in ENGINES if backend in present and installed(backend)]


def choose_backend(manifest, path):
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


def load(bundle_dir, backend=None, num_threads=None):
    """Loads an exported bundle for inference with NumPy and one engine, without TensorFlow.

    Every artifact the chosen backend needs is checked against the manifest before use: the
    file exists, its SHA-256 matches, and its inputs and outputs are those recorded.

    Args:
        bundle_dir: the bundle folder (written by `seqkeras.export.bundle`).
        backend: `"onnx"` (ONNX Runtime) or `"tflite"` (LiteRT); None: the first the bundle
            has and this machine can run (`available_backends`).
        num_threads: threads the engine may use (its default if None).

    Returns:
        A `Bundle`: a task's bundle as its pipeline's subclass (registered with
        `register_pipeline`), whose `predict(inputs, **options)` gives the task's answers;
        a plain bundle's `predict` runs its only graph; `run_graph(name, inputs)` any graph.

    Raises:
        BundleError: the bundle is missing, incomplete, corrupt or of another format version.
        SeqKerasError: `backend` is not one of the two.

    Example:

    >>> bundle = seqkeras.runtime.load("dates_bundle", backend="tflite")
    >>> probs = bundle.predict(token_ids)
    """
    if backend is not None and backend not in ENGINES:
        raise SeqKerasError(
            f"runtime.load: `backend` must be one of {sorted(ENGINES)}, got {backend!r}."
        )
    path = pathlib.Path(bundle_dir)
    manifest = read_manifest(path)
    if backend is None:
        backend = choose_backend(manifest, path)
    graphs = {}
    for name, graph in manifest["graphs"].items():
        artifact = graph["artifacts"].get(backend)
        if artifact is None:
            raise BundleError(
                f"{path}: graph {name!r} has no {backend} artifact "
                f"(it has: {', '.join(sorted(graph['artifacts'])) or 'none'})."
            )
        file = path / artifact["file"]
        if not file.is_file():
            raise BundleError(f"{path}: {artifact['file']} is missing.")
        if sha256(file) != artifact["sha256"]:
            raise BundleError(
                f"{file}: SHA-256 does not match {MANIFEST}; the file is corrupt or was replaced."
            )
        engine = ENGINES[backend](file, num_threads)
        _check_signature(file, "input", graph["inputs"], engine.inputs)
        _check_signature(file, "output", graph["outputs"], engine.outputs)
        graphs[name] = Model(
            name,
            engine,
            _with_fixed_dimensions(graph["inputs"], engine.inputs),
            _with_fixed_dimensions(graph["outputs"], engine.outputs),
        )
    return pipeline_class(manifest, path)(path, backend, manifest, graphs)


def pipeline_class(manifest, path):
    """The `Bundle` class for a manifest: its pipeline's, or `Bundle` when it names none."""
    kind = (manifest.get("metadata") or {}).get("pipeline")
    if kind is None:
        return Bundle
    if kind not in PIPELINES:
        raise BundleError(
            f"{path}: pipeline {kind!r} is unknown to this seqkeras (it knows {sorted(PIPELINES)})."
        )
    return PIPELINES[kind]


def _with_fixed_dimensions(recorded, actual):
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


def _check_signature(file, kind, recorded, actual):
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
