"""Every task trains under MultiWorkerMirroredStrategy (one worker here, two steps each).

The two-worker run of a real cluster is in test_distributed.py; this checks that each task's
layers, losses (CTC included) and datasets (bucketed, generator-fed) go through the strategy
loop: the model built in the strategy's scope, the dataset distributed, the loss finite.
"""

import math

import numpy as np
import pytest

from seqkeras import tasks


@pytest.fixture(scope="module")
def strategy():
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()


@pytest.mark.parametrize("name", tasks.names())
def test_the_task_trains_two_steps_under_multiworker(strategy, name):
    task = tasks.get(name)(smoke=True)
    batch = task.config["batch_size"]
    train, validation = task.data["train"], task.data["validation"]
    task.preprocessor = task.build_preprocessor(train)  # from all of train: every token
    history = task.fit(train[: 2 * batch], validation[:batch], 1, 0, strategy=strategy)
    assert math.isfinite(history["loss"][0]) and math.isfinite(history["val_loss"][0])
    assert all(np.isfinite(w).all() for w in task.model.get_weights())
    variable = task.model.trainable_weights[0].value
    assert strategy.extended.variable_created_in_scope(variable)


def test_the_compiled_loop_trains_under_multiworker(strategy):
    """Smoke runs train in TensorFlow's loop; `jit_compile=True` takes the XLA-compiled one
    (or raises), here for a bidirectional encoder behind a padding mask and a decoder."""
    from seqkeras.layers import compiled_loop

    task = tasks.get("dates")({"jit_compile": True}, smoke=True)
    batch = task.config["batch_size"]
    train, validation = task.data["train"], task.data["validation"]
    task.preprocessor = task.build_preprocessor(train)
    traced = compiled_loop._forward.experimental_get_tracing_count()
    history = task.fit(train[: 2 * batch], validation[:batch], 1, 0, strategy=strategy)
    assert math.isfinite(history["loss"][0]) and math.isfinite(history["val_loss"][0])
    assert compiled_loop._forward.experimental_get_tracing_count() > traced
