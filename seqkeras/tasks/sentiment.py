"""Sentiment classification (many-to-one): the averaged-embedding baseline and an LSTM.

    task = seqkeras.tasks.get("sentiment")()                 # model="rnn" (the default)
    baseline = seqkeras.tasks.get("sentiment")({"model": "average"})
    task.fit()
    task.predict(["The food was not good .", "The service was not terrible ."])
    # ['negative', 'positive']
    task.evaluate()                 # accuracy, overall and per kind (plain, negation, ...)
    task.export("sentiment_bundle") # runtime.load(...).predict(texts): the same labels

The course's two models over word embeddings e<t> (`<pad>` masked):

    average: ŷ = softmax(W · (1/T) Σ_t e<t> + b)     word order and negation scope are lost
    rnn:     a<t> = LSTM(a<t-1>, e<t>),  ŷ = softmax(W a<T> + b)

"The food was not good" and "The food was good" differ in the average only by e("not"), which
cannot push "not good" negative and "not bad" positive at once; the LSTM reads "not" first and
can flip what follows. Both can start from pretrained word vectors (`embeddings`: a word2vec
text file, e.g. from `seqkeras.embeddings`), the course's transfer learning: the vocabulary then
holds every pretrained word, so that a word the labeled reviews never use still has its vector.
With `unseen_word_share`, part of the sentiment words is kept out of the labeled reviews and
`data["unseen"]` holds reviews built from those words only, to measure that transfer.
"""

from typing import ClassVar

import keras
import numpy as np

from seqkeras import layers
from seqkeras.datasets.sentiment import KINDS, sentiment_reviews, sentiment_words, split_words
from seqkeras.errors import SeqKerasError
from seqkeras.runtime.pipelines.labeling import ClassificationPreprocessor, Classifier
from seqkeras.tasks import register
from seqkeras.tasks.base import Task

MODELS = ("rnn", "average")


