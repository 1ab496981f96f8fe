"""`seqkeras serve BUNDLE`: a bundle behind HTTP (no TensorFlow)."""

import sys


def add_parser(commands):
    from seqkeras.serve import MAX_BODY_BYTES, MAX_INPUTS

    parser = commands.add_parser("serve", help="serve a bundle over HTTP (no TensorFlow)")
    parser.add_argument("bundle", help="bundle folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free one)")
    parser.add_argument("--backend", choices=("onnx", "tflite"), default="onnx")
    parser.add_argument(
        "--max-body-bytes", type=int, default=MAX_BODY_BYTES, help="largest request body"
    )
    parser.add_argument(
        "--max-inputs", type=int, default=MAX_INPUTS, help="most inputs per request"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.set_defaults(run=run)


def run(args):
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
