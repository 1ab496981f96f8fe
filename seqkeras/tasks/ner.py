"""Named-entity recognition: a bidirectional LSTM tags every word (T_x = T_y) in IOB2.

    task = seqkeras.tasks.get("ner")()          # SEQKERAS_SMOKE=1: tiny data, two epochs
    task.fit()
    task.predict(["He said , Teddy Roosevelt was a great president ."])
    # [['O', 'O', 'O', 'B-PER', 'I-PER', 'O', 'O', 'O', 'O', 'O']]
    task.evaluate()                 # entity F1 (exact spans, seqeval's), overall and per type
    task.report()                   # per type: precision, recall, F1, support
    task.export("ner_bundle")       # runtime.load(...).predict(texts): the same tags

The model reads word ids through an embedding (`<pad>` masked) and a bidirectional seqkeras
LSTM, a<t> = [a→<t>; a←<t>], so each tag ŷ<t> = softmax(Wy a<t> + by) sees the words on both
sides of x<t>: "Teddy" in "He said, Teddy Roosevelt ..." and "He said, Teddy bears ..." has the
same left context, and only a←<t> tells them apart. `bidirectional=False` gives the
left-to-right model for comparison. The loss skips the padding steps (tag 0, `<pad>`).
"""

from typing import ClassVar

import keras
import numpy as np

from seqkeras import layers, metrics
from seqkeras.datasets.ner import LOCALES, ner_sentences
from seqkeras.errors import SeqKerasError
from seqkeras.plotting import heatmap, save_figure
from seqkeras.runtime.pipelines.labeling import Tagger, TaggingPreprocessor
from seqkeras.tasks import register
from seqkeras.tasks.base import Task
from seqkeras.text import bucket_by_length


def build_model(config, vocab_size, num_tags, name="ner"):
    """The tagger: word ids (batch, T) -> tag probabilities (batch, T, num_tags), any T.

    Embedding (`mask_zero`) -> seqkeras LSTM (in `keras.layers.Bidirectional` when
    `config["bidirectional"]`) -> Dense with softmax; compiled with Adam and cross-entropy that
    ignores tag 0 (`<pad>`).

    Args:
        config: a `NerTask` config (embedding_dim, units, peephole, bidirectional,
            learning_rate, jit_compile).
        vocab_size: the number of word ids.
        num_tags: the number of tags, `<pad>` included.
        name: the model's name.
    """
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(
        vocab_size, config["embedding_dim"], mask_zero=True, name="embedding"
    )(tokens)
    recurrent = layers.LSTM(
        config["units"],
        peephole=config["peephole"],
        return_sequences=True,
        jit_compile=config["jit_compile"],
        name="lstm",
    )
    if config["bidirectional"]:
        recurrent = keras.layers.Bidirectional(recurrent, name="bidirectional")
    probs = keras.layers.Dense(num_tags, activation="softmax", name="tags")(recurrent(hidden))
    model = keras.Model(tokens, probs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
    )
    return model


def fixed_length_model(model, length):
    """The same layers (and weights) on a fixed number of steps: the graph that is exported."""
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    hidden = tokens
    for layer in model.layers[1:]:
        hidden = layer(hidden)
    return keras.Model(tokens, hidden, name=f"{model.name}_fixed")


