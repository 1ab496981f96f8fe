"""The `tf.data` side of training: training pairs, negative samples, and the batch stream.

Every pass over the corpus draws fresh randomness (subsampling, window sizes, order,
negatives) from stateless ops keyed by a per-pass seed, so a run is reproducible from one seed.
"""

import tensorflow as tf

BATCHES_BUFFERED = 4


def subsample(ids, sentence_ids, keep_probability, seed):
    """Drops each token of word w with probability 1 − P_keep(w); returns the rest's ids and
    sentence ids."""
    kept = tf.random.stateless_uniform(tf.shape(ids), seed) < tf.gather(keep_probability, ids)
    return tf.boolean_mask(ids, kept), tf.boolean_mask(sentence_ids, kept)


def skipgram_pairs(ids, sentence_ids, keep_probability, window, seed):
    """The (context, target) pairs of one pass over the corpus, as word2vec draws them.

    Each occurrence of a word w is first dropped with probability 1 − P_keep(w) (`subsample`).
    Every remaining word t, in a random order, is then paired with each context word c at most
    b positions away in the same sentence, where b is drawn uniformly from 1..window for each t
    (word2vec's "reduced window", which weights near words more). Like word2vec's code, the
    neighbour c is the input and the centre word t the word to predict; the pairs of one t are
    consecutive.

    Args:
        ids: int32 (N,), the corpus as word ids.
        sentence_ids: int32 (N,), the sentence of each token; pairs never cross sentences.
        keep_probability: float32 (V,), P_keep(w) (see `corpus.keep_probabilities`).
        window: positive int, the largest distance between c and t.
        seed: int32/int64 tensor of shape (2,), for the stateless random ops.

    Returns:
        `(context, target)`, two int32 tensors (P,).
    """
    seeds = tf.random.experimental.stateless_split(seed, 3)
    ids, sentence_ids = subsample(ids, sentence_ids, keep_probability, seeds[0])
    n = tf.size(ids)
    order = tf.random.experimental.stateless_shuffle(tf.range(n), seeds[1])
    reach = window - tf.random.stateless_uniform([n], seeds[2], 0, window, dtype=tf.int32)
    offsets = tf.constant([d for d in range(-window, window + 1) if d], tf.int32)
    position = order[:, None] + offsets
    inside = tf.clip_by_value(position, 0, n - 1)
    valid = (
        (tf.abs(offsets) <= reach[:, None])
        & (position == inside)
        & (tf.gather(sentence_ids, inside) == tf.gather(sentence_ids, order)[:, None])
    )
    target = tf.broadcast_to(tf.gather(ids, order)[:, None], tf.shape(position))
    return tf.boolean_mask(tf.gather(ids, inside), valid), tf.boolean_mask(target, valid)


def sample_words(accept, alias, shape, seed):
    """Draws word ids i.i.d. from the distribution of an alias table (`corpus.alias_table`,
    `accept` float32 and `alias` int32, both (V,)): a uniform bucket, kept or swapped for its
    alias. Two uniform draws and two gathers per word, whatever V."""
    count = tf.reduce_prod(shape)
    bucket_seed, coin_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    buckets = tf.random.stateless_uniform([count], bucket_seed, 0, tf.size(accept), tf.int32)
    coins = tf.random.stateless_uniform([count], coin_seed)
    ids = tf.where(coins < tf.gather(accept, buckets), buckets, tf.gather(alias, buckets))
    return tf.reshape(ids, shape)


def batch_stream(make_pass, batch_size, seed):
    """An endless stream of `(inputs, labels, sample_weight)` batches, pass after pass.

    `make_pass(seed)` returns `(inputs, labels)` for one pass over the corpus: nested tensors
    with a common leading dimension P. Each pass is padded to a multiple of `batch_size` with
    examples of weight 0, and the next pass is prepared while the current one trains.

    Returns:
        `(dataset, steps)`: the `tf.data.Dataset` and the number of batches in a pass, the
        natural `steps_per_epoch`.
    """

    def batches(pass_seed):
        inputs, labels = make_pass(pass_seed)
        count = tf.shape(tf.nest.flatten(labels)[0])[0]
        num_batches = (count + batch_size - 1) // batch_size
        padding = num_batches * batch_size - count

        def split(tensor):
            tensor = tf.pad(tensor, [[0, padding]] + [[0, 0]] * (tensor.shape.rank - 1))
            return tf.reshape(
                tensor, tf.concat([[num_batches, batch_size], tf.shape(tensor)[1:]], 0)
            )

        weights = tf.ones([count], tf.float32)
        return tf.nest.map_structure(split, (inputs, labels, weights))

    # The first pass, run eagerly, sizes an epoch (passes differ by a batch or so at most)
    # and is the stream's first element; the later ones come from per-pass random seeds.
    first = batches(tf.constant([seed, -1], tf.int64))
    steps = int(tf.shape(tf.nest.flatten(first)[0])[0])
    later = tf.data.Dataset.random(seed=seed).map(lambda r: batches(tf.stack([r, 0])))
    dataset = tf.data.Dataset.from_tensors(first).concatenate(later).prefetch(1)
    # The batches are slices of a prepared pass: a small fixed buffer keeps up. tf.data's
    # autotuning thread, with AUTOTUNE, held up the iterator's deletion at the end of
    # `model.fit` by 0.8-2.3 s in 5 of 36 fits (none in 30 without it).
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.unbatch().prefetch(BATCHES_BUFFERED).with_options(options), steps
