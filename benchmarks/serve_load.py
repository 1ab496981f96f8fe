"""Serving under load: the old stdlib server vs the ASGI server (with and without batching) vs
in-process `predict`, at several client concurrencies, in one run.

    python benchmarks/serve_load.py [--bundle DIR] [--dates-bundle DIR] [--requests 2000]
                                    [--dates-requests 400] [--levels 1,8,32,128]
                                    [--write benchmarks/RESULTS.md]

Without `--bundle`, a smoke sentiment model is trained and exported first; with
`--dates-bundle` (the bundle `seqkeras demo` exports), the translation bundle is measured too,
one date per request, greedy. The old server is
the stdlib `http.server` one this project shipped before `seqkeras.serving`, read from git
(`git show 11f2dc9~1:seqkeras/serve.py`, the commit before it was replaced, or `--old-ref`),
run in its own process like the others.
The client is a minimal asyncio HTTP/1.1 keep-alive client (one connection per concurrent
client, each sending its share of the requests one after another), so that it costs less CPU
than the servers it measures; it runs on the same machine. Reported per level: requests/s,
median and p99 latency, errors (non-200 answers and failed connections) and, for the new
server, the mean inputs per engine call (from its /metrics).
"""

import argparse
import asyncio
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from results_file import cpu_cores, write_section

TEXTS = [
    "The food was not good .",
    "The staff was friendly .",
    "I loved the service .",
    "The room was dirty and loud .",
]
DATES = ["Saturday 9 May 2018", "3 mars 2021", "14 de abril de 1990", "12/25/1999"]
OLD_SERVER = """
import importlib.util, sys, threading
spec = importlib.util.spec_from_file_location("old_serve", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
server = module.make_server(sys.argv[2], port=0, verbose=False)
print(f"serving on http://127.0.0.1:{server.server_address[1]}/v1/predict", flush=True)
server.serve_forever()
"""


def smoke_bundle(root):
    from seqkeras.tasks.sentiment import SentimentTask

    task = SentimentTask(smoke=True)
    task.fit(verbose=0)
    return task.export(root / "sentiment", formats="onnx", progress=False)


def start(command):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    port = int(re.search(r":(\d+)/v1/predict", line).group(1))
    return process, port


