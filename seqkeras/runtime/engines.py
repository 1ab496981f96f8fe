"""The two inference engines behind `seqkeras.runtime`: ONNX Runtime and LiteRT.

An engine opens one artifact file, describes its inputs and outputs as `TensorSpec`s (with the
batch dimension as the file has it: fixed in a TFLite file, free in an ONNX file) and runs a
dict of NumPy arrays through it. Neither imports TensorFlow.

Thread safety: `engine.concurrent` says whether `run` may be called from several threads at
once. An ONNX Runtime session may (`InferenceSession.run` is thread-safe). A LiteRT interpreter
is not (two threads on one interpreter raise errors or mix up tensors), so `LiteRTEngine.run`
holds a lock: any thread may call it, one call runs at a time.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
import types
from typing import Any, ClassVar, Protocol

import numpy as np

from seqkeras.errors import BundleError, SeqKerasError
from seqkeras.runtime.specs import TensorSpec

_ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}


class Engine(Protocol):
    """What `Model` needs of an engine: its backend, thread safety, tensors and `run`."""

    backend: ClassVar[str]
    concurrent: ClassVar[bool]
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None) -> None: ...

    def run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The outputs by name for checked input arrays by name."""
        ...


class OnnxEngine:
    """An ONNX model in an `onnxruntime.InferenceSession` (CPU)."""

    backend: ClassVar[str] = "onnx"
    concurrent: ClassVar[bool] = True

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None) -> None:
        onnxruntime = require("onnx")
        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own, unrelated exception types
            raise BundleError(f"{path}: not a loadable ONNX model ({error}).") from None
        self.inputs = [self._spec(node, path) for node in self._session.get_inputs()]
        self.outputs = [self._spec(node, path) for node in self._session.get_outputs()]
        self._output_names = [spec.name for spec in self.outputs]

    @staticmethod
    def _spec(node: Any, path: str | os.PathLike[str]) -> TensorSpec:
        if node.type not in _ONNX_DTYPES:
            raise BundleError(f"{path}: tensor {node.name!r} has unsupported type {node.type}.")
        shape = tuple(d if isinstance(d, int) else None for d in node.shape)
        return TensorSpec(node.name, shape, _ONNX_DTYPES[node.type])

    def run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self._session.run(self._output_names, arrays)
        return dict(zip(self._output_names, outputs))


class LiteRTEngine:
    """A TFLite model in an `ai_edge_litert` interpreter, run through its signature.

    Variable tensors (the state of a fused UNIDIRECTIONAL_SEQUENCE_LSTM) are reset before
    every run, so a run never sees the state a previous one left behind.
    """

    backend: ClassVar[str] = "tflite"
    concurrent: ClassVar[bool] = False

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None) -> None:
        require("tflite")
        from ai_edge_litert.interpreter import Interpreter

        try:
            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            signatures = interpreter.get_signature_list()
        except (ValueError, RuntimeError) as error:
            raise BundleError(f"{path}: not a loadable TFLite model ({error}).") from None
        if len(signatures) != 1:
            raise BundleError(
                f"{path}: expected a TFLite model with one signature, found {len(signatures)}."
            )
        runner = interpreter.get_signature_runner(next(iter(signatures)))
        self._interpreter = interpreter
        self._input_details = runner.get_input_details()
        self._output_details = runner.get_output_details()
        del runner  # the interpreter refuses to run while a runner holds it
        self.inputs = [self._spec(name, d) for name, d in self._input_details.items()]
        self.outputs = [self._spec(name, d) for name, d in self._output_details.items()]
        interpreter.allocate_tensors()
        self._shapes = {name: tuple(d["shape"]) for name, d in self._input_details.items()}
        self._lock = threading.Lock()

    @staticmethod
    def _spec(name: str, details: dict[str, Any]) -> TensorSpec:
        shape = tuple(None if d < 0 else int(d) for d in details["shape_signature"])
        return TensorSpec(name, shape, np.dtype(details["dtype"]).name)

    def run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self._lock:
            return self._run(arrays)

    def _run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        resized = False
        for name, array in arrays.items():
            if array.shape != self._shapes[name]:
                self._interpreter.resize_tensor_input(
                    self._input_details[name]["index"], array.shape
                )
                self._shapes[name] = array.shape
                resized = True
        if resized:
            self._interpreter.allocate_tensors()
        self._interpreter.reset_all_variables()
        for name, array in arrays.items():
            self._interpreter.set_tensor(self._input_details[name]["index"], array)
        self._interpreter.invoke()
        return {
            name: self._interpreter.get_tensor(details["index"]).copy()
            for name, details in self._output_details.items()
        }


ENGINES: dict[str, type[Engine]] = {"onnx": OnnxEngine, "tflite": LiteRTEngine}
SUFFIXES = {".onnx": "onnx", ".tflite": "tflite"}
# backend -> (the module its engine imports, the seqkeras extra that installs it)
MODULES: dict[str, tuple[str, str]] = {
    "onnx": ("onnxruntime", "onnx"),
    "tflite": ("ai_edge_litert", "litert"),
}


def installed(backend: str) -> bool:
    """Whether the engine library of `backend` can be imported here."""
    try:
        return importlib.util.find_spec(MODULES[backend][0]) is not None
    except (ImportError, ValueError):
        return False


def require(backend: str) -> types.ModuleType:
    """Imports the engine library of `backend`, or raises SeqKerasError naming its extra."""
    module, extra = MODULES[backend]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SeqKerasError(
            f"the {backend} backend needs {module}: pip install 'seqkeras[{extra}]'."
        ) from None
