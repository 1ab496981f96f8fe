"""Spoken digits and commands synthesized offline with eSpeak NG (the `espeakng-loader` wheel).

`espeakng-loader` ships libespeak-ng and its voice data; it is called through ctypes and returns
22,050 Hz 16-bit audio. Each utterance is one to `max_words` words from a word list, spoken by
a voice (an English accent with a voice variant, e.g. `"en-us+f2"`) at a random rate and
pitch; additive white noise at a random signal-to-noise ratio and a random gain are applied
after synthesis. The held-out split of `speech_corpus` is spoken by voices that the training
split never uses, so its error rates measure generalization to new speakers.

The clean synthesized audio is cached as WAV files (written atomically) under
`default_cache_dir()/speech-espeakng-<version>`; noise and gain are redrawn from the seed.
"""

import ctypes
import dataclasses
import functools
import hashlib
import importlib.metadata
import pathlib
import threading

import numpy as np

from seqkeras.audio import SAMPLE_RATE, read_wav, write_wav
from seqkeras.decoding._validation import as_generator, check_int
from seqkeras.errors import SeqKerasError
from seqkeras.files import default_cache_dir
from seqkeras.optional import require

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
WORDS = DIGITS + COMMANDS

TRAIN_VOICES = (
    "en-us+m1",
    "en-us+m3",
    "en-us+f1",
    "en-us+f3",
    "en+m2",
    "en+m4",
    "en+f2",
    "en+f4",
    "en-gb-scotland+m5",
    "en-gb-scotland+f5",
    "en-029+m6",
    "en-us+klatt",
)
HELD_OUT_VOICES = ("en-us+m7", "en+m8", "en-gb-x-rp+f2", "en-029+f1")

MAX_TEXT_LENGTH = 1000

# espeak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Espeak:
    """The process-wide eSpeak NG engine (its state is global, so calls take a lock)."""

    def __init__(self):
        espeakng_loader = require("espeakng_loader", "tasks", "speech synthesis")
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if rate != SAMPLE_RATE:
            raise SeqKerasError(
                f"espeak-ng: initialization gave sample rate {rate}, expected {SAMPLE_RATE}."
            )
        self.lib = lib
        self.lock = threading.Lock()
        self.chunks = []
        self.callback = _SYNTH_CALLBACK(self._collect)  # kept alive: the library holds it
        lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, samples, count, events):
        if samples and count > 0:
            self.chunks.append(np.ctypeslib.as_array(samples, (count,)).copy())
        return 0

    def synthesize(self, text, voice, rate, pitch):
        encoded = text.encode("utf-8")
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                raise SeqKerasError(f"synthesize: espeak-ng has no voice {voice!r}.")
            self.lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
            self.lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
            self.chunks = []
            status = self.lib.espeak_Synth(
                encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
            )
            chunks, self.chunks = self.chunks, []
        if status != 0 or not chunks:
            raise SeqKerasError(f"synthesize: espeak-ng failed on {text!r} (status {status}).")
        return np.concatenate(chunks).astype(np.int16)


@functools.cache
def _engine():
    return _Espeak()


def synthesize(text, voice="en-us", rate=175, pitch=50):
    """Speaks `text` with eSpeak NG.

    Args:
        text: the text (1 to 1,000 characters, not only whitespace).
        voice: an eSpeak NG voice name, optionally with a variant (`"en-us+f2"`).
        rate: speaking rate in words per minute, 80 to 450.
        pitch: base pitch, 0 to 100 (50 is the voice's normal pitch).

    Returns:
        int16 samples at `seqkeras.audio.SAMPLE_RATE` (22,050 Hz).

    Raises:
        SeqKerasError: bad text, an unknown voice, rate or pitch out of range, or
            `espeakng-loader` is not installed.

    Example:

    >>> audio = synthesize("seven three go", voice="en+m3")
    >>> audio.dtype, 0.5 < len(audio) / 22050 < 2
    (dtype('int16'), True)
    """
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
        raise SeqKerasError(
            f"synthesize: `text` must be a non-blank string of at most {MAX_TEXT_LENGTH} "
            f"characters, got {text!r:.60}."
        )
    if not isinstance(voice, str) or not voice:
        raise SeqKerasError(f"synthesize: `voice` must be a voice name, got {voice!r}.")
    rate = check_int(rate, "synthesize: `rate`", 80)
    pitch = check_int(pitch, "synthesize: `pitch`", 0)
    if rate > 450 or pitch > 100:
        raise SeqKerasError(
            f"synthesize: expected 80 <= rate <= 450 and 0 <= pitch <= 100, got {rate}, {pitch}."
        )
    return _engine().synthesize(text, voice, rate, pitch)


@dataclasses.dataclass(frozen=True, eq=False)
class Utterance:
    """One synthesized utterance.

    Attributes:
        text: the words spoken, lowercase, single spaces.
        audio: float32 samples in [-1, 1] at 22,050 Hz, noise and gain applied.
        voice, rate, pitch: the synthesis settings.
        snr_db: the signal-to-noise ratio of the added white noise, in dB.
        gain_db: the gain applied after the noise, in dB (the result clipped to [-1, 1]).
    """

    text: str
    audio: np.ndarray
    voice: str
    rate: int
    pitch: int
    snr_db: float
    gain_db: float


def _check_range(value, name, low, high):
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not low <= value[0] <= value[1] <= high
    ):
        raise SeqKerasError(
            f"speech_commands: `{name}` must be a (low, high) pair within [{low}, {high}], "
            f"got {value!r}."
        )
    return value


def _check_names(values, name):
    if isinstance(values, str) or not values or not all(isinstance(v, str) and v for v in values):
        raise SeqKerasError(f"speech_commands: `{name}` must be a non-empty list of strings.")
    return list(values)


