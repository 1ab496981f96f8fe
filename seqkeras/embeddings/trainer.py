"""What the embedding models share: corpus -> tf.data stream -> Functional model -> `model.fit`."""

import keras

from seqkeras.embeddings.corpus import build_corpus, check_positive_int
from seqkeras.embeddings.keyed_vectors import KeyedVectors
from seqkeras.embeddings.pipeline import batch_stream
from seqkeras.errors import SeqKerasError

# Batches run per call into the compiled train function: fewer Python round trips, and the
# progress bar still moves several times per epoch.
STEPS_PER_EXECUTION = 64


class EmbeddingTrainer:
    """Base class of `SkipGram`, `NeuralLanguageModel` and `GloVe`.

    `fit(sentences)` builds the vocabulary, the Keras Functional model (`self.model`) and a
    `tf.data` stream of training batches, trains with `model.fit`, and leaves the learned
    vectors in `self.wv` (a `KeyedVectors`). Subclasses implement `make_pass(corpus)` (the
    per-pass example generator), `build_model(vocab_size)`, `optimizer(total_steps)`, `loss()`
    and `vectors()`. A subclass whose model is a `SlicedModel` sets `updates_per_step` to its
    `slices`: the stream then delivers `batch_size * updates_per_step` examples per step and
    `optimizer` is told the number of updates, not of steps.

    Args:
        vector_size: dimension of the word vectors e_w.
        min_count: words seen fewer times are dropped from the vocabulary.
        batch_size: training examples per step.
        learning_rate: the optimizer's (initial) learning rate; see the subclass.
        seed: seeds the initial weights and every random draw of the data pipeline.
    """

    updates_per_step = 1

    def __init__(self, vector_size, min_count, batch_size, learning_rate, seed):
        name = type(self).__name__
        self.vector_size = check_positive_int(name, "vector_size", vector_size)
        self.min_count = check_positive_int(name, "min_count", min_count)
        self.batch_size = check_positive_int(name, "batch_size", batch_size)
        if not learning_rate > 0:
            raise SeqKerasError(f"{name}: `learning_rate` must be positive, got {learning_rate!r}.")
        self.learning_rate = float(learning_rate)
        self.seed = int(seed)
        self.seed_generator = None
        self.model = None
        self.wv = None

    def fit(self, sentences, epochs=5, verbose="auto", callbacks=None):
        """Trains from scratch on `sentences` and sets `self.wv`.

        Args:
            sentences: iterable of sentences, each a list of string tokens.
            epochs: passes over the corpus.
            verbose: `model.fit`'s verbosity: `"auto"`, 0 (silent), 1 (progress bar) or
                2 (one line per epoch).
            callbacks: Keras callbacks for `model.fit`.

        Returns:
            The Keras `History` of the training run.
        """
        epochs = check_positive_int(type(self).__name__, "epochs", epochs)
        corpus = build_corpus(sentences, self.min_count)
        dataset, steps = batch_stream(
            self.make_pass(corpus), self.batch_size * self.updates_per_step, self.seed
        )
        if not steps:
            raise SeqKerasError(
                f"{type(self).__name__}: the corpus gives no training examples; are its "
                "sentences shorter than the model's context?"
            )
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.model = self.build_model(len(corpus.words))
        self.model.compile(
            optimizer=self.optimizer(steps * epochs * self.updates_per_step),
            loss=self.loss(),
            jit_compile=True,
            steps_per_execution=min(STEPS_PER_EXECUTION, steps),
        )
        history = self.model.fit(
            dataset,
            epochs=epochs,
            steps_per_epoch=steps,
            shuffle=False,  # each pass is shuffled in the pipeline
            verbose=verbose,
            callbacks=callbacks,
        )
        self.wv = KeyedVectors(corpus.words, self.vectors())
        return history

    def initializer(self, scale):
        """Uniform(−scale, scale) from the run's seeded generator (a new draw per table)."""
        return keras.initializers.RandomUniform(-scale, scale, seed=self.seed_generator)
