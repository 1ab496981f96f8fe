"""Video activity recognition (many-to-one): body keypoint tracks -> walking, running, ...

    task = seqkeras.tasks.get("activity")()
    task.fit()
    task.predict([clip])            # clip: (frames, 18) keypoint x, y per frame
    # ['running']
    task.evaluate()                 # accuracy, overall and per activity
    task.export("activity_bundle")  # runtime.load(...).predict(clips): the same labels

Each clip x<1..T> (20-60 frames, `seqkeras.datasets.activity`) is normalized on its own
(`seqkeras.runtime.pipelines.frames.KeypointPreprocessor`: posture and per-frame motion, in units of
the body's size) and zero-padded to the model's `max_frames`; the padded frames are masked,
so a clip's label does not depend on how much padding follows it. Stacked recurrent layers
read the frames and the last one's final state a<T> is classified:

    a1<t> = GRU(a1<t-1>, x<t>),  a2<t> = GRU(a2<t-1>, a1<t>),  ŷ = softmax(W a2<T> + b)

The activities differ in their dynamics (cadence, stride, bounce, travel), which no single
frame shows, so the model must integrate over time.
"""

from typing import ClassVar

import keras
import numpy as np

from seqkeras import layers
from seqkeras.datasets.activity import ACTIVITIES, KEYPOINTS, activity_clips
from seqkeras.errors import SeqKerasError
from seqkeras.runtime.pipelines.frames import KeypointPreprocessor
from seqkeras.runtime.pipelines.labeling import Classifier
from seqkeras.tasks import register
from seqkeras.tasks.base import Task

CELLS = ("gru", "lstm")


