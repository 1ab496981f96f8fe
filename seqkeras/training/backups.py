"""Backups of a training run (kill-and-resume) and the guard that stops on a NaN loss.

One folder layout for both training paths (`model.fit` and the strategy loop): a
`tf.train.CheckpointManager` folder holding the model's weights, the optimizer's state and the
position `(epoch, step within the epoch)` of the last completed batch, written at each epoch's
end and every `every_steps` batches. Keras's own `BackupAndRestore` is not used: it restores
the epoch only (a mid-epoch backup restarts the epoch from its first batch, so a resumed run
trains on some batches twice) and writes weights and position as two files, not atomically.

In a multi-worker run every worker saves (TensorFlow requires it), the chief into the run's
folder and the others into temporary folders removed at the end (or, for a killed worker, by
its next start on that host); all restore from the chief's folder, which must therefore be on
storage every worker reads.
"""

import math
import pathlib
import shutil
import tempfile

import keras
import numpy as np

from seqkeras.files import scratch_folder
from seqkeras.training import strategies


class Backups:
    """Saves and restores a model, its optimizer and the training position.

    Args:
        directory: the backup folder (created on the first save).
        model: a compiled model whose optimizer is built (or is built here).
        keep: how many backups to keep (the newest first).

    Example:

    >>> backups = Backups(run / "backup", model)
    >>> epoch, step = backups.restore()     # (0, 0) when there is no backup yet
    >>> backups.save(epoch, step)
    """

    def __init__(self, directory, model, keep=2):
        import tensorflow as tf

        self.directory = pathlib.Path(directory)
        self.model = model
        if model.optimizer is not None and not model.optimizer.built:
            with model.distribute_strategy.scope():
                model.optimizer.build(model.trainable_variables)
        self.position = tf.Variable([0, 0], dtype=tf.int64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(
            model=model, optimizer=model.optimizer, position=self.position
        )
        chief = strategies.is_chief()
        self._scratch = (
            None
            if chief
            else scratch_folder(pathlib.Path(tempfile.gettempdir()) / "seqkeras-backup")
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, self._scratch or self.directory, max_to_keep=keep
        )

    def latest(self):
        """The newest backup in the (chief's) folder, or None."""
        import tensorflow as tf

        return tf.train.latest_checkpoint(self.directory) if self.directory.is_dir() else None

    def restore(self):
        """Loads the newest backup into the model and optimizer.

        Returns:
            `(epoch, step)`: where training resumes (the batch after the last one backed up);
            `(0, 0)` without a backup.
        """
        latest = self.latest()
        if latest is None:
            return 0, 0
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        epoch, step = (int(value) for value in self.position.numpy())
        return epoch, step

    def save(self, epoch, step):
        """Backs up the state after `step` batches of `epoch` (both from 0).

        Returns:
            The backup's path, or None when a weight is not finite (the last good backup stays).
        """
        if not all(np.isfinite(w).all() for w in self.model.get_weights()):
            return None
        self.position.assign([epoch, step])
        return self.manager.save()

    def close(self, remove=False):
        """Removes a non-chief worker's scratch folder, and the backups too if `remove`."""
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
        if remove and strategies.is_chief():
            shutil.rmtree(self.directory, ignore_errors=True)


class BackupCallback(keras.callbacks.Callback):
    """Writes a backup at each epoch's end and every `every_steps` batches (never after a
    non-finite loss).

    Args:
        backups: the `Backups` to write.
        every_steps: batches between mid-epoch backups; None: at epoch ends only.
        first_step: the index within the epoch of the first batch this `fit` call runs
            (a `fit` resumed mid-epoch numbers its batches from 0).
    """

    def __init__(self, backups, every_steps=None, first_step=0):
        super().__init__()
        self.backups = backups
        self.every_steps = every_steps
        self.first_step = first_step
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = self.first_step + batch + 1
        if self.every_steps and done % self.every_steps == 0 and _finite(logs):
            self.backups.save(self.epoch, done)

    def on_epoch_end(self, epoch, logs=None):
        self.first_step = 0
        if not self.model.stop_training and _finite(logs):
            self.backups.save(epoch + 1, 0)


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras's `TerminateOnNaN` that remembers where: `stopped_at` is `(epoch, batch)` (from
    0, the batch within the epoch) or None."""

    def __init__(self, first_step=0):
        super().__init__()
        self.first_step = first_step
        self.epoch = 0
        self.stopped_at = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if not _finite(logs):
            self.model.stop_training = True
            self.stopped_at = (self.epoch, self.first_step + batch)

    def on_epoch_end(self, epoch, logs=None):
        self.first_step = 0


def _finite(logs):
    loss = (logs or {}).get("loss")
    return loss is None or math.isfinite(float(loss))
