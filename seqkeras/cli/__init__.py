"""The `seqkeras` command line: one module per command, each with `add_parser` and `run`.

    seqkeras demo [--smoke] [--epochs N] [--out DIR]
    seqkeras train TASK [--smoke] [--epochs N] --out DIR
    seqkeras export DIR [--to tflite,onnx] [--quantize MODE] --out BUNDLE
    seqkeras predict BUNDLE INPUT... [--backend onnx|tflite] [options of the bundle]
    seqkeras serve BUNDLE [--host H] [--port P] [--backend onnx|tflite]
    seqkeras bench BUNDLE [--backend onnx,tflite] [--calls N] [--batch B]
    seqkeras predict --preset g2p-cmudict WORD... [--no-lookup]
    seqkeras presets [--json]

`demo` is the main job: it trains the date-translation model (attention encoder-decoder),
reports held-out exact match, exports it to TFLite and ONNX, translates through LiteRT and ONNX
Runtime without TensorFlow, and prints translations, parity and latency next to Keras's.
`train` fits a task of `seqkeras.tasks` and saves it; `export` turns it (or a folder with a
`model.keras`) into a bundle; `predict`, `serve` and `bench` run a bundle through
`seqkeras.runtime` (no TensorFlow).
"""

import argparse
import os
import sys

from seqkeras.cli import bench, demo, export, predict, presets, serve, train
from seqkeras.errors import SeqKerasError

COMMANDS = (demo, train, export, predict, presets, serve, bench)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="seqkeras", description="Classic sequence models.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    try:
        return args.run(args)
    except SeqKerasError as error:
        print(f"seqkeras {args.command}: {error}", file=sys.stderr)
        return 2
