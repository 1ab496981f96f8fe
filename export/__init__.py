"""Export trained seqkeras / Keras models to TFLite and ONNX, verify them, bundle them.

    export.to_tflite(model, "model.tflite")            # builtin TFLite ops only
    export.to_onnx(model, "model.onnx")                # native LSTM/GRU/RNN nodes, free batch
    export.verify(model, "model.tflite", x).raise_if_failed()
    export.bundle({"encoder": enc, "step": step}, "bundle_dir", task="dates", metadata=...)
    export.join_bundles(["bundle_seed0", "bundle_seed1"], "ensemble_dir")   # decoded jointly

Installed as `seqkeras.export`; this package is where seqkeras uses TensorFlow directly.
"""

from .bundle import bundle
from .ensemble import join_bundles
from .onnx_export import onnx_operators, to_onnx
from .tflite_export import ROUTES, to_tflite
from .tflite_operators import tflite_operators
from .verify import VerifyReport, verify

__all__ = [
    "ROUTES",
    "VerifyReport",
    "bundle",
    "join_bundles",
    "onnx_operators",
    "tflite_operators",
    "to_onnx",
    "to_tflite",
    "verify",
]
