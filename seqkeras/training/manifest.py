"""The manifest of a task folder: SHA-256 and size per file, written last, checked on load.

A save that was killed part way leaves no manifest (it is removed before the first file is
replaced and written after the last), and a truncated or edited file no longer matches its
digest: `verify` refuses both, naming the file.
"""

import json
import pathlib

from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_write_text, sha256

NAME = "manifest.json"


def write(directory, names):
    """Writes `directory/manifest.json` for the files `names`; returns its path."""
    directory = pathlib.Path(directory)
    files = {
        name: {"sha256": sha256(directory / name), "bytes": (directory / name).stat().st_size}
        for name in names
    }
    return atomic_write_text(directory / NAME, json.dumps({"files": files}, indent=1))


def verify(directory, names):
    """Checks that `directory` holds the files `names` as its manifest recorded them.

    Raises:
        SeqKerasError: no (readable) manifest, or a file missing, resized or changed.
    """
    directory = pathlib.Path(directory)
    try:
        files = json.loads((directory / NAME).read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        raise SeqKerasError(
            f"{directory}: no {NAME} (the save did not finish, or the folder was written by "
            "something else); save the task again."
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise SeqKerasError(f"{directory / NAME}: unreadable ({error}).") from None
    for name in names:
        path = directory / name
        expected = files.get(name)
        if expected is None:
            raise SeqKerasError(f"{path}: not listed in {NAME}.")
        if not path.is_file():
            raise SeqKerasError(f"{path}: missing (listed in {NAME}).")
        size = path.stat().st_size
        if size != expected["bytes"]:
            raise SeqKerasError(
                f"{path}: {size} bytes, {NAME} says {expected['bytes']} (truncated or replaced)."
            )
        if sha256(path) != expected["sha256"]:
            raise SeqKerasError(f"{path}: SHA-256 differs from {NAME} (the file was changed).")
