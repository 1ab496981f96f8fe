"""Date translation with attention: human-written dates in many languages -> ISO 8601.

    task = seqkeras.tasks.get("dates")()       # SEQKERAS_SMOKE=1: tiny data, one epoch
    task.fit()
    task.predict(["Saturday 9 May 2018", "3 mars 2021"])      # ['2018-05-09', '2021-03-03']
    task.evaluate()                 # exact match, BLEU (over characters), loss
    task.error_analysis()           # each error blamed on the beam search or on the model
    task.plot_attention("3 mars 2021", "attention.png")
    task.export("dates_bundle")     # encoder + step graphs; runtime.load(...).predict(texts)

The data come from `seqkeras.datasets.dates` (faker + babel); the model is the bidirectional
encoder / attention decoder of `seqkeras.tasks.seq2seq`, read character by character.
"""

from typing import ClassVar

import numpy as np

from seqkeras import metrics
from seqkeras.datasets.dates import date_splits
from seqkeras.tasks import register
from seqkeras.tasks.seq2seq import Seq2SeqTask
from seqkeras.text.tokenizers import CharTokenizer


@register("dates")
class DatesTask(Seq2SeqTask):
    """Translates human-written dates ("Saturday 9 May 2018", "3 mars 2021", "09/05/18") to
    ISO 8601 ("2018-05-09") with an attention encoder-decoder over characters.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size, test_size: the disjoint splits of `date_pairs`.
        seed: data and weight initialization seed.
        cell, peephole, units, embedding_dim, attention, attention_units: the model
            (see `seqkeras.tasks.seq2seq_model.build_seq2seq`).
        epochs, batch_size, learning_rate: training.
        beam_width, alpha: the default decoding (beam width 1 is greedy) and its length
            normalization exponent.
    """

    defaults: ClassVar[dict] = {
        "train_size": 40_000,
        "validation_size": 1_000,
        "test_size": 2_000,
        "seed": 0,
        "cell": "lstm",
        "peephole": False,
        "units": 64,
        "embedding_dim": 32,
        "attention": "bahdanau",
        "attention_units": 64,
        "epochs": 8,
        "batch_size": 128,
        "learning_rate": 3e-3,
        "beam_width": 3,
        "alpha": 0.7,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 300,
        "validation_size": 40,
        "test_size": 60,
        "units": 16,
        "embedding_dim": 8,
        "attention_units": 16,
        "epochs": 1,
        "batch_size": 64,
    }

    def make_dataset(self):
        """{"train", "validation", "test"}: lists of (human-written, ISO) pairs, disjoint."""
        c = self.config
        (train_x, train_y), (rest_x, rest_y) = date_splits(
            c["train_size"], c["validation_size"] + c["test_size"], seed=c["seed"]
        )
        cut = c["validation_size"]
        return {
            "train": list(zip(train_x, train_y)),
            "validation": list(zip(rest_x[:cut], rest_y[:cut])),
            "test": list(zip(rest_x[cut:], rest_y[cut:])),
        }

    def source_tokenizer(self):
        return CharTokenizer(lowercase=True)

    def target_tokenizer(self):
        return CharTokenizer()

    def scores(self, references, predictions):
        """{"exact_match": fraction of translations equal to the target, "bleu": corpus
        BLEU-4 over characters (0-100)}."""
        bleu = metrics.corpus_bleu(
            [" ".join(prediction) for prediction in predictions],
            [[" ".join(target) for target in targets] for targets in references],
        )
        return {
            "exact_match": float(np.mean([p in t for p, t in zip(predictions, references)])),
            "bleu": float(bleu.score),
        }
