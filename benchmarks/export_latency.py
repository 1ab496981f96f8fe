"""Batch-1 latency of exported models: Keras vs LiteRT (per route) vs ONNX Runtime.

Three graphs: a 2-layer 256-unit seqkeras LSTM encoder over 50 steps of 64 features, the same
encoder behind `Masking(0.0)` run on a right-padded input (40 valid steps: ONNX's native nodes
with `sequence_lens` inside an `If`, against the `Loop` every masked layer used to get), and
the matching 1-step decoder (one step in, both layers' states in and out). Each artifact is written
by `seqkeras.export` and run through `seqkeras.runtime` (input checks included), the path a
deployment takes. Contenders run in turns, round after round; each figure is the median over
all calls. The FLOP-count lower bound is the graph's matmul FLOPs over the highest float32
matmul throughput measured in the run (before it and once per round, with the same number of
threads: a single measurement moved between 77 and 98 GFLOP/s from run to run on one machine).
The encoder's table has a reference row that is not an export: its 100 recurrent
matrix-vector products alone, in sequence, as ONNX `MatMul` nodes (`recurrent_products`), what
batch-1 float32 inference spends reading kernels.

    python benchmarks/export_latency.py [--rounds 10] [--calls 20] [--threads 1]
                                        [--graphs encoder,masked,step]
                                        [--write benchmarks/RESULTS.md]
    python benchmarks/export_latency.py --delegation [1,2] [--rounds 10] [--calls 20]
                                        [--write benchmarks/RESULTS.md]

With a subset of --graphs the section written is `export_latency_<graphs>`. `--delegation
THREADS` measures instead the encoder's LiteRT routes (float32 and dynamic int8) with and without
XNNPACK, with each number of threads listed (`litert_delegation.py`), in the section
`export_latency_delegation`.
"""

import argparse
import importlib.metadata
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import litert_delegation
import numpy as np
import onnx
import onnxruntime
import tensorflow as tf
from onnx import helper
from results_file import cpu_cores, write_section
from tqdm import tqdm

from seqkeras import export, layers, runtime

STEPS, FEATURES, UNITS = 50, 64, 256
KERAS_CALLS_PER_ROUND = 10
LITERT_VERSION = importlib.metadata.version("ai-edge-litert")


VALID_STEPS = 40  # of the masked encoder's right-padded input


def encoder_model(masked=False):
    x = keras.Input((STEPS, FEATURES), name="x")
    hidden = keras.layers.Masking(0.0)(x) if masked else x
    hidden = layers.LSTM(UNITS, return_sequences=True)(hidden)
    name = "masked_encoder" if masked else "encoder"
    return keras.Model(x, layers.LSTM(UNITS)(hidden), name=name)


def decoder_step_model():
    x = keras.Input((1, FEATURES), name="x")
    states = [keras.Input((UNITS,), name=f"{name}_in") for name in ("h1", "c1", "h2", "c2")]
    y, h1, c1 = layers.LSTM(UNITS, return_sequences=True, return_state=True)(
        x, initial_state=states[:2]
    )
    y, h2, c2 = layers.LSTM(UNITS, return_state=True)(y, initial_state=states[2:])
    inputs = {"x": x, **{s.name: s for s in states}}
    return keras.Model(inputs, {"y": y, "h1": h1, "c1": c1, "h2": h2, "c2": c2}, name="step")


# --graphs name -> (model builder, steps, whether it is a decoder step)
GRAPHS = {
    "encoder": (encoder_model, STEPS, False),
    "masked": (lambda: encoder_model(masked=True), STEPS, False),
    "step": (decoder_step_model, 1, True),
}


def lstm_flops(steps):
    """Matmul FLOPs of the two layers: 2·T·(F+U)·4U, then 2·T·(U+U)·4U."""
    return 2 * steps * 4 * UNITS * ((FEATURES + UNITS) + (UNITS + UNITS))


def sample(model, batch, rng):
    if isinstance(model.input, dict):
        return {
            name: rng.normal(size=(batch, *t.shape[1:])).astype("float32")
            for name, t in model.input.items()
        }
    return rng.normal(size=(batch, *model.input.shape[1:])).astype("float32")


