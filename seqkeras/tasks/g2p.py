"""Grapheme-to-phoneme conversion: English spellings -> ARPAbet pronunciations with stress.

    task = seqkeras.tasks.get("g2p")()         # SEQKERAS_SMOKE=1: tiny data, one epoch
    task.fit()
    task.predict(["hello", "sequence"])         # ['HH AH0 L OW1', 'S IY1 K W AH0 N S']
    task.evaluate()                 # word and phoneme error rates, loss
    task.error_analysis()           # each error blamed on the beam search or on the model
    task.plot_attention("phoneme", "attention.png")
    task.export("g2p_bundle")       # encoder + step graphs; runtime.load(...).predict(words)

The words and pronunciations are CMUdict's (`seqkeras.datasets.cmudict`, with its fixed
held-out split by word hash); the model is the bidirectional encoder / attention decoder of
`seqkeras.tasks.seq2seq`, reading letters and writing phonemes.
"""

import re
from typing import ClassVar

from seqkeras import metrics
from seqkeras.datasets.cmudict import g2p_splits
from seqkeras.tasks import register
from seqkeras.tasks.seq2seq import Seq2SeqTask
from seqkeras.text.tokenizers import CharTokenizer, WordTokenizer

_STRESS = re.compile(r"(?<=[A-Z])[012]")


def strip_stress(pronunciation):
    """The pronunciation without its stress marks: "HH AH0 L OW1" -> "HH AH L OW"."""
    return _STRESS.sub("", pronunciation)


def error_rates(references, predictions, stress=True):
    """Word and phoneme error rates (fractions) against each word's closest pronunciation.

        WER = words whose predicted pronunciation is none of the word's / words
        PER = Σ edit_distance(closest, predicted) / Σ |closest|   (over phonemes)

    Args:
        references: one list of acceptable pronunciations per word.
        predictions: one predicted pronunciation per word.
        stress: False compares both sides with the stress marks stripped.

    Returns:
        {"wer": ..., "per": ...}.
    """
    if not stress:
        references = [[strip_stress(t) for t in targets] for targets in references]
        predictions = [strip_stress(p) for p in predictions]
    closest = [
        min(targets, key=lambda target: metrics.edit_distance(target.split(), p.split()))
        for targets, p in zip(references, predictions)
    ]
    wrong = sum(p not in targets for targets, p in zip(references, predictions))
    return {"wer": wrong / len(predictions), "per": metrics.wer(closest, predictions)}


@register("g2p")
class G2PTask(Seq2SeqTask):
    """Spells out English words in ARPAbet phonemes ("phoneme" -> "F OW1 N IY0 M") with an
    attention encoder-decoder from letters to phonemes.

    A word with several pronunciations in CMUdict is a training pair per pronunciation, and a
    prediction is right if it equals any of them.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: words taken from each split of
            `seqkeras.datasets.cmudict.g2p_splits` (None: the whole split).
        seed: weight initialization and shuffling seed (the split itself is fixed).
        cell, peephole, units, embedding_dim, attention, attention_units: the model
            (see `seqkeras.tasks.seq2seq_model.build_seq2seq`).
        epochs, batch_size, learning_rate: training.
        beam_width, alpha: the default decoding (beam width 1 is greedy) and its length
            normalization exponent.
    """

    defaults: ClassVar[dict] = {
        "train_size": None,
        "validation_size": None,
        "test_size": None,
        "seed": 0,
        "cell": "lstm",
        "peephole": False,
        "units": 256,
        "embedding_dim": 64,
        "attention": "bahdanau",
        "attention_units": 128,
        "encoder_layers": 2,
        "dropout": 0.25,
        "label_smoothing": 0.1,
        "length_buckets": [5, 6, 7, 8, 9, 10, 12],
        "epochs": 30,
        "batch_size": 256,
        "learning_rate": 3e-3,
        "beam_width": 5,
        "alpha": 0.7,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 400,
        "validation_size": 40,
        "test_size": 60,
        "units": 16,
        "encoder_layers": 2,
        "embedding_dim": 8,
        "attention_units": 16,
        "epochs": 1,
        "batch_size": 64,
    }

    def make_dataset(self):
        """{"train", "validation", "test"}: lists of (word, pronunciation) pairs, no word in
        two of them."""
        c = self.config
        return g2p_splits(c["train_size"], c["validation_size"], c["test_size"])

    def source_tokenizer(self):
        return CharTokenizer(lowercase=True)

    def target_tokenizer(self):
        return WordTokenizer(lowercase=False, split_punctuation=False)

    def scores(self, references, predictions):
        """`error_rates` with stress: {"wer": ..., "per": ...}."""
        return error_rates(references, predictions)

    def export_preset(self, directory, quantize="dynamic"):
        """Exports the encoder and step graphs as a LiteRT bundle for a preset (see
        `seqkeras.runtime.presets`; `seqkeras.runtime.presets.write_manifest` adds its
        `preset.json` once its quality is measured).

        Args:
            directory: the bundle folder (replaced if it exists).
            quantize: the TFLite quantization (`"dynamic"`: int8 weights, float activations;
                None: float32).

        Returns:
            The bundle path.
        """
        return self.export(directory, formats=("tflite",), tflite_options={"quantize": quantize})
