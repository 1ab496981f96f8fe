"""Generation speed (Keras step model vs ONNX Runtime vs LiteRT) and word-LM perplexity.

Trains the `word_lm` and `music` tasks at their full-size defaults (the number of epochs may
be lowered with --epochs; the table says what was used), exports each, and times generating
200 tokens at batch 1 through the shared `StepDecoder` step function plus the shared sampler
(temperature 1): the Keras path is the task's own `tf.function` step model, the others the
exported bundle through `seqkeras.runtime`. Generation does not stop at `<eos>` (the stream
continues), so every run is exactly 200 steps. Contenders run in turns, round after round;
each figure is the median over rounds. The three paths must draw the same 200 tokens.

    python benchmarks/generation.py [--epochs N] [--rounds 5] [--threads 1] [--smoke]
                                    [--tasks word_lm,music] [--write benchmarks/RESULTS.md]
"""

import argparse
import importlib.metadata
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import onnxruntime
import tensorflow as tf
from results_file import cpu_cores, write_section
from tqdm import tqdm

from seqkeras import decoding, runtime, tasks

TOKENS = 200
TASKS = ("word_lm", "music")


def generate_tokens(decoder, seed, count=TOKENS):
    """`count` tokens drawn at temperature 1 from `<sos>` on, fed back without stopping."""
    sampler = decoding.get_sampler(temperature=1.0)
    rng = np.random.default_rng(seed)
    state = decoder.initial_state()
    token, tokens = decoder.preprocessor.vocabulary.sos_id, []
    for _ in range(count):
        log_probs, state = decoder.step_fn([token], state)
        token = sampler(np.exp(log_probs[0]), rng=rng)
        tokens.append(token)
    return tokens


def train(name, epochs, smoke):
    task = tasks.get(name)(smoke=smoke)
    start = time.perf_counter()
    task.fit(epochs=epochs, verbose=2)
    minutes = (time.perf_counter() - start) / 60
    validation = task.data["validation"]
    return task, {
        "train_minutes": minutes,
        "epochs": len(task.history["loss"]),
        "examples": (len(task.data["train"]), len(validation)),
        "tokens": sum(len(task.preprocessor.encode(text)) + 1 for text in validation),
        "perplexity": task.perplexity(validation),
        "unigram": task.unigram_baseline(validation),
        "parameters": task.model.count_params(),
    }


def measure(task, folder, rounds, threads):
    """Median tokens/s per contender over `rounds` interleaved rounds, and token equality."""
    bundle_dir = task.export(os.path.join(folder, task.name), progress=False)
    decoders = {"Keras step model (`tf.function`)": task.decoder()}
    for backend, label in (("onnx", "runtime, ONNX Runtime"), ("tflite", "runtime, LiteRT")):
        bundle = runtime.load(bundle_dir, backend=backend, num_threads=threads)
        decoders[label] = bundle.decoder
    reference = generate_tokens(next(iter(decoders.values())), seed=0)
    same = {label: generate_tokens(d, seed=0) == reference for label, d in decoders.items()}
    seconds = {label: [] for label in decoders}
    for round_index in tqdm(range(rounds), desc=f"{task.name} generation", leave=False):
        for label, decoder in decoders.items():
            start = time.perf_counter()
            generate_tokens(decoder, seed=round_index)
            seconds[label].append(time.perf_counter() - start)
    return {label: TOKENS / statistics.median(s) for label, s in seconds.items()}, same


def config_summary(task):
    c = task.config
    cell = f"{c['num_layers']}x {'peephole ' if c['peephole'] else ''}{c['cell'].upper()}"
    return (
        f"{cell} {c['units']} units, embedding {c['embedding_dim']}, vocabulary "
        f"{len(task.preprocessor.vocabulary)}"
    )


def report(results, args, command):
    litert = importlib.metadata.version("ai-edge-litert")
    lines = [
        "## Generation: Keras vs ONNX Runtime vs LiteRT, and word-LM perplexity (issue 4)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {cpu_cores()}, 1-minute load average "
        f"{os.getloadavg()[0]:.1f} at the end, TensorFlow {tf.__version__}, Keras "
        f"{keras.__version__}, ONNX Runtime {onnxruntime.__version__}, ai-edge-litert "
        f"{litert}.  ",
        f"{TOKENS}-token generation at batch 1 from `<sos>`, temperature 1, not stopping at "
        "`<eos>`: per token one step-graph call + log-softmax + the shared NumPy sampler "
        f"(`StepDecoder.step_fn`). Engines and TensorFlow on {args.threads} thread(s); median "
        f'over {args.rounds} interleaved rounds. "same tokens": the contender drew exactly '
        "the Keras path's 200 tokens for seed 0.",
        "",
        "| task | model | contender | tokens/s | vs Keras | same tokens |",
        "|---|---|---|---:|---:|---|",
    ]
    for name, (task, _, speeds, same) in results.items():
        keras_speed = next(iter(speeds.values()))
        for label, speed in speeds.items():
            lines.append(
                f"| {name} | {config_summary(task)} | {label} | {speed:,.0f} | "
                f"{speed / keras_speed:.1f}x | {'yes' if same[label] else 'NO'} |"
            )
    lines += [
        "",
        "Held-out quality (validation split of each task, the model trained here):",
        "",
        "| task | data (train / held out) | epochs | training time | parameters | held-out "
        "tokens | perplexity | add-one unigram perplexity |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    units = {"word_lm": "sentences", "music": "chorale melodies"}
    for name, (_, quality, _, _) in results.items():
        train_count, held_out = quality["examples"]
        lines.append(
            f"| {name} | {train_count} / {held_out} {units[name]} | {quality['epochs']} | "
            f"{quality['train_minutes']:.1f} min | {quality['parameters']:,} | "
            f"{quality['tokens']:,} | {quality['perplexity']:.1f} | {quality['unigram']:.1f} |"
        )
    lines += [
        "",
        "Perplexity counts every word (or event) and `<eos>`, through the exported step "
        "model's Keras twin (`task.perplexity`). The word LM is the `word_lm` defaults (Lee "
        "corpus sentences of at most 40 words, vocabulary 5,000 with min_freq 2, 10% held "
        "out); the Lee corpus is small (~2,400 sentences), so this is a small-data figure.",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, help="epochs per task (default: task defaults)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated")
    parser.add_argument("--smoke", action="store_true", help="tiny tasks, to try the script")
    parser.add_argument("--write", help="RESULTS.md to write the section to")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.tasks.split(","):
            task, quality = train(name, args.epochs, args.smoke)
            speeds, same = measure(task, folder, args.rounds, args.threads)
            results[name] = (task, quality, speeds, same)
            print(name, quality, speeds, same)
    body = report(results, args, "python " + " ".join(sys.argv))
    print(body)
    if args.write:
        write_section(args.write, "generation", body)


if __name__ == "__main__":
    main()
