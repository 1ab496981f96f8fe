"""TF-free inference on exported bundles (NumPy + onnxruntime / LiteRT).

Importing this package never imports TensorFlow or Keras: a phone, a board or a server runs
what `seqkeras.export` wrote with NumPy and one engine.

    bundle = seqkeras.runtime.load("bundle_dir", backend="onnx")   # or "tflite"
    outputs = bundle.predict(inputs, **options)
    bundle.input_kind, bundle.options, bundle.limits     # its contract (see `Bundle`)
"""

from seqkeras.runtime.bundle import Bundle, load, register_pipeline
from seqkeras.runtime.contract import LimitError, Option
from seqkeras.runtime.ctc import SpeechBundle, SpeechPreprocessor, Transcriber
from seqkeras.runtime.dna import DnaAnnotator, DnaBundle, DnaPreprocessor
from seqkeras.runtime.frames import FrameClassificationBundle, KeypointPreprocessor
from seqkeras.runtime.labeling import (
    ClassificationBundle,
    ClassificationPreprocessor,
    Classifier,
    Tagger,
    TaggingBundle,
    TaggingPreprocessor,
)
from seqkeras.runtime.model import Model, load_artifact
from seqkeras.runtime.pipelines import GenerationBundle, StepDecoder
from seqkeras.runtime.presets import G2PPreset, available_presets, load_preset
from seqkeras.runtime.seq2seq import (
    CaptionBundle,
    CaptionPreprocessor,
    Seq2SeqBundle,
    Seq2SeqDecoder,
    Seq2SeqPreprocessor,
)
from seqkeras.runtime.specs import TensorSpec

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
