"""One exported graph, ready to run: `Model.predict` over NumPy arrays."""

from __future__ import annotations

import os
import pathlib

import numpy as np

from seqkeras.errors import BundleError, SeqKerasError
from seqkeras.runtime.engines import ENGINES, SUFFIXES, Engine
from seqkeras.runtime.specs import GraphInputs, GraphOutputs, TensorSpec, feed


class Model:
    """An exported graph behind one engine (ONNX Runtime or LiteRT).

    `inputs` and `outputs` describe the graph with a free batch dimension; an artifact built
    for a fixed batch size (a TFLite file of the fused route, or exported with `batch_size=1`)
    runs larger batches in chunks of that size.

    Args:
        name: the graph's name (in error messages and in a bundle, e.g. `"encoder"`).
        engine: an engine from `seqkeras.runtime.engines`.
        inputs, outputs: lists of `TensorSpec`, in the order `predict` takes and returns them;
            the engine's own if omitted.
    """

    def __init__(
        self,
        name: str,
        engine: Engine,
        inputs: list[TensorSpec] | None = None,
        outputs: list[TensorSpec] | None = None,
    ) -> None:
        self.name = name
        self.engine = engine
        self.backend = engine.backend
        self.inputs = inputs or [_free_batch(spec) for spec in engine.inputs]
        self.outputs = outputs or [_free_batch(spec) for spec in engine.outputs]
        batch_sizes = {spec.shape[0] for spec in engine.inputs if spec.shape}
        self.batch_size: int | None = batch_sizes.pop() if len(batch_sizes) == 1 else None

    def predict(self, inputs: GraphInputs) -> GraphOutputs:
        """Runs the graph.

        Args:
            inputs: an array (one-input graphs), a list of arrays in the order of `inputs`,
                or a dict name -> array; all with the same batch size.

        Returns:
            The output array for a one-output graph, else a dict name -> array.

        Raises:
            SeqKerasError: an input is missing or has the wrong shape or dtype.
        """
        arrays = feed(self.inputs, inputs, self.name)
        if next(iter(arrays.values())).shape[0] == 0:
            raise SeqKerasError(f"{self.name}: got an empty batch.")
        results = self.run(arrays)
        if len(self.outputs) == 1:
            return results[self.outputs[0].name]
        return {spec.name: results[spec.name] for spec in self.outputs}

    def run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Runs the graph on arrays known to match `inputs` (a decoder step fed the outputs
        of the step before): `predict` without its conversions and checks.

        Args:
            arrays: a dict name -> array with every input, each of its spec's dtype and
                shape, all with the same batch size (at least 1).

        Returns:
            A dict name -> array with every output.
        """
        batch = next(iter(arrays.values())).shape[0]
        if self.batch_size is None or batch == self.batch_size:
            return self.engine.run(arrays)
        return self._run_in_chunks(arrays, batch, self.batch_size)

    def _run_in_chunks(
        self, arrays: dict[str, np.ndarray], batch: int, size: int
    ) -> dict[str, np.ndarray]:
        chunks = []
        for start in range(0, batch, size):
            chunk = {}
            for name, array in arrays.items():
                part = array[start : start + size]
                if len(part) < size:  # the last chunk: padded with copies of its last row
                    pad = np.repeat(part[-1:], size - len(part), axis=0)
                    part = np.concatenate([part, pad])
                chunk[name] = part
            chunks.append(self.engine.run(chunk))
        return {name: np.concatenate([c[name] for c in chunks])[:batch] for name in chunks[0]}

    def __repr__(self) -> str:
        return (
            f"<seqkeras.runtime.Model {self.name!r} ({self.backend}): "
            f"inputs {[s.to_json() for s in self.inputs]}, "
            f"outputs {[s.to_json() for s in self.outputs]}>"
        )


def _free_batch(spec: TensorSpec) -> TensorSpec:
    if not spec.shape:
        return spec
    return TensorSpec(spec.name, (None, *spec.shape[1:]), spec.dtype)


def load_artifact(path: str | os.PathLike[str], num_threads: int | None = None) -> Model:
    """Opens one `.onnx` or `.tflite` file as a `Model` (no bundle.json needed).

    Args:
        path: the artifact file; its suffix picks the engine.
        num_threads: threads the engine may use (its default if None).

    Returns:
        A `Model` named after the file.

    Raises:
        SeqKerasError: the suffix is neither `.onnx` nor `.tflite`.
        BundleError: the file is missing or not a loadable model.
    """
    path = pathlib.Path(path)
    if path.suffix not in SUFFIXES:
        raise SeqKerasError(f"{path}: expected a .onnx or .tflite file.")
    if not path.is_file():
        raise BundleError(f"{path}: no such file.")
    return Model(path.stem, ENGINES[SUFFIXES[path.suffix]](path, num_threads))
