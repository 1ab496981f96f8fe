"""Date translation at full size: training time, held-out exact match and BLEU, error analysis.

    python benchmarks/dates.py [--epochs N] [--out runs/dates] [--write benchmarks/RESULTS.md]

Trains the `dates` task with its default config (see `seqkeras.tasks.dates.DatesTask`) on
CPU, then translates the held-out test split (disjoint from training) with greedy decoding and
beam search, attributes the errors to the search or the model, and checks that the exported
bundle gives the Keras strings on both runtimes.
"""

import argparse
import importlib.metadata
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import cpu_cores, write_section


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="epochs (default: the task's)")
    parser.add_argument("--out", default="runs/dates", help="where the task and bundle go")
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args(argv)

    from seqkeras import runtime
    from seqkeras.tasks.dates import DatesTask

    overrides = {} if args.epochs is None else {"epochs": args.epochs}
    task = DatesTask(overrides, smoke=False)
    start = time.perf_counter()
    data = task.data
    data_seconds = time.perf_counter() - start
    start = time.perf_counter()
    task.fit(verbose=2)
    train_seconds = time.perf_counter() - start
    task.save(os.path.join(args.out, "task"))

    rows = []
    for beam_width in (1, 3):
        start = time.perf_counter()
        result = task.evaluate(beam_width=beam_width)
        seconds = time.perf_counter() - start
        rows.append((beam_width, result, seconds))
        print(f"beam {beam_width}: {result} ({seconds:.1f} s)")
    analysis = task.error_analysis(beam_width=3)
    print({k: v for k, v in analysis.items() if k != "rows"})
    for row in analysis["rows"][:10]:
        print(row)

    bundle_path = task.export(os.path.join(args.out, "bundle"))
    sources = [source for source, _ in data["test"][:200]]
    expected = task.predict(sources)
    parity = {
        backend: runtime.load(bundle_path, backend=backend).predict(sources) == expected
        for backend in ("onnx", "tflite")
    }
    print(f"runtime strings equal Keras on {len(sources)} inputs: {parity}")
    task.plot_attention("Saturday 9 May 2018", os.path.join(args.out, "attention.png"))

    if args.write:
        write_section(
            args.write,
            "dates",
            report(task, data, data_seconds, train_seconds, rows, analysis, parity, args),
        )
    return 0


def report(task, data, data_seconds, train_seconds, rows, analysis, parity, args):
    c = task.config
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("tensorflow", "keras", "faker")
    )
    command = "python benchmarks/dates.py" + (f" --epochs {args.epochs}" if args.epochs else "")
    lines = [
        "## Date translation with attention (issue 7)",
        "",
        f"Command: `{command} --write benchmarks/RESULTS.md`  ",
        f"Machine: {cpu_cores()}, {versions}.  ",
        f"Data: {len(data['train'])} training / {len(data['test'])} held-out pairs (disjoint "
        f"strings) from `seqkeras.datasets.dates` (8 locales, seed {c['seed']}), generated in "
        f"{data_seconds:.1f} s. Model: bidirectional {c['cell'].upper()} encoder "
        f"({c['units']} units per direction{', peepholes' if c['peephole'] else ''}), "
        f"{c['attention']} attention, {task.model.count_params():,} parameters; "
        f"{c['epochs']} epochs, batch {c['batch_size']}: **{train_seconds:.0f} s of training**.",
        "",
        "| decoding | exact match | BLEU (chars) | decode time |",
        "|---|---:|---:|---:|",
    ]
    for beam_width, result, seconds in rows:
        name = "greedy" if beam_width == 1 else f"beam {beam_width}, α = {c['alpha']}"
        lines.append(
            f"| {name} | {100 * result['exact_match']:.2f}% | {result['bleu']:.2f} | "
            f"{seconds:.1f} s |"
        )
    lines += [
        "",
        f"Error analysis (beam 3): {analysis['errors']} errors in {analysis['examples']}: "
        f"{analysis['search']} blamed on the search (score(y*) > score(ŷ)), "
        f"{analysis['model']} on the model.  ",
        "Exported bundle (TFLite + ONNX): runtime translations equal Keras's on 200 held-out "
        f"inputs: ONNX Runtime {parity['onnx']}, LiteRT {parity['tflite']}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
