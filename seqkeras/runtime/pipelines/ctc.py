"""Speech recognition with CTC in NumPy: waveforms -> features -> per-frame logits -> text.

The same classes serve the Keras `asr` task (its model wrapped to return NumPy arrays) and
the TF-free runtime (a bundle's graph), so both give the same transcripts:

    ctc: {"features": (n, max_frames, num_mel_bins) float32, zero-padded}
         -> (n, ⌈max_frames / downsampling⌉, 1 + len(characters)) logits, class 0 the CTC blank

(`downsampling` > 1 for a model with a strided front-end). Each utterance's transcript is
decoded over its own ⌈frames / downsampling⌉ output frames (those of the zero padding after
them are not decoded), by best path (`seqkeras.decoding.ctc_greedy_decode`) or prefix beam
search (`seqkeras.decoding.ctc_beam_search`, optionally constrained to the task's words and
scored by a word language model).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from seqkeras import decoding
from seqkeras.audio import LogMelSpectrogram, read_wav
from seqkeras.errors import SeqKerasError, VocabularyError
from seqkeras.runtime.bundle import Bundle, register_pipeline
from seqkeras.runtime.contract import Option, declare
from seqkeras.text.preprocessor import Preprocessor

BLANK = "<blank>"

# A word language model: lm(context words, word) -> log-probability.
WordLM = Callable[[tuple[str, ...], str], float]
# A waveform: 1-D samples, or a WAV file path.
Waveform = npt.ArrayLike | str | os.PathLike[str]


class SpeechPreprocessor(Preprocessor):
    """Waveforms -> fixed-size log-mel features, and transcripts <-> CTC label ids.

    Args:
        features: a `seqkeras.audio.LogMelSpectrogram` or its config.
        characters: the transcripts' characters; label id i + 1 is `characters[i]`, id 0 the
            CTC blank.
        max_frames: the model's fixed number of frames (longer audio is an error).
        words: the task's vocabulary of words (the lexicon of `Transcriber.predict`), or None.
        downsampling: feature frames per output frame of the model (1, or 2 per strided
            convolution of its front-end).

    Example:

    >>> pre = SpeechPreprocessor.fit(["one two"], LogMelSpectrogram(), max_frames=200)
    >>> pre.encode_texts(["two"])
    array([[5, 6, 4]], dtype=int32)
    """

    def __init__(
        self,
        features: LogMelSpectrogram | dict[str, Any],
        characters: Iterable[str],
        max_frames: int,
        words: Iterable[str] | None = None,
        downsampling: int = 1,
    ) -> None:
        spectrogram = (
            LogMelSpectrogram.from_config(features) if isinstance(features, dict) else features
        )
        characters = list(characters)
        if (
            not characters
            or len(set(characters)) != len(characters)
            or not all(isinstance(c, str) and len(c) == 1 for c in characters)
        ):
            raise VocabularyError(
                f"SpeechPreprocessor: `characters` must be distinct single characters, got "
                f"{characters!r}."
            )
        for name, value in (("max_frames", max_frames), ("downsampling", downsampling)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SeqKerasError(
                    f"SpeechPreprocessor: `{name}` must be an integer >= 1, got {value!r}."
                )
        if words is not None:
            words = list(words)
            bad = [w for w in words if not isinstance(w, str) or not w or set(w) - set(characters)]
            if not words or bad or " " in "".join(words):
                raise VocabularyError(
                    "SpeechPreprocessor: `words` must be non-empty words without spaces, "
                    f"spelled with `characters`; got {(bad or words)[:5]!r}."
                )
        self.features = spectrogram
        self.characters = characters
        self.max_frames = max_frames
        self.words = words
        self.downsampling = downsampling
        self._ids = {c: i + 1 for i, c in enumerate(characters)}

    @classmethod
    def fit(
        cls,
        texts: Iterable[str],
        features: LogMelSpectrogram | dict[str, Any],
        max_frames: int,
        words: Sequence[str] | None = None,
        downsampling: int = 1,
    ) -> SpeechPreprocessor:
        """The sorted characters of `texts` and of `words` joined by spaces (lowercased)."""
        texts = [*texts, " ".join(words or [])]
        characters = sorted({c for text in texts for c in text.lower()})
        return cls(features, characters, max_frames, words, downsampling)

    @property
    def alphabet(self) -> list[str]:
        """The character of each class id, the blank's `BLANK`."""
        return [BLANK, *self.characters]

    def output_frames(self, frames: npt.ArrayLike) -> np.ndarray:
        """The model's output frames for `frames` feature frames: ⌈frames / downsampling⌉."""
        return -(-np.asarray(frames) // self.downsampling)

    @property
    def num_classes(self) -> int:
        """The model's output size: the characters and the blank."""
        return len(self.characters) + 1

    def get_config(self) -> dict[str, Any]:
        return {
            "features": self.features.get_config(),
            "characters": list(self.characters),
            "max_frames": self.max_frames,
            "words": None if self.words is None else list(self.words),
            "downsampling": self.downsampling,
        }

    def encode_texts(self, texts: Iterable[str]) -> np.ndarray:
        """(n, longest) int32 label ids of lowercased texts, padded with -1.

        Raises:
            VocabularyError: a text is empty or holds a character outside `characters`.
        """
        rows = []
        for row, text in enumerate(texts):
            text = text.lower()
            unknown = sorted(set(text) - set(self._ids))
            if not text or unknown:
                raise VocabularyError(
                    f"transcript {row} {text[:40]!r} is empty or holds characters {unknown} "
                    f"outside the alphabet {''.join(self.characters)!r}."
                )
            rows.append([self._ids[c] for c in text])
        labels = np.full((len(rows), max(map(len, rows), default=0)), -1, np.int32)
        for row, ids in enumerate(rows):
            labels[row, : len(ids)] = ids
        return labels

    def decode(self, ids: Iterable[int]) -> str:
        """The text of label ids (the blank and unknown ids are skipped)."""
        return "".join(self.characters[i - 1] for i in ids if 0 < i <= len(self.characters))

    def encode_audio(
        self, waveforms: Iterable[Waveform], sample_rate: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Features of each waveform, zero-padded to `max_frames`, and each one's frame count.

        Args:
            waveforms: a list of 1-D sample arrays (float in [-1, 1] or int16), or of WAV
                file paths.
            sample_rate: the arrays' rate (default: the features' rate).

        Returns:
            `(features, frames)`: float32 (n, max_frames, num_mel_bins) and int (n,).

        Raises:
            SeqKerasError: no waveforms, a bad waveform (see `seqkeras.audio.check_waveform`),
                or one with more than `max_frames` frames.
        """
        if isinstance(waveforms, np.ndarray) and waveforms.ndim == 1:
            raise SeqKerasError("expected a list of waveforms, got one; wrap it in a list.")
        waveforms = list(waveforms)
        if not waveforms:
            raise SeqKerasError("expected at least one waveform, got an empty list.")
        batch = np.zeros((len(waveforms), self.max_frames, self.features.num_mel_bins), np.float32)
        frames = np.zeros(len(waveforms), np.int64)
        for row, waveform in enumerate(waveforms):
            rate = sample_rate
            if isinstance(waveform, str | os.PathLike):
                waveform, rate = read_wav(pathlib.Path(waveform))
            features = self.features(waveform, rate)
            if len(features) > self.max_frames:
                seconds = self.max_frames * self.features.frame_step / self.features.sample_rate
                raise SeqKerasError(
                    f"waveform {row}: {len(features)} frames is more than the model's "
                    f"{self.max_frames} (about {seconds:.1f} s of audio)."
                )
            batch[row, : len(features)] = features
            frames[row] = len(features)
        return batch, frames


class Transcriber:
    """Transcribes waveforms through a graph of per-frame CTC logits (best path or beam).

    Args:
        run_model: `run_model(features) -> logits`: (n, max_frames, num_mel_bins) ->
            (n, ⌈max_frames / downsampling⌉, num_classes) arrays.
        preprocessor: a `SpeechPreprocessor`.
    """

    def __init__(
        self, run_model: Callable[[np.ndarray], Any], preprocessor: SpeechPreprocessor
    ) -> None:
        self.run_model = run_model
        self.preprocessor = preprocessor

    def logits(
        self, waveforms: Iterable[Waveform], sample_rate: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`(logits, frames)`: (n, output frames, num_classes) logits and each utterance's
        number of output frames."""
        features, frames = self.preprocessor.encode_audio(waveforms, sample_rate)
        return np.asarray(self.run_model(features)), self.preprocessor.output_frames(frames)

    def predict(
        self, waveforms: Iterable[Waveform], sample_rate: int | None = None, **options: Any
    ) -> list[str]:
        """The transcript of each waveform (a list of strings).

        Args:
            waveforms: a list of 1-D sample arrays or WAV file paths.
            sample_rate: the arrays' rate (default: the features' rate).
            **options: the decoding options of `decode`.
        """
        return self.decode(*self.logits(waveforms, sample_rate), **options)

    def decode(
        self,
        logits: np.ndarray,
        frames: np.ndarray,
        beam_width: int | None = None,
        lexicon: Literal[True] | Iterable[str] | None = None,
        lm: WordLM | None = None,
        lm_weight: float = 1.0,
        word_bonus: float = 0.0,
    ) -> list[str]:
        """The transcript of each row of `logits`, decoded over its first `frames` frames.

        Args:
            logits, frames: as `logits` returns them.
            beam_width: None for best-path decoding, else the beam of
                `seqkeras.decoding.ctc_beam_search` (its most probable prefix is taken).
            lexicon: None, True for the preprocessor's `words`, or a set of words: the
                transcripts are made of these words (beam search only).
            lm, lm_weight, word_bonus: a word language model `lm(context, word) -> log-prob`
                (e.g. `seqkeras.decoding.WordNgramLM`), its weight and a per-word bonus
                (beam search only; see `ctc_beam_search`).

        Raises:
            SeqKerasError: a lexicon or LM without `beam_width`, `lexicon=True` without
                words in the preprocessor, or a bad decoding argument.
        """
        word_scoring = lexicon is not None or lm is not None or word_bonus != 0.0
        if beam_width is None:
            if word_scoring:
                raise SeqKerasError("lexicon, lm and word_bonus need beam search: pass beam_width.")
            paths = [decoding.ctc_greedy_decode(row[:count]) for row, count in zip(logits, frames)]
            return [self.preprocessor.decode(path) for path in paths]
        if lexicon is True:
            if self.preprocessor.words is None:
                raise SeqKerasError("lexicon=True: this model's preprocessor has no `words`.")
            lexicon = set(self.preprocessor.words)
        transcripts = []
        for row, count in zip(logits, frames):
            beam = decoding.ctc_beam_search(
                row[:count],
                beam_width,
                alphabet=self.preprocessor.alphabet,
                lexicon=lexicon,
                lm=lm,
                lm_weight=lm_weight,
                word_bonus=word_bonus,
            )
            transcripts.append(self.preprocessor.decode(beam[0][0]) if beam else "")
        return transcripts


@register_pipeline("ctc")
class SpeechBundle(Bundle):
    """A speech recognition bundle: one `"model"` graph; `predict(waveforms)` gives transcripts.

    Metadata: `"preprocessor"` (a `SpeechPreprocessor` config).

    Example:

    >>> bundle = seqkeras.runtime.load("asr_bundle")
    >>> bundle.predict(["seven.wav", samples])
    ['seven', 'go left']
    """

    input_kind = "arrays"
    array_dtype = "float32"
    options = declare(
        Option("sample_rate", int, None, low=1, high=384_000, help="the waveforms' rate (Hz)"),
        Option("beam_width", int, None, low=1, high=64, help="prefix beam (none: best path)"),
        Option(
            "lexicon",
            bool,
            False,
            also=(set, frozenset),
            help="transcripts made of the model's words (beam search)",
        ),
        Option("lm", None, None, help="a word language model lm(context, word) -> log-prob"),
        Option("lm_weight", float, 1.0, low=0.0, high=100.0, help="weight of the word LM"),
        Option("word_bonus", float, 0.0, low=-100.0, high=100.0, help="score added per word"),
    )
    preprocessor_class = SpeechPreprocessor
    preprocessor: SpeechPreprocessor

    def setup(self) -> None:
        self.transcriber = Transcriber(self["model"].predict, self.preprocessor)

    def read_files(self, paths: Sequence[str]) -> list[str]:
        """WAV files, read by the preprocessor."""
        return list(paths)

    def answer(
        self,
        waveforms: Iterable[Waveform],
        sample_rate: int | None,
        lexicon: bool | Iterable[str],
        **decoding_options: Any,
    ) -> list[str]:
        """`Transcriber.predict` (`lexicon` False is no lexicon)."""
        words = lexicon if lexicon is not False else None
        return self.transcriber.predict(waveforms, sample_rate, lexicon=words, **decoding_options)