async def request(reader, writer, body):
    writer.write(
        b"POST /v1/predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def client(port, count, texts, latencies, errors):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for index in range(count):
            body = json.dumps({"inputs": [texts[index % len(texts)]]}).encode()
            start = time.perf_counter()
            try:
                status = await request(reader, writer, body)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                errors.append("connection")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def load(port, requests, concurrency, texts=TEXTS):
    latencies, errors = [], []
    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    start = time.perf_counter()
    results = await asyncio.gather(
        *(client(port, share, texts, latencies, errors) for share in shares),
        return_exceptions=True,
    )
    seconds = time.perf_counter() - start
    errors += [repr(r) for r in results if isinstance(r, BaseException)]
    return {
        "rps": len(latencies) / seconds,
        "p50": float(np.median(latencies)) * 1000 if latencies else float("nan"),
        "p99": float(np.percentile(latencies, 99)) * 1000 if latencies else float("nan"),
        "errors": len(errors),
    }


def batch_stats(port):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    values = dict(re.findall(r"^(seqkeras_batch_size_(?:sum|count)) ([0-9.e+]+)$", text, re.M))
    return float(values.get("seqkeras_batch_size_sum", 0)), float(
        values.get("seqkeras_batch_size_count", 0)
    )


def wait_ready(port, texts):
    import http.client

    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/v1/predict", body=json.dumps({"inputs": texts[:1]}))
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server not ready")


def in_process(bundle_path, texts, seconds=3.0):
    from seqkeras import runtime

    bundle = runtime.load(bundle_path)
    rates = {}
    for batch in (1, 32):
        inputs = [texts[i % len(texts)] for i in range(batch)]
        bundle.predict(inputs)
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            bundle.predict(inputs)
            calls += 1
        rates[batch] = calls * batch / (time.perf_counter() - start)
    return rates


def measure(bundle, texts, old_source, levels, requests):
    """[(server, level, result)] for the old server and the ASGI server on one bundle."""
    serve = [sys.executable, "-m", "seqkeras.cli", "serve", bundle, "--port", "0", "--quiet"]
    contenders = {
        "stdlib (old)": [sys.executable, "-c", OLD_SERVER, str(old_source), bundle],
        "asgi, batching": serve,
        "asgi, no batching": [*serve, "--max-batch", "1"],
    }
    rows = []
    for name, command in contenders.items():
        process, port = start(command)
        try:
            wait_ready(port, texts)
            for level in levels:
                before = batch_stats(port) if name.startswith("asgi") else None
                result = asyncio.run(load(port, requests, level, texts))
                if before is not None:
                    after = batch_stats(port)
                    calls = after[1] - before[1]
                    result["batch"] = (after[0] - before[0]) / calls if calls else float("nan")
                rows.append((name, level, result))
                print(name, level, result, flush=True)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", help="a sentiment bundle (default: train a smoke one)")
    parser.add_argument("--dates-bundle", help="a dates bundle (`seqkeras demo`) to measure too")
    parser.add_argument("--requests", type=int, default=2000, help="requests per level")
    parser.add_argument(
        "--dates-requests", type=int, default=400, help="requests per level for dates"
    )
    parser.add_argument("--levels", default="1,8,32,128", help="client concurrencies")
    parser.add_argument(
        "--old-ref", default="11f2dc9~1", help="a git ref that still has seqkeras/serve.py"
    )
    parser.add_argument("--write", help="RESULTS.md to write the section into")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    root = pathlib.Path(tempfile.mkdtemp(prefix="serve_load-"))
    old_source = root / "old_serve.py"
    old_source.write_text(
        subprocess.run(
            ["git", "show", f"{args.old_ref}:seqkeras/serve.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    workloads = {"sentiment": (args.bundle or str(smoke_bundle(root)), TEXTS, args.requests)}
    if args.dates_bundle:
        workloads["dates"] = (args.dates_bundle, DATES, args.dates_requests)
    load_before = os.getloadavg()[0]
    rows = {
        name: measure(path, texts, old_source, levels, requests)
        for name, (path, texts, requests) in workloads.items()
    }
    load_after = os.getloadavg()[0]
    lines = [
        "## Serving under load (`benchmarks/serve_load.py`)",
        "",
        f"Command: `python benchmarks/serve_load.py {' '.join(sys.argv[1:])}` (smoke sentiment "
        "bundle, and the dates demo's bundle when given, greedy; ONNX Runtime; one request = "
        "one input; keep-alive connections; the client on the same machine).",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {cpu_cores()}, shared by the "
        f"servers, the client and the engine threads (1-minute load average {load_before:.1f} "
        f"before the run, {load_after:.1f} after). Targets of issue 12: 0 errors at every "
        "level, keep-alive p50 at concurrency 1 <= 3 ms, >= 2,000 req/s at concurrency 128 "
        "(sentiment) and >= 2x the server without batching.",
        "",
        "| bundle | server | concurrency | req/s | p50 ms | p99 ms | errors | inputs per call |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for workload, measured in rows.items():
        for name, level, r in measured:
            batch = f"{r['batch']:.1f}" if "batch" in r else "-"
            lines.append(
                f"| {workload} | {name} | {level} | {r['rps']:,.0f} | {r['p50']:.1f} | "
                f"{r['p99']:.1f} | {r['errors']} | {batch} |"
            )
    lines.append("")
    for workload, (path, texts, _) in workloads.items():
        ceiling = in_process(path, texts)
        lines.append(
            f"In-process `bundle.predict` on {workload} (the ceiling): {ceiling[1]:,.0f} "
            f"inputs/s one per call, {ceiling[32]:,.0f} inputs/s 32 per call.  "
        )
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "serve_load", "\n".join(lines))


if __name__ == "__main__":
    main()
