"""The `seqkeras` command line.

    seqkeras demo [--smoke] [--epochs N] [--out DIR]
    seqkeras train TASK [--smoke] [--epochs N] --out DIR
    seqkeras export DIR [--to tflite,onnx] [--quantize MODE] --out BUNDLE
    seqkeras predict BUNDLE INPUT.npy... [--backend onnx|tflite] [--graph NAME]
    seqkeras predict GENERATION_BUNDLE [PREFIX...] [--num N] [--temperature T] [--top-k K]
                     [--top-p P] [--seed S] [--max-len L]
    seqkeras predict CAPTION_BUNDLE IMAGE.png... [--beam-width B] [--alpha A]
    seqkeras predict ACTIVITY_BUNDLE CLIP.npy...      (one (frames, 18) keypoint clip each)
    seqkeras predict DNA_BUNDLE SEQUENCE...           (A, C, G, T, N: class, motifs, tags)

`demo` is the main job: it trains the date-translation model (attention encoder-decoder),
reports held-out exact match, exports it to TFLite and ONNX, translates through LiteRT and ONNX
Runtime without TensorFlow, and prints translations, parity and latency next to Keras's.
`train` fits a task of `seqkeras.tasks` and saves it (model.keras, preprocessor.json,
config.json, history.json). `export` turns a folder with a `model.keras` into a bundle (for a
trained task: its inference graphs and preprocessor). `predict` runs a bundle through
`seqkeras.runtime` (no TensorFlow): on NumPy arrays, or, for a language model's bundle,
generating texts from optional prefixes, or, for a caption bundle, describing PNG images
(`seqkeras.runtime.images`; `save_png` writes a generated scene to try).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from seqkeras.errors import SeqKerasError

DEMO_INPUTS = ("Saturday 9 May 2018", "3 mars 2021", "09/05/18", "le 14 juillet 1989")


def translatable(task, text):
    """Whether the model's vocabulary covers `text` (a smoke-size model sees few characters)."""
    try:
        task.preprocessor.encode_sources([text])
    except SeqKerasError:
        return False
    return True


def demo(args):
    from seqkeras import runtime
    from seqkeras.tasks.dates import DatesTask

    task = DatesTask(
        {} if args.epochs is None else {"epochs": args.epochs}, smoke=args.smoke or None
    )
    config = task.config
    print(
        f"Date translation: {config['train_size']} training pairs, {config['test_size']} held "
        f"out; {config['cell']} encoder-decoder with {config['attention']} attention."
    )
    start = time.perf_counter()
    task.fit(verbose=args.verbose)
    seconds = time.perf_counter() - start
    results = task.evaluate(beam_width=1)
    print(
        f"\nTrained in {seconds:.0f} s. Held-out exact match {results['exact_match']:.2%} "
        f"(greedy), BLEU {results['bleu']:.1f}."
    )
    task.save(os.path.join(args.out, "task"))
    bundle_path = task.export(os.path.join(args.out, "bundle"))
    print(f"\nBundle {bundle_path}, run without TensorFlow by seqkeras.runtime:")
    print_bundle_table(bundle_path)

    held_out = [source for source, _ in task.data["test"]]
    inputs = [text for text in DEMO_INPUTS if translatable(task, text)] + held_out[:4]
    engines = {"keras": task.predict}
    for backend in ("tflite", "onnx"):
        engines[backend] = runtime.load(bundle_path, backend=backend).predict
    outputs = {name: predict(inputs) for name, predict in engines.items()}
    print(f"\n{'input':28} " + " ".join(f"{name:12}" for name in engines))
    for index, text in enumerate(inputs):
        print(f"{text:28} " + " ".join(f"{outputs[name][index]:12}" for name in engines))
    parity = {name: outputs[name] == outputs["keras"] for name in engines}
    checked = held_out[:100]
    reference = task.predict(checked)
    for name in ("tflite", "onnx"):
        parity[name] = parity[name] and engines[name](checked) == reference
    print(f"Same strings as Keras on {len(inputs) + len(checked)} inputs: {parity}")
    calls = 5 if task.smoke else 50
    print("Latency of one translation (beam search, median):")
    for name, predict in engines.items():
        print(f"  {name:8} {median_ms(lambda predict=predict: predict(inputs[:1]), calls):9.2f} ms")
    heatmap = os.path.join(args.out, "attention.png")
    task.plot_attention(inputs[0], heatmap)
    print(f"Attention heatmap of {inputs[0]!r}: {heatmap}")
    if not all(parity.values()):
        raise SeqKerasError("demo: an exported model disagreed with Keras (see above).")
    return 0


