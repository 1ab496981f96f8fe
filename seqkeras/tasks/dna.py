"""DNA sequence analysis: find planted promoter motifs base by base and classify sequences.

    task = seqkeras.tasks.get("dna")()          # SEQKERAS_SMOKE=1: tiny data, short sequences
    task.fit()
    task.predict(["GCGTATAAAAGGCTCCAGT..."])
    # [{'label': 'TATA', 'motifs': [('TATA', 3, 11)], 'tags': ['O', 'O', 'O', 'B-TATA', ...]}]
    task.evaluate()                 # class accuracy, motif F1 (exact spans), per-base accuracy
    task.export("dna_bundle")       # runtime.load(...).predict(sequences): the same answers

The bases x<t> enter one-hot (A, C, G, T; N is 0.25 each, see `DNA_ONE_HOT`), zero-padded
after each sequence's end, where `Masking` masks them. Convolution filters as wide as a motif
scan for motif-like words (the DeepBind / DanQ front end; `filters=0` leaves them out), and a
bidirectional GRU reads their answers, a<t> = [a→<t>; a←<t>], so a<t> knows the bases on both
sides of x<t>. With h<t> = relu(Wh a<t> + bh) and k = kernel_size // 2, two heads:

    tags:  ŷ<t> = softmax(Σ_{|j|<=k} Wy_j h<t+j> + by)   per base: O, B-<motif>, I-<motif>
    label: ŷ = softmax(Wc max_t h<t> + bc)                per sequence: the motif, or "none"

A base's tag reads its neighbours' features too (a convolution, not a Dense per base), so a
site recognized around its centre marks its exact span, first and last base included. The
max over the real bases (padding excluded) is the motif scanner's read-out: one strong site
anywhere makes the sequence a promoter, wherever it is and however long the sequence. The
tag loss skips padding (tag 0, `<pad>`); both losses are summed.
"""

from typing import ClassVar

import keras
import numpy as np

from seqkeras import layers, metrics
from seqkeras.datasets.dna import MOTIFS, dna_sequences
from seqkeras.errors import SeqKerasError
from seqkeras.plotting import heatmap, save_figure
from seqkeras.runtime.pipelines.dna import DnaAnnotator, DnaPreprocessor
from seqkeras.tasks import register
from seqkeras.tasks.base import Task
from seqkeras.text import bucket_by_length


def network(config, num_tags, num_classes, length=None, name="dna"):
    """The two-headed network (not compiled): one-hot bases (batch, T, 4) ->
    {"tags": (batch, T, num_tags), "label": (batch, num_classes)} probabilities.

    Masking (all-zero steps) -> `MaskedConv1D` scanner (if `config["filters"]`) ->
    `config["depth"]` bidirectional seqkeras GRUs -> Dense relu features -> a `MaskedConv1D`
    softmax per base (`"tags"`) and, over `MaskedGlobalMaxPooling1D`, a Dense softmax per
    sequence (`"label"`).
    Every layer keeps the mask, so the outputs at the real bases do not depend on padding.

    Args:
        config: a `DnaTask` config (filters, kernel_size, units, depth, minimal,
            jit_compile).
        num_tags: the number of tags, `<pad>` included.
        num_classes: the number of sequence classes.
        length: the number of steps T, or None for any (training).
        name: the model's name.
    """
    bases = keras.Input((length, 4), name="bases")
    hidden = keras.layers.Masking(0.0, name="padding")(bases)
    if config["filters"]:
        hidden = layers.MaskedConv1D(
            config["filters"],
            config["kernel_size"],
            padding="same",
            activation="relu",
            name="scanner",
        )(hidden)
    for depth in range(config["depth"]):
        recurrent = layers.GRU(
            config["units"],
            minimal=config["minimal"],
            return_sequences=True,
            jit_compile=config["jit_compile"],
            name=f"gru_{depth}",
        )
        hidden = keras.layers.Bidirectional(recurrent, name=f"bidirectional_{depth}")(hidden)
    hidden = keras.layers.Dense(2 * config["units"], activation="relu", name="features")(hidden)
    tags = layers.MaskedConv1D(
        num_tags, config["kernel_size"], padding="same", activation="softmax", name="tags"
    )(hidden)
    pooled = layers.MaskedGlobalMaxPooling1D(name="max_over_bases")(hidden)
    label = keras.layers.Dense(num_classes, activation="softmax", name="label")(pooled)
    return keras.Model(bases, {"tags": tags, "label": label}, name=name)


def build_model(config, num_tags, num_classes, name="dna"):
    """`network` on any number of steps, compiled with Adam: cross-entropy per base that
    ignores tag 0 (`<pad>`) plus cross-entropy per sequence (with its accuracy).

    Args:
        config: a `DnaTask` config (the `network`'s keys and learning_rate).
        num_tags: the number of tags, `<pad>` included.
        num_classes: the number of sequence classes.
        name: the model's name.
    """
    model = network(config, num_tags, num_classes, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=1.0),
        loss={
            "tags": keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
            "label": keras.losses.SparseCategoricalCrossentropy(),
        },
        metrics={"label": ["accuracy"]},
    )
    return model