def artifacts(model, folder, representative, is_step):
    """Exports every variant; returns {label: path}."""
    name = model.name
    if name == "masked_encoder":
        return {
            "LiteRT WHILE": export.to_tflite(model, f"{folder}/{name}_while.tflite"),
            "ONNX Runtime, Loop": export.to_onnx(
                model, f"{folder}/{name}_loop.onnx", native_rnn=False
            ),
            "ONNX Runtime, native LSTM (If + sequence_lens)": export.to_onnx(
                model, f"{folder}/{name}_native.onnx"
            ),
            "ONNX Runtime, native LSTM (If + sequence_lens), dynamic int8 weights": (
                export.to_onnx(model, f"{folder}/{name}_native_dynamic.onnx", quantize="dynamic")
            ),
        }
    paths = {
        "LiteRT WHILE": export.to_tflite(model, f"{folder}/{name}_while.tflite", route="while"),
        "LiteRT unrolled": export.to_tflite(
            model, f"{folder}/{name}_unroll.tflite", route="unroll"
        ),
        "LiteRT WHILE, dynamic int8 weights": export.to_tflite(
            model, f"{folder}/{name}_while_dynamic.tflite", route="while", quantize="dynamic"
        ),
        "LiteRT unrolled, int8": export.to_tflite(
            model,
            f"{folder}/{name}_int8.tflite",
            quantize="int8",
            representative_data=representative,
        ),
        "ONNX Runtime, Loop": export.to_onnx(model, f"{folder}/{name}_loop.onnx", native_rnn=False),
        "ONNX Runtime, native LSTM": export.to_onnx(model, f"{folder}/{name}_native.onnx"),
        "ONNX Runtime, native LSTM, dynamic int8 weights": export.to_onnx(
            model, f"{folder}/{name}_native_dynamic.onnx", quantize="dynamic"
        ),
    }
    if not is_step:  # the step's LSTMs start from input states: nothing to fuse
        paths["LiteRT WHILE, batch fixed at 1"] = export.to_tflite(
            model, f"{folder}/{name}_while_batch1.tflite", route="while", batch_size=1
        )
        paths["LiteRT fused"] = export.to_tflite(
            model, f"{folder}/{name}_fused.tflite", route="fused"
        )
        paths["LiteRT fused, dynamic int8 weights"] = export.to_tflite(
            model, f"{folder}/{name}_fused_dynamic.tflite", route="fused", quantize="dynamic"
        )
    return paths


def matmul_gflops(threads, n=1024, repeats=20):
    """float32 matmul throughput of ONNX Runtime's MatMul (MLAS) with `threads` threads."""
    a = helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [n, n])
    c = helper.make_tensor_value_info("c", onnx.TensorProto.FLOAT, [n, n])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "a"], ["c"])], "mm", [a], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(model.SerializeToString(), options)
    x = np.random.default_rng(0).normal(size=(n, n)).astype("float32")
    session.run(None, {"a": x})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"a": x})
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


RECURRENT_PRODUCTS = "reference: the 100 recurrent products alone, ONNX MatMul nodes"


