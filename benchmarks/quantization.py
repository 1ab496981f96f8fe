"""What quantizing the exported date translator costs in its own metric, held-out exact match.

    python benchmarks/quantization.py --task runs/demo/task [--write benchmarks/RESULTS.md]

Loads a trained `dates` task (`seqkeras demo` or `seqkeras train dates` saves one), exports its
encoder and decoder step as float32, float16 and dynamic-range int8 TFLite, and as float32 and
dynamic-range int8 ONNX, translates the held-out split through `seqkeras.runtime` (LiteRT or
ONNX Runtime, greedy) with each, and reports exact match, artifact sizes and the latency of one
translation next to the float32 export of the same format.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import write_section

# (format, label, quantize), each format's float32 export first
EXPORTS = [
    ("tflite", "float32", None),
    ("tflite", "float16", "float16"),
    ("tflite", "dynamic int8", "dynamic"),
    ("onnx", "float32", None),
    ("onnx", "dynamic int8", "dynamic"),
]
ENGINES = {"tflite": "LiteRT", "onnx": "ONNX Runtime"}


def bundle_bytes(path, fmt):
    return sum(
        os.path.getsize(os.path.join(path, name))
        for name in os.listdir(path)
        if name.endswith(f".{fmt}")
    )


def translation_ms(bundle, text, calls=30):
    bundle.predict([text], beam_width=1)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        bundle.predict([text], beam_width=1)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, help="folder of a trained dates task")
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args(argv)

    from seqkeras import runtime
    from seqkeras.tasks import Task

    task = Task.load(args.task)
    examples = task.data["test"]
    sources = [source for source, _ in examples]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for fmt, name, quantize in EXPORTS:
            path = task.export(
                os.path.join(folder, f"{fmt}_{name.replace(' ', '_')}"),
                formats=(fmt,),
                verify=False,
                **{f"{fmt}_options": {"quantize": quantize} if quantize else None},
                progress=False,
            )
            bundle = runtime.load(path, backend=fmt)
            most = bundle.limits["inputs"]  # per call, by the runtime contract
            translations = [
                text
                for start in range(0, len(sources), most)
                for text in bundle.predict(sources[start : start + most], beam_width=1)
            ]
            exact = sum(t == target for t, (_, target) in zip(translations, examples))
            rows.append(
                (
                    fmt,
                    name,
                    exact / len(examples),
                    bundle_bytes(path, fmt),
                    translation_ms(bundle, sources[0]),
                )
            )
            print(rows[-1])

    floats = {fmt: (match, size) for fmt, name, match, size, _ in rows if name == "float32"}
    body = "\n".join(
        [
            "## Quantized exports in the task's metric (issue 3)",
            "",
            f"Command: `python benchmarks/quantization.py {' '.join(sys.argv[1:])}`  ",
            f"Task: `dates` as trained by `seqkeras demo` (full size, "
            f"{task.config['epochs']} epochs); {len(examples)} held-out dates translated "
            "through `seqkeras.runtime` with greedy decoding; latency: median of 30 "
            "translations of one date, encoder + decoder steps, the engine's default threads. "
            "Change and size: against the float32 export of the same format.",
            "",
            "| export | exact match | change | size (KiB) | latency (ms) |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {ENGINES[fmt]}, {name} | {match:.2%} | {match - floats[fmt][0]:+.2%} | "
                f"{size / 1024:.0f} ({size / floats[fmt][1]:.0%}) | {ms:.2f} |"
                for fmt, name, match, size, ms in rows
            ),
        ]
    )
    print(body)
    if args.write:
        write_section(args.write, "quantization", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
