"""`fit_distributed`: what `model.fit` gives (progress bar, History, callbacks, validation
metrics) as a loop of `strategy.run` steps, for `tf.distribute` strategies.

Keras 3.15's own `model.fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585:
its symbolic build reduces a `PerReplica` batch). This loop runs the same `model.train_step`
and `model.test_step` inside `strategy.run` over `strategy.experimental_distribute_dataset`,
with the model, optimizer and metrics built in `strategy.scope()`. Gradients are summed over
replicas by the optimizer and the loss is scaled by 1/replicas (Keras's own distribution
scaling), so a step on the global batch matches one step of `model.fit` on that batch; the
logged loss and metrics are the replicas' sums read in cross-replica context.
"""

import keras

from seqkeras import compat
from seqkeras.errors import SeqKerasError


def distribute(strategy, dataset):
    """`dataset` sharded by element across workers (DATA: the datasets are in memory, not
    files) and split across replicas: each global batch of `batch_size` gives every replica
    `batch_size / replicas` rows."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def build(model, strategy, element_spec):
    """Creates the optimizer's and compiled metrics' variables under `strategy.scope()`."""
    with strategy.scope():
        compat.build_for_training(model, element_spec)


def _step_function(model, strategy, step):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(batch):
        strategy.run(step, args=(batch,))
        return model.get_metrics_result()

    return run


def fit_distributed(
    model,
    strategy,
    stream,
    steps,
    validation=None,
    epochs=1,
    initial_epoch=0,
    initial_step=0,
    callbacks=(),
    verbose="auto",
):
    """Trains `model` under `strategy` like `model.fit(stream, steps_per_epoch=steps, ...)`.

    Args:
        model: a compiled Keras model whose variables were created in `strategy.scope()`.
        strategy: a `tf.distribute.Strategy`.
        stream: a `tf.data.Dataset` of global batches, endless, starting at the batch where
            training starts (`initial_epoch * steps + initial_step` batches into the run).
        steps: batches per epoch.
        validation: a `tf.data.Dataset` of batches, or None.
        epochs: the epoch to stop at (as in `fit`).
        initial_epoch, initial_step: where training starts (a resumed run).
        callbacks: Keras callbacks (their `model` is set to `model`).
        verbose: 0, 1 (progress bar), 2 (one line per epoch) or "auto" (1).

    Returns:
        The `keras.callbacks.History` of this call.
    """
    verbose = 1 if verbose == "auto" else verbose
    build(model, strategy, stream.element_spec)
    batches = iter(distribute(strategy, stream))
    validation = None if validation is None else distribute(strategy, validation)
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
        model=model,
    )
    train_step = _step_function(model, strategy, model.train_step)
    test_step = _step_function(model, strategy, model.test_step)
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step in range(initial_step if epoch == initial_epoch else 0, steps):
            callback_list.on_train_batch_begin(step)
            logs = _floats(_run_step(train_step, next(batches), epoch, step))
            callback_list.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        epoch_logs = dict(logs)
        if validation is not None and not model.stop_training:
            model.reset_metrics()
            for batch in validation:
                val_logs = _floats(test_step(batch))
            epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return history


def _run_step(train_step, batch, epoch, step):
    """One step; a peer worker lost mid-step is a `SeqKerasError` saying how to go on."""
    import tensorflow as tf

    try:
        return train_step(batch)
    except (tf.errors.UnavailableError, tf.errors.AbortedError) as error:
        from seqkeras.training.strategies import worker_label

        reason = error.message.strip().splitlines()[-1].strip()
        raise SeqKerasError(
            f"{worker_label()}: a worker of the cluster was lost at epoch {epoch + 1}, batch "
            f"{step + 1} ({reason[:200]}). The backups are kept: start every worker again "
            "with --resume (Task.fit: the same backup_dir)."
        ) from None


def _floats(logs):
    return {name: float(value) for name, value in logs.items()}
