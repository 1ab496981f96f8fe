"""Music generation: a language model over (pitch, duration) events of Bach chorale melodies.

One-to-many generation: from `<sos>` alone the model writes a whole melody, one event token at
a time (see `seqkeras.datasets.chorales` for the tokens, e.g. "G4_1", "R_1/2"):

    a<t> = RNN(a<t-1>, e(x<t-1>)),   ŷ<t> = softmax(W a<t> + b) = P(x<t> | x<1..t-1>)

The model, training, export and decoding are the word-level LM's (`WordLMTask`) over a
whitespace tokenizer, so generated text is a space-separated token string that `write_midi`
(`seqkeras.datasets.chorales`) turns into a MIDI file and `plot_piano_roll` into a picture.
"""

from typing import ClassVar

import numpy as np

from seqkeras.datasets.chorales import as_tokens, chorale_tokens, piano_roll
from seqkeras.plotting import save_figure
from seqkeras.tasks import register
from seqkeras.tasks.word_lm import WordLMTask
from seqkeras.text import TextPreprocessor, WordTokenizer


def plot_piano_roll(tokens, path=None, ax=None, title=None):
    """Plots the notes of event tokens as a piano roll: time (quarter notes) against pitch.

    Args:
        tokens: event tokens, a list or a space-separated string.
        path: if given, the figure is saved there as PNG (atomically).
        ax: a matplotlib Axes to draw in (default: a new figure).
        title: the plot's title.

    Returns:
        The matplotlib `Figure`.
    """
    from matplotlib.figure import Figure

    notes = piano_roll(tokens)
    if ax is None:
        ax = Figure(figsize=(10, 3.5)).subplots()
    for onset, duration, midi in notes:
        ax.broken_barh([(float(onset), float(duration))], (midi - 0.4, 0.8), color="tab:blue")
    if notes:
        pitches = [midi for _, _, midi in notes]
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        ax.set_xlim(0, float(max(onset + duration for onset, duration, _ in notes)))
    ax.set(xlabel="time (quarter notes)", ylabel="MIDI pitch", title=title or "Piano roll")
    ax.grid(axis="x", alpha=0.3)
    figure = ax.figure
    if path is not None:
        save_figure(figure, path)
    return figure


@register("music")
class MusicTask(WordLMTask):
    """A melody generator trained on one voice of the music21 Bach chorales.

    Config: as `WordLMTask`'s model and training keys, plus max_chorales (None: all 371),
    part (0 soprano ... 3 bass), transpose (to the key signature without accidentals),
    max_length (longer melodies are left out; also the default generation length),
    vocabulary_size and min_freq (rarer events are `<unk>`), validation_fraction.

    Example:

    >>> from seqkeras.datasets.chorales import write_midi
    >>> task = MusicTask()
    >>> task.fit()
    >>> melody = task.generate(1, temperature=0.8, seed=0)[0]
    >>> write_midi(melody, "runs/music/melody.mid")
    >>> plot_piano_roll(melody, "runs/music/melody.png")
    """

    defaults: ClassVar[dict] = {
        **{k: v for k, v in WordLMTask.defaults.items() if k != "max_sentences"},
        "max_chorales": None,
        "part": 0,
        "transpose": True,
        "max_length": 128,
        "vocabulary_size": None,
        "min_freq": 1,
        "embedding_dim": 32,
        "units": 128,
        "num_layers": 2,
        "learning_rate": 0.005,
        "batch_size": 16,
        "epochs": 30,
    }
    smoke_config: ClassVar[dict] = {
        "max_chorales": 12,
        "embedding_dim": 8,
        "units": 16,
        "epochs": 2,
    }
    bucket_boundaries = (40, 56, 72)

    def make_dataset(self):
        melodies = [
            " ".join(tokens)
            for tokens in chorale_tokens(
                self.config["max_chorales"], self.config["part"], self.config["transpose"]
            )
            if 0 < len(tokens) <= self.config["max_length"]
        ]
        np.random.default_rng(self.config["seed"]).shuffle(melodies)
        held_out = max(1, round(len(melodies) * self.config["validation_fraction"]))
        return {"train": melodies[held_out:], "validation": melodies[:held_out]}

    def build_preprocessor(self, examples):
        return TextPreprocessor.fit(
            examples,
            WordTokenizer(lowercase=False, split_punctuation=False),
            max_size=self.config["vocabulary_size"],
            min_freq=self.config["min_freq"],
            max_length=self.config["max_length"],
        )

    def compose(self, **sampling):
        """One new melody from `<sos>` alone, as a list of event tokens.

        Args:
            **sampling: temperature (0 = greedy), top_k, top_p, seed, max_len (see
                `StepDecoder.generate`).
        """
        return as_tokens(self.generate(1, **sampling)[0])
