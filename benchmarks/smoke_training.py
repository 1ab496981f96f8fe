"""How long a smoke run (`SEQKERAS_SMOKE=1`: tiny data, 1-2 epochs, what the notebooks and the
test suite train) takes with each training loop of the recurrent layers: the task's config
`jit_compile=False` (TensorFlow's loop, the smoke default) and `"auto"` (the XLA-compiled loop
for the LSTM and the full GRU, the full-size default).

XLA compiles the loop once per batch shape, and length-bucketed batches cut to their longest
sequence come in many shapes, each seen once or twice in a smoke run. Each figure is one
`task.fit()` in a fresh process (imports and data loading not counted), the two settings
alternated; median over the rounds.

    python benchmarks/smoke_training.py [--tasks g2p ner] [--rounds 2]
        [--write benchmarks/RESULTS.md]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from results_file import cpu_cores, write_section
from tqdm import tqdm

from seqkeras import tasks

SETTINGS = {"TensorFlow's loop (smoke default)": False, 'compiled loop ("auto")': "auto"}

FIT = """
import json, sys, time
from seqkeras import tasks
task = tasks.get(sys.argv[1])({"jit_compile": json.loads(sys.argv[2])}, smoke=True)
task.data
start = time.perf_counter()
task.fit(verbose=0)
print(time.perf_counter() - start)
"""


def fit_seconds(name, jit_compile):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "SEQKERAS_SMOKE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", FIT, name, json.dumps(jit_compile)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=tasks.names())
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args()
    seconds = {(name, label): [] for name in args.tasks for label in SETTINGS}
    for _ in tqdm(range(args.rounds), desc="rounds"):
        for name in tqdm(args.tasks, desc="tasks", leave=False):
            for label, jit_compile in SETTINGS.items():
                seconds[name, label].append(fit_seconds(name, jit_compile))
    medians = {key: statistics.median(values) for key, values in seconds.items()}
    tf_loop, compiled = SETTINGS
    lines = [
        "## Smoke runs: TensorFlow's loop against the compiled loop",
        "",
        f"Command: `python {' '.join(sys.argv)}`  ",
        f"Machine: {cpu_cores()}, 1-minute load average {os.getloadavg()[0]:.1f} at the end.  ",
        "One `task.fit()` of the smoke config per process (data loaded first, not counted), the "
        f"two settings alternated; median of {args.rounds} rounds.",
        "",
        f"| task | {tf_loop} (s) | {compiled} (s) | compiled / TensorFlow's |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {medians[name, tf_loop]:.1f} | {medians[name, compiled]:.1f} | "
            f"{medians[name, compiled] / medians[name, tf_loop]:.2f}x |"
            for name in args.tasks
        ),
        "",
        f"All tasks: {sum(medians[n, tf_loop] for n in args.tasks):.0f} s in TensorFlow's loop, "
        f"{sum(medians[n, compiled] for n in args.tasks):.0f} s compiled.",
    ]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "smoke_training", "\n".join(lines))


if __name__ == "__main__":
    main()
