"""A Functional model whose training step makes several SGD updates, one per slice of its batch."""

import keras
import tensorflow as tf

from seqkeras.embeddings.corpus import check_positive_int


@keras.saving.register_keras_serializable(package="seqkeras")
class SlicedModel(keras.Model):
    """A Functional model that splits each training batch into `slices` consecutive slices and
    runs Keras's train step (forward, loss, gradients, optimizer update) on each in turn.

    The loop runs inside the one compiled training function, so a model whose batches are too
    small to pay for a step's overhead (word2vec-style SGD on embedding lookups, where small
    batches keep the gathered rows in cache) makes many updates per step and per trip through
    the input pipeline. The optimizer counts one iteration per slice. Inference is unchanged.

    Args:
        *args: the Functional model's `inputs` and `outputs` (and any other argument of
            `keras.Model`).
        slices: positive int, updates per training batch; batches must have a multiple of
            `slices` examples.
        **kwargs: passed to `keras.Model`.

    Example:

    >>> inputs = keras.Input((3,))
    >>> model = SlicedModel(inputs, keras.layers.Dense(1)(inputs), slices=4)
    >>> model.compile("sgd", "mse")
    >>> model.fit(np.ones((32, 3)), np.ones((32, 1)), batch_size=32, verbose=0)  # 4 updates
    """

    def __init__(self, *args, slices=1, **kwargs):
        slices = check_positive_int("SlicedModel", "slices", slices)
        super().__init__(*args, **kwargs)
        self.slices = slices

    def train_step(self, data):
        data = keras.utils.unpack_x_y_sample_weight(data)

        def cut(tensor):
            if tensor is None:
                return None
            shape = tf.shape(tensor)
            return tf.reshape(
                tensor, tf.concat([[self.slices, shape[0] // self.slices], shape[1:]], 0)
            )

        parts = tf.nest.map_structure(cut, data)

        def update(i):
            part = tf.nest.map_structure(lambda t: None if t is None else t[i], parts)
            super(SlicedModel, self).train_step(part)
            return (i + 1,)

        tf.while_loop(lambda i: i < self.slices, update, (tf.constant(0),))
        return self.get_metrics_result()

    def get_config(self):
        return {**super().get_config(), "slices": self.slices}
