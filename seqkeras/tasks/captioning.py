"""Image captioning with attention: pictures of two shapes -> "a red circle above a blue square".

    task = seqkeras.tasks.get("captioning")()   # SEQKERAS_SMOKE=1: tiny data, one epoch
    task.fit()
    task.predict(images)            # uint8 (n, 32, 32, 3) -> ['a red circle above a blue square']
    task.evaluate()                 # BLEU-4 against both captions of each image, exact match, loss
    task.plot_attention(image, "attention.png")   # where the decoder looks for each word
    task.export("captioning_bundle")              # runtime.load(...).predict(images)

The images come from `seqkeras.datasets.shapes`. A small CNN turns an image into a grid of
feature vectors a<t'> (8 x 8 = 64 places); the LSTM decoder with attention of
`seqkeras.tasks.seq2seq_model.attention_decoder` writes the caption word by word, attending over the
grid: one-to-many generation conditioned on the image.
"""

import math
from typing import ClassVar

import keras
import numpy as np
from keras import ops

from seqkeras import metrics
from seqkeras.datasets.shapes import shape_scenes
from seqkeras.plotting import save_figure
from seqkeras.runtime.pipelines.seq2seq import CaptionPreprocessor
from seqkeras.tasks import register
from seqkeras.tasks.seq2seq import Seq2SeqTask
from seqkeras.tasks.seq2seq_model import (
    STATE_NAMES,
    attention_decoder,
    attention_memory,
    cell_kind,
    check_options,
    step_model,
)
from seqkeras.text.tokenizers import WordTokenizer


