"""`seqkeras export DIR|MODEL.keras --out BUNDLE`: a trained task folder, or a `.keras` file,
to a verified bundle. A task folder's manifest is checked first (and a `.keras` file inside a
folder with a manifest is checked against it): a truncated or edited file is refused."""

import pathlib

import numpy as np

from seqkeras.cli.reporting import print_bundle_table
from seqkeras.errors import SeqKerasError


def add_parser(commands):
    parser = commands.add_parser("export", help="export a task folder or a .keras file")
    parser.add_argument("dir", help="task folder (seqkeras train) or a .keras model file")
    parser.add_argument("--to", default="tflite,onnx", help="formats, comma-separated")
    parser.add_argument(
        "--quantize",
        choices=("float16", "dynamic", "int8"),
        help="store weights in lower precision: 'dynamic' (int8 weights) applies to TFLite and "
        "ONNX, 'float16' and 'int8' to TFLite only (ONNX stays float32)",
    )
    parser.add_argument("--task", help="task name recorded in bundle.json")
    parser.add_argument("--out", required=True, help="bundle folder to write")
    parser.set_defaults(run=run)


def quantize_options(quantize):
    """`export.bundle`'s per-format options for `--quantize`."""
    return {
        "tflite_options": {"quantize": quantize} if quantize else None,
        "onnx_options": {"quantize": quantize} if quantize == "dynamic" else None,
    }


def write_bundle(model, path, formats, quantize, verify_inputs, task):
    from seqkeras import export

    export.bundle(
        model,
        path,
        formats=formats,
        task=task,
        verify_inputs=verify_inputs,
        overwrite=True,
        **quantize_options(quantize),
    )
    print_bundle_table(path)


def model_path(source):
    """The `.keras` file to export from `source` (a file or a folder holding model.keras),
    checked against the manifest beside it when there is one."""
    from seqkeras.training import manifest

    source = pathlib.Path(source)
    path = source / "model.keras" if source.is_dir() else source
    if source.is_dir() and not path.is_file():
        raise SeqKerasError(f"export: {source} has no model.keras (train or demo first).")
    if not path.is_file():
        raise SeqKerasError(f"export: {source}: no such file or folder.")
    if path.suffix != ".keras":
        raise SeqKerasError(f"export: {source}: expected a folder or a .keras file.")
    if (path.parent / manifest.NAME).is_file():
        manifest.verify(path.parent, [path.name])
    return path


def run(args):
    from seqkeras.saving import load_model

    path = model_path(args.dir)
    formats = tuple(name.strip() for name in args.to.split(",") if name.strip())
    if pathlib.Path(args.dir).is_dir() and (path.parent / "config.json").is_file():
        from seqkeras.tasks import Task  # saved by `seqkeras train`

        Task.load(args.dir).export(args.out, formats=formats, **quantize_options(args.quantize))
        print_bundle_table(args.out)
        return 0
    model = load_model(path)
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
