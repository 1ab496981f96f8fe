"""TF-free inference on exported bundles (NumPy + onnxruntime / LiteRT).

Importing this package never imports TensorFlow or Keras: a phone, a board or a server runs
what `seqkeras.export` wrote with NumPy and one engine.

    bundle = seqkeras.runtime.load("bundle_dir", backend="onnx")   # or "tflite"
    outputs = bundle.predict(inputs, **options)
    bundle.input_kind, bundle.options, bundle.limits     # its contract (see `Bundle`)

The engine room (`bundle`, `loading`, `contract`, `engines`, `model`, `specs`, `presets`) is
imported with the package; the task pipelines (`seqkeras.runtime.pipelines`) on first use of
one of their names, or by `load`.
"""

from __future__ import annotations

import importlib
import typing

from seqkeras.runtime.bundle import Bundle, register_pipeline
from seqkeras.runtime.contract import LimitError, Option
from seqkeras.runtime.loading import load
from seqkeras.runtime.model import Model, load_artifact
from seqkeras.runtime.presets import G2PPreset, available_presets, load_preset
from seqkeras.runtime.specs import TensorSpec

if typing.TYPE_CHECKING:
    from seqkeras.runtime.pipelines.ctc import SpeechBundle, SpeechPreprocessor, Transcriber
    from seqkeras.runtime.pipelines.dna import DnaAnnotator, DnaBundle, DnaPreprocessor
    from seqkeras.runtime.pipelines.frames import (
        FrameClassificationBundle,
        KeypointPreprocessor,
    )
    from seqkeras.runtime.pipelines.generation import GenerationBundle, StepDecoder
    from seqkeras.runtime.pipelines.labeling import (
        ClassificationBundle,
        ClassificationPreprocessor,
        Classifier,
        Tagger,
        TaggingBundle,
        TaggingPreprocessor,
    )
    from seqkeras.runtime.pipelines.seq2seq import (
        CaptionBundle,
        CaptionPreprocessor,
        Seq2SeqBundle,
        Seq2SeqDecoder,
        Seq2SeqPreprocessor,
    )

# name -> the pipeline module that defines it (imported on first use)
_PIPELINE_NAMES = {
    "CaptionBundle": "seq2seq",
    "CaptionPreprocessor": "seq2seq",
    "ClassificationBundle": "labeling",
    "ClassificationPreprocessor": "labeling",
    "Classifier": "labeling",
    "DnaAnnotator": "dna",
    "DnaBundle": "dna",
    "DnaPreprocessor": "dna",
    "FrameClassificationBundle": "frames",
    "GenerationBundle": "generation",
    "KeypointPreprocessor": "frames",
    "Seq2SeqBundle": "seq2seq",
    "Seq2SeqDecoder": "seq2seq",
    "Seq2SeqPreprocessor": "seq2seq",
    "SpeechBundle": "ctc",
    "SpeechPreprocessor": "ctc",
    "StepDecoder": "generation",
    "Tagger": "labeling",
    "TaggingBundle": "labeling",
    "TaggingPreprocessor": "labeling",
    "Transcriber": "ctc",
}

__all__ = [
    "Bundle",
    "CaptionBundle",
    "CaptionPreprocessor",
    "ClassificationBundle",
    "ClassificationPreprocessor",
    "Classifier",
    "DnaAnnotator",
    "DnaBundle",
    "DnaPreprocessor",
    "FrameClassificationBundle",
    "G2PPreset",
    "GenerationBundle",
    "KeypointPreprocessor",
    "LimitError",
    "Model",
    "Option",
    "Seq2SeqBundle",
    "Seq2SeqDecoder",
    "Seq2SeqPreprocessor",
    "SpeechBundle",
    "SpeechPreprocessor",
    "StepDecoder",
    "Tagger",
    "TaggingBundle",
    "TaggingPreprocessor",
    "TensorSpec",
    "Transcriber",
    "available_presets",
    "load",
    "load_artifact",
    "load_preset",
    "register_pipeline",
]


def __getattr__(name: str) -> typing.Any:
    if name in _PIPELINE_NAMES:
        module = importlib.import_module(f"seqkeras.runtime.pipelines.{_PIPELINE_NAMES[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seqkeras.runtime' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PIPELINE_NAMES))