def fixed_length_model(model, config, length):
    """`network` on `length` steps with `model`'s weights: the graph that is exported."""
    fixed = network(
        config,
        model.output["tags"].shape[-1],
        model.output["label"].shape[-1],
        length,
        name=f"{model.name}_fixed",
    )
    fixed.set_weights(model.get_weights())
    return fixed


@register("dna")
class DnaTask(Task):
    """Finds TATA, CCAAT and GC boxes in DNA base by base and classifies each sequence.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: the splits of `dna_sequences`.
        motifs: the `MOTIFS` planted; the classes are these and `"none"`.
        min_length, max_length: the sequence lengths (max_length: the exported model's steps).
        gc_content, max_mutations, decoy_share: the generator's (see `dna_sequences`).
        filters, kernel_size: the convolutional scanner (0 filters: none).
        units, depth, minimal: the GRUs' size, how many bidirectional layers, and whether
            they are the course's minimal GRU.
        epochs, batch_size, learning_rate, seed: training.

    Example:

    >>> task = DnaTask()
    >>> task.fit()
    >>> task.evaluate()
    {'accuracy': 0.996, 'motif_f1': 0.935, 'base_accuracy': 0.999, 'accuracy_decoys': 0.992}
    """

    preprocessor_class = DnaPreprocessor
    pipeline = "dna"
    defaults: ClassVar[dict] = {
        "train_size": 8_000,
        "validation_size": 500,
        "test_size": 1_000,
        "motifs": list(MOTIFS),
        "min_length": 50,
        "max_length": 200,
        "gc_content": 0.5,
        "max_mutations": 1,
        "decoy_share": 0.5,
        "units": 32,
        "filters": 32,
        "kernel_size": 9,
        "depth": 1,
        "minimal": False,
        "epochs": 10,
        "batch_size": 64,
        "learning_rate": 5e-3,
        "seed": 0,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 600,
        "validation_size": 50,
        "test_size": 100,
        "min_length": 30,
        "max_length": 60,
        "units": 16,
        "filters": 16,
        "epochs": 2,
        "batch_size": 32,
        "learning_rate": 1e-2,
    }

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self):
        """{"train", "validation", "test"}: lists of `DnaExample`."""
        c = self.config
        sizes = (c["train_size"], c["validation_size"], c["test_size"])
        examples = dna_sequences(
            sum(sizes),
            seed=c["seed"],
            motifs=c["motifs"],
            min_length=c["min_length"],
            max_length=c["max_length"],
            gc_content=c["gc_content"],
            max_mutations=c["max_mutations"],
            decoy_share=c["decoy_share"],
        )
        first, second = sizes[0], sizes[0] + sizes[1]
        return {
            "train": examples[:first],
            "validation": examples[first:second],
            "test": examples[second:],
        }

    def build_preprocessor(self, examples):
        return DnaPreprocessor.fit(
            [example.tags for example in examples],
            [example.label for example in examples],
            self.config["max_length"],
        )

    def build_model(self):
        return build_model(self.config, len(self.preprocessor.tags), len(self.preprocessor.labels))

    def to_dataset(self, examples, training=False):
        """Examples -> batches of (one-hot bases, {"tags", "label"}), bucketed by length."""
        import tensorflow as tf

        sequences = self.preprocessor.split([example.sequence for example in examples])
        one_hot = self.preprocessor.encode_bases(sequences)
        tags = self.preprocessor.encode_tags([example.tags for example in examples])
        labels = self.preprocessor.encode_labels([example.label for example in examples])
        elements = [
            (one_hot[row, : len(bases)], {"tags": tags[row, : len(bases)], "label": labels[row]})
            for row, bases in enumerate(sequences)
        ]
        dataset = tf.data.Dataset.from_generator(
            lambda: iter(elements),
            output_signature=(
                tf.TensorSpec([None, 4], tf.float32),
                {"tags": tf.TensorSpec([None], tf.int32), "label": tf.TensorSpec([], tf.int32)},
            ),
        )
        if training:
            dataset = dataset.shuffle(len(elements), seed=self.config["seed"])
        low, high = self.config["min_length"], self.config["max_length"]
        boundaries = sorted({int(b) for b in np.linspace(low, high, 5)[1:-1]})
        return bucket_by_length(dataset, self.config["batch_size"], boundaries).prefetch(2)

    def inference_models(self):
        self._check_trained()
        return {"model": fixed_length_model(self.model, self.config, self.preprocessor.length)}

    def export_verify_inputs(self):
        sequences = [example.sequence for example in self.data["validation"][:4]]
        return {"model": self.preprocessor.encode(sequences)}

    # Inference ---------------------------------------------------------------------------

    @property
    def annotator(self):
        """The runtime's `DnaAnnotator` over this Keras model."""
        self._check_trained()
        return DnaAnnotator(lambda bases: self.model.predict(bases, verbose=0), self.preprocessor)

    def predict(self, inputs):
        """Each DNA sequence's class, motifs and per-base tags (see `DnaAnnotator.predict`).

        Raises:
            SeqKerasError: `inputs` is not a non-empty list of strings, or a sequence is
                empty, longer than `max_length` or holds a character other than A, C, G, T, N.
        """
        return self.annotator.predict(inputs)

    def probabilities(self, sequences):
        """The model's outputs on `sequences`: "tags" (n, T, tags) and "label" (n, classes)."""
        return self.annotator.probabilities(sequences)[1]

    def motif_probability(self, sequence):
        """P(the base is part of a motif) = 1 - P(O) - P(<pad>) at each base of one sequence:
        an (L,) array."""
        return self._motif_probability(self.probabilities([sequence]), len(sequence))

    def _motif_probability(self, outputs, length):
        probs = outputs["tags"][0, :length]
        return 1.0 - probs[:, self.preprocessor.tags.index("O")] - probs[:, 0]

    # Evaluation --------------------------------------------------------------------------

    def evaluate(self, examples=None):
        """Class accuracy, motif F1 (exact spans) and per-base tag accuracy.

        Args:
            examples: `DnaExample`s; `data["test"]` if None.

        Returns:
            A dict of floats: "accuracy" (the fraction of sequences classified right),
            "motif_f1" (`metrics.entity_f1` of the motif spans: right only when motif, start
            and stop all match), "base_accuracy" (the fraction of bases tagged right) and, if
            any sequence has a decoy, "accuracy_decoys" (the accuracy on those).
        """
        examples, predictions = self._predictions(examples)
        right = np.array([p["label"] == e.label for e, p in zip(examples, predictions)])
        true_tags = [example.tags for example in examples]
        predicted_tags = [prediction["tags"] for prediction in predictions]
        bases = [
            t == p
            for tags, guesses in zip(true_tags, predicted_tags)
            for t, p in zip(tags, guesses)
        ]
        results = {
            "accuracy": float(right.mean()),
            "motif_f1": metrics.entity_f1(true_tags, predicted_tags),
            "base_accuracy": float(np.mean(bases)),
        }
        decoys = np.array([bool(example.decoys) for example in examples])
        if decoys.any():
            results["accuracy_decoys"] = float(right[decoys].mean())
        return results

    def _predictions(self, examples):
        self._check_trained()
        examples = self.data["test"] if examples is None else list(examples)
        if not examples:
            raise SeqKerasError(f"{self.name}: evaluate got no examples.")
        return examples, self.predict([example.sequence for example in examples])

    def confusion_matrix(self, examples=None):
        """`(labels, counts)`: counts[i, j] sequences of class i predicted as class j."""
        examples, predictions = self._predictions(examples)
        labels = self.preprocessor.labels
        counts = np.zeros((len(labels), len(labels)), np.int64)
        for example, prediction in zip(examples, predictions):
            counts[labels.index(example.label), labels.index(prediction["label"])] += 1
        return labels, counts

    def plot_confusion(self, path, examples=None):
        """Saves the sequence-class confusion matrix (rows normalized) as a PNG."""
        from matplotlib.figure import Figure

        labels, counts = self.confusion_matrix(examples)
        rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        figure = Figure(figsize=(4.5, 3.8))
        axis = figure.subplots()
        heatmap(axis, rates, "share of the true class", cmap="Blues", vmin=0.0, vmax=1.0)
        for (i, j), count in np.ndenumerate(counts):
            color = "white" if rates[i, j] > 0.5 else "black"
            axis.text(j, i, str(count), ha="center", va="center", color=color)
        axis.set_xticks(range(len(labels)), labels)
        axis.set_yticks(range(len(labels)), labels)
        axis.set(xlabel="predicted", ylabel="true", title="Sequence classes")
        return save_figure(figure, path)

    def plot_motif_probability(self, example, path):
        """Saves P(motif) along one `DnaExample` against its planted site and decoy, as a PNG."""
        from matplotlib.figure import Figure

        outputs = self.probabilities([example.sequence])
        probability = self._motif_probability(outputs, len(example.sequence))
        predicted = self.preprocessor.decode_labels(outputs["label"])[0]
        figure = Figure(figsize=(9, 3))
        axis = figure.subplots()
        for site, color, name in [(example.site, "tab:green", "planted")] + [
            (decoy, "tab:red", "decoy") for decoy in example.decoys
        ]:
            if site is not None:
                plural = "" if site.mismatches == 1 else "es"
                label = f"{name} {site.motif} ({site.strand}, {site.mismatches} mismatch{plural})"
                axis.axvspan(
                    site.start - 0.5, site.stop - 0.5, color=color, alpha=0.25, label=label
                )
        axis.plot(probability, color="black", lw=1.2, label="P(motif)")
        axis.set(
            xlim=(-0.5, len(probability) - 0.5),
            ylim=(0, 1.02),
            xlabel="position (base)",
            ylabel="P(motif)",
            title=f"true class {example.label}, predicted {predicted}",
        )
        axis.legend(loc="upper right", fontsize=7)
        return save_figure(figure, path)
