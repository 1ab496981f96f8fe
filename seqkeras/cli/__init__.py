"""The `seqkeras` command line: one module per command, each with `add_parser` and `run`.

    seqkeras --version
    seqkeras [-v] demo [--smoke] [--epochs N] [--out DIR]
    seqkeras train TASK [--smoke] [--epochs N] [--strategy default|mirrored|multiworker]
                   [--resume] [--overwrite] [--backup-every N] --out DIR
    seqkeras export DIR|MODEL.keras [--to tflite,onnx] [--quantize MODE] --out BUNDLE
    seqkeras predict BUNDLE INPUT... [--backend onnx|tflite] [--json] [--scores] [options]
    seqkeras serve BUNDLE [--host H] [--port P] [--backend onnx|tflite] [--workers N]
                   [--ray --replicas N [--address ADDR]]
    seqkeras bench BUNDLE [--backend onnx,tflite] [--calls N] [--batch B] [--json]
    seqkeras predict --preset g2p-cmudict WORD... [--no-lookup]
    seqkeras presets [--json]

`demo` is the main job: it trains the date-translation model (attention encoder-decoder),
reports held-out exact match, exports it to TFLite and ONNX, translates through LiteRT and ONNX
Runtime without TensorFlow, and prints translations, parity and latency next to Keras's.
`train` fits a task of `seqkeras.tasks` and saves it; `export` turns it (or a folder with a
`model.keras`) into a bundle; `predict`, `serve` and `bench` run a bundle through
`seqkeras.runtime` (no TensorFlow).

On the command line, TensorFlow/absl/oneDNN/XNNPACK/LiteRT log lines are hidden (`-v` anywhere
on the line shows them, and the traceback of an unexpected error); a bad argument or bad input
is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from collections.abc import Sequence

import seqkeras
from seqkeras.cli import bench, demo, export, predict, presets, serve, train
from seqkeras.cli.logs import QuietStderr, quiet_environment
from seqkeras.cli.parsing import USAGE_ERROR, ArgumentParser
from seqkeras.errors import SeqKerasError

COMMANDS = (demo, train, export, predict, presets, serve, bench)


def build_parser() -> ArgumentParser:
    """The `seqkeras` parser with every command of `COMMANDS` (each adds its own sub-parser)."""
    parser = ArgumentParser(prog="seqkeras", description="Classic sequence models.")
    parser.add_argument("--version", action="version", version=f"seqkeras {seqkeras.__version__}")
    show_logs = {"action": "store_true", "help": "show TensorFlow/LiteRT logs and tracebacks"}
    parser.add_argument("-v", "--show-logs", **show_logs)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    for subparser in commands.choices.values():
        # SUPPRESS: a sub-parser's default must not overwrite a `-v` given before the command.
        subparser.add_argument("-v", "--show-logs", default=argparse.SUPPRESS, **show_logs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns the exit status.

    Args:
        argv: the arguments (default: `sys.argv[1:]`, the command-line use: native log lines
            are then filtered from stderr unless `-v`, and an unexpected exception is one line
            with exit status 1; a caller passing `argv` gets the exception).

    Returns:
        0 on success, 2 for a bad argument or input (`SeqKerasError`), 1 for any other error.
    """
    command_line = argv is None
    args = build_parser().parse_args(argv)
    if not args.show_logs:
        quiet_environment()
    quiet = command_line and not args.show_logs
    with QuietStderr() if quiet else contextlib.nullcontext():
        try:
            return args.run(args)
        except SeqKerasError as error:
            print(f"seqkeras {args.command}: {error}", file=sys.stderr)
            return USAGE_ERROR
        except KeyboardInterrupt:
            return 130
        except Exception as error:
            if not command_line:
                raise
            if args.show_logs:
                traceback.print_exc()
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            print(
                f"seqkeras {args.command}: internal error: {reason} (-v shows the traceback)",
                file=sys.stderr,
            )
            return 1
