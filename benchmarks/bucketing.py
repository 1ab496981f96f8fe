"""Training speed of length bucketing against padding every batch to the longest sentence.

Trains the `ner` task's model (bidirectional seqkeras LSTM) on the same sentences fed two
ways: `NerTask.to_dataset` (batches bucketed by length with `seqkeras.text.bucket_by_length`,
each padded to its own longest sentence) and one array padded to `max_length` (the
pad-to-max baseline). Both start from the same weights; the recurrence runs over every padded
step either way (masked steps carry the state through), so the work saved is the padding not
computed. Contenders run in turns, round after round; each figure is the median epoch over
rounds (the first epoch of each fit, which traces the graph, is left out).

    python benchmarks/bucketing.py [--train-size 4000] [--epochs 3] [--rounds 2]
                                   [--write benchmarks/RESULTS.md]
"""

import argparse
import importlib.metadata
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import tensorflow as tf
from results_file import cpu_cores, write_section

from seqkeras.tasks.ner import NerTask, build_model


class EpochTimer(keras.callbacks.Callback):
    """Wall and process CPU seconds of every epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        wall, cpu = self.start
        self.epochs.append((time.perf_counter() - wall, time.process_time() - cpu))

    def on_train_begin(self, logs=None):
        self.epochs = []


def padded_dataset(task, examples):
    """The pad-to-max baseline: every sentence padded to `max_length`."""
    arrays = (
        task.preprocessor.encode_tokens([e.tokens for e in examples]),
        task.preprocessor.encode_tags([e.tags for e in examples]),
    )
    dataset = tf.data.Dataset.from_tensor_slices(arrays).shuffle(len(examples), seed=0)
    return dataset.batch(task.config["batch_size"]).prefetch(2)


def padded_steps(dataset):
    """(word steps the recurrence runs, real words) over one pass of a dataset."""
    steps = words = 0
    for tokens, _ in dataset:
        steps += int(tf.size(tokens))
        words += int(tf.math.count_nonzero(tokens))
    return steps, words


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit (first not timed)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args()

    task = NerTask({"train_size": args.train_size, "validation_size": 10, "test_size": 10})
    examples = task.data["train"]
    task.preprocessor = task.build_preprocessor(examples)
    datasets = {
        "bucketed (`bucket_by_length`)": task.to_dataset(examples, training=True),
        f"padded to max_length = {task.config['max_length']}": padded_dataset(task, examples),
    }
    keras.utils.set_random_seed(0)
    initial = build_model(
        task.config, len(task.preprocessor.text.vocabulary), len(task.preprocessor.tags)
    ).get_weights()
    times = {name: [] for name in datasets}
    for _ in range(args.rounds):
        for name, dataset in datasets.items():
            model = build_model(
                task.config, len(task.preprocessor.text.vocabulary), len(task.preprocessor.tags)
            )
            model.set_weights(initial)
            timer = EpochTimer()
            model.fit(dataset, epochs=args.epochs, verbose=0, callbacks=[timer])
            times[name] += timer.epochs[1:]
    rows = []
    for name, dataset in datasets.items():
        steps, words = padded_steps(dataset)
        wall = statistics.median(t for t, _ in times[name])
        cpu = statistics.median(c for _, c in times[name])
        rows.append((name, wall, cpu, steps / words))
    baseline = rows[1][1]
    c = task.config
    body = "\n".join(
        [
            "## Length bucketing (NER training)",
            "",
            f"`ner` model (bidirectional seqkeras LSTM, {c['units']} units, embedding "
            f"{c['embedding_dim']}, batch {c['batch_size']}), {len(examples)} training "
            f"sentences; median of {args.rounds} rounds x {args.epochs - 1} timed epochs.",
            "",
            "| batches | epoch wall s | epoch CPU s | padded steps / word | speed-up |",
            "|---|---|---|---|---|",
            *(
                f"| {name} | {wall:.2f} | {cpu:.2f} | {ratio:.2f} | {baseline / wall:.2f}x |"
                for name, wall, cpu, ratio in rows
            ),
            "",
            f"{cpu_cores()}, Python "
            f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras "
            f"{importlib.metadata.version('keras')}. Command: `python {' '.join(sys.argv)}`.",
        ]
    )
    print(body)
    if args.write:
        write_section(args.write, "bucketing", body)


if __name__ == "__main__":
    main()
