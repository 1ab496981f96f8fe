"""TensorFlow's thread settings on this machine: the recurrent train steps of `rnn_speed.py`
under each (intra-op, inter-op) pool size.

TensorFlow fixes its thread pools when its runtime starts, so each setting runs in a child
process of this script; the settings take turns, pass after pass, and each figure is the median
over the passes of the child's median train step. 0 means TensorFlow's default (one thread per
core for both pools). The contenders are the ones issue 15's targets compare, with the
seqkeras LSTM in each loop (`jit_compile="auto"` picks TensorFlow's loop for it with one
intra-op thread and several inter-op ones: `compiled_loop.threads_favour_tensorflows_loop`).

    python benchmarks/rnn_threads.py [--passes 3] [--rounds 3] [--write benchmarks/RESULTS.md]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import cpu_cores, write_section
from tqdm import tqdm

SETTINGS = ((0, 0), (2, 1), (1, 2), (1, 1))
CONTENDERS = (
    "keras.layers.LSTM",
    "seqkeras LSTM",
    "seqkeras LSTM(peephole=True)",
    "lever: seqkeras LSTM(jit_compile=False)",
    "lever: seqkeras LSTM(jit_compile=True)",
    "keras.layers.GRU() (reset_after=True)",
    "seqkeras GRU",
    "keras.layers.SimpleRNN",
    "seqkeras SimpleRNN",
    "lever: seqkeras GRU(jit_compile=False)",
    "lever: seqkeras SimpleRNN(jit_compile=True)",
    "Bidirectional(keras.layers.LSTM), masked",
    "Bidirectional(seqkeras LSTM), masked",
)
# (numerator, denominator): issue 15's targets, > 1 when the denominator is faster.
RATIOS = (
    ("keras.layers.LSTM", "seqkeras LSTM", "≥ 1.4x"),
    ("seqkeras LSTM(peephole=True)", "seqkeras LSTM", "≤ 1.05x"),
    ("keras.layers.GRU() (reset_after=True)", "seqkeras GRU", "≥ 1.3x"),
    ("keras.layers.SimpleRNN", "seqkeras SimpleRNN", "≥ 1.3x"),
    ("Bidirectional(keras.layers.LSTM), masked", "Bidirectional(seqkeras LSTM), masked", "none"),
)
STEPS = 20


def child(intra, inter, rounds):
    """Measures the contenders under one thread setting; prints their median train steps."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    import rnn_speed

    from seqkeras import layers

    contenders = {
        **rnn_speed.CONTENDERS,
        "lever: seqkeras LSTM(jit_compile=True)": lambda: layers.LSTM(
            rnn_speed.UNITS, jit_compile=True
        ),
    }
    batches = rnn_speed.training_batches(STEPS)
    steps = {name: rnn_speed.build(contenders[name])[1] for name in CONTENDERS}
    for train_step in steps.values():
        rnn_speed.train_step_ms(train_step, batches[:2])
    times = {name: [] for name in CONTENDERS}
    for _ in range(rounds):
        for name, train_step in steps.items():
            times[name].append(rnn_speed.train_step_ms(train_step, batches)[0])
    print(json.dumps({name: statistics.median(t) for name, t in times.items()}))


def label(setting):
    intra, inter = setting
    return f"intra {intra or 'default'}, inter {inter or 'default'}"


def measure(passes, rounds):
    here = os.path.dirname(os.path.abspath(__file__))
    runs = {setting: [] for setting in SETTINGS}
    jobs = [setting for _ in range(passes) for setting in SETTINGS]
    for intra, inter in tqdm(jobs, desc="child processes"):
        command = [sys.executable, __file__, "--child", str(intra), str(inter), str(rounds)]
        output = subprocess.run(command, cwd=here, check=True, capture_output=True, text=True)
        runs[intra, inter].append(json.loads(output.stdout.strip().splitlines()[-1]))
    return {
        setting: {name: statistics.median(run[name] for run in measured) for name in CONTENDERS}
        for setting, measured in runs.items()
    }


def report(medians, passes, rounds, command, load_before):
    header = " | ".join(label(setting) for setting in SETTINGS)
    lines = [
        "## Recurrent train steps under TensorFlow's thread settings (issue 15)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {cpu_cores()}. The train step of `rnn_speed.py` (batch 64, 50 steps, 64 "
        "features, 256 units, half the rows right-padded), one child process per thread "
        "setting (`tf.config.threading.set_intra_op_parallelism_threads` / "
        "`set_inter_op_parallelism_threads`; default: one thread per core), settings in turns; "
        f"each figure: median over {passes} passes of the child's median of {rounds} rounds of "
        f"{STEPS} steps.",
        "",
        f"| train step (ms) | {header} |",
        "|---|" + "---:|" * len(SETTINGS),
        *(
            f"| {name} | "
            + " | ".join(f"{medians[setting][name]:.1f}" for setting in SETTINGS)
            + " |"
            for name in CONTENDERS
        ),
        "",
        f"| ratio (target) | {header} |",
        "|---|" + "---:|" * len(SETTINGS),
        *(
            f"| {slower} / {faster} ({target}) | "
            + " | ".join(
                f"{medians[setting][slower] / medians[setting][faster]:.2f}x"
                for setting in SETTINGS
            )
            + " |"
            for slower, faster, target in RATIOS
        ),
        "",
        f"1-minute load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} at "
        "its end.",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    load_before = os.getloadavg()[0]
    medians = measure(args.passes, args.rounds)
    command = "python " + " ".join(sys.argv)
    section = report(medians, args.passes, args.rounds, command, load_before)
    print(section)
    if args.write:
        write_section(args.write, "rnn_threads", section)


if __name__ == "__main__":
    main()
