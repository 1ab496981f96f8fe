"""`seqkeras demo`: train the date-translation model, export it, run it without TensorFlow."""

import os
import time

from seqkeras.cli.reporting import median_ms, print_bundle_table
from seqkeras.errors import SeqKerasError

DEMO_INPUTS = ("Saturday 9 May 2018", "3 mars 2021", "09/05/18", "le 14 juillet 1989")


def add_parser(commands):
    parser = commands.add_parser("demo", help="train the demo model and report")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny data and one epoch (also SEQKERAS_SMOKE=1)"
    )
    parser.add_argument("--epochs", type=int, help="number of epochs")
    parser.add_argument("--out", default="runs/demo", help="output folder")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    parser.set_defaults(run=run)


def translatable(task, text):
    """Whether the model's vocabulary covers `text` (a smoke-size model sees few characters)."""
    try:
        task.preprocessor.encode_sources([text])
    except SeqKerasError:
        return False
    return True


def run(args):
    from seqkeras import runtime
    from seqkeras.tasks.dates import DatesTask

    task = DatesTask(
        {} if args.epochs is None else {"epochs": args.epochs}, smoke=args.smoke or None
    )
    config = task.config
    print(
        f"Date translation: {config['train_size']} training pairs, {config['test_size']} held "
        f"out; {config['cell']} encoder-decoder with {config['attention']} attention."
    )
    start = time.perf_counter()
    task.fit(verbose=args.verbose)
    seconds = time.perf_counter() - start
    results = task.evaluate(beam_width=1)
    print(
        f"\nTrained in {seconds:.0f} s. Held-out exact match {results['exact_match']:.2%} "
        f"(greedy), BLEU {results['bleu']:.1f}."
    )
    task.save(os.path.join(args.out, "task"))
    bundle_path = task.export(os.path.join(args.out, "bundle"))
    print(f"\nBundle {bundle_path}, run without TensorFlow by seqkeras.runtime:")
    print_bundle_table(bundle_path)

    held_out = [source for source, _ in task.data["test"]]
    inputs = [text for text in DEMO_INPUTS if translatable(task, text)] + held_out[:4]
    engines = {"keras": task.predict}
    for backend in ("tflite", "onnx"):
        engines[backend] = runtime.load(bundle_path, backend=backend).predict
    outputs = {name: predict(inputs) for name, predict in engines.items()}
    print(f"\n{'input':28} " + " ".join(f"{name:12}" for name in engines))
    for index, text in enumerate(inputs):
        print(f"{text:28} " + " ".join(f"{outputs[name][index]:12}" for name in engines))
    parity = {name: outputs[name] == outputs["keras"] for name in engines}
    checked = held_out[:100]
    reference = task.predict(checked)
    for name in ("tflite", "onnx"):
        parity[name] = parity[name] and engines[name](checked) == reference
    print(f"Same strings as Keras on {len(inputs) + len(checked)} inputs: {parity}")
    calls = 5 if task.smoke else 50
    print("Latency of one translation (beam search, median):")
    for name, predict in engines.items():
        print(f"  {name:8} {median_ms(lambda predict=predict: predict(inputs[:1]), calls):9.2f} ms")
    heatmap = os.path.join(args.out, "attention.png")
    task.plot_attention(inputs[0], heatmap)
    print(f"Attention heatmap of {inputs[0]!r}: {heatmap}")
    if not all(parity.values()):
        raise SeqKerasError("demo: an exported model disagreed with Keras (see above).")
    return 0
