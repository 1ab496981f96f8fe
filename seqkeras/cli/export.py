"""`seqkeras export DIR --out BUNDLE`: a trained task or a model.keras to a verified bundle."""

import os

import numpy as np

from seqkeras.cli.reporting import print_bundle_table
from seqkeras.errors import SeqKerasError


def add_parser(commands):
    parser = commands.add_parser("export", help="export DIR/model.keras to a bundle")
    parser.add_argument("dir", help="folder holding model.keras")
    parser.add_argument("--to", default="tflite,onnx", help="formats, comma-separated")
    parser.add_argument(
        "--quantize", choices=("float16", "dynamic", "int8"), help="TFLite quantization"
    )
    parser.add_argument("--task", help="task name recorded in bundle.json")
    parser.add_argument("--out", required=True, help="bundle folder to write")
    parser.set_defaults(run=run)


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


def run(args):
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