def build_captioner(
    target_vocab_size,
    image_shape,
    *,
    filters=16,
    cell="lstm",
    peephole=False,
    units=64,
    embedding_dim=16,
    attention="bahdanau",
    attention_units=32,
    jit_compile="auto",
    name="captioning",
):
    """Builds the teacher-forced captioning model: CNN encoder, attention decoder.

    Encoder: two 3x3 convolutions (`filters`, then 2 * `filters`, ReLU), each followed by 2x2
    max pooling, give a (H/4) x (W/4) grid whose places are projected to `units` features
    a<t'>; the decoder's initial states are tanh(W mean_t' a<t'>).

    Args:
        target_vocab_size: the caption vocabulary size, id 0 being `<pad>`.
        image_shape: (height, width, channels), height and width multiples of 4.
        filters: the first convolution's filters.
        cell, peephole: the decoder cell (`"lstm"`, with or without peepholes, or `"gru"`).
        units: the feature width and the decoder's width.
        embedding_dim, attention, attention_units, jit_compile: as in `build_seq2seq`.
        name: the model's name.

    Returns:
        A `keras.Model` with inputs {"source": (batch, H, W, C) float32 in [0, 1],
        "target_in": (batch, Ty) int32} and output logits (batch, Ty, target_vocab_size).
    """
    check_options("build_captioner", cell, attention, peephole)
    image = keras.Input(tuple(image_shape), name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    x = image
    for index, width in enumerate((filters, 2 * filters), start=1):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{index}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{index}")(x)
    grid = keras.layers.Reshape((x.shape[1] * x.shape[2], x.shape[3]), name="grid")(x)
    values = keras.layers.Dense(units, name="features")(grid)
    pooled = keras.layers.GlobalAveragePooling1D(name="pooled")(values)
    initial_state = [
        keras.layers.Dense(units, activation="tanh", name=f"initial_{state_name}")(pooled)
        for state_name in STATE_NAMES[cell]
    ]
    logits = attention_decoder(
        target_in,
        values,
        initial_state,
        target_vocab_size,
        cell=cell,
        peephole=peephole,
        embedding_dim=embedding_dim,
        attention=attention,
        attention_units=attention_units,
        jit_compile=jit_compile,
    )
    return keras.Model({"source": image, "target_in": target_in}, logits, name=name)


def captioner_inference_models(model):
    """The encoder and decoder-step graphs of a `build_captioner` model, sharing its weights.

    encoder: {"source": images} -> {"values": (batch, places, units), ["keys",] "source_mask":
    ones (batch, places), "state_h" [, "state_c"]}; step: as
    `seqkeras.tasks.seq2seq_model.step_model`.
    """
    values = model.get_layer("features").output
    outputs = {**attention_memory(model, values), "source_mask": ops.ones_like(values[..., 0])}
    for state_name in STATE_NAMES[cell_kind(model)]:
        outputs[state_name] = model.get_layer(f"initial_{state_name}").output
    encoder = keras.Model({"source": model.input["source"]}, outputs, name="encoder")
    return {"encoder": encoder, "step": step_model(model, values.shape[1:])}


@register("captioning")
class CaptioningTask(Seq2SeqTask):
    """Describes pictures of two coloured shapes ("a red circle above a blue square") with a
    CNN encoder and an attention LSTM decoder; each image has two correct captions.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: images in each split (one `shape_scenes`
            draw, split in this order).
        seed: data, weight initialization and shuffling seed.
        filters, cell, peephole, units, embedding_dim, attention, attention_units: the model
            (see `build_captioner`).
        epochs, batch_size, learning_rate: training.
        beam_width, alpha: the default decoding and its length normalization exponent.
    """

    preprocessor_class = CaptionPreprocessor
    pipeline = "caption"
    defaults: ClassVar[dict] = {
        "train_size": 8_000,
        "validation_size": 500,
        "test_size": 1_000,
        "seed": 0,
        "filters": 16,
        "cell": "lstm",
        "peephole": False,
        "units": 64,
        "embedding_dim": 16,
        "attention": "bahdanau",
        "attention_units": 32,
        "epochs": 10,
        "batch_size": 64,
        "learning_rate": 3e-3,
        "beam_width": 3,
        "alpha": 0.7,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 200,
        "validation_size": 20,
        "test_size": 50,
        "filters": 4,
        "units": 16,
        "embedding_dim": 8,
        "attention_units": 8,
        "epochs": 1,
    }

    def make_dataset(self):
        """{"train", "validation", "test"}: lists of (image, caption) pairs, two per image."""
        c = self.config
        sizes = (c["train_size"], c["validation_size"], c["test_size"])
        images, captions = shape_scenes(sum(sizes), seed=c["seed"])
        bounds = np.cumsum((0, *sizes))
        return {
            name: [(images[i], caption) for i in range(start, stop) for caption in captions[i]]
            for name, start, stop in zip(("train", "validation", "test"), bounds, bounds[1:])
        }

    def build_preprocessor(self, examples):
        images, captions = zip(*examples)
        return CaptionPreprocessor.fit(
            np.stack(images), captions, WordTokenizer(split_punctuation=False)
        )

    def build_model(self):
        c = self.config
        model = build_captioner(
            len(self.preprocessor.target.vocabulary),
            self.preprocessor.image_shape,
            filters=c["filters"],
            cell=c["cell"],
            peephole=c["peephole"],
            units=c["units"],
            embedding_dim=c["embedding_dim"],
            attention=c["attention"],
            attention_units=c["attention_units"],
            jit_compile=c["jit_compile"],
            name=self.name,
        )
        return self.compile_model(model)

    def inference_models(self):
        self._check_trained()
        return captioner_inference_models(self.model)

    def scores(self, references, predictions):
        """{"bleu": corpus BLEU-4 (0-100) against both captions, "exact_match": fraction of
        captions equal to one of the image's}."""
        return {
            "bleu": float(metrics.corpus_bleu(predictions, references).score),
            "exact_match": float(np.mean([p in r for p, r in zip(predictions, references)])),
        }

    def plot_attention(self, image, path, beam_width=None):
        """Saves the image and, for each generated word, its attention over the image grid.

        Returns:
            `path` as a `pathlib.Path` (a PNG, written atomically).
        """
        from matplotlib.figure import Figure

        caption, weights = self.attention_weights(image, beam_width)
        words = [*caption.split(), "<eos>"][: len(weights)]
        side = math.isqrt(weights.shape[1])
        figure = Figure(figsize=(1.6 * (len(words) + 1) + 1.0, 2.0), layout="constrained")
        axes = figure.subplots(1, len(words) + 1)
        axes[0].imshow(image)
        axes[0].set_title("image")
        # One colour scale for every word, so that the overlays compare and one colorbar holds.
        scale = {"cmap": "gray", "alpha": 0.6, "vmin": 0.0, "vmax": float(weights.max())}
        for axis, word, row in zip(axes[1:], words, weights):
            axis.imshow(image)
            overlay = axis.imshow(
                np.kron(row.reshape(side, side), np.ones((image.shape[0] // side,) * 2)), **scale
            )
            axis.set_title(word)
        for axis in axes:
            axis.axis("off")
        figure.colorbar(overlay, ax=list(axes), label="attention weight α<t,i>")
        return save_figure(figure, path, dpi=100)
