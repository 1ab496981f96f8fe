"""Training the g2p task at full size with a learning-rate decay, validation WER every epoch,
early stopping on it (best weights restored), a wall-time budget and per-epoch checkpoints.

    python benchmarks/g2p_training.py --out runs/g2p/task [--budget-min 70] [--epochs 12]

Used by `benchmarks/g2p.py` (and runnable alone, e.g. in the background, so that the
comparison can then evaluate the folder with `--task-dir`). Each epoch appends a row to
`<out>/curve.json`: wall seconds since the start of training, losses, learning rate and the
greedy WER/PER on the first `--monitor-words` validation words; the best epoch so far is
saved as a task folder `<out>` (so a stopped run still leaves its best model), every epoch's
weights under `<out>.checkpoints/`. Run again with the same `--out`, it continues a stopped run:
from the newest checkpoint, its curve and its learning-rate schedule (the wall budget counts the
earlier run's seconds too; Adam's moments start afresh).
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras


class WerMonitor(keras.callbacks.Callback):
    """Per epoch: greedy validation WER/PER, the curve, checkpoints, early stopping, budget.

    Args:
        task: the `G2PTask` being trained.
        words: the (word, pronunciation) pairs the WER is measured on.
        out: the task folder the best epoch is saved to.
        patience: epochs without a better validation WER before stopping.
        budget_s: stop after the epoch that ends past this many seconds of training.
        learning_rate, decay: lr of epoch e (from 0) = learning_rate * decay**e.
        curve: the rows of the epochs already trained (a continued run).
    """

    def __init__(self, task, words, out, patience, budget_s, learning_rate, decay, curve=()):
        super().__init__()
        self.task, self.words, self.out = task, words, pathlib.Path(out)
        self.patience, self.budget_s = patience, budget_s
        self.learning_rate, self.decay = learning_rate, decay
        self.curve, self.best_weights, self.waited = list(curve), None, 0
        self.best = min((row["val_wer_greedy"] for row in self.curve), default=None)
        self.done = len(self.curve)
        self.checkpoints = pathlib.Path(f"{self.out}.checkpoints")
        self.start = time.perf_counter() - (self.curve[-1]["seconds"] if self.curve else 0.0)

    def on_epoch_begin(self, epoch, logs=None):
        epoch += self.done
        self.model.optimizer.learning_rate.assign(self.learning_rate * self.decay**epoch)

    def on_epoch_end(self, epoch, logs=None):
        epoch += self.done
        seconds = time.perf_counter() - self.start
        self.task.model = self.model
        scores = self.task.scores(*references_and_predictions(self.task, self.words))
        row = {
            "epoch": epoch + 1,
            "seconds": round(seconds, 1),
            "learning_rate": float(self.model.optimizer.learning_rate.numpy()),
            **{key: float(value) for key, value in (logs or {}).items()},
            "val_wer_greedy": scores["wer"],
            "val_per_greedy": scores["per"],
        }
        self.curve.append(row)
        print(json.dumps(row), flush=True)
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.model.save_weights(self.checkpoints / f"epoch_{epoch + 1:02d}.weights.h5")
        if self.best is None or scores["wer"] < self.best:
            self.best, self.waited = scores["wer"], 0
            self.best_weights = self.model.get_weights()
            self.task.history = {"curve": self.curve}
            self.task.save(self.out)
        else:
            self.waited += 1
        (self.out.parent / f"{self.out.name}.curve.json").write_text(json.dumps(self.curve))
        if self.waited >= self.patience or seconds > self.budget_s:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def monitor_words(task, count=1000):
    """The (word, pronunciation) pairs of the first `count` validation words."""
    pairs = task.data["validation"]
    chosen = set(list(dict.fromkeys(word for word, _ in pairs))[:count])
    return [(word, pronunciation) for word, pronunciation in pairs if word in chosen]


def references_and_predictions(task, examples):
    from seqkeras.tasks.seq2seq import group_references

    sources, references = zip(*group_references(examples))
    return list(references), task.predict(list(sources), beam_width=1)


def _continue_from_checkpoint(task, out):
    """The curve of an earlier run into `out` (empty if none); its newest checkpoint's weights
    are loaded into a freshly built `task.model`."""
    curve_path = out.parent / f"{out.name}.curve.json"
    if not curve_path.exists():
        return []
    curve = json.loads(curve_path.read_text())
    checkpoint = pathlib.Path(f"{out}.checkpoints") / f"epoch_{len(curve):02d}.weights.h5"
    task.preprocessor = task.build_preprocessor(task.data["train"])
    task.model = task.build_model()
    task.model.load_weights(checkpoint)
    print(f"continuing after epoch {len(curve)} from {checkpoint}", flush=True)
    return curve


def train(
    out, budget_s, epochs=None, patience=3, decay=0.7, monitor_words_count=1000, overrides=None
):
    """Trains a `G2PTask` (defaults + overrides) with `WerMonitor`.

    Returns:
        `(task, seconds, curve)`: the task with its best epoch's weights, the training wall
        time (validation decoding included) and the per-epoch rows.
    """
    from seqkeras.tasks.g2p import G2PTask

    task = G2PTask({**(overrides or {}), **({"epochs": epochs} if epochs else {})}, smoke=False)
    curve = _continue_from_checkpoint(task, pathlib.Path(out))
    monitor = WerMonitor(
        task,
        monitor_words(task, monitor_words_count),
        out,
        patience,
        budget_s,
        task.config["learning_rate"],
        decay,
        curve,
    )
    task.fit(epochs=task.config["epochs"] - len(curve), verbose=2, callbacks=[monitor])
    seconds = time.perf_counter() - monitor.start
    if monitor.best_weights is not None:  # else `out` already holds the earlier run's best
        task.history = {"curve": monitor.curve}
        task.save(out)
    return task, seconds, monitor.curve


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the task folder to write")
    parser.add_argument("--budget-min", type=float, default=70.0, help="training wall budget")
    parser.add_argument("--epochs", type=int, help="most epochs (default: the task's)")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--decay", type=float, default=0.7, help="lr factor per epoch")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON", help="config")
    args = parser.parse_args(argv)
    overrides = {key: json.loads(value) for key, value in (s.split("=", 1) for s in args.set)}
    _, seconds, curve = train(
        args.out, 60 * args.budget_min, args.epochs, args.patience, args.decay, overrides=overrides
    )
    print(
        f"trained in {seconds:.0f} s; best validation WER (greedy): "
        f"{min(row['val_wer_greedy'] for row in curve):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