def train_command(args):
    from seqkeras import tasks
    from seqkeras.tasks.base import FILES

    task = tasks.get(args.task)(smoke=True if args.smoke else None)
    print(f"Training {args.task}" + (" (smoke mode)" if task.smoke else "") + ".")
    task.fit(epochs=args.epochs, verbose=args.verbose)
    task.save(args.out)
    results = task.evaluate()
    print(json.dumps({name: round(value, 4) for name, value in results.items()}))
    print(f"Saved {args.out}: " + ", ".join(FILES))
    return 0


def write_bundle(model, path, formats, quantize, verify_inputs, task):
    from seqkeras import export

    export.bundle(
        model,
        path,
        formats=formats,
        task=task,
        tflite_options={"quantize": quantize} if quantize else None,
        verify_inputs=verify_inputs,
        overwrite=True,
    )
    print_bundle_table(path)


def print_bundle_table(path):
    """One line per artifact of the bundle at `path`: size, parity with Keras, operators."""
    with open(os.path.join(path, "bundle.json")) as f:
        manifest = json.load(f)
    print(f"{'graph':8} {'artifact':14} {'size':>10}  {'max |diff|':>10}  operators")
    for graph_name, graph in manifest["graphs"].items():
        for artifact in graph["artifacts"].values():
            diffs = artifact.get("verification", {}).get("max_abs_diff", {})
            diff = f"{max(diffs.values()):.1e}" if diffs else "-"
            operators = ", ".join(f"{op}x{n}" for op, n in sorted(artifact["operators"].items()))
            print(
                f"{graph_name:8} {artifact['file']:14} {artifact['bytes']:>8} B  {diff:>10}  "
                f"{operators}"
            )


def median_ms(call, calls):
    return float(np.median(call_times(call, calls))) * 1000


def export_command(args):
    from seqkeras.saving import load_model

    model_path = os.path.join(args.dir, "model.keras")
    if not os.path.isfile(model_path):
        raise SeqKerasError(f"export: {args.dir!r} has no model.keras (train or demo first).")
    formats = tuple(name.strip() for name in args.to.split(",") if name.strip())
    if os.path.isfile(os.path.join(args.dir, "config.json")):  # saved by `seqkeras train`
        from seqkeras.tasks import Task

        Task.load(args.dir).export(
            args.out,
            formats=formats,
            tflite_options={"quantize": args.quantize} if args.quantize else None,
        )
        print_bundle_table(args.out)
        return 0
    model = load_model(model_path)
    rng = np.random.default_rng(0)
    verify_inputs = [
        rng.normal(size=(2, *(d or 8 for d in tensor.shape[1:]))).astype(tensor.dtype)
        if "float" in str(tensor.dtype)
        else np.ones((2, *(d or 8 for d in tensor.shape[1:])), dtype=tensor.dtype)
        for tensor in model.inputs
    ]
    write_bundle(
        model,
        args.out,
        formats,
        args.quantize,
        verify_inputs[0] if len(verify_inputs) == 1 else verify_inputs,
        args.task,
    )
    return 0


