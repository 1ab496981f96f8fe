"""What the compiled training loop (`jit_compile`) gives a task's training: the same model
trained batch after batch with its seqkeras recurrent layers as `jit_compile="auto"` trains
them (the LSTM and the full GRU in the XLA-compiled loop) and in TensorFlow's loop, side by
side in one run.

The task's full-size model and its own training batches (length buckets, padding masks),
`train_on_batch` on the same batches for both; every bucket shape is compiled in a warm-up pass
first (XLA compiles once per shape, which a full training amortizes). Each figure is the median
over interleaved rounds of the mean time per batch.

    python benchmarks/compiled_loop_tasks.py [--task g2p] [--batches 40] [--rounds 5]
        [--write benchmarks/RESULTS.md]
"""

import argparse
import itertools
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import tensorflow as tf
from results_file import cpu_cores, write_section
from tqdm import tqdm

from seqkeras import tasks
from seqkeras.layers.recurrent_layer import RecurrentLayer


def recurrent_layers(model):
    """Every seqkeras sequence layer of `model`, the halves of `Bidirectional` included."""
    for layer in model.layers:
        bidirectional = isinstance(layer, keras.layers.Bidirectional)
        for inner in (layer.forward_layer, layer.backward_layer) if bidirectional else (layer,):
            if isinstance(inner, RecurrentLayer):
                yield inner


def task_model(name, jit_compile):
    task = tasks.get(name)({"jit_compile": jit_compile}, smoke=False)
    task.preprocessor = task.build_preprocessor(task.data["train"])
    return task, task.build_model()


def seconds_per_batch(model, batches):
    start = time.perf_counter()
    for inputs, targets in batches:
        loss = model.train_on_batch(inputs, targets)
    float(loss if not isinstance(loss, list) else loss[0])
    return (time.perf_counter() - start) / len(batches)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="g2p")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", metavar="RESULTS_MD")
    args = parser.parse_args()
    contenders = {}
    for label, jit_compile in (("compiled loop (default)", "auto"), ("TensorFlow's loop", False)):
        task, model = task_model(args.task, jit_compile)
        contenders[label] = model
    dataset = task.to_dataset(task.data["train"], training=True)
    batches = list(itertools.islice(iter(dataset), args.batches))
    layer_count = sum(1 for _ in recurrent_layers(model))
    warm_up = {}
    for label, model in tqdm(contenders.items(), desc="warm-up (one XLA compile per shape)"):
        warm_up[label] = seconds_per_batch(model, batches) * len(batches)
    times = {label: [] for label in contenders}
    for _ in tqdm(range(args.rounds), desc="rounds"):
        for label, model in contenders.items():
            times[label].append(seconds_per_batch(model, batches) * 1000)
    medians = {label: statistics.median(t) for label, t in times.items()}
    shapes = sorted({tuple(keras.tree.flatten(inputs)[0].shape) for inputs, _ in batches})
    compiled, plain = medians.values()
    lines = [
        f"## Task training with the compiled loop: {args.task} (issue 15)",
        "",
        f"Command: `python {' '.join(sys.argv)}`  ",
        f"Machine: {cpu_cores()}, TensorFlow {tf.__version__}, Keras {keras.__version__}.  ",
        f"The {args.task} task's full-size model ({model.count_params():,} parameters, "
        f"{layer_count} seqkeras recurrent layers counting each direction), trained with "
        f"`train_on_batch` on its first {len(batches)} training batches ({len(shapes)} "
        f"source shapes from {shapes[0]} to {shapes[-1]}); after a warm-up pass, median of "
        f"{args.rounds} interleaved rounds of the mean time per batch.",
        "",
        "| training loop | ms per batch | warm-up pass (s): traces and XLA compiles included |",
        "|---|---:|---:|",
        *(f"| {label} | {ms:.1f} | {warm_up[label]:.1f} |" for label, ms in medians.items()),
        "",
        f"The compiled loop trains this model **{plain / compiled:.2f}x** as fast as "
        "TensorFlow's loop, after compiling each new batch shape once (the warm-up pass's "
        "extra seconds, paid in a training's first epoch).",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section(args.write, f"compiled_loop_{args.task}", section)


if __name__ == "__main__":
    main()