def _cache_folder(cache_dir):
    if cache_dir is False:
        return None
    version = importlib.metadata.version("espeakng-loader")
    return pathlib.Path(cache_dir or default_cache_dir()) / f"speech-espeakng-{version}"


def _cached_synthesis(text, voice, rate, pitch, folder):
    """`synthesize(...)`, read from / written to `folder` (None: no cache)."""
    if folder is None:
        return synthesize(text, voice, rate, pitch)
    key = hashlib.sha256(f"{voice}|{rate}|{pitch}|{text}".encode()).hexdigest()[:24]
    path = folder / f"{key}.wav"
    if path.is_file():
        try:
            samples, _ = read_wav(path)
            return samples
        except SeqKerasError:
            pass  # a damaged cache file is synthesized again and replaced
    samples = synthesize(text, voice, rate, pitch)
    write_wav(path, samples)
    return samples


def speech_commands(
    count,
    voices=TRAIN_VOICES,
    words=WORDS,
    max_words=3,
    rate_range=(130, 230),
    pitch_range=(25, 75),
    snr_db_range=(10.0, 40.0),
    gain_db_range=(-12.0, 0.0),
    seed=0,
    cache_dir=None,
    progress=True,
):
    """Synthesizes `count` utterances of 1 to `max_words` random words.

    Each utterance draws its words, voice, rate and pitch uniformly; white noise is added at
    a uniform SNR (relative to the utterance's RMS), then a uniform gain in dB is applied and
    the result clipped to [-1, 1]. The same arguments and seed give the same utterances.

    Args:
        count: the number of utterances (an integer >= 0).
        voices: eSpeak NG voice names, e.g. `TRAIN_VOICES`.
        words: the vocabulary the sentences are made of (default: digits and 10 commands).
        max_words: the most words per utterance.
        rate_range: (low, high) speaking rate in words per minute, within [80, 450].
        pitch_range: (low, high) base pitch within [0, 100].
        snr_db_range: (low, high) signal-to-noise ratio in dB, within [-20, 100].
        gain_db_range: (low, high) gain in dB, within [-40, 20].
        seed: an integer seed or a `np.random.Generator`.
        cache_dir: folder of the audio cache (default `default_cache_dir()`); False: no cache.
        progress: show a tqdm progress bar.

    Returns:
        A list of `count` `Utterance`s.

    Raises:
        SeqKerasError: a bad argument, an unknown voice, or `espeakng-loader` is missing.

    Example:

    >>> utterances = speech_commands(2, seed=0, progress=False)
    >>> [u.text for u in utterances]
    ['up yes five', 'five']
    """
    tqdm = require("tqdm.auto", "tasks", "progress bars").tqdm

    count = check_int(count, "speech_commands: `count`", 0)
    max_words = check_int(max_words, "speech_commands: `max_words`", 1)
    voices = _check_names(voices, "voices")
    words = [w.strip().lower() for w in _check_names(words, "words")]
    if not all(words):
        raise SeqKerasError("speech_commands: `words` must not hold blank strings.")
    rate_range = _check_range(rate_range, "rate_range", 80, 450)
    pitch_range = _check_range(pitch_range, "pitch_range", 0, 100)
    snr_db_range = _check_range(snr_db_range, "snr_db_range", -20, 100)
    gain_db_range = _check_range(gain_db_range, "gain_db_range", -40, 20)
    rng = as_generator(seed)
    folder = _cache_folder(cache_dir)
    utterances = []
    for _ in tqdm(range(count), desc="speech", unit="utterance", disable=not progress):
        text = " ".join(rng.choice(words, size=int(rng.integers(1, max_words + 1))))
        voice = str(rng.choice(voices))
        rate = int(rng.integers(rate_range[0], rate_range[1] + 1))
        pitch = int(rng.integers(pitch_range[0], pitch_range[1] + 1))
        snr_db = float(rng.uniform(*snr_db_range))
        gain_db = float(rng.uniform(*gain_db_range))
        clean = _cached_synthesis(text, voice, rate, pitch, folder) / 32768.0
        rms = np.sqrt(np.mean(clean**2))
        noisy = clean + rng.normal(0.0, rms * 10 ** (-snr_db / 20), clean.size)
        audio = np.clip(noisy * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)
        utterances.append(Utterance(text, audio, voice, rate, pitch, snr_db, gain_db))
    return utterances


def speech_corpus(
    train_size,
    validation_size,
    train_voices=TRAIN_VOICES,
    validation_voices=HELD_OUT_VOICES,
    seed=0,
    **options,
):
    """A training split and a validation split spoken by voices the training split never uses.

    Args:
        train_size, validation_size: the number of utterances in each split.
        train_voices, validation_voices: disjoint lists of voice names.
        seed: an integer seed; the validation split uses `seed + 1`.
        **options: more arguments of `speech_commands` (words, max_words, rate_range,
            pitch_range, snr_db_range, gain_db_range, cache_dir, progress).

    Returns:
        `{"train": [Utterance...], "validation": [Utterance...]}`.

    Raises:
        SeqKerasError: the voice lists overlap, or a bad argument (see `speech_commands`).
    """
    train_voices = _check_names(train_voices, "train_voices")
    validation_voices = _check_names(validation_voices, "validation_voices")
    shared = sorted(set(train_voices) & set(validation_voices))
    if shared:
        raise SeqKerasError(
            f"speech_corpus: the held-out voices must not be training voices; both hold {shared}."
        )
    seed = check_int(seed, "speech_corpus: `seed`", 0)
    return {
        "train": speech_commands(train_size, train_voices, seed=seed, **options),
        "validation": speech_commands(validation_size, validation_voices, seed=seed + 1, **options),
    }
