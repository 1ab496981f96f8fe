"""Image captioning at full size: training time, held-out BLEU-4 per beam width, error analysis.

    python benchmarks/captioning.py [--epochs N] [--train-size IMAGES] [--out runs/captioning]
                                    [--write benchmarks/RESULTS.md]

Trains the `captioning` task with its default config (see
`seqkeras.tasks.captioning.CaptioningTask`) on CPU, then captions the held-out images
(`seqkeras.datasets.shapes` scenes never seen in training) greedily and with beam search
(B = 1, 3, 5), scores BLEU-4 against both captions of each image with `seqkeras.metrics` and
with sacrebleu (tokenize="none": the two must agree), attributes the errors of the default
beam to the search or the model, checks that the exported bundle gives the Keras captions on
both runtimes, and saves an attention plot. The data is synthetic: there is no published anchor.
"""

import argparse
import importlib.metadata
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import cpu_cores, write_section

BEAM_WIDTHS = (1, 3, 5)
PARITY_IMAGES = 200


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="epochs (default: the task's)")
    parser.add_argument("--train-size", type=int, help="training images (default: the task's)")
    parser.add_argument("--out", default="runs/captioning", help="task, bundle and plot folder")
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args(argv)

    import numpy as np
    import sacrebleu

    from seqkeras import runtime
    from seqkeras.tasks.captioning import CaptioningTask
    from seqkeras.tasks.seq2seq import group_references

    load_before = os.getloadavg()
    overrides = {
        key: value
        for key, value in (("epochs", args.epochs), ("train_size", args.train_size))
        if value is not None
    }
    task = CaptioningTask(overrides, smoke=False)
    start = time.perf_counter()
    data = task.data
    data_seconds = time.perf_counter() - start
    wall, cpu = time.perf_counter(), time.process_time()
    history = task.fit(verbose=2)
    train_seconds = (time.perf_counter() - wall, time.process_time() - cpu)
    task.save(os.path.join(args.out, "task"))

    sources, references = zip(*group_references(data["test"]))
    images, references = np.stack(sources), list(references)
    rows = []
    for beam_width in BEAM_WIDTHS:
        start = time.perf_counter()
        predictions = task.predict(images, beam_width=beam_width)
        seconds = time.perf_counter() - start
        result = task.scores(references, predictions)
        result["sacrebleu"] = sacrebleu.corpus_bleu(
            predictions, [list(stream) for stream in zip(*references)], tokenize="none"
        ).score
        rows.append((beam_width, result, seconds))
        print(f"beam {beam_width}: {result} ({seconds:.1f} s)")
    analysis = task.error_analysis()
    print({k: v for k, v in analysis.items() if k != "rows"})
    for row in analysis["rows"][:10]:
        print({k: v for k, v in row.items() if k != "source"})

    bundle_path = task.export(os.path.join(args.out, "bundle"))
    checked = images[:PARITY_IMAGES]
    expected = task.predict(checked)
    parity = {
        backend: runtime.load(bundle_path, backend=backend).predict(checked) == expected
        for backend in ("onnx", "tflite")
    }
    print(f"runtime captions equal Keras on {len(checked)} images: {parity}")
    plot = task.plot_attention(images[0], os.path.join(args.out, "attention.png"))
    print(f"attention plot of the first held-out image ({expected[0]!r}): {plot}")
    # The two BLEU implementations must agree on the same outputs.
    bleu_agrees = all(
        np.isclose(result["bleu"], result["sacrebleu"], atol=1e-9) for _, result, _ in rows
    )
    print(f"seqkeras corpus_bleu equals sacrebleu's: {bleu_agrees}")

    if args.write:
        timing = {
            "data": data_seconds,
            "train": train_seconds,
            "load": (load_before, os.getloadavg()),
        }
        results = {"rows": rows, "analysis": analysis, "parity": parity, "bleu": bleu_agrees}
        body = report(task, history, timing, results, plot, argv)
        write_section(args.write, "captioning", body)
    return 0


def report(task, history, timing, results, plot, argv):
    c = task.config
    analysis, parity = results["analysis"], results["parity"]
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("tensorflow", "keras", "onnxruntime", "ai-edge-litert", "sacrebleu")
    )
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    images = {name: len(pairs) // 2 for name, pairs in task.data.items()}
    default = type(task).defaults
    changed = [
        f"{key} {c[key]:,} (the default is {default[key]:,})"
        for key in ("epochs", "train_size")
        if c[key] != default[key]
    ]
    wall, cpu = timing["train"]
    (before, *_), (after, *_) = timing["load"]
    lines = [
        "## Image captioning with attention (issue 7)",
        "",
        f"Command: `python benchmarks/captioning.py {arguments}`  ",
        f"Machine: {cpu_cores()}, {versions}; 1-minute load "
        f"average {before:.2f} before, {after:.2f} after.  ",
        f"Data: {images['train']:,} training, {images['validation']:,} validation and "
        f"{images['test']:,} held-out images (32 x 32 scenes of `seqkeras.datasets.shapes`, "
        f"seed {c['seed']}, two correct captions each), generated in {timing['data']:.1f} s. "
        f"Model: CNN ({c['filters']} and {2 * c['filters']} filters, 8 x 8 grid of "
        f"{c['units']} features) and {c['cell'].upper()} decoder with {c['attention']} "
        f"attention, {task.model.count_params():,} parameters; {c['epochs']} epoch(s), batch "
        f"{c['batch_size']}: **{wall:.0f} s of training** (wall; {cpu:.0f} s process CPU), "
        f"final loss {history['loss'][-1]:.4f}, validation loss {history['val_loss'][-1]:.4f}."
        + (f" Not the defaults: {', '.join(changed)}." if changed else ""),
        "",
        "| decoding | BLEU-4 (seqkeras) | BLEU-4 (sacrebleu) | exact match | decode time |",
        "|---|---:|---:|---:|---:|",
    ]
    for beam_width, result, seconds in results["rows"]:
        name = "greedy (B = 1)" if beam_width == 1 else f"beam B = {beam_width}, α = {c['alpha']}"
        lines.append(
            f"| {name} | {result['bleu']:.2f} | {result['sacrebleu']:.2f} | "
            f"{100 * result['exact_match']:.2f}% | {seconds:.1f} s |"
        )
    lines += [
        "",
        "BLEU-4 is corpus BLEU against both captions of each image; `seqkeras.metrics."
        f'corpus_bleu` equals `sacrebleu.corpus_bleu(..., tokenize="none")`: {results["bleu"]}. '
        "Exact match: the caption is one of the image's two. The data is synthetic: no "
        "published anchor.  ",
        f"Error analysis (B = {c['beam_width']}): {analysis['errors']} errors in "
        f"{analysis['examples']} images: {analysis['search']} blamed on the search "
        f"(score(y*) > score(ŷ)), {analysis['model']} on the model.  ",
        f"Exported bundle (TFLite + ONNX): runtime captions equal Keras's (B = "
        f"{c['beam_width']}) on {min(PARITY_IMAGES, images['test'])} held-out images: "
        f"ONNX Runtime {parity['onnx']}, LiteRT {parity['tflite']}.  ",
        f"Attention plot of the first held-out image: `{plot}`.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
