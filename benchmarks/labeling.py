"""Tagging and classification at full size: NER, sentiment, DNA and activity (issue 6).

    python benchmarks/labeling.py [--tasks ner,sentiment,dna,activity] [--parity 200]
                                  [--out runs/labeling] [--write benchmarks/RESULTS.md] [--smoke]

Trains each task with its default (full-size) config, and the comparison the course makes for
it: NER bidirectional against unidirectional (on the test set and on its ambiguous sentences,
where only the right context decides), sentiment's LSTM against the averaged-embedding
baseline (on negations). Reports each model's held-out metrics (`task.evaluate()` on the test
split) and training time (wall and process CPU), then exports the default model and checks
that `seqkeras.runtime` gives Keras's labels on `--parity` test inputs on ONNX Runtime and
LiteRT.
"""

import argparse
import importlib.metadata
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import cpu_cores, write_section

# task -> (the contender's label and its config change from the defaults), default first.
CONTENDERS = {
    "ner": [("BiLSTM", {}), ("LSTM, left to right", {"bidirectional": False})],
    "sentiment": [("LSTM", {}), ("averaged embeddings", {"model": "average"})],
    "dna": [("conv scanner + BiGRU", {})],
    "activity": [("2 x GRU", {})],
}


def runtime_input(name, example):
    """What `task.predict` and the runtime take for a test example of task `name`."""
    if name == "ner":
        return " ".join(example.tokens)
    if name == "sentiment":
        return example.text
    if name == "dna":
        return example.sequence
    return example.frames


def metrics_of(name, task):
    results = task.evaluate(task.data["test"])
    if name == "ner":
        ambiguous = [example for example in task.data["test"] if example.ambiguous]
        results["ambiguous_entity_f1"] = task.evaluate(ambiguous)["entity_f1"]
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(CONTENDERS), help="comma-separated tasks")
    parser.add_argument("--parity", type=int, default=200, help="test inputs checked at runtime")
    parser.add_argument("--out", default="runs/labeling", help="where the bundles go")
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    parser.add_argument("--smoke", action="store_true", help="smoke-size data (a sanity run)")
    args = parser.parse_args(argv)

    from seqkeras import runtime, tasks

    rows, parity_rows = [], []
    for name in args.tasks.split(","):
        for index, (label, config) in enumerate(CONTENDERS[name]):
            task = tasks.get(name)(config, smoke=args.smoke)
            data = task.data
            start = time.perf_counter(), time.process_time()
            task.fit(verbose=2)
            wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
            results = metrics_of(name, task)
            print(f"{name} / {label}: {results} ({wall:.0f} s)")
            sizes = "/".join(f"{len(data[split]):,}" for split in ("train", "validation", "test"))
            rows.append((name, label, sizes, task.config["epochs"], wall, cpu, task, results))
            if index:
                continue
            inputs = [runtime_input(name, example) for example in data["test"][: args.parity]]
            expected = task.predict(inputs)
            bundle_path = task.export(os.path.join(args.out, name))
            parity = {
                backend: runtime.load(bundle_path, backend=backend).predict(inputs) == expected
                for backend in ("onnx", "tflite")
            }
            print(f"{name}: runtime equals Keras on {len(inputs)} test inputs: {parity}")
            parity_rows.append((name, len(inputs), parity))

    if args.write:
        write_section(args.write, "labeling", report(rows, parity_rows, args.smoke, argv))
    return 0


def report(rows, parity_rows, smoke, argv):
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("tensorflow", "keras")
    )
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "## Tagging and classification: NER, sentiment, DNA, activity (issue 6)",
        "",
        f"Command: `python benchmarks/labeling.py {arguments}`  ",
        f"Machine: {cpu_cores()}, 1-minute load average "
        f"{os.getloadavg()[0]:.1f} at the end, "
        f"{versions}. Each task at its "
        f"{'SMOKE-size config (a sanity run)' if smoke else 'full-size default config'}; "
        "metrics on its test split "
        "(`task.evaluate()`), training time = `task.fit` (wall / process CPU).",
        "",
        "| task | model | train / validation / test | epochs | parameters | training (s) | "
        "held-out metrics |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for name, label, sizes, epochs, wall, cpu, task, results in rows:
        shown = ", ".join(f"{key} {value:.4f}" for key, value in results.items())
        lines.append(
            f"| {name} | {label} | {sizes} | {epochs} | {task.model.count_params():,} | "
            f"{wall:.0f} / {cpu:.0f} | {shown} |"
        )
    lines += ["", "Exported bundles (TFLite + ONNX) against Keras on the first test inputs:", ""]
    for name, count, parity in parity_rows:
        lines.append(
            f"- {name}: runtime labels equal Keras's on {count} inputs: ONNX Runtime "
            f"{parity['onnx']}, LiteRT {parity['tflite']}."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
