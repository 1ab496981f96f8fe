"""Task.fit under tf.distribute strategies, backups, the NaN guard and the task manifest."""

import warnings

import numpy as np
import pytest

from seqkeras import tasks
from seqkeras.errors import SeqKerasError


def small(task, batches):
    """The task's first `batches` global batches of training data and one of validation."""
    size = task.config["batch_size"]
    return task.data["train"][: batches * size], task.data["validation"][:size]


@pytest.fixture(scope="module")
def fitted():
    """Sentiment trained by `model.fit` and by the strategy loop: 2 epochs of 4 batches."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    results = {}
    for strategy in (None, "default"):
        task = tasks.get("sentiment")(smoke=True)
        train, validation = small(task, 4)
        task.fit(train, validation, epochs=2, verbose=0, strategy=strategy)
        results[strategy] = task
    return results


def test_the_strategy_loop_reaches_the_weights_of_model_fit(fitted):
    keras_fit, loop = fitted[None], fitted["default"]
    assert keras_fit.history.keys() == loop.history.keys() >= {"loss", "val_loss", "accuracy"}
    np.testing.assert_allclose(keras_fit.history["loss"], loop.history["loss"], rtol=1e-5)
    for ours, theirs in zip(loop.model.get_weights(), keras_fit.model.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)  # same batches, other graph
    assert keras_fit.history["loss"][1] < keras_fit.history["loss"][0]


def test_a_model_built_outside_the_strategy_is_refused(fitted):
    with pytest.raises(SeqKerasError, match="built outside the MirroredStrategy"):
        fitted[None].fit(epochs=1, verbose=0, strategy="mirrored")


def test_an_unknown_strategy_is_refused():
    with pytest.raises(SeqKerasError, match="'tpu'"):
        tasks.get("sentiment")(smoke=True).fit(strategy="tpu")


def test_resuming_from_a_mid_epoch_backup_gives_the_uninterrupted_weights(tmp_path):
    """Both paths: backups every 2 batches, an error after epoch 2's batch 3, then resume
    from the backup after its batch 2."""
    import keras

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                raise KeyboardInterrupt

    for strategy in (None, "default"):
        backup = tmp_path / str(strategy) / "backup"
        task = tasks.get("sentiment")(smoke=True)
        train, validation = small(task, 4)
        with pytest.raises(KeyboardInterrupt):
            task.fit(train, validation, 3, 0, [Crash()], strategy, backup, 2)
        assert (backup / "checkpoint").is_file()
        resumed = tasks.get("sentiment")(smoke=True)
        resumed.fit(train, validation, 3, 0, None, strategy, backup, 2)
        assert not backup.exists()  # removed once training completed
        whole = tasks.get("sentiment")(smoke=True)
        whole.fit(train, validation, 3, 0, None, strategy)
        for a, b in zip(resumed.model.get_weights(), whole.model.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert len(resumed.history["loss"]) == 2  # epochs 2 (rest of it) and 3


def test_a_nan_loss_stops_training_and_keeps_the_last_good_backup(tmp_path):
    import keras

    class Poison(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                weights = self.model.get_weights()
                self.model.set_weights([np.full_like(w, np.nan) for w in weights])

    task = tasks.get("sentiment")(smoke=True)
    train, _ = small(task, 4)
    with pytest.raises(SeqKerasError, match=r"epoch 1, batch 4.*last good backup"):
        task.fit(train, None, 2, 0, [Poison()], backup_dir=tmp_path / "b", backup_every=2)
    assert all(np.isfinite(w).all() for w in task.model.get_weights())
    import tensorflow as tf

    assert tf.train.latest_checkpoint(tmp_path / "b").endswith("ckpt-1")  # from batch 2 only


def test_localhost_tf_configs_name_one_chief_and_distinct_workers(monkeypatch):
    import json

    from seqkeras.training import strategies

    configs = [json.loads(config) for config in strategies.localhost_tf_configs(3)]
    spec = configs[0]["cluster"]
    assert all(config["cluster"] == spec for config in configs)
    assert len(spec["chief"]) == 1 and len(spec["worker"]) == 2
    assert len(set(spec["chief"] + spec["worker"])) == 3
    assert [config["task"] for config in configs] == [
        {"type": "chief", "index": 0},
        {"type": "worker", "index": 0},
        {"type": "worker", "index": 1},
    ]
    monkeypatch.setenv("TF_CONFIG", json.dumps(configs[1]))
    assert strategies.cluster() == ("worker", 0, 3) and not strategies.is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps(configs[0]))
    assert strategies.is_chief()


def test_length_bucketed_validation_does_not_warn_that_the_input_ran_out():
    """Keras warns "Your input ran out of data" after a pass over a dataset of unknown length;
    the task declares how many batches its (length-bucketed) validation data has."""
    task = tasks.get("ner")(smoke=True)
    train, validation = small(task, 2)
    task.preprocessor = task.build_preprocessor(train)
    assert int(task.to_dataset(validation).cardinality()) < 0  # unknown to tf.data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = task.fit(train, validation, 1, 0)
    assert not [w for w in caught if "ran out of data" in str(w.message)]
    assert np.isfinite(history["val_loss"][-1])
