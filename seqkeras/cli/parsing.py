"""The argument parsers of the command line: one-line errors, and options among positionals."""

import argparse

USAGE_ERROR = 2


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (`PROG: error: ...`) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class IntermixedParser(ArgumentParser):
    """An `ArgumentParser` that lets options and positional arguments come in any order."""

    _parsing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._parsing:  # parse_known_intermixed_args calls back in here
            return super().parse_known_args(args, namespace)
        self._parsing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._parsing = False


def backend_argument(text: str) -> str:
    """`--backend`: an engine (onnx, tflite), or one per graph (`encoder=onnx,step=tflite`)."""
    from seqkeras.runtime.engines import ENGINES

    engines = [part.partition("=")[2] if "=" in part else part for part in text.split(",")]
    if not all(engine in ENGINES for engine in engines):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected {' or '.join(ENGINES)}, or one per graph such as "
            "encoder=onnx,step=tflite"
        )
    return text
