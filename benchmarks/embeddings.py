"""Word embeddings on the Lee corpus, side by side with gensim.

gensim's Word2Vec (skip-gram, negative sampling and hierarchical softmax, 1 worker) and
seqkeras's SkipGram with the same settings on the same tokens (`seqkeras.datasets.lee_corpus`),
plus seqkeras's GloVe, softmax skip-gram and neural language model. Reported: training wall
time (median of the repeats, everything the training call does included), steady per-epoch
time (median over the epochs after the first), wordsim353 and simlex999 Spearman ρ and analogy
accuracy (median over the repeats, seeds 1..repeats).

    python benchmarks/embeddings.py --results benchmarks/RESULTS.md
    python benchmarks/embeddings.py --intra-op-threads 1   # TensorFlow on one thread, as gensim
    XLA_FLAGS=--xla_disable_hlo_passes=cpu-parallel-task-assigner python benchmarks/embeddings.py
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import gensim
import keras
import tensorflow as tf
from gensim.models import Word2Vec
from gensim.models.callbacks import CallbackAny2Vec
from results_file import cpu_cores, write_section
from tqdm import tqdm

from seqkeras.datasets import analogy_questions, lee_corpus, word_pairs
from seqkeras.embeddings import (
    GloVe,
    KeyedVectors,
    NeuralLanguageModel,
    SkipGram,
    evaluate_analogies,
    evaluate_word_pairs,
)


class GensimEpochTimer(CallbackAny2Vec):
    def __init__(self):
        self.times = []

    def on_epoch_begin(self, model):
        self.start = time.perf_counter()

    def on_epoch_end(self, model):
        self.times.append(time.perf_counter() - self.start)


class KerasEpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def gensim_run(hs):
    def run(corpus, args, seed):
        timer = GensimEpochTimer()
        model = Word2Vec(
            corpus,
            sg=1,
            hs=int(hs),
            negative=0 if hs else args.negative,
            window=args.window,
            vector_size=args.dim,
            min_count=args.min_count,
            epochs=args.epochs,
            workers=1,
            seed=seed,
            callbacks=[timer],
        )
        return KeyedVectors(model.wv.index_to_key, model.wv.vectors), timer.times

    return run


def seqkeras_run(make):
    def run(corpus, args, seed):
        timer = KerasEpochTimer()
        model = make(args, seed)
        model.fit(corpus, epochs=args.epochs, verbose=0, callbacks=[timer])
        return model.wv, timer.times

    return run


RUNS = {
    "gensim-ns": ("gensim Word2Vec sg=1 negative=5", gensim_run(hs=False)),
    "seqkeras-ns": (
        "seqkeras SkipGram negative_sampling",
        seqkeras_run(
            lambda a, seed: SkipGram(
                vector_size=a.dim,
                window=a.window,
                min_count=a.min_count,
                negative=a.negative,
                seed=seed,
            )
        ),
    ),
    "gensim-hs": ("gensim Word2Vec sg=1 hs=1 negative=0", gensim_run(hs=True)),
    "seqkeras-hs": (
        "seqkeras SkipGram hierarchical_softmax",
        seqkeras_run(
            lambda a, seed: SkipGram(
                vector_size=a.dim,
                window=a.window,
                min_count=a.min_count,
                objective="hierarchical_softmax",
                seed=seed,
            )
        ),
    ),
    "seqkeras-glove": (
        "seqkeras GloVe (x_max=100, α=3/4)",
        seqkeras_run(
            lambda a, seed: GloVe(
                vector_size=a.dim, window=a.window, min_count=a.min_count, seed=seed
            )
        ),
    ),
    "seqkeras-softmax": (
        "seqkeras SkipGram softmax",
        seqkeras_run(
            lambda a, seed: SkipGram(
                vector_size=a.dim,
                window=a.window,
                min_count=a.min_count,
                objective="softmax",
                seed=seed,
            )
        ),
    ),
    "seqkeras-nlm": (
        "seqkeras NeuralLanguageModel (4 previous words)",
        seqkeras_run(
            lambda a, seed: NeuralLanguageModel(vector_size=a.dim, min_count=a.min_count, seed=seed)
        ),
    ),
}


def measure(name, corpus, args, tests, seed):
    start = time.perf_counter()
    kv, epoch_times = RUNS[name][1](corpus, args, seed)
    total = time.perf_counter() - start
    return {
        "total": total,
        "epochs": epoch_times[1:] or epoch_times,
        "wordsim353": evaluate_word_pairs(kv, tests["wordsim353"]).spearman,
        "simlex999": evaluate_word_pairs(kv, tests["simlex999"]).spearman,
        "analogy": evaluate_analogies(kv, tests["analogies"]),
    }


def summary(rows):
    def spread(key):
        values = [r[key] for r in rows]
        low, high = min(values), max(values)
        return f"{statistics.median(values):.3f} ({low:.3f}..{high:.3f})"

    accuracies = [r["analogy"].accuracy for r in rows]
    analogy = rows[0]["analogy"]
    return {
        "total": statistics.median(r["total"] for r in rows),
        "epoch": statistics.median(t for r in rows for t in r["epochs"]),
        "wordsim353": spread("wordsim353"),
        "simlex999": spread("simlex999"),
        "analogy": f"{statistics.median(accuracies):.4f} of {analogy.questions}",
    }


def markdown(args, results, command):
    intra_op_threads = args.intra_op_threads or "one per core (TensorFlow's default)"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "## Word embeddings (issue 5): seqkeras vs gensim on the Lee corpus",
        "",
        f"Command: `{command}`  ",
        f"Measured {datetime.date.today()} on {cpu_cores()}, "
        f"load average {load:.2f} at the start; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, gensim {gensim.__version__}.",
        "",
        f"Lee background corpus (300 documents, `simple_preprocess`), vector_size={args.dim}, "
        f"window={args.window}, min_count={args.min_count}, epochs={args.epochs}, "
        f"negative={args.negative}; {args.repeats} runs with seeds 1..{args.repeats}. "
        "Train time: wall time of the whole training call (vocabulary, pipeline, tracing and "
        "XLA compilation included), median over runs. Epoch: median wall time of the epochs "
        "after the first. ρ: Spearman on the in-vocabulary pairs, median (min..max) over runs; "
        "analogy: 3CosAdd accuracy on the in-vocabulary questions of `questions-words.txt`. "
        f"gensim runs 1 worker thread; TensorFlow's intra-op threads: {intra_op_threads}; "
        f"XLA_FLAGS: {os.environ.get('XLA_FLAGS') or 'unset'}.",
        "",
        "| model | train time (s) | epoch (s) | wordsim353 ρ | simlex999 ρ | analogy accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in results.items():
        lines.append(
            f"| {RUNS[name][0]} | {s['total']:.2f} | {s['epoch']:.3f} | {s['wordsim353']} "
            f"| {s['simlex999']} | {s['analogy']} |"
        )
    for ours, theirs in (("seqkeras-ns", "gensim-ns"), ("seqkeras-hs", "gensim-hs")):
        if ours in results and theirs in results:
            ratio = results[ours]["total"] / results[theirs]["total"]
            per_epoch = results[ours]["epoch"] / results[theirs]["epoch"]
            lines.append(
                f"\n{RUNS[ours][0]} / {RUNS[theirs][0]}: train time ×{ratio:.2f}, "
                f"epoch time ×{per_epoch:.2f}."
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument(
        "--intra-op-threads",
        type=int,
        help="size of TensorFlow's intra-op thread pool (default: TensorFlow's, one per core)",
    )
    parser.add_argument("--results", help="Markdown file to write this benchmark's section to")
    args = parser.parse_args(argv)
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)

    corpus = lee_corpus()
    tests = {
        "wordsim353": word_pairs("wordsim353"),
        "simlex999": word_pairs("simlex999"),
        "analogies": analogy_questions(),
    }
    # Repeats go round all models, so a busy spell on a shared machine hits them alike.
    rows = {name: [] for name in args.models}
    runs = [(seed, name) for seed in range(1, args.repeats + 1) for name in args.models]
    for seed, name in tqdm(runs, desc="runs"):
        rows[name].append(measure(name, corpus, args, tests, seed))
        tqdm.write(f"seed {seed} {name}: {rows[name][-1]['total']:.2f} s")
    results = {name: summary(model_rows) for name, model_rows in rows.items()}
    argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "benchmarks/embeddings.py", *argv])
    section = markdown(args, results, command)
    print(section)
    if args.results:
        write_section(args.results, "embeddings-benchmark", section)


if __name__ == "__main__":
    main()
