"""Quiet native logs: TensorFlow, absl, oneDNN, XNNPACK and LiteRT write to the process's stderr.

Much of it is written by C++ before any setting is read (absl's "All log messages before
absl::InitializeLog()", the CUDA probe, the CPU-feature banner, LiteRT's "Created TensorFlow
Lite XNNPACK delegate"), so environment variables alone do not silence it. `QuietStderr` puts a
pipe in front of file descriptor 2 and drops those lines; everything else (errors, warnings of
seqkeras, progress bars) passes through unchanged.
"""

from __future__ import annotations

import os
import re
import sys
import threading

# Native log lines that are noise for a command-line user (`seqkeras -v` shows them).
NOISE_PATTERN = (
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\n"
    # absl/glog lines: "I0000 00:00:1796.. 12546 cudart_stub.cc:31] Could not find cuda drivers"
    r"|(?m:^)[IWE]\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] [^\n]*\n"
    r"|(?m:^)To enable the following instructions: [^\n]*\n"  # 2nd line of the CPU-feature banner
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.\n"
    r"|(?m:^)(?:WARNING|INFO):(?:absl|tensorflow):[^\n]*\n"
)
NOISE = re.compile(NOISE_PATTERN.encode())
QUIET_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "3",
}


def quiet_environment() -> None:
    """Asks TensorFlow and gRPC (before they are imported) to log errors only."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


class QuietStderr:
    """A context manager that drops `NOISE` from everything written to file descriptor 2."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> QuietStderr:
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        self._saved = os.dup(2)
        os.dup2(write_end, 2)
        os.close(write_end)
        self._thread = threading.Thread(target=self._pump, args=(read_end,), daemon=True)
        self._thread.start()
        return self

    def _pump(self, read_end: int) -> None:
        pending = b""
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                pending = NOISE.sub(b"", pending + chunk)
                # Hold back the unfinished last line: it may be the start of a noise line.
                cut = max(pending.rfind(b"\n"), pending.rfind(b"\r")) + 1
                self._write(pending[:cut])
                pending = pending[cut:]
        self._write(NOISE.sub(b"", pending))

    def _write(self, data: bytes) -> None:
        try:
            while data and self._saved is not None:
                data = data[os.write(self._saved, data) :]
        except OSError:  # the saved descriptor was closed after a timed-out drain
            pass

    def __exit__(self, *exc_info: object) -> None:
        sys.stderr.flush()
        saved = self._saved
        assert saved is not None and self._thread is not None
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump reads EOF and drains
        self._thread.join(timeout=5)
        os.close(saved)
        self._saved = None
