"""Every ```python block of README.md runs as written, in a fresh process and an empty folder."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"^```python\n(.*?)^```$", (ROOT / "README.md").read_text(), re.M | re.S)


def first_line(block):
    return next(line for line in block.splitlines() if line.strip() and not line.startswith("#"))


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", block],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert result.returncode == 0, f"{first_line(block)}...\n{result.stderr[-3000:]}"
