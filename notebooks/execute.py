"""Runs notebooks and writes their outputs into the .ipynb files (`make notebooks`).

The committed outputs come from this script, one notebook at a time, at the size set by
`SEQKERAS_SMOKE` (see notebooks/README.md). CI runs the notebooks with nbmake, which does not
write back.

    SEQKERAS_SMOKE=1 python notebooks/execute.py [NOTEBOOK.ipynb ...] [--timeout SECONDS]
"""

import argparse
import os
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

from seqkeras.cli.logs import NOISE_PATTERN

HERE = pathlib.Path(__file__).resolve().parent
# Dropped from the saved stderr outputs: TensorFlow's native log lines (as the command line
# hides them), and tqdm's note that the executing environment has no Jupyter widgets.
STDERR_NOISE = re.compile(
    NOISE_PATTERN + r"|(?m:^)[^\n]*TqdmWarning: IProgress not found[^\n]*\n"
    r"|(?m:^) +from \.autonotebook import tqdm as notebook_tqdm\n"
)


def clean(notebook):
    """Removes `STDERR_NOISE` from the stderr outputs of `notebook` (and outputs left empty)."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                output["text"] = STDERR_NOISE.sub("", output["text"])
                if not output["text"].strip():
                    continue
            outputs.append(output)
        cell.outputs = outputs
    return notebook


def execute(path, timeout):
    """Executes `path` in its folder with this interpreter's kernel, then replaces the file."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}
    )
    client.execute()
    clean(notebook)
    temporary = path.with_name(f".{path.name}.tmp")
    nbformat.write(notebook, temporary)
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        start = time.perf_counter()
        execute(path.resolve(), args.timeout)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
