"""`seqkeras bench BUNDLE`: latency of each graph of a bundle (no TensorFlow).

Without `--backend`, every backend the bundle has and this machine can run is timed. With
`--json`, one JSON document per (backend, graph) line instead of the table.
"""

import json

import numpy as np

from seqkeras.cli.reporting import call_times
from seqkeras.errors import SeqKerasError


def add_parser(commands):
    parser = commands.add_parser("bench", help="latency of each graph of a bundle (no TensorFlow)")
    parser.add_argument("bundle", help="bundle folder")
    parser.add_argument("--backend", help="onnx, tflite or both (default: those present)")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per graph")
    parser.add_argument("--batch", type=int, default=1, help="rows per call")
    parser.add_argument("--length", type=int, default=32, help="size of free dimensions")
    parser.add_argument("--threads", type=int, help="engine threads (its default)")
    parser.add_argument("--json", action="store_true", help="one JSON document per graph")
    parser.set_defaults(run=run)


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


def run(args):
    from seqkeras import runtime
    from seqkeras.runtime.loading import available_backends, choose_backend, read_manifest

    for option in ("calls", "batch", "length"):
        if getattr(args, option) < 1:
            raise SeqKerasError(f"--{option} must be at least 1, got {getattr(args, option)}.")
    manifest = read_manifest(args.bundle)
    if args.backend:
        backends = [name.strip() for name in args.backend.split(",") if name.strip()]
    else:
        choose_backend(manifest, args.bundle)  # raises when no engine can run it
        backends = available_backends(manifest)
    rng = np.random.default_rng(0)
    if not args.json:
        print(
            f"{'backend':8} {'graph':10} {'inputs':34} {'median ms':>10} {'p90 ms':>8} "
            f"{'calls/s':>9}"
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
            if args.json:
                row = {
                    "backend": backend,
                    "graph": name,
                    "inputs": {key: list(feed.shape) for key, feed in feeds.items()},
                    "median_ms": float(median),
                    "p90_ms": float(p90),
                    "calls_per_s": float(1000 / median),
                }
                print(json.dumps(row))
                continue
            print(
                f"{backend:8} {name:10} {shapes:34} {median:10.3f} {p90:8.3f} {1000 / median:9.1f}"
            )
    return 0
