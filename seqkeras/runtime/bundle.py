"""The runtime's `Bundle`: a loaded bundle's graphs, settings and contract, and the registry of
task pipelines (`register_pipeline`).

`seqkeras.runtime.loading.load` reads a bundle folder and builds the `Bundle` subclass its
manifest names; the pipelines themselves live in `seqkeras.runtime.pipelines`.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from seqkeras.errors import BundleError, SeqKerasError
from seqkeras.runtime.contract import LimitError, Option, rows
from seqkeras.runtime.model import Model
from seqkeras.runtime.specs import GraphInputs, GraphOutputs, TensorSpec

if TYPE_CHECKING:
    from seqkeras.text.preprocessor import Preprocessor

BundleClass = TypeVar("BundleClass", bound="type[Bundle]")

PIPELINES: dict[str, type[Bundle]] = {}


def register_pipeline(kind: str) -> Callable[[BundleClass], BundleClass]:
    """Class decorator: registers a `Bundle` subclass for bundles with metadata pipeline=kind."""

    def decorator(bundle_class: BundleClass) -> BundleClass:
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
    - `model_graphs`: for pipelines that search several models jointly, the graphs one model
      consists of (`seqkeras.export.join_bundles` joins such bundles); empty otherwise.
    - `concurrent`: whether calls may run in parallel threads. ONNX Runtime sessions run
      concurrently; a LiteRT interpreter is not thread-safe, so its engine serializes calls
      with a lock (correct from any thread, one call at a time).

    A bundle without a pipeline (a plain exported model) takes `"arrays"`: `predict` runs its
    only graph on a batch (an array, a list of rows, or a dict by input name).

    Subclasses set `preprocessor_class` (loaded from the manifest's `"preprocessor"`) and
    build the rest in `setup()`; any error there becomes a `BundleError` naming the bundle.

    Attributes:
        path: the bundle folder.
        backend: `"onnx"` or `"tflite"`, or per graph (`"encoder=onnx,step=tflite"`) when
            its graphs run in different engines.
        task: the task name recorded at export (or None).
        metadata: the task's settings from the manifest (a dict).
        versions: the library versions that wrote the bundle.
        graphs: dict graph name -> `Model`.
    """

    kind: str | None = None
    input_kind = "arrays"
    model_graphs: tuple[str, ...] = ()
    # Class-wide declarations; each instance works on its own copies (see `limit`).
    options: dict[str, Option] = {}  # noqa: RUF012
    limits: dict[str, int] = {"inputs": 256}  # noqa: RUF012
    preprocessor_class: type[Preprocessor] | None = None
    preprocessor: Any

    def __init__(
        self,
        path: pathlib.Path,
        backend: str,
        manifest: dict[str, Any],
        graphs: dict[str, Model],
    ) -> None:
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

    def setup(self) -> None:
        """Builds what `predict` needs from `metadata` and `graphs` (subclasses)."""

    @property
    def array_dtype(self) -> str:
        """For `"arrays"` bundles: the dtype each input array is converted to (a plain
        bundle's: its graph's first input's)."""
        return next(iter(self.graphs.values())).inputs[0].dtype

    def read_arguments(self, arguments: Sequence[str]) -> Any:
        """The inputs of command-line arguments: the strings themselves for texts and
        prefixes (no prefix: one empty one), `read_files(arguments)` for arrays."""
        if self.input_kind == "arrays":
            return self.read_files(arguments)
        if self.input_kind == "prefixes":
            return list(arguments) or [""]
        return list(arguments)

    def read_files(self, paths: Sequence[str]) -> Any:
        """A plain bundle's inputs: one .npy file per input of its graph (`read_arrays`)."""
        return read_arrays(paths, next(iter(self.graphs.values())).inputs)

    def __getitem__(self, name: str) -> Model:
        if name not in self.graphs:
            raise SeqKerasError(
                f"{self.path}: no graph {name!r}; the bundle has {sorted(self.graphs)}."
            )
        return self.graphs[name]

    @property
    def concurrent(self) -> bool:
        """Whether `predict` may run in several threads at once (see the class docstring)."""
        return all(graph.engine.concurrent for graph in self.graphs.values())

    def run_graph(self, name: str, inputs: GraphInputs) -> GraphOutputs:
        """`Model.predict` of the graph `name` (an array, a list in input order, or a dict)."""
        return self[name].predict(inputs)

    def check_options(self, options: dict[str, Any]) -> dict[str, Any]:
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

    def check_inputs(self, inputs: Any, options: dict[str, Any]) -> Any:
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

    def predict(self, inputs: Any, *, graph: str | None = None, **options: Any) -> Any:
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

    def predict_scored(self, inputs: Any, **options: Any) -> list[dict[str, Any]]:
        """One dict per input: `predict`'s answer and, where the task has them, its scores."""
        options = self.check_options(options)
        return self.scored(self.check_inputs(inputs, options), **options)

    def answer(self, inputs: Any, /, *args: Any, **options: Any) -> Any:
        """`predict` after the checks: a plain bundle runs its only graph.

        Subclasses name their declared options as keywords; the open signature here lets them.
        """
        if len(self.graphs) != 1:
            raise SeqKerasError(
                f"{self.path}: the bundle has graphs {sorted(self.graphs)}; use run_graph."
            )
        return self.run_graph(next(iter(self.graphs)), inputs)

    def scored(self, inputs: Any, /, *args: Any, **options: Any) -> list[dict[str, Any]]:
        """`predict_scored` after the checks; subclasses add their scores."""
        return [{"output": output} for output in rows(self.answer(inputs, **options))]

    def limit(self, **highs: float) -> Bundle:
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

    def describe(self) -> dict[str, Any]:
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

    def warm_up(self) -> None:
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

    def __repr__(self) -> str:
        graphs = sorted(self.graphs)
        return f"<seqkeras.runtime.Bundle {str(self.path)!r} ({self.backend}): {graphs}>"


def read_arrays(
    paths: Sequence[str | os.PathLike[str]], specs: Sequence[TensorSpec]
) -> np.ndarray | dict[str, np.ndarray]:
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
