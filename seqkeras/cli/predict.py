"""`seqkeras predict BUNDLE INPUT...`: run a bundle through `seqkeras.runtime` (no TensorFlow).

Prefixes for a generation bundle; texts for tagging, classification, translation and DNA
bundles; WAV files for speech; PNG or .npy images for captions; .npy clips for activity; else
one .npy file per model input.
"""

import json

import numpy as np

from seqkeras.errors import SeqKerasError


def add_parser(commands):
    parser = commands.add_parser("predict", help="run a bundle (no TensorFlow)")
    parser.add_argument("bundle", help="bundle folder")
    parser.add_argument(
        "inputs",
        nargs="*",
        help=".npy file per model input; prefixes for a generation bundle; texts for a "
        "tagging, classification or translation bundle; PNG or .npy images for a caption "
        "bundle; .npy (frames, features) clips for an activity bundle; DNA sequences for a "
        "dna bundle",
    )
    parser.add_argument("--backend", choices=("onnx", "tflite"), default="onnx")
    parser.add_argument("--graph", help="graph of a multi-graph bundle")
    parser.add_argument("--preset", help="run this shipped preset: every positional is an input")
    parser.add_argument("--no-lookup", action="store_true", help="g2p preset: model only")
    generation = parser.add_argument_group("generation bundles")
    generation.add_argument("--num", type=int, default=1, help="texts per prefix")
    generation.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    generation.add_argument("--top-k", type=int, help="sample among the k most probable")
    generation.add_argument("--top-p", type=float, help="sample within the nucleus of mass p")
    generation.add_argument("--seed", type=int, help="random seed (reproducible output)")
    generation.add_argument("--max-len", type=int, help="most tokens generated per text")
    seq2seq = parser.add_argument_group("translation and caption bundles")
    seq2seq.add_argument("--beam-width", type=int, help="1 = greedy (default: the bundle's)")
    seq2seq.add_argument("--alpha", type=float, help="length normalization (the bundle's)")
    parser.set_defaults(run=run)


def run(args):
    from seqkeras import runtime

    if args.preset:
        from seqkeras.cli.presets import predict

        return predict(args)
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