@register("ner")
class NerTask(Task):
    """Tags people, places and companies (PER, LOC, ORG) in IOB2, word by word.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: the splits of `ner_sentences`.
        ambiguous_share: the share of the course's ambiguity cases in the data.
        locales: the faker locales of the names, places and companies.
        max_length: the most words per sentence (the exported model's steps).
        min_freq: rarer training words become `<unk>`.
        embedding_dim, units, peephole, bidirectional: the model.
        epochs, batch_size, learning_rate, seed: training.

    Example:

    >>> task = NerTask()
    >>> task.fit()
    >>> task.entities(["Anna works for Siemens AG in Berlin ."])
    [[('PER', 'Anna'), ('ORG', 'Siemens AG'), ('LOC', 'Berlin')]]
    >>> task.report()["PER"]
    EntityScore(precision=0.976, recall=0.988, f1=0.982, support=1656)
    """

    preprocessor_class = TaggingPreprocessor
    pipeline = "tag"
    defaults: ClassVar[dict] = {
        "train_size": 16_000,
        "validation_size": 1_000,
        "test_size": 2_000,
        "ambiguous_share": 0.15,
        "locales": list(LOCALES),
        "max_length": 40,
        "min_freq": 2,
        "embedding_dim": 64,
        "units": 64,
        "peephole": False,
        "bidirectional": True,
        "epochs": 5,
        "batch_size": 64,
        "learning_rate": 5e-3,
        "seed": 0,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 800,
        "validation_size": 100,
        "test_size": 200,
        "embedding_dim": 16,
        "units": 16,
        "epochs": 2,
        "batch_size": 32,
        "learning_rate": 1e-2,
    }
    bucket_boundaries = (10, 14, 18)

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self):
        """{"train", "validation", "test"}: lists of `NerExample`, at most max_length words."""
        c = self.config
        sizes = (c["train_size"], c["validation_size"], c["test_size"])
        examples = [
            example
            for example in ner_sentences(
                sum(sizes),
                seed=c["seed"],
                locales=c["locales"],
                ambiguous_share=c["ambiguous_share"],
            )
            if len(example.tokens) <= c["max_length"]
        ]
        first, second = sizes[0], sizes[0] + sizes[1]
        return {
            "train": examples[:first],
            "validation": examples[first:second],
            "test": examples[second:],
        }

    def build_preprocessor(self, examples):
        return TaggingPreprocessor.fit(
            [example.tokens for example in examples],
            [example.tags for example in examples],
            self.config["max_length"],
            self.config["min_freq"],
        )

    def build_model(self):
        return build_model(
            self.config, len(self.preprocessor.text.vocabulary), len(self.preprocessor.tags)
        )

    def to_dataset(self, examples, training=False):
        """Examples -> batches of (word ids, tag ids), bucketed by length, 0-padded."""
        import tensorflow as tf

        token_ids = [self.preprocessor.text.vocabulary.encode(e.tokens) for e in examples]
        tag_ids = self.preprocessor.encode_tags([e.tags for e in examples])
        pairs = [(ids, tags[: len(ids)]) for ids, tags in zip(token_ids, tag_ids)]
        dataset = tf.data.Dataset.from_generator(
            lambda: iter(pairs),
            output_signature=(tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)),
        )
        if training:
            dataset = dataset.shuffle(len(pairs), seed=self.config["seed"])
        batches = bucket_by_length(dataset, self.config["batch_size"], self.bucket_boundaries)
        return batches.prefetch(2)

    def inference_models(self):
        self._check_trained()
        return {"model": fixed_length_model(self.model, self.preprocessor.length)}

    def export_verify_inputs(self):
        tokens = [example.tokens for example in self.data["validation"][:4]]
        return {"model": self.preprocessor.encode_tokens(tokens)}

    # Inference ---------------------------------------------------------------------------

    @property
    def tagger(self):
        """The runtime's `Tagger` over this Keras model."""
        self._check_trained()
        return Tagger(lambda ids: self.model.predict(ids, verbose=0), self.preprocessor)

    def predict(self, inputs):
        """The IOB2 tags of each text's words (texts are split by `WordTokenizer`).

        Raises:
            SeqKerasError: `inputs` is not a non-empty list of texts, or a text is empty or
                longer than `max_length` words.
        """
        return self.tagger.predict(inputs)

    def entities(self, texts):
        """Each text's entities as `(type, text)` pairs."""
        return self.tagger.entities(texts)

    def probabilities(self, token_lists):
        """(n, T, tags) tag probabilities of tokenized sentences (padding steps included)."""
        self._check_trained()
        return self.model.predict(self.preprocessor.encode_tokens(token_lists), verbose=0)

    def predict_tags(self, token_lists):
        """The predicted tags of tokenized sentences (lists of tokens)."""
        return self.preprocessor.decode_tags(self.probabilities(token_lists), token_lists)

    # Evaluation --------------------------------------------------------------------------

    def evaluate(self, examples=None):
        """Entity F1 with exact span match (seqeval's default mode), overall and per type.

        Args:
            examples: `NerExample`s; `data["test"]` if None. E.g. the ambiguity cases only:
                `[e for e in task.data["test"] if e.ambiguous]`.

        Returns:
            A dict of floats: "entity_f1" (micro-averaged), "token_accuracy" (the fraction of
            words, padding aside, tagged right), and "f1_<type>" for each entity type.
        """
        true, predicted = self._tags(examples)
        pairs = [(t, p) for tags, guesses in zip(true, predicted) for t, p in zip(tags, guesses)]
        report = metrics.entity_report(true, predicted)
        return {
            "entity_f1": metrics.entity_f1(true, predicted),
            "token_accuracy": float(np.mean([t == p for t, p in pairs])),
            **{f"f1_{kind}": score.f1 for kind, score in report.items()},
        }

    def report(self, examples=None):
        """`metrics.entity_report` of `examples` (`data["test"]` if None): per entity type,
        `EntityScore(precision, recall, f1, support)`."""
        return metrics.entity_report(*self._tags(examples))

    def _tags(self, examples):
        """`(true, predicted)` tag sequences of `examples` (`data["test"]` if None)."""
        self._check_trained()
        examples = self.data["test"] if examples is None else list(examples)
        if not examples:
            raise SeqKerasError(f"{self.name}: evaluate got no examples.")
        predicted = self.predict_tags([example.tokens for example in examples])
        return [example.tags for example in examples], predicted

    def confusion_matrix(self, examples=None):
        """`(tags, counts)`: counts[i, j] words with true tag i predicted as tag j (no `<pad>`)."""
        tags = self.preprocessor.tags[1:]
        index = {tag: i for i, tag in enumerate(tags)}
        counts = np.zeros((len(tags), len(tags)), np.int64)
        for true_tags, guesses in zip(*self._tags(examples)):
            for true, guess in zip(true_tags, guesses):
                counts[index[true], index[guess]] += 1
        return tags, counts

    def plot_confusion(self, path, examples=None):
        """Saves the tag confusion matrix (rows normalized) as a PNG, written atomically."""
        from matplotlib.figure import Figure

        tags, counts = self.confusion_matrix(examples)
        rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        figure = Figure(figsize=(5.5, 4.5))
        axis = figure.subplots()
        heatmap(axis, rates, "share of the true tag's words", cmap="Blues", vmin=0.0, vmax=1.0)
        for (i, j), count in np.ndenumerate(counts):
            if count:
                color = "white" if rates[i, j] > 0.5 else "black"
                axis.text(j, i, str(count), ha="center", va="center", fontsize=7, color=color)
        axis.set_xticks(range(len(tags)), tags, rotation=45)
        axis.set_yticks(range(len(tags)), tags)
        axis.set(xlabel="predicted", ylabel="true", title="NER tag confusion")
        return save_figure(figure, path)

    def plot_tokens(self, text, path):
        """Saves a heatmap of each word's tag probabilities in `text` as a PNG."""
        from matplotlib.figure import Figure

        tokens = self.preprocessor.tokenize([text])[0]
        probs = self.probabilities([tokens])[0, : len(tokens), 1:]
        tags = self.preprocessor.tags[1:]
        figure = Figure(figsize=(0.5 * len(tokens) + 3.2, 3.5))
        axis = figure.subplots()
        heatmap(
            axis, probs.T, "P(tag | sentence)", cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto"
        )
        axis.set_xticks(range(len(tokens)), tokens, rotation=45, ha="right")
        axis.set_yticks(range(len(tags)), tags)
        axis.set(xlabel="word", ylabel="tag", title="P(tag | sentence) per word")
        return save_figure(figure, path)
