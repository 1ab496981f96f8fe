"""Writing files and folders atomically: a reader sees the old version or the new, never half.

Files and folders are created with the process umask (like `open` and `mkdir` do), so a bundle
written by one user can be served by another where the umask allows it. Temporary names carry
the host and process id of their writer: a later write to the same path removes the leftovers
of a writer that was killed on this host.

Pure Python (the TF-free runtime uses it too).
"""

import contextlib
import hashlib
import os
import pathlib
import secrets
import shutil
import socket

from seqkeras.errors import SeqKerasError


def sha256(path):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir():
    """Where generated data is cached: `$SEQKERAS_CACHE_DIR`, else `~/.cache/seqkeras`."""
    return pathlib.Path(
        os.environ.get("SEQKERAS_CACHE_DIR") or pathlib.Path.home() / ".cache" / "seqkeras"
    )


def _writer_tag():
    return f"{socket.gethostname().replace('.', '_').replace('-', '_')}-{os.getpid()}"


def _temporary_name(path, kind):
    """`.NAME.KIND-HOST-PID-RANDOM.SUFFIX`: hidden, attributable to the process writing it, and
    with `path`'s suffix (writers such as `keras.Model.save` check it)."""
    token = secrets.token_hex(4)
    return path.parent / f".{path.name}.{kind}-{_writer_tag()}-{token}{path.suffix}"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def remove_stale_temporaries(path):
    """Removes the temporary files/folders of `path` left by killed writers on this host.

    Args:
        path: the file or folder whose `.NAME.KIND-HOST-PID-*` siblings are checked.

    Returns:
        The removed paths.
    """
    path = pathlib.Path(path)
    host = _writer_tag().rsplit("-", 1)[0]
    removed: list[pathlib.Path] = []
    if not path.parent.is_dir():
        return removed
    for sibling in path.parent.glob(f".{glob_escape(path.name)}.*-{host}-*-*"):
        try:
            pid = int(sibling.name.rsplit("-", 2)[-2])
        except ValueError:
            continue
        if pid == os.getpid() or _process_alive(pid):
            continue
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    return removed


def glob_escape(name):
    """`name` with the glob metacharacters `*?[` escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _create_file(path):
    """A new empty file with mode 0o666 less the umask (O_EXCL: never an existing file)."""
    while True:
        temporary = _temporary_name(path, "tmp")
        try:
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return temporary
        except FileExistsError:
            continue


def _create_folder(path, kind):
    """A new empty folder with mode 0o777 less the umask."""
    while True:
        temporary = _temporary_name(path, kind)
        try:
            os.mkdir(temporary, 0o777)
            return temporary
        except FileExistsError:
            continue


def scratch_folder(path):
    """A new hidden folder `.NAME.scratch-HOST-PID-*` beside `path`, for temporary files the
    caller removes; those of killed processes on this host are removed here first."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    return _create_folder(path, "scratch")


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` that replaces `path` when the block succeeds.

    The temporary file exists (empty, with the umask's mode) when the block starts. If the
    block raises, `path` is untouched and the temporary file is removed.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise SeqKerasError(f"{path}: is a directory; expected a file path.")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = _create_file(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        pathlib.Path(temporary).unlink(missing_ok=True)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` atomically; returns `path` as a `pathlib.Path`."""
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    return pathlib.Path(path)


def atomic_write_text(path, text):
    """Writes `text` (UTF-8) to `path` atomically; returns `path` as a `pathlib.Path`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def staged_directory(path, overwrite=False):
    """Yields a temporary folder beside `path` that becomes `path` when the block succeeds.

    If the block raises, `path` is untouched and the temporary folder is removed; if the
    process dies, the hidden `.NAME.staging-HOST-PID-*` folder it leaves is removed by the
    next write to `path` on this host.

    Args:
        path: the folder to create.
        overwrite: replace an existing folder at `path`; else an existing one is an error.
    """
    path = pathlib.Path(path)
    if path.exists() and not overwrite:
        raise SeqKerasError(f"{path}: already exists; pass overwrite=True to replace it.")
    if path.exists() and not path.is_dir():
        raise SeqKerasError(f"{path}: exists and is not a folder.")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    staging = _create_folder(path, "staging")
    try:
        yield staging
        if path.exists():
            retired = _create_folder(path, "retired")
            os.replace(path, retired / path.name)
            os.replace(staging, path)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
