"""One date translation end to end on each runtime engine: the dates demo's latency.

    python benchmarks/translation_latency.py --bundle runs/demo/bundle [--rounds 7]
                                             [--batch 1] [--write benchmarks/RESULTS.md]

Loads the bundle `seqkeras demo` exports (encoder and decoder step, TFLite and ONNX) and times
`bundle.predict([date], beam_width=k)`, everything one request costs: preprocessing, the
encoder, every decoder step and the search in Python. Greedy decoding and beam 3, on LiteRT,
ONNX Runtime and the two mixed (`runtime.load(..., backend="encoder=onnx,step=tflite")`), each
with the engine's default threads and with one thread. The contenders are
interleaved round by round; reported: the median over rounds of each round's median of
`--calls` translations (cycling through a few dates), and the share of that time spent inside
the engines (the rest is NumPy and Python). `--batch N` translates N dates per call instead
(the throughput side: one encoder call and one search for all of them), in a section of its own.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import write_section

DATES = ["Saturday 9 May 2018", "3 mars 2021", "14 de abril de 1990", "12/25/1999"]
BACKENDS = {
    "tflite": "LiteRT",
    "onnx": "ONNX Runtime",
    # each graph in the engine that runs it fastest (RESULTS: ORT's encoder, LiteRT's step)
    "encoder=onnx,step=tflite": "ONNX Runtime encoder + LiteRT step",
}


class EngineClock:
    """Wraps the `run` of every engine of a bundle and adds up the seconds spent in it."""

    def __init__(self, bundle):
        self.seconds = 0.0
        for graph in bundle.graphs.values():
            graph.engine.run = self._timed(graph.engine.run)

    def _timed(self, run):
        def timed(arrays):
            start = time.perf_counter()
            try:
                return run(arrays)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def one_round(bundle, clock, beam_width, calls, batch):
    """(median ms of one call, engine share of the time) over `calls` calls of `batch` dates."""
    times = []
    clock.seconds = 0.0
    for call in range(calls):
        dates = [DATES[(call + i) % len(DATES)] for i in range(batch)]
        start = time.perf_counter()
        bundle.predict(dates, beam_width=beam_width)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, clock.seconds / sum(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, help="a dates bundle (seqkeras demo's)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=40, help="calls per round")
    parser.add_argument(
        "--batch", type=int, default=1, help="dates per call (> 1: a section of its own)"
    )
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args(argv)

    from seqkeras import runtime

    contenders = {}
    for backend in BACKENDS:
        for threads in (None, 1):
            bundle = runtime.load(args.bundle, backend=backend, num_threads=threads)
            contenders[backend, threads] = bundle, EngineClock(bundle)
    beams = (1, 3)
    measured = {(key, beam): [] for key in contenders for beam in beams}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for key, (bundle, clock) in contenders.items():
            for beam in beams:
                one_round(bundle, clock, beam, 3, args.batch)  # warm the shapes of this search
                measured[key, beam].append(one_round(bundle, clock, beam, args.calls, args.batch))
    load_after = os.getloadavg()[0]

    one = args.batch == 1
    lines = [
        "## Latency of one date translation on the runtime (issue 15)"
        if one
        else f"## {args.batch} date translations in one call on the runtime (issue 15)",
        "",
        f"Command: `python benchmarks/translation_latency.py {' '.join(sys.argv[1:])}`  ",
        f"Bundle: the dates demo's (`seqkeras demo`: bidirectional LSTM encoder, Bahdanau "
        f"attention, LSTM decoder step). One call: `bundle.predict(dates, beam_width=k)` "
        f"with {args.batch} date(s), preprocessing, encoder, decoder steps and search; median "
        f"over {args.rounds} interleaved rounds of each round's median of {args.calls} calls, "
        f"cycling through {len(DATES)} dates. 2 CPU cores, 1-minute load average "
        f"{load_before:.1f} before, {load_after:.1f} after."
        + (" Target of issue 15: beam 3 <= 1.5 ms on both engines." if one else ""),
        "",
        "| engine | threads | greedy ms | beam 3 ms | share in the engine (beam 3) |",
        "|---|---|---:|---:|---:|",
    ]
    for (backend, threads), _ in contenders.items():
        greedy = statistics.median(ms for ms, _ in measured[(backend, threads), 1])
        beam3 = statistics.median(ms for ms, _ in measured[(backend, threads), 3])
        share = statistics.median(s for _, s in measured[(backend, threads), 3])
        lines.append(
            f"| {BACKENDS[backend]} | {threads or 'default'} | {greedy:.2f} | {beam3:.2f} "
            f"| {share:.0%} |"
        )
    body = "\n".join(lines)
    print(body)
    if args.write:
        marker = "translation_latency" if one else f"translation_latency_batch{args.batch}"
        write_section(args.write, marker, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