def build_model(config, vocabulary, num_classes, length, name="sentiment"):
    """The classifier: word ids (batch, T) -> class probabilities (batch, num_classes).

    Args:
        config: a `SentimentTask` config (model, embeddings, train_embeddings, embedding_dim,
            units, peephole, learning_rate, jit_compile).
        vocabulary: the input's `Vocabulary` (id i -> word), to look words up in
            pretrained vectors.
        num_classes: the number of classes.
        length: the fixed number of steps T.
        name: the model's name.

    Raises:
        SeqKerasError: `config["model"]` is not one of `MODELS`.
    """
    if config["model"] not in MODELS:
        raise SeqKerasError(
            f"sentiment: config 'model' must be one of {MODELS}, got {config['model']!r}."
        )
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    if config["embeddings"]:
        embedding = _pretrained_vectors(config).embedding_layer(
            vocabulary.tokens,
            trainable=config["train_embeddings"],
            mask_zero=True,
            name="embedding",
        )
    else:
        embedding = keras.layers.Embedding(
            len(vocabulary), config["embedding_dim"], mask_zero=True, name="embedding"
        )
    embedded = embedding(tokens)
    if config["model"] == "average":
        summary = keras.layers.GlobalAveragePooling1D(name="average")(embedded)
    else:
        summary = layers.LSTM(
            config["units"],
            peephole=config["peephole"],
            jit_compile=config["jit_compile"],
            name="lstm",
        )(embedded)
    probs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(summary)
    model = keras.Model(tokens, probs, name=f"{name}_{config['model']}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=1.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _pretrained_vectors(config):
    from seqkeras.embeddings import KeyedVectors

    return KeyedVectors.load_word2vec_format(config["embeddings"])


@register("sentiment")
class SentimentTask(Task):
    """Classifies short reviews as positive or negative with an LSTM or averaged embeddings.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: the splits of `sentiment_reviews`.
        max_words: sentiment words per polarity (None: all of the lexicon's).
        unseen_word_share: the share of each polarity's words kept out of the train,
            validation and test reviews; `data["unseen"]` (`test_size` reviews) uses only
            them (0: no such split).
        max_length: the most words per review (the model's steps).
        model: `"rnn"` (LSTM) or `"average"` (the averaged-embedding baseline).
        embeddings: a word2vec text file of pretrained vectors, or None to learn them.
        train_embeddings: fine-tune pretrained vectors.
        embedding_dim (without `embeddings`), units, peephole: the model.
        epochs, batch_size, learning_rate, seed: training.

    Example:

    >>> task = SentimentTask()
    >>> task.fit()
    >>> task.evaluate()["accuracy_negation"]      # the "average" model: 0.02
    1.0
    """

    preprocessor_class = ClassificationPreprocessor
    pipeline = "classify"
    defaults: ClassVar[dict] = {
        "train_size": 16_000,
        "validation_size": 1_000,
        "test_size": 2_000,
        "max_words": None,
        "unseen_word_share": 0.0,
        "max_length": 30,
        "model": "rnn",
        "embeddings": None,
        "train_embeddings": True,
        "embedding_dim": 32,
        "units": 32,
        "peephole": False,
        "epochs": 5,
        "batch_size": 64,
        "learning_rate": 5e-3,
        "seed": 0,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 800,
        "validation_size": 100,
        "test_size": 200,
        "max_words": 15,
        "embedding_dim": 16,
        "units": 16,
        "epochs": 8,
        "batch_size": 32,
        "learning_rate": 2e-2,
    }

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self):
        """{"train", "validation", "test"[, "unseen"]}: lists of `SentimentExample`."""
        c = self.config
        sizes = (c["train_size"], c["validation_size"], c["test_size"])
        splits = [
            split_words(words, c["unseen_word_share"]) for words in sentiment_words(c["max_words"])
        ]
        seen, unseen = ([split[i] for split in splits] for i in (0, 1))
        examples = sentiment_reviews(sum(sizes), seed=c["seed"], words=seen)
        first, second = sizes[0], sizes[0] + sizes[1]
        data = {
            "train": examples[:first],
            "validation": examples[first:second],
            "test": examples[second:],
        }
        if c["unseen_word_share"]:
            data["unseen"] = sentiment_reviews(c["test_size"], seed=c["seed"] + 1, words=unseen)
        return data

    def build_preprocessor(self, examples):
        """The vocabulary of the `examples`, and of the pretrained vectors if there are any."""
        texts = [example.text for example in examples]
        if self.config["embeddings"]:
            texts += _pretrained_vectors(self.config).index_to_key
        return ClassificationPreprocessor.fit(
            texts, [example.label for example in examples], self.config["max_length"]
        )

    def build_model(self):
        return build_model(
            self.config,
            self.preprocessor.text.vocabulary,
            len(self.preprocessor.labels),
            self.preprocessor.length,
        )

    def to_dataset(self, examples, training=False):
        arrays = (
            self.preprocessor.encode([example.text for example in examples]),
            self.preprocessor.encode_labels([example.label for example in examples]),
        )
        return self.batched(arrays, training)

    def export_verify_inputs(self):
        texts = [example.text for example in self.data["validation"][:4]]
        return {"model": self.preprocessor.encode(texts)}

    # Inference ---------------------------------------------------------------------------

    @property
    def classifier(self):
        """The runtime's `Classifier` over this Keras model."""
        self._check_trained()
        return Classifier(lambda ids: self.model.predict(ids, verbose=0), self.preprocessor)

    def predict(self, inputs):
        """`"positive"` or `"negative"` for each text.

        Raises:
            SeqKerasError: `inputs` is not a non-empty list of texts, or a text is empty or
                longer than `max_length` words.
        """
        return self.classifier.predict(inputs)

    def evaluate(self, examples=None):
        """Accuracy, overall and per kind of review.

        Args:
            examples: `SentimentExample`s; `data["test"]` if None.

        Returns:
            A dict of floats: "accuracy" (the fraction right) and "accuracy_<kind>" for each
            kind of review in `examples`.
        """
        self._check_trained()
        examples = self.data["test"] if examples is None else list(examples)
        if not examples:
            raise SeqKerasError(f"{self.name}: evaluate got no examples.")
        predicted = self.predict([example.text for example in examples])
        right = np.array([guess == example.label for example, guess in zip(examples, predicted)])
        kinds = np.array([example.kind for example in examples])
        return {
            "accuracy": float(right.mean()),
            **{
                f"accuracy_{kind}": float(right[kinds == kind].mean())
                for kind in KINDS
                if kind in kinds
            },
        }
