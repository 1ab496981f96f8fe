"""`seqkeras serve BUNDLE`: a bundle behind HTTP with dynamic batching (no TensorFlow).

Prints `serving BUNDLE (TASK, BACKEND) on http://HOST:PORT/v1/predict` once the socket
listens (`--port 0`: a free port), then serves until SIGTERM or Ctrl+C (see
`seqkeras.serving`). `--limit NAME=VALUE` lowers a bound of the bundle's contract (an option's
upper bound such as `beam_width=4`, or `inputs`, `generated`).
"""

import sys

from seqkeras.cli.parsing import backend_argument
from seqkeras.errors import SeqKerasError
from seqkeras.serving.batching import DEFAULT_MAX_BATCH


def add_parser(commands):
    parser = commands.add_parser("serve", help="serve a bundle over HTTP (no TensorFlow)")
    parser.add_argument("bundle", help="bundle folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free one)")
    parser.add_argument(
        "--backend",
        type=backend_argument,
        help="onnx or tflite, or per graph (e.g. encoder=onnx,step=tflite); default: one installed",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--name", help="model name of the /v2 routes (default: the task)")
    parser.add_argument(
        "--max-batch", type=int, default=DEFAULT_MAX_BATCH, help="most inputs per engine call"
    )
    parser.add_argument(
        "--max-wait-ms", type=float, default=2.0, help="wait for company under load (ms)"
    )
    parser.add_argument("--max-queue", type=int, default=1024, help="most inputs waiting")
    parser.add_argument("--threads", type=int, default=1, help="engine threads (ONNX only)")
    parser.add_argument(
        "--engine-threads",
        type=int,
        default=1,
        help="threads of one engine call (ONNX Runtime intra-op, LiteRT); default 1",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline per request (s)")
    parser.add_argument(
        "--max-body-bytes", type=int, default=16 * 2**20, help="largest request body"
    )
    parser.add_argument("--max-inputs", type=int, help="most inputs per request")
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="lower a bound of the bundle (e.g. beam_width=4, num=8)",
    )
    parser.add_argument("--quiet", action="store_true", help="no JSON log line per request")
    ray = parser.add_argument_group("Ray Serve")
    ray.add_argument("--ray", action="store_true", help="serve as Ray Serve replicas")
    ray.add_argument("--replicas", type=int, default=1, help="Ray Serve replicas")
    ray.add_argument("--address", help="Ray cluster address (default: a local Ray)")
    parser.set_defaults(run=run)


def parse_limits(pairs, max_inputs):
    """The --limit NAME=VALUE pairs (and --max-inputs) as a dict name -> number."""
    limits = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            number = float(value)
            limits[name.strip()] = int(number) if number.is_integer() else number
        except ValueError:
            raise SeqKerasError(f"serve: --limit {pair!r}: expected NAME=NUMBER.") from None
    if max_inputs is not None:
        limits["inputs"] = max_inputs
    return limits


def run(args):
    from seqkeras import runtime

    for name in ("workers", "max_batch", "max_queue", "threads", "engine_threads", "replicas"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise SeqKerasError(f"serve: {flag} must be at least 1, got {getattr(args, name)}.")
    limits = parse_limits(args.limit, args.max_inputs)
    bundle = runtime.load(args.bundle, backend=args.backend, num_threads=args.engine_threads).limit(
        **limits
    )
    settings = {
        "name": args.name,
        "max_batch": args.max_batch,
        "max_wait": args.max_wait_ms / 1000,
        "max_queue": args.max_queue,
        "threads": args.threads,
        "timeout": args.timeout,
        "max_body_bytes": args.max_body_bytes,
        "access_log": not args.quiet,
    }
    if args.ray:
        from seqkeras.serving.ray import serve_on_ray

        return serve_on_ray(bundle, args, limits, settings)
    from seqkeras.serving.app import Service  # checks the settings before binding
    from seqkeras.serving.runner import bind, serve

    Service(bundle, **settings)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    print(
        f"serving {args.bundle} ({bundle.task}, {bundle.backend}) on http://{host}:{port}/v1/predict"
    )
    sys.stdout.flush()
    serve(
        bundle,
        sock,
        workers=args.workers,
        limits=limits,
        engine_threads=args.engine_threads,
        **settings,
    )
    return 0
