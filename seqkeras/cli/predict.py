"""`seqkeras predict BUNDLE INPUT...`: run a bundle through `seqkeras.runtime` (no TensorFlow).

What the inputs are comes from the bundle's contract (`Bundle.input_kind`,
`Bundle.read_arguments`): texts for tagging, classification, translation and DNA bundles;
prefixes for a generation bundle; WAV files for speech; PNG or .npy images for captions; .npy
clips for activity; else one .npy file per model input. The option flags are the options the
pipelines declare (`Bundle.options`); a bundle refuses those it does not take. Options may come
anywhere on the line: `seqkeras predict BUNDLE --backend tflite "3 mars 2021" --beam-width 3`.

Output: one JSON document `{"outputs": [...]}`; with `--json`, one JSON document per input
(`{"input": ..., "output": ...}`, one per line); `--scores` adds each answer's scores
(class probabilities, sequence log-probabilities, tokens with their tags).
"""

import argparse
import json

from seqkeras.cli.parsing import IntermixedParser, backend_argument
from seqkeras.errors import SeqKerasError


def declared_options():
    """Every wire option the registered pipelines declare: dict name -> (Option, kinds)."""
    from seqkeras.runtime.loading import registered_pipelines

    found = {}
    for kind, bundle_class in sorted(registered_pipelines().items()):
        for name, option in bundle_class.options.items():
            if option.type is not None:
                found.setdefault(name, (option, []))[1].append(kind)
    return found


def add_option_flags(parser):
    """One flag per declared option (`--beam-width`), default None (the bundle's default)."""
    group = parser.add_argument_group("options of the bundle (see its contract)")
    for name, (option, kinds) in declared_options().items():
        flag = "--" + name.replace("_", "-")
        help_text = f"{option.help} ({', '.join(kinds)} bundles)"
        if option.type is bool:
            group.add_argument(
                flag, dest=name, action=argparse.BooleanOptionalAction, help=help_text
            )
        else:
            group.add_argument(flag, dest=name, type=option.type, help=help_text)
    return list(declared_options())


def given_options(args):
    """The option flags given on the command line (dict name -> value)."""
    return {
        name: getattr(args, name) for name in args.option_names if getattr(args, name) is not None
    }


def add_parser(commands):
    parser = commands.add_parser("predict", help="run a bundle (no TensorFlow)")
    parser.__class__ = IntermixedParser
    parser.add_argument("bundle", help="bundle folder")
    parser.add_argument(
        "inputs",
        nargs="*",
        help="texts (tagging, classification, translation, DNA), prefixes (generation), WAV "
        "files (speech), PNG or .npy images (captions), .npy clips (activity), else one .npy "
        "file per model input",
    )
    parser.add_argument(
        "--backend",
        type=backend_argument,
        help="onnx or tflite, or per graph (e.g. encoder=onnx,step=tflite); default: one installed",
    )
    parser.add_argument("--graph", help="run this raw graph of the bundle (.npy inputs)")
    parser.add_argument("--json", action="store_true", help="one JSON document per input")
    parser.add_argument("--scores", action="store_true", help="add each answer's scores")
    parser.add_argument("--preset", help="run this shipped preset: every positional is an input")
    parser.add_argument("--no-lookup", action="store_true", help="g2p preset: model only")
    parser.set_defaults(run=run, option_names=add_option_flags(parser))


def run(args):
    from seqkeras import runtime
    from seqkeras.runtime.bundle import read_arrays
    from seqkeras.runtime.contract import rows, to_json

    if args.preset:
        from seqkeras.cli.presets import predict

        return predict(args)
    bundle = runtime.load(args.bundle, backend=args.backend)
    options = given_options(args)
    if args.graph is not None:
        if options or args.scores:
            raise SeqKerasError("predict: --graph runs a raw graph; it takes no options.")
        outputs = bundle.run_graph(args.graph, read_arrays(args.inputs, bundle[args.graph].inputs))
    else:
        inputs = bundle.read_arguments(args.inputs)
        predict = bundle.predict_scored if args.scores else bundle.predict
        outputs = predict(inputs, **options)
    if not args.json:
        print(json.dumps({"outputs": to_json(outputs)}, ensure_ascii=False))
        return 0
    outputs = rows(outputs)
    labels = args.inputs if len(args.inputs) == len(outputs) else range(len(outputs))
    if bundle.input_kind == "prefixes" and not args.inputs:
        labels = [""]
    for label, output in zip(labels, outputs):
        document = {"input": label, **(output if args.scores else {"output": output})}
        print(json.dumps(to_json(document), ensure_ascii=False))
    return 0