def build_model(config, num_features, num_classes, max_frames, name="activity"):
    """The classifier: frames (batch, max_frames, num_features) -> (batch, num_classes) probs.

    Masking (all-zero frames are padding) -> `num_layers` seqkeras GRU or (peephole) LSTM
    layers, each but the last returning sequences -> Dense softmax; compiled with Adam
    (gradient norm clipped to 1) and sparse categorical cross-entropy.

    Args:
        config: an `ActivityTask` config (cell, peephole, units, num_layers, dropout,
            learning_rate, jit_compile).
        num_features: features per frame.
        num_classes: the number of activities.
        max_frames: the fixed number of frames T.
        name: the model's name.

    Returns:
        A compiled `keras.Model` with input `"frames"`.

    Raises:
        SeqKerasError: `config["cell"]` is not one of `CELLS`, or `num_layers` < 1.

    Example:

    >>> model = build_model(ActivityTask.defaults, num_features=36, num_classes=4,
    ...                     max_frames=60)
    >>> model.output_shape
    (None, 4)
    """
    if config["cell"] not in CELLS:
        raise SeqKerasError(
            f"activity: config 'cell' must be one of {CELLS}, got {config['cell']!r}."
        )
    if config["num_layers"] < 1:
        raise SeqKerasError(
            f"activity: config 'num_layers' must be >= 1, got {config['num_layers']!r}."
        )
    frames = keras.Input((max_frames, num_features), name="frames")
    hidden = keras.layers.Masking(0.0, name="padding")(frames)
    for index in range(config["num_layers"]):
        options = {
            "return_sequences": index < config["num_layers"] - 1,
            "dropout": config["dropout"],
            "jit_compile": config["jit_compile"],
            "name": f"rnn_{index}",
        }
        if config["cell"] == "gru":
            hidden = layers.GRU(config["units"], **options)(hidden)
        else:
            hidden = layers.LSTM(config["units"], peephole=config["peephole"], **options)(hidden)
    probs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(hidden)
    model = keras.Model(frames, probs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=1.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@register("activity")
class ActivityTask(Task):
    """Recognizes walking, running, jumping and standing from keypoint tracks.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: the splits of `activity_clips` (seeds
            `seed`, `seed + 1`, `seed + 2`).
        activities: the classes (a subset of `seqkeras.datasets.activity.ACTIVITIES`).
        min_frames, max_frames: the clips' lengths; `max_frames` is also the model's.
        noise: the keypoints' noise, in figure heights.
        cell (`"gru"` or `"lstm"`), peephole (LSTM), units, num_layers, dropout: the model.
        epochs, batch_size, learning_rate, seed: training.

    Example:

    >>> task = ActivityTask()
    >>> task.fit()                      # about a minute on 2 CPU cores
    >>> task.evaluate()["accuracy"]     # 1,000 held-out clips
    1.0
    """

    preprocessor_class = KeypointPreprocessor
    pipeline = "classify_frames"
    defaults: ClassVar[dict] = {
        "train_size": 4000,
        "validation_size": 400,
        "test_size": 1000,
        "activities": list(ACTIVITIES),
        "min_frames": 20,
        "max_frames": 60,
        "noise": 0.01,
        "cell": "gru",
        "peephole": False,
        "units": 64,
        "num_layers": 2,
        "dropout": 0.0,
        "epochs": 8,
        "batch_size": 64,
        "learning_rate": 3e-3,
        "seed": 0,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 480,
        "validation_size": 80,
        "test_size": 120,
        "max_frames": 40,
        "units": 24,
        "epochs": 6,
        "batch_size": 32,
        "learning_rate": 1e-2,
    }

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self):
        """{"train", "validation", "test"}: lists of `seqkeras.datasets.activity.ActivityClip`."""
        c = self.config
        splits = ("train", "validation", "test")
        return {
            split: activity_clips(
                c[f"{split}_size"],
                seed=c["seed"] + offset,
                activities=c["activities"],
                min_frames=c["min_frames"],
                max_frames=c["max_frames"],
                noise=c["noise"],
            )
            for offset, split in enumerate(splits)
        }

    def build_preprocessor(self, examples):
        labels = sorted({example.label for example in examples})
        return KeypointPreprocessor(labels, len(KEYPOINTS), self.config["max_frames"])

    def build_model(self):
        return build_model(
            self.config,
            self.preprocessor.num_features,
            len(self.preprocessor.labels),
            self.preprocessor.max_frames,
            self.name,
        )

    def to_dataset(self, examples, training=False):
        arrays = (
            self.preprocessor.encode([example.frames for example in examples]),
            self.preprocessor.encode_labels([example.label for example in examples]),
        )
        return self.batched(arrays, training)

    def export_verify_inputs(self):
        clips = [example.frames for example in self.data["validation"][:4]]
        return {"model": self.preprocessor.encode(clips)}

    # Inference ---------------------------------------------------------------------------

    @property
    def classifier(self):
        """The runtime's `Classifier` over this Keras model."""
        self._check_trained()
        return Classifier(lambda x: self.model.predict(x, verbose=0), self.preprocessor)

    def predict(self, inputs):
        """The activity of each clip.

        Args:
            inputs: a list of clips: arrays (frames, 2 K) of keypoint x, y (see
                `seqkeras.datasets.activity.KEYPOINTS`), or .npy files of them.

        Returns:
            A list of activity names.

        Raises:
            SeqKerasError: `inputs` is not a non-empty list of clips, or a clip is empty,
                longer than `max_frames`, has another number of values per frame, or holds
                NaN/inf.
        """
        return self.classifier.predict(inputs)

    def probabilities(self, inputs):
        """(n, len(labels)) class probabilities of the clips (columns: `preprocessor.labels`)."""
        return self.classifier.probabilities(inputs)

    def unfolding(self, clip):
        """The class probabilities after each frame: row t classifies the clip's first t + 1
        frames (how the model's belief grows as the clip unfolds).

        Returns:
            A float array (frames, len(labels)).
        """
        frames = self.preprocessor.check_clip(clip)
        return self.probabilities([frames[: t + 1] for t in range(len(frames))])

    def evaluate(self, examples=None):
        """Accuracy, overall and per activity.

        Args:
            examples: `ActivityClip`s; `data["test"]` if None.

        Returns:
            A dict of floats: "accuracy" (the fraction right) and "accuracy_<activity>" (the
            fraction of that activity's clips recognized) for each activity in `examples`.
        """
        self._check_trained()
        examples = self.data["test"] if examples is None else list(examples)
        if not examples:
            raise SeqKerasError(f"{self.name}: evaluate got no examples.")
        predicted = self.predict([example.frames for example in examples])
        truth = np.array([example.label for example in examples])
        right = truth == np.array(predicted)
        return {
            "accuracy": float(right.mean()),
            **{
                f"accuracy_{label}": float(right[truth == label].mean())
                for label in self.preprocessor.labels
                if label in truth
            },
        }
