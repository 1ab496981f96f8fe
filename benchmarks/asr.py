"""Speech recognition with CTC at full size: held-out-voice CER/WER per decoder, training time.

    python benchmarks/asr.py [--epochs N] [--minutes M] [--train-size N] [--validation-size N]
                             [--set KEY=VALUE ...] [--beam-width B] [--lm-weight A]
                             [--word-bonus B] [--out runs/asr] [--write benchmarks/RESULTS.md]

Trains the `asr` task with its default config (see `seqkeras.tasks.asr.AsrTask`) on CPU:
eSpeak NG utterances of 1-3 digits/commands, validated on voices the training never hears.
`--minutes` stops training when that much wall time has passed (the issue's target: CER <= 10%
on held-out voices after <= 30 minutes of CPU training). The validation CER (best path) is
measured after every `--eval-every` epochs. The held-out utterances are then decoded by best
path, prefix beam search, beam search constrained to the task's words, beam search with a
bigram word LM fitted on the training transcripts, and both; the exported bundle must give
Keras's transcripts on ONNX Runtime and LiteRT.
"""

import argparse
import importlib.metadata
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results_file import cpu_cores, write_section


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="epochs (default: the task's)")
    parser.add_argument("--minutes", type=float, help="stop training after this wall time")
    parser.add_argument("--train-size", type=int, help="training utterances (default: the task's)")
    parser.add_argument("--validation-size", type=int, help="held-out utterances")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another config value (VALUE as JSON), e.g. --set conv_filters=64",
    )
    parser.add_argument("--eval-every", type=int, default=1, help="epochs between CER checks")
    parser.add_argument("--beam-width", type=int, default=8)
    parser.add_argument("--lm-weight", type=float, default=0.5, help="α of the word LM")
    parser.add_argument("--word-bonus", type=float, default=1.5, help="β per word")
    parser.add_argument("--out", default="runs/asr", help="where the task, bundle and plot go")
    parser.add_argument("--write", metavar="RESULTS_MD", help="update this file's section")
    args = parser.parse_args(argv)

    import keras

    from seqkeras import decoding, metrics, runtime
    from seqkeras.tasks.asr import AsrTask

    overrides = {
        key: value
        for key, value in (
            ("epochs", args.epochs),
            ("train_size", args.train_size),
            ("validation_size", args.validation_size),
        )
        if value is not None
    }
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    task = AsrTask(overrides, smoke=False)
    start = time.perf_counter()
    data = task.data
    synthesis_seconds = time.perf_counter() - start
    references = [example.text for example in data["validation"]]
    waveforms = [example.audio for example in data["validation"]]

    class Monitor(keras.callbacks.Callback):
        """Best-path validation CER every `--eval-every` epochs; stops at the time budget."""

        def __init__(self):
            super().__init__()
            self.curve, self.decode_seconds, self.stopped = [], 0.0, False

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if args.minutes is not None and time.perf_counter() - self.start > 60 * args.minutes:
                self.model.stop_training = self.stopped = True

        def on_epoch_end(self, epoch, logs=None):
            last = self.stopped or epoch + 1 == self.params["epochs"]
            if (epoch + 1) % args.eval_every and not last:
                return
            start = time.perf_counter()
            value = metrics.cer(references, task.predict(waveforms))
            self.decode_seconds += time.perf_counter() - start
            self.curve.append((epoch + 1, value))
            print(f"epoch {epoch + 1}: validation CER {value:.4f}", flush=True)

    monitor = Monitor()
    start, start_cpu = time.perf_counter(), time.process_time()
    task.fit(verbose=2, callbacks=[monitor])
    train_seconds = time.perf_counter() - start
    train_cpu_seconds = time.process_time() - start_cpu
    task.save(os.path.join(args.out, "task"))

    lm = decoding.WordNgramLM(order=2).fit([example.text for example in data["train"]])
    beam = {"beam_width": args.beam_width}
    scored = {"lm": lm, "lm_weight": args.lm_weight, "word_bonus": args.word_bonus}
    decoders = {
        "best path": {},
        f"beam B = {args.beam_width}": beam,
        "beam + lexicon": {**beam, "lexicon": True},
        "beam + bigram LM": {**beam, **scored},
        "beam + lexicon + bigram LM": {**beam, "lexicon": True, **scored},
    }
    logits, frames = task.transcriber.logits(waveforms)
    rows = []
    for name, options in decoders.items():
        start = time.perf_counter()
        hypotheses = task.transcriber.decode(logits, frames, **options)
        seconds = time.perf_counter() - start
        cer, wer = metrics.cer(references, hypotheses), metrics.wer(references, hypotheses)
        rows.append((name, cer, wer, seconds))
        print(f"{name}: CER {cer:.4f}, WER {wer:.4f} ({seconds:.1f} s)")

    bundle_path = task.export(os.path.join(args.out, "bundle"))
    parity = {}
    for backend in ("onnx", "tflite"):
        bundle = runtime.load(bundle_path, backend=backend)
        parity[backend] = all(
            bundle.predict(waveforms, **options) == task.predict(waveforms, **options)
            for options in (decoders["best path"], decoders["beam + lexicon + bigram LM"])
        )
    print(f"runtime transcripts equal Keras on {len(waveforms)} utterances: {parity}")
    plot_curve(monitor.curve, os.path.join(args.out, "validation_cer.png"))

    if args.write:
        timing = (synthesis_seconds, train_seconds, train_cpu_seconds)
        body = report(task, timing, monitor, lm, rows, parity, args, argv)
        write_section(args.write, "asr", body)
    return 0