def predict_command(args):
    from seqkeras import runtime

    loaded = runtime.load(args.bundle, backend=args.backend)
    if isinstance(loaded, runtime.GenerationBundle):
        sampling = {
            "temperature": args.temperature,
            "top_k": args.top_k,
            "top_p": args.top_p,
            "seed": np.random.default_rng(args.seed),
            "max_len": args.max_len,
        }
        outputs = [loaded.generate(args.num, prefix, **sampling) for prefix in args.inputs or [""]]
        print(json.dumps({"outputs": outputs}, ensure_ascii=False))
        return 0
    # These take their inputs as given: texts, WAV file paths for speech, .npy keypoint
    # clip paths for frame classification (a ClassificationBundle subclass), DNA sequences.
    listed_bundles = (
        runtime.TaggingBundle,
        runtime.ClassificationBundle,
        runtime.SpeechBundle,
        runtime.DnaBundle,
    )
    if isinstance(loaded, listed_bundles) and args.graph is None:
        print(json.dumps({"outputs": loaded.predict(args.inputs)}, ensure_ascii=False))
        return 0
    # Translation bundles take texts; caption bundles PNG or .npy image files.
    if isinstance(loaded, runtime.Seq2SeqBundle) and args.graph is None:
        inputs = args.inputs
        if isinstance(loaded, runtime.CaptionBundle):
            from seqkeras.runtime.images import read_images

            inputs = read_images(args.inputs, loaded.preprocessor.image_shape)
        outputs = loaded.predict(inputs, beam_width=args.beam_width, alpha=args.alpha)
        print(json.dumps({"outputs": outputs}, ensure_ascii=False))
        return 0
    if not args.inputs:
        raise SeqKerasError("predict: give one .npy file per model input.")
    arrays = []
    for path in args.inputs:
        try:
            arrays.append(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as error:
            raise SeqKerasError(f"predict: cannot read {path!r} as a .npy array: {error}") from None
    outputs = loaded.predict(arrays[0] if len(arrays) == 1 else arrays, graph=args.graph)
    if isinstance(outputs, np.ndarray):
        outputs = {"output": outputs}
    print(json.dumps({name: np.asarray(value).tolist() for name, value in outputs.items()}))
    return 0


def synthetic_input(spec, batch, length, rng):
    """An input for `spec`: `batch` rows, `length` for other free dimensions; ids are 0, floats
    standard normal."""
    shape = [
        batch if index == 0 else length if dim is None else dim
        for index, dim in enumerate(spec.shape)
    ]
    if spec.dtype.startswith(("int", "uint", "bool")):
        return np.zeros(shape, spec.dtype)
    return rng.standard_normal(shape).astype(spec.dtype)


def bench_command(args):
    from seqkeras import runtime
    from seqkeras.runtime.bundle import read_manifest

    for option in ("calls", "batch", "length"):
        if getattr(args, option) < 1:
            raise SeqKerasError(f"--{option} must be at least 1, got {getattr(args, option)}.")
    manifest = read_manifest(args.bundle)
    formats = sorted({fmt for graph in manifest["graphs"].values() for fmt in graph["artifacts"]})
    backends = args.backend.split(",") if args.backend else formats
    rng = np.random.default_rng(0)
    print(
        f"{'backend':8} {'graph':10} {'inputs':34} {'median ms':>10} {'p90 ms':>8} {'calls/s':>9}"
    )
    for backend in backends:
        bundle = runtime.load(args.bundle, backend=backend, num_threads=args.threads)
        for name, graph in bundle.graphs.items():
            feeds = {
                spec.name: synthetic_input(spec, args.batch, args.length, rng)
                for spec in graph.inputs
            }
            times = call_times(lambda graph=graph, feeds=feeds: graph.predict(feeds), args.calls)
            median, p90 = np.percentile(times, [50, 90]) * 1000
            shapes = ", ".join("x".join(map(str, feed.shape)) for feed in feeds.values())
            print(
                f"{backend:8} {name:10} {shapes:34} {median:10.3f} {p90:8.3f} {1000 / median:9.1f}"
            )
    return 0


def call_times(call, calls):
    """Seconds per call of `calls` calls, after one warm-up call."""
    call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return np.array(times)


def serve_command(args):
    from seqkeras import runtime
    from seqkeras.serve import make_server

    bundle = runtime.load(args.bundle, backend=args.backend)
    server = make_server(
        bundle,
        args.host,
        args.port,
        max_body_bytes=args.max_body_bytes,
        max_inputs=args.max_inputs,
        verbose=not args.quiet,
    )
    host, port = server.server_address[:2]
    print(
        f"serving {args.bundle} ({bundle.task}, {args.backend}) on http://{host}:{port}/v1/predict"
    )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="seqkeras", description="Classic sequence models.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train the demo model and report")
    demo_parser.add_argument(
        "--smoke", action="store_true", help="tiny data and one epoch (also SEQKERAS_SMOKE=1)"
    )
    demo_parser.add_argument("--epochs", type=int, help="number of epochs")
    demo_parser.add_argument("--out", default="runs/demo", help="output folder")
    demo_parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    demo_parser.set_defaults(run=demo)

    from seqkeras import tasks

    train_parser = commands.add_parser("train", help="train a task and save it to DIR")
    train_parser.add_argument("task", choices=tasks.names(), help="the task")
    train_parser.add_argument("--smoke", action="store_true", help="tiny data, 1-2 epochs")
    train_parser.add_argument("--epochs", type=int, help="number of epochs (task default)")
    train_parser.add_argument("--out", required=True, help="output folder")
    train_parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    train_parser.set_defaults(run=train_command)

    export_parser = commands.add_parser("export", help="export DIR/model.keras to a bundle")
    export_parser.add_argument("dir", help="folder holding model.keras")
    export_parser.add_argument("--to", default="tflite,onnx", help="formats, comma-separated")
    export_parser.add_argument(
        "--quantize", choices=("float16", "dynamic", "int8"), help="TFLite quantization"
    )
    export_parser.add_argument("--task", help="task name recorded in bundle.json")
    export_parser.add_argument("--out", required=True, help="bundle folder to write")
    export_parser.set_defaults(run=export_command)

    predict_parser = commands.add_parser("predict", help="run a bundle (no TensorFlow)")
    predict_parser.add_argument("bundle", help="bundle folder")
    predict_parser.add_argument(
        "inputs",
        nargs="*",
        help=".npy file per model input; prefixes for a generation bundle; texts for a "
        "tagging, classification or translation bundle; PNG or .npy images for a caption "
        "bundle; .npy (frames, features) clips for an activity bundle; DNA sequences for a "
        "dna bundle",
    )
    predict_parser.add_argument("--backend", choices=("onnx", "tflite"), default="onnx")
    predict_parser.add_argument("--graph", help="graph of a multi-graph bundle")
    generation = predict_parser.add_argument_group("generation bundles")
    generation.add_argument("--num", type=int, default=1, help="texts per prefix")
    generation.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    generation.add_argument("--top-k", type=int, help="sample among the k most probable")
    generation.add_argument("--top-p", type=float, help="sample within the nucleus of mass p")
    generation.add_argument("--seed", type=int, help="random seed (reproducible output)")
    generation.add_argument("--max-len", type=int, help="most tokens generated per text")
    seq2seq = predict_parser.add_argument_group("translation and caption bundles")
    seq2seq.add_argument("--beam-width", type=int, help="1 = greedy (default: the bundle's)")
    seq2seq.add_argument("--alpha", type=float, help="length normalization (the bundle's)")
    predict_parser.set_defaults(run=predict_command)

    from seqkeras.serve import MAX_BODY_BYTES, MAX_INPUTS

    serve_parser = commands.add_parser("serve", help="serve a bundle over HTTP (no TensorFlow)")
    serve_parser.add_argument("bundle", help="bundle folder")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_parser.add_argument("--port", type=int, default=8080, help="port (0: any free one)")
    serve_parser.add_argument("--backend", choices=("onnx", "tflite"), default="onnx")
    serve_parser.add_argument(
        "--max-body-bytes", type=int, default=MAX_BODY_BYTES, help="largest request body"
    )
    serve_parser.add_argument(
        "--max-inputs", type=int, default=MAX_INPUTS, help="most inputs per request"
    )
    serve_parser.add_argument("--quiet", action="store_true", help="do not log each request")
    serve_parser.set_defaults(run=serve_command)

    bench_parser = commands.add_parser(
        "bench", help="latency of each graph of a bundle (no TensorFlow)"
    )
    bench_parser.add_argument("bundle", help="bundle folder")
    bench_parser.add_argument("--backend", help="onnx, tflite or both (default: those present)")
    bench_parser.add_argument("--calls", type=int, default=50, help="timed calls per graph")
    bench_parser.add_argument("--batch", type=int, default=1, help="rows per call")
    bench_parser.add_argument("--length", type=int, default=32, help="size of free dimensions")
    bench_parser.add_argument("--threads", type=int, help="engine threads (its default)")
    bench_parser.set_defaults(run=bench_command)

    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    try:
        return args.run(args)
    except SeqKerasError as error:
        print(f"seqkeras {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
