"""seqkeras.files: atomic writes with the process umask, stale temporaries cleaned."""

import os
import stat
import subprocess
import sys

import pytest

from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_write_text, remove_stale_temporaries, staged_directory


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_files_and_folders_get_the_umask_modes(tmp_path, umask_022):
    written = atomic_write_text(tmp_path / "a" / "f.txt", "x")
    assert mode(written) == 0o644 and mode(tmp_path / "a") == 0o755
    with staged_directory(tmp_path / "bundle") as staging:
        (staging / "inner.json").write_text("{}")
    assert mode(tmp_path / "bundle") == 0o755
    assert mode(tmp_path / "bundle" / "inner.json") == 0o644
    os.umask(0o077)
    assert mode(atomic_write_text(tmp_path / "g.txt", "y")) == 0o600


def test_a_failed_staging_leaves_the_old_folder_and_no_temporaries(tmp_path):
    with staged_directory(tmp_path / "out") as staging:
        (staging / "v").write_text("1")
    with pytest.raises(RuntimeError), staged_directory(tmp_path / "out", overwrite=True) as s:
        (s / "v").write_text("2")
        raise RuntimeError
    assert (tmp_path / "out" / "v").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with pytest.raises(SeqKerasError, match="already exists"), staged_directory(tmp_path / "out"):
        pass


def test_the_leftovers_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    code = (
        "import os, sys\n"
        "from seqkeras.files import staged_directory, atomic_path\n"
        "with staged_directory(sys.argv[1]) as s, atomic_path(sys.argv[2]):\n"
        "    (s / 'half').write_text('x')\n"
        "    os._exit(9)\n"
    )
    target, file = tmp_path / "bundle", tmp_path / "f.txt"
    subprocess.run([sys.executable, "-c", code, str(target), str(file)], check=False)
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert len(leftovers) == 2 and all(name.startswith(".") for name in leftovers)
    alive = tmp_path / f".f.txt.tmp-host-{os.getpid()}-0"  # not this host's tag: kept
    alive.write_text("")
    assert len(remove_stale_temporaries(file)) == 1
    with staged_directory(target) as staging:
        (staging / "whole").write_text("y")
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "bundle"]