def plot_curve(curve, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqkeras.plotting import save_figure

    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(*zip(*curve), "o-")
    axis.set(xlabel="epoch", ylabel="CER (best path)", title="Held-out-voice CER")
    save_figure(figure, path)
    plt.close(figure)


def report(task, timing, monitor, lm, rows, parity, args, argv):
    from seqkeras.datasets.speech import HELD_OUT_VOICES, TRAIN_VOICES

    synthesis_seconds, train_seconds, train_cpu_seconds = timing
    c = task.config
    epochs = len(task.history["loss"])
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("tensorflow", "keras", "espeakng-loader")
    )
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    defaults = type(task).defaults
    changed = {k: v for k, v in c.items() if k != "words" and v != defaults[k]}
    front_end = (
        f"{c['conv_layers']} x Conv1D({c['conv_filters']}, stride 2) front-end, "
        if c["conv_filters"]
        else ""
    )
    stopped = f", stopped by the {args.minutes:g}-minute budget" if monitor.stopped else ""
    lines = [
        "## Speech recognition with CTC (issue 8)",
        "",
        f"Command: `python benchmarks/asr.py {arguments}`  ",
        f"Machine: {cpu_cores()}, {versions}.  ",
        f"Data: {c['train_size']:,} training utterances ({len(TRAIN_VOICES)} voices) and "
        f"{c['validation_size']:,} held-out utterances ({len(HELD_OUT_VOICES)} other voices) "
        f"of 1-{c['max_words']} words from "
        f"{len(c['words'])}, synthesized in {synthesis_seconds:.0f} s. Config changes from the "
        f"defaults: {changed or 'none'}. Model: {front_end}{c['num_layers']} x bidirectional "
        f"{c['cell'].upper()} ({c['units']} units per direction), "
        f"{task.model.count_params():,} parameters; {epochs} epochs{stopped}, batch "
        f"{c['batch_size']}: **{train_seconds / 60:.1f} min of training wall time, "
        f"{train_cpu_seconds / 60:.1f} min of process CPU time** (including "
        f"{monitor.decode_seconds:.0f} s of validation decoding; 1-minute load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end).",
        "",
        "| decoding | CER | WER | decode time |",
        "|---|---:|---:|---:|",
    ]
    for name, cer, wer, seconds in rows:
        lines.append(f"| {name} | {100 * cer:.2f}% | {100 * wer:.2f}% | {seconds:.1f} s |")
    lines += [
        "",
        f"Word LM: add-k (k = {lm.k:g}) bigram of the training transcripts, α = {args.lm_weight}, "
        f"β = {args.word_bonus} per word. Target: CER ≤ 10% on held-out voices after ≤ 30 "
        "minutes of CPU training.  ",
        "Validation CER (best path) per epoch: "
        + ", ".join(f"{epoch}: {100 * value:.1f}%" for epoch, value in monitor.curve)
        + ".  ",
        "Exported bundle (TFLite + ONNX): runtime transcripts equal Keras's on the held-out "
        f"utterances (best path and beam + lexicon + LM): ONNX Runtime {parity['onnx']}, "
        f"LiteRT {parity['tflite']}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
