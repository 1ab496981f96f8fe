"""Training overhead of tf.distribute on one machine: one process vs two localhost workers.

The same task (sentiment at smoke size: 800 reviews, global batch 32, 25 batches per epoch)
for a fixed number of epochs in fresh processes: `model.fit` in one process ("fit"), the
strategy loop in one process (`--strategy default`, "loop"), and two processes on 127.0.0.1
with `TF_CONFIG` under `MultiWorkerMirroredStrategy` ("2 workers": each does half of every
global batch, and their gradients are all-reduced over gRPC). Reported per configuration,
medians over the repeats (which go round the configurations): time from process start to the
end of the first step (imports, data, model, tracing), examples/s after the first step (backup
time excluded), and ms per mid-epoch backup (`Backups.save`, timed inside the process).

    python benchmarks/distributed.py --results benchmarks/RESULTS.md
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from results_file import cpu_cores, write_section

from seqkeras.training.strategies import localhost_tf_configs

STARTED = time.time()

CONFIGS = {"fit": None, "loop": "default", "2 workers": "multiworker"}


def worker(args):
    """One training process: writes its timings as JSON to `args.report`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from seqkeras.training import backups, strategies

    strategy = None if args.strategy == "none" else strategies.resolve(args.strategy)
    import keras

    from seqkeras import tasks

    saves = []
    save = backups.Backups.save

    def timed_save(self, epoch, step):
        begin = time.perf_counter()
        path = save(self, epoch, step)
        saves.append(time.perf_counter() - begin)
        return path

    backups.Backups.save = timed_save
    ends = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append((time.time(), sum(saves)))

    task = tasks.get("sentiment")(smoke=True)
    train = task.data["train"]
    task.fit(
        train,
        None,
        args.epochs,
        0,
        [Clock()],
        strategy=strategy,
        backup_dir=os.path.join(args.scratch, f"backup-{os.getpid()}"),
        backup_every=args.backup_every,
    )
    (first, saved_first), (last, saved_last) = ends[0], ends[-1]
    report = {
        "first_step_s": first - STARTED,
        "examples_per_s": (len(ends) - 1)
        * task.config["batch_size"]
        / (last - first - (saved_last - saved_first)),
        "backup_ms": 1000 * statistics.median(saves) if saves else None,
        "steps": len(ends),
        "loss": task.history["loss"][-1],
    }
    with open(args.report, "w") as file:
        json.dump(report, file)


def launch(config, args, scratch):
    """Runs one configuration in fresh processes; returns the chief's report."""
    strategy = CONFIGS[config] or "none"
    count = 2 if strategy == "multiworker" else 1
    configs = localhost_tf_configs(count)
    processes, reports = [], []
    for index in range(count):
        report = os.path.join(scratch, f"report-{index}.json")
        env = {**os.environ, "SEQKERAS_SMOKE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("TF_CONFIG", None)
        if count > 1:
            env["TF_CONFIG"] = configs[index]
        command = [sys.executable, __file__, "--worker", "--strategy", strategy]
        command += ["--epochs", str(args.epochs), "--backup-every", str(args.backup_every)]
        command += ["--scratch", scratch, "--report", report]
        processes.append(subprocess.Popen(command, env=env, stderr=subprocess.PIPE))
        reports.append(report)
    for process in processes:
        _, error = process.communicate(timeout=1800)
        if process.returncode:
            raise SystemExit(f"{config}: exit {process.returncode}\n{error.decode()[-3000:]}")
    with open(reports[0]) as file:
        return json.load(file)


def markdown(args, results, command):
    lines = [
        "## Distributed training overhead (one machine)",
        "",
        f"Command: `{command}`. Sentiment, smoke size (global batch 32), {args.epochs} epochs "
        f"x 25 batches, a backup every {args.backup_every} batches and at each epoch's end; "
        f"medians of {args.repeats} runs per configuration, each in fresh processes, on "
        f"{cpu_cores()} (1-minute load average {os.getloadavg()[0]:.1f} at the "
        "end): the figures are about overhead, not speed-up, and move by tens of percent "
        "between runs.",
        "",
        "| configuration | to first step (s) | examples/s | vs fit | ms per backup |",
        "|---|---:|---:|---:|---:|",
    ]
    base = results["fit"]["examples_per_s"]
    for config, row in results.items():
        lines.append(
            f"| {config} | {row['first_step_s']:.1f} | {row['examples_per_s']:.0f} | "
            f"{row['examples_per_s'] / base:.2f}x | {row['backup_ms']:.0f} |"
        )
    if {"fit", "2 workers"} <= results.keys():
        workers, single = results["2 workers"], results["fit"]
        lines += [
            "",
            f"Reading: on one 2-core machine the two workers reach "
            f"{workers['examples_per_s'] / single['examples_per_s']:.2f}x the examples/s of "
            "one process: each computes half of every global batch, but both share the same "
            "cores and every step waits for a gRPC all-reduce of the gradients, so this "
            "measures the cost of the machinery, not the speed-up of separate hosts. A "
            f"backup costs {single['backup_ms']:.0f} ms in one process and "
            f"{workers['backup_ms']:.0f} ms with two workers (each saves); at "
            f"{single['examples_per_s']:.0f} examples/s, a backup every 100 batches of 32 "
            f"adds {100 * single['backup_ms'] / (3200 / single['examples_per_s'] * 1000):.1f}%"
            " to the training time.",
        ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", default="none", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--backup-every", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--results", help="Markdown file to write this benchmark's section to")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    rows = {config: [] for config in args.configs}
    for repeat in range(args.repeats):
        for config in args.configs:
            with tempfile.TemporaryDirectory() as scratch:
                rows[config].append(launch(config, args, scratch))
            print(f"run {repeat + 1} {config}: {rows[config][-1]}", flush=True)
    results = {
        config: {key: statistics.median(r[key] for r in runs) for key in runs[0] if key != "loss"}
        for config, runs in rows.items()
    }
    argv = sys.argv[1:] if argv is None else argv
    section = markdown(args, results, shlex.join(["python", "benchmarks/distributed.py", *argv]))
    print(section)
    if args.results:
        write_section(args.results, "distributed-benchmark", section)


if __name__ == "__main__":
    main()
