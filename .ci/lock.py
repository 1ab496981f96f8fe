"""Prints constraints.txt: today's versions of everything `pip install ".[dev]"` brings.

Resolves with pip (`--dry-run --report`, nothing is installed) and writes the pins, sorted, with
the header that says what the file is. Run by `make constraints`.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADER = """\
# Today's tested versions of every package that `pip install -c constraints.txt ".[dev]"` brings
# (Python 3.11, Linux x86-64). `make` and `.ci/run` install with it so that CI is reproducible;
# setup.cfg keeps the ranges a library publishes. Regenerate: `make constraints`.
"""


def main():
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "report.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--report",
                str(report),
                ".[dev]",
            ],
            cwd=ROOT,
            check=True,
        )
        installs = json.loads(report.read_text())["install"]
    pins = sorted(
        (item["metadata"]["name"], item["metadata"]["version"])
        for item in installs
        if item["metadata"]["name"] != "seqkeras"
    )
    sys.stdout.write(
        HEADER
        + "".join(
            f"{name}=={version}\n" for name, version in sorted(pins, key=lambda p: p[0].lower())
        )
    )


if __name__ == "__main__":
    main()
