"""DNA sequences in NumPy: one-hot bases, and motif tags plus a class per sequence.

The same classes serve the `dna` task (its Keras model wrapped to return NumPy arrays) and the
TF-free runtime (a bundle's graph), so both give the same answers:

    dna: {"bases": (n, T, 4) float32 one-hot, 0-padded}
         -> {"tags": (n, T, len(tags)), "label": (n, len(labels))} probabilities
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.metrics.entity_f1 import entity_spans
from seqkeras.runtime.bundle import Bundle, register_pipeline
from seqkeras.runtime.pipelines.labeling import ClassLabels, TagLabels, split_inputs
from seqkeras.text.preprocessor import Preprocessor
from seqkeras.text.vocabulary import PAD_TOKEN

# One-hot rows of A, C, G, T and N (any base: 0.25 each, the expected one-hot of an unknown
# base, so a real step is never all zero and the model's Masking(0.0) masks padding only).
DNA_ONE_HOT = {
    "A": (1.0, 0.0, 0.0, 0.0),
    "C": (0.0, 1.0, 0.0, 0.0),
    "G": (0.0, 0.0, 1.0, 0.0),
    "T": (0.0, 0.0, 0.0, 1.0),
    "N": (0.25, 0.25, 0.25, 0.25),
}
_NOT_DNA = re.compile(r"[^ACGTNacgtn]")


def dna_bases(sequence: object) -> str:
    """`sequence` in upper case, checked to be DNA: A, C, G, T and N, in any case (lower case
    is the soft-masking of genome files).

    Raises:
        SeqKerasError: `sequence` is not a string or holds another character (RNA's U,
            IUPAC codes other than N, whitespace...).
    """
    if not isinstance(sequence, str):
        raise SeqKerasError(f"expected a DNA string, got {type(sequence).__name__}.")
    bad = _NOT_DNA.search(sequence)
    if bad:
        raise SeqKerasError(
            f"sequence {sequence[:40]!r}: {bad.group()!r} at position {bad.start()} is not a "
            "base; DNA sequences hold A, C, G, T and N only."
        )
    return sequence.upper()


class DnaPreprocessor(TagLabels, ClassLabels, Preprocessor):
    """DNA sequences -> padded one-hot bases; tag names <-> ids; class names <-> ids.

    A, C, G and T are one-hot rows, N is 0.25 in each column (`DNA_ONE_HOT`), lower case reads
    as upper case, and the steps after a sequence's end are all zero (padding).

    Args:
        max_length: the most bases a sequence may have (the exported model's steps T).
        tags: the per-base tag names, `"<pad>"` first.
        labels: the sequence class names, in the order of the model's outputs.

    Example:

    >>> pre = DnaPreprocessor(8, ["<pad>", "B-TATA", "I-TATA", "O"], ["TATA", "none"])
    >>> pre.encode(["acgtn"])[0, :6]
    array([[1.  , 0.  , 0.  , 0.  ],
           [0.  , 1.  , 0.  , 0.  ],
           [0.  , 0.  , 1.  , 0.  ],
           [0.  , 0.  , 0.  , 1.  ],
           [0.25, 0.25, 0.25, 0.25],
           [0.  , 0.  , 0.  , 0.  ]], dtype=float32)
    """

    def __init__(self, max_length: int, tags: Iterable[str], labels: Iterable[str]) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise SeqKerasError(
                f"DnaPreprocessor: `max_length` must be an integer >= 1, got {max_length!r}."
            )
        tags, labels = list(tags), list(labels)
        for name, names in (("tags", tags), ("labels", labels)):
            if not names or len(set(names)) != len(names):
                raise SeqKerasError(
                    f"DnaPreprocessor: the {name} must be distinct names, got {names!r}."
                )
        if tags[0] != PAD_TOKEN:
            raise SeqKerasError(
                f"DnaPreprocessor: `tags` must have {PAD_TOKEN!r} first, got {tags!r}."
            )
        self.length = max_length
        self.tags = tags
        self.labels = labels

    @classmethod
    def fit(
        cls, tag_lists: Iterable[Iterable[str]], labels: Iterable[str], max_length: int
    ) -> DnaPreprocessor:
        """The sorted tag set (after `<pad>`) and class set of training data."""
        tags = sorted({tag for tags in tag_lists for tag in tags})
        return cls(max_length, [PAD_TOKEN, *tags], sorted(set(labels)))

    def get_config(self) -> dict[str, Any]:
        return {"max_length": self.length, "tags": list(self.tags), "labels": list(self.labels)}

    def split(self, sequences: Iterable[str]) -> list[str]:
        """The checked, upper-case sequences (see `dna_bases`).

        Raises:
            SeqKerasError: `sequences` is not a non-empty list of DNA strings, or one is empty
                or longer than `length`.
        """
        return split_inputs(sequences, dna_bases, self.length, what="sequence", unit="bases")

    def encode_bases(self, sequences: Sequence[str]) -> np.ndarray:
        """(n, T, 4) float32 one-hot bases of checked sequences (`split`'s), zero-padded."""
        table = np.zeros((128, 4), np.float32)
        for base, values in DNA_ONE_HOT.items():
            table[ord(base)] = values
        one_hot = np.zeros((len(sequences), self.length, 4), np.float32)
        for row, bases in enumerate(sequences):
            one_hot[row, : len(bases)] = table[np.frombuffer(bases.encode("ascii"), np.uint8)]
        return one_hot

    def encode(self, sequences: Iterable[str]) -> np.ndarray:
        """(n, T, 4) float32 one-hot bases of DNA strings (see `split` for the errors)."""
        return self.encode_bases(self.split(sequences))


class DnaAnnotator:
    """Labels DNA sequences through a graph of per-base tag and per-sequence class probabilities.

    Args:
        run_model: `run_model(bases) -> {"tags": ..., "label": ...}`: (n, T, 4) float32 ->
            (n, T, len(tags)) and (n, len(labels)) arrays.
        preprocessor: a `DnaPreprocessor`.
    """

    def __init__(
        self, run_model: Callable[[np.ndarray], Any], preprocessor: DnaPreprocessor
    ) -> None:
        self.run_model = run_model
        self.preprocessor = preprocessor

    def probabilities(self, sequences: Iterable[str]) -> tuple[list[str], dict[str, np.ndarray]]:
        """`(sequences, outputs)`: the checked upper-case sequences and the graph's outputs."""
        sequences = self.preprocessor.split(sequences)
        outputs = self.run_model(self.preprocessor.encode_bases(sequences))
        return sequences, {name: np.asarray(value) for name, value in outputs.items()}

    def predict(self, sequences: Iterable[str]) -> list[dict[str, Any]]:
        """Each sequence's class, motifs and per-base tags.

        Returns:
            A list of dicts: `"label"` (the class name), `"motifs"` (a list of
            `(motif, start, stop)`: 0-based, `stop` exclusive, as in BED files) and `"tags"`
            (one IOB2 tag per base).
        """
        sequences, outputs = self.probabilities(sequences)
        labels = self.preprocessor.decode_labels(outputs["label"])
        tag_lists = self.preprocessor.decode_tags(outputs["tags"], sequences)
        return [
            {"label": label, "motifs": entity_spans(tags), "tags": tags}
            for label, tags in zip(labels, tag_lists)
        ]


@register_pipeline("dna")
class DnaBundle(Bundle):
    """A DNA bundle: one `"model"` graph; `predict(sequences)` gives classes and motifs.

    Metadata: `"preprocessor"` (a `DnaPreprocessor` config).

    Example:

    >>> bundle = seqkeras.runtime.load("dna_bundle", backend="tflite")
    >>> bundle.predict(["GCGTATAAAAGGCTCCA"])[0]["motifs"]
    [('TATA', 3, 11)]
    """

    input_kind = "texts"
    preprocessor_class = DnaPreprocessor
    preprocessor: DnaPreprocessor

    def setup(self) -> None:
        self.annotator = DnaAnnotator(self["model"].predict, self.preprocessor)

    def answer(self, sequences: Sequence[str]) -> list[dict[str, Any]]:
        return self.annotator.predict(sequences)

    def scored(self, sequences: Sequence[str]) -> list[dict[str, Any]]:
        """`predict`'s dicts with `"probabilities"`: each class's probability."""
        sequences, outputs = self.annotator.probabilities(sequences)
        labels = self.preprocessor.decode_labels(outputs["label"])
        tag_lists = self.preprocessor.decode_tags(outputs["tags"], sequences)
        return [
            {
                "label": label,
                "motifs": entity_spans(tags),
                "tags": tags,
                "probabilities": dict(zip(self.preprocessor.labels, map(float, row))),
            }
            for label, tags, row in zip(labels, tag_lists, outputs["label"])
        ]

    def probabilities(self, sequences: Sequence[str]) -> dict[str, np.ndarray]:
        """`DnaAnnotator.probabilities`: the graph's outputs on the sequences."""
        return self.annotator.probabilities(sequences)[1]
