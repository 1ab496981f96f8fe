"""Runs notebooks and writes their outputs into the .ipynb files (`make notebooks`).

The committed outputs come from this script, one notebook at a time, at the size set by
`SEQKERAS_SMOKE` (see notebooks/README.md). CI runs the notebooks with nbmake, which does not
write back.

    SEQKERAS_SMOKE=1 python notebooks/execute.py [NOTEBOOK.ipynb ...] [--timeout SECONDS]
"""

import argparse
import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent


def execute(path, timeout):
    """Executes `path` in its folder with this interpreter's kernel, then replaces the file."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}
    )
    client.execute()
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
