"""Training machinery under `Task.fit`: tf.distribute strategies, the strategy-aware loop,
backups for kill-and-resume, the NaN guard and the task folder's manifest.

    strategies.py   names -> tf.distribute strategies; which worker is the chief
    loop.py         `fit_distributed`: model.fit's behaviour as a strategy.run loop
    backups.py      `Backups` (tf.train.CheckpointManager) and the fit-path callbacks
    manifest.py     SHA-256 per file of a task folder, written last, verified on load
"""
