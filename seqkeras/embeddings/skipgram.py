"""Skip-gram (Mikolov et al. 2013): negative sampling, full softmax, hierarchical softmax."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from seqkeras.embeddings.corpus import (
    alias_table,
    check_positive_int,
    huffman_tree,
    keep_probabilities,
    noise_distribution,
)
from seqkeras.embeddings.pipeline import sample_words, skipgram_pairs
from seqkeras.embeddings.sliced_model import SlicedModel
from seqkeras.embeddings.trainer import EmbeddingTrainer
from seqkeras.errors import SeqKerasError

OBJECTIVES = ("negative_sampling", "softmax", "hierarchical_softmax")


@keras.saving.register_keras_serializable(package="seqkeras")
class SkipGramLoss(keras.losses.Loss):
    """Sum of binary logistic losses over a target's labelled scores.

    With z_j = θ_jᵀ e_c the model's scores for a context word c and labels y_j:

        L = Σ_{j: y_j ≥ 0} −[y_j log σ(z_j) + (1 − y_j) log(1 − σ(z_j))]

    Negative sampling: j runs over the target t (y = 1) and k words drawn from P(w) ∝ f(w)^¾
    (y = 0), so L = −log σ(θ_tᵀ e_c) − Σ_{i=1..k} log σ(−θ_{n_i}ᵀ e_c).
    Hierarchical softmax: j runs over the inner nodes on t's Huffman path and y_j = 1 − code_j,
    so L = −log p(t | c) with p(t | c) = Π_j σ((1 − 2 code_j) θ_jᵀ e_c).
    Labels < 0 mark entries to ignore (padding of short paths, negatives equal to t).

    Args:
        reduction: Keras loss reduction (default `"sum_over_batch_size"`).
        name: loss name.
        dtype: dtype of the loss computation.

    Call arguments:
        y_true: float (batch, n): 1, 0 or −1 (ignored).
        y_pred: float (batch, n): the logits z_j.

    Returns:
        The loss of each example, (batch,), reduced as `reduction` says.

    Example:

    >>> SkipGramLoss()(np.array([[1.0, 0.0, -1.0]]), np.array([[0.0, 0.0, 5.0]]))  # 2 log 2
    1.3862944
    """

    def __init__(self, reduction="sum_over_batch_size", name="skip_gram_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        # −y log σ(z) − (1 − y) log(1 − σ(z)) = softplus(z) − y z
        losses = ops.softplus(y_pred) - ops.maximum(y_true, 0.0) * y_pred
        return ops.sum(ops.where(y_true >= 0, losses, 0.0), axis=-1)


class SkipGram(EmbeddingTrainer):
    """Skip-gram word vectors, trained with `model.fit` on a `tf.data` stream.

    For each pair of a context word c and a target word t within a random window of each other
    (`pipeline.skipgram_pairs`), the model scores θ_tᵀ e_c with e_c = E · O_c (layer `"E"`) and
    θ_t a row of the output table (layer `"theta"`). `self.wv` holds E. Three objectives:

    - `"negative_sampling"` (default; gensim's `negative=k`): k noise words n_i ~ P(w) ∝ f(w)^¾
      per pair, L = −log σ(θ_tᵀ e_c) − Σ_i log σ(−θ_{n_i}ᵀ e_c) (`SkipGramLoss`).
    - `"softmax"`: the course's baseline, p(t | c) = exp(θ_tᵀ e_c) / Σ_j exp(θ_jᵀ e_c) over the
      whole vocabulary; O(V) per pair.
    - `"hierarchical_softmax"` (gensim's `hs=1`): p(t | c) = Π_j σ(±θ_jᵀ e_c) over the inner
      nodes of t's path in a Huffman tree (`corpus.huffman_tree`); O(log V) per pair.

    Frequent words are subsampled (`corpus.keep_probabilities`) and the window is shrunk at
    random, as in word2vec. Training is SGD with word2vec's schedule: the per-pair step α
    decays linearly from `learning_rate` to `min_learning_rate`; a batch applies the sum of
    its pairs' steps (the optimizer runs α · batch_size on the batch mean), so the progress bar
    shows the mean loss per pair. Small batches keep the rows they gather in cache and stay
    closer to word2vec's one-pair-at-a-time SGD; so that they do not pay a training step's
    overhead each, the model is a `SlicedModel` that makes `updates_per_step` updates, one
    per batch, in each compiled step.

    Each update is a handful of small gathers, products and scatters, too small to share
    between cores: TensorFlow's intra-op thread pool spends more on handing them over than it
    saves. XLA splits each gather and scatter on a table of more than about a thousand rows
    into two tasks (its CPU "parallel task assigner" counts the whole table as the work).
    A process that trains word vectors runs about 1.4-2x faster per epoch with one intra-op
    thread, set before TensorFlow runs its first op
    (`tf.config.threading.set_intra_op_parallelism_threads(1)`; the `tf.data` pipeline keeps
    its own threads), and about 1.2x faster with that XLA pass off
    (`XLA_FLAGS=--xla_disable_hlo_passes=cpu-parallel-task-assigner`, read at the first
    compilation). Both settings are process-wide, so `SkipGram` cannot make them for you: the
    first slows down models with large matmuls, such as the softmax objective, and the second
    slowed the compiled recurrent layers a little (benchmarks/RESULTS.md).

    Args:
        vector_size: dimension of e_w.
        window: largest distance between c and t.
        min_count: words seen fewer times are dropped.
        sample: subsampling threshold (0 disables it).
        objective: `"negative_sampling"`, `"softmax"` or `"hierarchical_softmax"`.
        negative: k, noise words per pair (negative sampling only).
        ns_exponent: the power of f(w) in the noise distribution.
        batch_size: pairs per SGD update.
        updates_per_step: SGD updates per `model.fit` step (see `SlicedModel`).
        learning_rate: initial per-pair step α (word2vec's 0.025).
        min_learning_rate: final per-pair step.
        seed: seeds the weights and the pipeline.

    Example:

    >>> sg = SkipGram(vector_size=50, min_count=2)
    >>> sg.fit(seqkeras.datasets.lee_corpus(), epochs=5)
    >>> sg.wv.most_similar("government", topn=3)
    """

    def __init__(
        self,
        vector_size=100,
        window=5,
        min_count=5,
        sample=1e-3,
        objective="negative_sampling",
        negative=5,
        ns_exponent=0.75,
        batch_size=128,
        updates_per_step=128,
        learning_rate=0.025,
        min_learning_rate=1e-4,
        seed=1,
    ):
        super().__init__(vector_size, min_count, batch_size, learning_rate, seed)
        self.updates_per_step = check_positive_int("SkipGram", "updates_per_step", updates_per_step)
        if objective not in OBJECTIVES:
            raise SeqKerasError(
                f"SkipGram: `objective` must be one of {OBJECTIVES}, got {objective!r}."
            )
        self.window = check_positive_int("SkipGram", "window", window)
        self.negative = check_positive_int("SkipGram", "negative", negative)
        if sample < 0:
            raise SeqKerasError(f"SkipGram: `sample` must be >= 0, got {sample!r}.")
        self.sample = sample
        self.objective = objective
        self.ns_exponent = ns_exponent
        self.min_learning_rate = float(min_learning_rate)

    def make_pass(self, corpus):
        ids = tf.constant(corpus.ids)
        sentence_ids = tf.constant(corpus.sentence_ids)
        keep = tf.constant(keep_probabilities(corpus.counts, self.sample))
        if self.objective == "negative_sampling":
            noise = alias_table(noise_distribution(corpus.counts, self.ns_exponent))
            accept, alias = tf.constant(noise.accept), tf.constant(noise.alias)
        elif self.objective == "hierarchical_softmax":
            tree = huffman_tree(corpus.counts)
            points = tf.constant(tree.points)
            labels = tf.constant(np.where(tree.codes >= 0, 1 - tree.codes, -1), tf.float32)

        def make(seed):
            pair_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
            context, target = skipgram_pairs(ids, sentence_ids, keep, self.window, pair_seed)
            if self.objective == "softmax":
                return {"context": context}, target
            if self.objective == "hierarchical_softmax":
                return {"context": context, "targets": tf.gather(points, target)}, tf.gather(
                    labels, target
                )
            noise = sample_words(
                accept, alias, tf.stack([tf.size(target), self.negative]), noise_seed
            )
            targets = tf.concat([target[:, None], noise], axis=1)
            # word2vec skips a noise word that happens to be the target itself
            negatives = tf.where(noise == target[:, None], -1.0, 0.0)
            y = tf.concat([tf.ones_like(negatives[:, :1]), negatives], axis=1)
            return {"context": context, "targets": targets}, y

        return make

    def build_model(self, vocab_size):
        """The Functional model: `context` ids -> e_c -> scores θ_jᵀ e_c (logits)."""
        context = keras.Input(shape=(), dtype="int32", name="context")
        e_c = keras.layers.Embedding(
            vocab_size,
            self.vector_size,
            embeddings_initializer=self.initializer(0.5 / self.vector_size),
            name="E",
        )(context)
        if self.objective == "softmax":
            logits = keras.layers.Dense(
                vocab_size, use_bias=False, kernel_initializer="zeros", name="theta"
            )(e_c)
            return SlicedModel(
                {"context": context}, logits, name="skipgram_softmax", slices=self.updates_per_step
            )
        rows = vocab_size if self.objective == "negative_sampling" else vocab_size - 1
        targets = keras.Input(shape=(None,), dtype="int32", name="targets")
        theta = keras.layers.Embedding(
            rows, self.vector_size, embeddings_initializer="zeros", name="theta"
        )(targets)
        logits = keras.layers.Dot(axes=(1, 2), name="scores")([e_c, theta])
        return SlicedModel(
            {"context": context, "targets": targets},
            logits,
            name=f"skipgram_{self.objective}",
            slices=self.updates_per_step,
        )

    def optimizer(self, total_steps):
        schedule = keras.optimizers.schedules.PolynomialDecay(
            self.learning_rate * self.batch_size,
            decay_steps=total_steps,
            end_learning_rate=self.min_learning_rate * self.batch_size,
        )
        return keras.optimizers.SGD(schedule)

    def loss(self):
        if self.objective == "softmax":
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return SkipGramLoss()

    def vectors(self):
        return self.model.get_layer("E").get_weights()[0]
