"""LiteRT with and without its default delegate (XNNPACK), per TFLite route (issue 15).

Why the fused UNIDIRECTIONAL_SEQUENCE_LSTM route is slower than the WHILE route: each TFLite
file is run by interpreters that differ in one setting (the default delegates, the delegates'
latest features, none), with 1 and 2 threads, side by side in interleaved rounds, and the
nodes XNNPACK took over are counted from the interpreter's own VERBOSE log line ("Replacing N out
of M node(s) with delegate ... for subgraph S"), which LiteRT prints when its minimum log
severity is lowered. Python's `_get_ops_details()` sees only the main subgraph, not the WHILE
bodies, hence the log. Used by `export_latency.py --delegation`.
"""

import contextlib
import ctypes
import functools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tqdm import tqdm

SETTINGS = {
    "XNNPACK (default)": {},
    "XNNPACK, latest features": {"experimental_default_delegate_latest_features": True},
    "no delegate (builtin kernels)": {
        "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    },
}
DEFAULT, LATEST, BUILTIN = SETTINGS
LOGGER_LIBRARY = "libpywrap_litert_common.so"
SEVERITY_SYMBOLS = (  # tflite::logging_internal::MinimalLogger::minimum_log_severity_, both copies
    "_ZN6tflite16logging_internal13MinimalLogger21minimum_log_severity_E",
    "_ZN12_GLOBAL__N_113MinimalLogger21minimum_log_severity_E",
)
REPLACING = re.compile(
    r"Replacing (\d+) out of (\d+) node\(s\) with delegate \((\w+)\) node, yielding \d+ "
    r"partitions for subgraph (\d+)"
)


@functools.cache
def severity_flags():
    """The LiteRT logger's minimum-severity variables as ctypes ints, [] where not found."""
    with open("/proc/self/maps") as maps:
        library = next(
            (
                (int(fields[0].split("-")[0], 16), fields[5])
                for fields in map(str.split, maps)
                if len(fields) == 6
                and fields[5].endswith(LOGGER_LIBRARY)
                and int(fields[2], 16) == 0
            ),
            None,
        )
    if library is None:
        return []
    base, path = library
    try:
        symbols = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    values = [line.split() for line in symbols.splitlines()]
    return [
        ctypes.c_int.from_address(base + int(value[0], 16))
        for value in values
        if len(value) == 3 and value[2] in SEVERITY_SYMBOLS
    ]


@contextlib.contextmanager
def verbose_log(lines):
    """Appends to `lines` what LiteRT logs (VERBOSE included) to stderr inside the block;
    yields whether the VERBOSE level could be set."""
    flags = severity_flags()
    before = [flag.value for flag in flags]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as log:
        os.dup2(log.fileno(), 2)
        for flag in flags:
            flag.value = 0  # TFLITE_LOG_VERBOSE
        try:
            yield bool(flags)
        finally:
            for flag, value in zip(flags, before):
                flag.value = value
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            lines.extend(log.read().splitlines())


def operators_per_subgraph(path):
    """Number of operators in each subgraph of the TFLite file at `path`."""
    with open(path, "rb") as f:
        model = schema.Model.GetRootAs(f.read(), 0)
    return [model.Subgraphs(i).OperatorsLength() for i in range(model.SubgraphsLength())]


def interpreter_call(path, x, threads, setting):
    """A call as `LiteRTEngine` makes it (variables reset, input set, invoke, output copied),
    and the nodes each delegate replaced per subgraph (None where the log is unreadable)."""
    lines = []
    with verbose_log(lines) as readable:
        interpreter = Interpreter(model_path=path, num_threads=threads, **SETTINGS[setting])
        interpreter.allocate_tensors()
    replaced = {int(m[4]): int(m[1]) for m in map(REPLACING.search, lines) if m}
    replaced = replaced if readable else None
    (source,) = interpreter.get_input_details()
    (target,) = interpreter.get_output_details()

    def call():
        interpreter.reset_all_variables()
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(target["index"]).copy()

    return call, replaced


def measure(paths, x, reference, threads, rounds, calls):
    """Per (route, threads, setting): median ms, calls, max abs diff to `reference`, the
    delegated nodes per subgraph."""
    contenders, replaced = {}, {}
    for label, path in paths.items():
        for count in threads:
            for setting in SETTINGS:
                key = (label, count, setting)
                contenders[key], replaced[key] = interpreter_call(path, x, count, setting)
    diffs = {key: float(np.abs(call() - reference).max()) for key, call in contenders.items()}
    times = {key: [] for key in contenders}
    for _ in tqdm(range(rounds), desc="delegation", leave=False):
        for key, call in contenders.items():
            for _ in range(calls):
                start = time.perf_counter()
                call()
                times[key].append(time.perf_counter() - start)
    medians = {key: statistics.median(t) * 1000 for key, t in times.items()}
    return medians, {key: len(t) for key, t in times.items()}, diffs, replaced


def delegated(replaced, operators):
    """'delegated of total' with the subgraphs XNNPACK took nodes from."""
    if replaced is None:
        return f"? of {sum(operators)} (LiteRT's log level not found)"
    parts = ", ".join(f"{i}: {n}/{operators[i]}" for i, n in sorted(replaced.items()))
    return f"{sum(replaced.values())} of {sum(operators)}" + (f" ({parts})" if parts else "")


def table(paths, threads, medians, counts, diffs, replaced):
    lines = [
        "| route | threads | ops delegated (subgraph: nodes) | "
        + " | ".join(f"{setting} (ms)" for setting in SETTINGS)
        + " | no delegate / XNNPACK | calls | max abs diff |",
        "|---|---:|---|" + "---:|" * (len(SETTINGS) + 3),
    ]
    for label, path in paths.items():
        operators = operators_per_subgraph(path)
        for count in threads:
            key = {setting: (label, count, setting) for setting in SETTINGS}
            cells = " | ".join(f"{medians[key[s]]:.3f}" for s in SETTINGS)
            lines.append(
                f"| {label} | {count} | {delegated(replaced[key[DEFAULT]], operators)} | {cells} "
                f"| {medians[key[BUILTIN]] / medians[key[DEFAULT]]:.2f}x "
                f"| {counts[key[DEFAULT]]} | {max(diffs[k] for k in key.values()):.1e} |"
            )
    lines.append("")
    for kind in ("float32", "dynamic int8"):
        keys = [k for k in medians if ("int8" in k[0]) == (kind != "float32")]
        for setting in (DEFAULT, BUILTIN):
            ms, (label, count, _) = min((medians[k], k) for k in keys if k[2] == setting)
            lines.append(
                f"Fastest {kind} route with {setting}: {label}, {count} thread(s), {ms:.3f} ms.  "
            )
    return lines
