"""Checkpoint averaging for a g2p run of `benchmarks/g2p_training.py`: the mean of the weights
of the last K epochs, judged by greedy WER/PER on the same validation words as its curve.

    python benchmarks/g2p_average.py --out runs/g2p/task [--last 3]

Every K from 2 to `--last` is tried. The best average replaces the task folder `<out>` only if
it beats the best single epoch; the comparison is appended to `<out>.averages.json` (and read by
`benchmarks/g2p.py` into the attempts table).
"""

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import g2p_training
import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the task folder of the run")
    parser.add_argument("--last", type=int, default=3, help="average up to this many epochs")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)

    from seqkeras.tasks.g2p import G2PTask

    curve = json.loads((out.parent / f"{out.name}.curve.json").read_text())
    task = G2PTask.load(out)
    words = g2p_training.monitor_words(task)
    best = min(curve, key=lambda row: row["val_wer_greedy"])
    rows = [{"epochs": [best["epoch"]], **_pick(best)}]
    epochs = range(len(curve) - args.last + 1, len(curve) + 1)
    weights = [_weights(task, out, epoch) for epoch in epochs]
    for count in range(2, args.last + 1):
        task.model.set_weights([np.mean(w, axis=0) for w in zip(*weights[-count:])])
        scores = task.scores(*g2p_training.references_and_predictions(task, words))
        row = {
            "epochs": list(range(len(curve) - count + 1, len(curve) + 1)),
            "val_wer_greedy": scores["wer"],
            "val_per_greedy": scores["per"],
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    winner = min(rows, key=lambda row: (row["val_wer_greedy"], row["val_per_greedy"]))
    if len(winner["epochs"]) > 1:
        count = len(winner["epochs"])
        task.model.set_weights([np.mean(w, axis=0) for w in zip(*weights[-count:])])
        task.history = {"curve": curve, "averaged_epochs": winner["epochs"]}
        task.save(out)
    record = {
        "validation_words": len({word for word, _ in words}),
        "tried": rows,
        "kept": winner["epochs"],
    }
    (out.parent / f"{out.name}.averages.json").write_text(json.dumps(record, indent=1))
    print(f"kept epochs {winner['epochs']}: greedy validation WER {winner['val_wer_greedy']:.4f}")
    return 0


def _pick(row):
    return {key: row[key] for key in ("val_wer_greedy", "val_per_greedy")}


def _weights(task, out, epoch):
    task.model.load_weights(pathlib.Path(f"{out}.checkpoints") / f"epoch_{epoch:02d}.weights.h5")
    return task.model.get_weights()


if __name__ == "__main__":
    sys.exit(main())