def recurrent_products(threads, steps=2 * STEPS):
    """A callable running what the encoder cannot skip at batch 1 in float32: its `steps`
    matrix-vector products h · U, U of an LSTM's recurrent-kernel size (UNITS, 4·UNITS), one
    after the other (h<t> = tanh of the first UNITS entries of h<t-1> · U), in ONNX Runtime.
    Each product reads the whole 1 MiB kernel; no input projection, no gates."""
    nodes = []
    for t in range(steps):
        nodes += [
            helper.make_node("MatMul", [f"h{t}", "U"], [f"z{t}"]),
            helper.make_node("Slice", [f"z{t}", "zero", "units", "last"], [f"s{t}"]),
            helper.make_node("Tanh", [f"s{t}"], [f"h{t + 1}"]),
        ]
    rng = np.random.default_rng(0)
    constants = {
        "U": (rng.normal(size=(UNITS, 4 * UNITS)) * 0.05).astype("float32"),
        **{name: np.array([v]) for name, v in (("zero", 0), ("units", UNITS), ("last", 1))},
    }
    info = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "recurrent_products",
        [info("h0", onnx.TensorProto.FLOAT, [1, UNITS])],
        [info(f"h{steps}", onnx.TensorProto.FLOAT, [1, UNITS])],
        [onnx.numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(model.SerializeToString(), options)
    h0 = rng.normal(size=(1, UNITS)).astype("float32")
    return lambda: session.run(None, {"h0": h0})


def measure(model, paths, x, rounds, calls, threads, peaks, models=None, references=None):
    """Median ms per call of each contender, the artifacts' max abs diff and sizes.

    `peaks`: a list to which each round adds the matmul throughput measured in it.

    `models`: label -> the Keras model an artifact was exported from, where it is not `model`.
    `references`: label -> a callable timed with the contenders that is not an export.
    """
    models = models or {}
    contenders = {
        "Keras `model(x)`": lambda: model(x),
        "Keras `predict`": lambda: model.predict(x, verbose=0),
        **(references or {}),
    }
    loaded = {label: runtime.load_artifact(path, threads) for label, path in paths.items()}
    contenders.update({label: (lambda m=m: m.predict(x)) for label, m in loaded.items()})
    diffs = {
        label: max(export.verify(models.get(label, model), path, x).max_abs_diff.values())
        for label, path in paths.items()
    }
    for run in contenders.values():
        run()
    times = {label: [] for label in contenders}
    for _ in tqdm(range(rounds), desc=model.name, leave=False):
        peaks.append(matmul_gflops(threads))
        for label, run in contenders.items():
            count = KERAS_CALLS_PER_ROUND if label.startswith("Keras") else calls
            for _ in range(count):
                start = time.perf_counter()
                run()
                times[label].append(time.perf_counter() - start)
    medians = {label: statistics.median(t) * 1000 for label, t in times.items()}
    counts = {label: len(t) for label, t in times.items()}
    sizes = {label: os.path.getsize(path) for label, path in paths.items()}
    return medians, counts, diffs, sizes


def ratio(value):
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def table(name, flops, weight_bytes, peak, medians, counts, diffs, sizes):
    bound = flops / (peak * 1e9) * 1000
    keras_call = medians["Keras `model(x)`"]
    lines = [
        f"**{name}**: {flops / 1e6:.1f} MFLOP of matmuls per call, {weight_bytes / 2**20:.1f} "
        f"MiB of float32 weights; FLOP-count lower bound {bound:.3f} ms at {peak:.0f} GFLOP/s.",
        "",
        "| contender | median (ms) | calls | vs Keras `model(x)` | vs lower bound | size (KiB) "
        "| max abs diff |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, ms in medians.items():
        size = f"{sizes[label] / 1024:.0f}" if label in sizes else ""
        diff = f"{diffs[label]:.1e}" if label in diffs else ""
        lines.append(
            f"| {label} | {ms:.3f} | {counts[label]} | {ratio(keras_call / ms)} | "
            f"{ratio(ms / bound)} | {size} | {diff} |"
        )
    exact = [(medians[label], label) for label, diff in diffs.items() if diff <= 1e-4]
    quantized = [(medians[label], label) for label, diff in diffs.items() if diff > 1e-4]
    lines.append("")
    for kind, candidates in (("float32", exact), ("quantized", quantized)):
        if not candidates:
            continue
        ms, label = min(candidates)
        lines.append(
            f"Fastest {kind} export: {label}, {ms:.3f} ms = {ratio(ms / bound)} the FLOP-count "
            f"lower bound, {ratio(keras_call / ms)} faster than Keras `model(x)`.  "
        )
    return lines


def report(results, peaks, threads, rounds, calls, command):
    lines = [
        "## Export latency: Keras vs LiteRT vs ONNX Runtime (issue 3)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {cpu_cores()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, ONNX Runtime "
        f"{onnxruntime.__version__}, ai-edge-litert {LITERT_VERSION}.  ",
        f"Batch 1, engines on {threads} thread(s) through `seqkeras.runtime` (default "
        f"delegates: XNNPACK for LiteRT); medians over {rounds} interleaved rounds "
        f"({calls} calls per round per export, {KERAS_CALLS_PER_ROUND} for Keras). Max abs "
        "diff: against Keras on one random input (int8 rows are quantized, not exact). "
        f"Lower bound: matmul FLOPs / {max(peaks):.0f} GFLOP/s, the highest of "
        f"{len(peaks)} measurements of ONNX Runtime's float32 MatMul (1024²) with {threads} "
        f"thread(s), one before the run and one per round (median {statistics.median(peaks):.0f}"
        f" GFLOP/s). 1-minute load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end: compare within a table.",
        "",
    ]
    for name, result in results.items():
        lines += [*table(name, *result), ""]
    return "\n".join(lines)


def delegation_report(threads, rounds, calls, command):
    """The encoder's TFLite routes run with each LiteRT delegate setting (issue 15)."""
    keras.utils.set_random_seed(0)
    model = encoder_model()
    x = sample(model, 1, np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as folder:
        paths = {
            f"{route}{label}": export.to_tflite(
                model, f"{folder}/{route}{suffix}.tflite", route=route, quantize=quantize
            )
            for quantize, label, suffix in ((None, "", ""), ("dynamic", ", dynamic int8", "_dyn"))
            for route in ("while", "unroll", "fused")
        }
        measured = litert_delegation.measure(paths, x, model(x).numpy(), threads, rounds, calls)
        lines = litert_delegation.table(paths, threads, *measured)
    load = os.getloadavg()
    return "\n".join(
        [
            "## LiteRT with and without XNNPACK, per route (issue 15)",
            "",
            f"Command: `{command}`  ",
            f"Machine: {cpu_cores()}, "
            f"TensorFlow {tf.__version__}, ai-edge-litert {LITERT_VERSION}.  ",
            f"The {UNITS}-unit 2-layer LSTM encoder over {STEPS} steps × {FEATURES} features, "
            "batch 1, each file in one interpreter per thread count and setting: "
            f"{', '.join(litert_delegation.SETTINGS)} "
            "(`experimental_default_delegate_latest_features=True`; "
            "`OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES`). Calls made as `LiteRTEngine` "
            f"makes them; medians over {rounds} interleaved rounds of {calls} calls. Ops "
            "delegated: nodes XNNPACK replaced per subgraph, from LiteRT's own VERBOSE log, of "
            "the operators in the file (subgraph 0 is the main graph, the others WHILE bodies). "
            "Max abs diff: against Keras, worst of the three settings. Load average "
            f"{load[0]:.1f} / {load[1]:.1f} over 1 / 5 minutes on {os.cpu_count()} cores at the "
            "end (2-thread rows compete with anything else running): compare within the table.",
            "",
            *lines,
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=20, help="calls per round per export")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--graphs", default="encoder,masked,step")
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    parser.add_argument(
        "--delegation",
        nargs="?",
        const="1,2",
        metavar="THREADS",
        help="measure LiteRT routes with and without XNNPACK with these thread counts instead",
    )
    args = parser.parse_args()
    if args.delegation:
        threads = [int(count) for count in args.delegation.split(",")]
        command = "python " + " ".join(sys.argv)
        section = delegation_report(threads, args.rounds, args.calls, command)
        print(section)
        if args.write:
            write_section(args.write, "export_latency_delegation", section)
        return
    graphs = args.graphs.split(",")
    if not set(graphs) <= set(GRAPHS):
        parser.error(f"--graphs takes names of {sorted(GRAPHS)}")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    peaks = [matmul_gflops(args.threads)]
    measured_graphs = {}
    with tempfile.TemporaryDirectory() as folder:
        for graph in graphs:
            make_model, steps, is_step = GRAPHS[graph]
            model = make_model()
            paths = artifacts(model, folder, sample(model, 100, rng), is_step)
            x = sample(model, 1, rng)
            twins = {}
            if graph == "masked":
                x[:, VALID_STEPS:] = 0.0  # right padding
                twin = encoder_model()  # the same weights without Masking, over all 50 steps
                twin.set_weights(model.get_weights())
                label = "ONNX Runtime, native LSTM, same weights without Masking"
                paths[label] = export.to_onnx(twin, f"{folder}/twin.onnx")
                twins[label] = twin
            references = (
                {RECURRENT_PRODUCTS: recurrent_products(args.threads)} if graph == "encoder" else {}
            )
            measured = measure(
                model, paths, x, args.rounds, args.calls, args.threads, peaks, twins, references
            )
            title = {
                "encoder": f"2-layer {UNITS}-unit LSTM encoder, {STEPS} steps × {FEATURES} "
                "features",
                "masked": f"The same encoder behind Masking(0.0), {VALID_STEPS} valid steps then "
                "right padding",
                "step": f"1-step decoder (2 layers × {UNITS} units, states in and out)",
            }[graph]
            weight_bytes = sum(w.numpy().nbytes for w in model.weights)
            measured_graphs[title] = (lstm_flops(steps), weight_bytes, measured)
    peak = max(peaks)
    results = {
        title: (flops, weight_bytes, peak, *measured)
        for title, (flops, weight_bytes, measured) in measured_graphs.items()
    }
    section = report(
        results, peaks, args.threads, args.rounds, args.calls, "python " + " ".join(sys.argv)
    )
    print(section)
    if args.write:
        suffix = "" if graphs == list(GRAPHS) else "_" + "_".join(graphs)
        suffix += "" if args.threads == 1 else f"_{args.threads}_threads"
        write_section(args.write, "export_latency" + suffix, section)


if __name__ == "__main__":
    main()
