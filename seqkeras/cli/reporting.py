"""Timing and reporting helpers shared by the commands."""

import json
import os
import time

import numpy as np


def print_bundle_table(path):
    """One line per artifact of the bundle at `path`: size, parity with Keras, operators."""
    with open(os.path.join(path, "bundle.json")) as f:
        manifest = json.load(f)
    print(f"{'graph':8} {'artifact':14} {'size':>10}  {'max |diff|':>10}  operators")
    for graph_name, graph in manifest["graphs"].items():
        for artifact in graph["artifacts"].values():
            diffs = artifact.get("verification", {}).get("max_abs_diff", {})
            diff = f"{max(diffs.values()):.1e}" if diffs else "-"
            operators = ", ".join(f"{op}x{n}" for op, n in sorted(artifact["operators"].items()))
            print(
                f"{graph_name:8} {artifact['file']:14} {artifact['bytes']:>8} B  {diff:>10}  "
                f"{operators}"
            )


def median_ms(call, calls):
    return float(np.median(call_times(call, calls))) * 1000


def call_times(call, calls):
    """Seconds per call of `calls` calls, after one warm-up call."""
    call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return np.array(times)
