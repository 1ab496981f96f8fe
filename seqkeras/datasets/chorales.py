"""Bach chorales from the music21 corpus (shipped inside the music21 wheel) as event tokens.

A voice of a chorale becomes a sequence of (pitch, duration) events, one token each:

    "G4_1"      the note G4 lasting one quarter note
    "C#5_1/2"   C#5, an eighth note (durations are quarter lengths, as exact fractions)
    "R_2"       a rest of two quarter notes

Tied notes are merged into one event and a chord (rare in a single voice) keeps its highest
note. With `transpose=True` each chorale is moved by the interval that takes its key
signature to none (C major / A minor), so the model learns one key instead of twelve.

Parsing the corpus takes about 0.1 s per chorale, so `chorale_tokens` caches the tokens of
every chorale it has parsed in one JSON file (written atomically), keyed by the music21
version and the encoding options. Everything here is TensorFlow-free: the runtime turns
generated tokens into MIDI with `write_midi` too.
"""

import fractions
import json
import pathlib
import re
import warnings

from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_write_bytes, atomic_write_text, default_cache_dir
from seqkeras.optional import require

REST = "R"
UNKNOWN = "<unk>"
_TOKEN = re.compile(r"^(R|[A-G]#?\d)_(\d+(?:/\d+)?)$")
_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def event_token(midi, quarter_length):
    """The token of one event: `midi` pitch number (None for a rest) and its quarter length.

    Pitches are spelled with sharps (MIDI 12-127, C0-G9); durations are exact fractions.

    Example:

    >>> event_token(61, 0.5)
    'C#4_1/2'
    """
    duration = fractions.Fraction(quarter_length).limit_denominator(48)
    if duration <= 0:
        raise SeqKerasError(f"event_token: the duration must be positive, got {quarter_length}.")
    if midi is None:
        return f"{REST}_{duration}"
    midi = int(midi)
    if not 12 <= midi <= 127:
        raise SeqKerasError(f"event_token: MIDI pitch {midi} is outside C0-G9 (12-127).")
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}_{duration}"


def parse_token(token):
    """`(midi, quarter_length)` of a token: the MIDI pitch (None for a rest) and a `Fraction`.

    Raises:
        SeqKerasError: `token` is not an event token.
    """
    match = _TOKEN.match(token) if isinstance(token, str) else None
    if match is None:
        raise SeqKerasError(
            f"music token {token!r} is not of the form PITCH_DURATION (e.g. 'G4_1', 'R_1/2')."
        )
    name, duration = match.groups()
    duration = fractions.Fraction(duration)
    if duration <= 0:
        raise SeqKerasError(f"music token {token!r}: the duration must be positive.")
    if name == REST:
        return None, duration
    midi = 12 * (int(name[-1]) + 1) + _PITCH_CLASSES[name[0]] + name.count("#")
    if midi > 127:
        raise SeqKerasError(f"music token {token!r}: pitch above the MIDI range (G9 = 127).")
    return midi, duration


def as_tokens(tokens):
    """A list of tokens from a list or a space-separated string (as generated text is)."""
    return tokens.split() if isinstance(tokens, str) else list(tokens)


def piano_roll(tokens):
    """The notes of `tokens` as `(onset, duration, midi)` in quarter notes; rests advance time.

    `<unk>` tokens are skipped.
    """
    notes, onset = [], fractions.Fraction(0)
    for token in as_tokens(tokens):
        if token == UNKNOWN:
            continue
        midi, duration = parse_token(token)
        if midi is not None:
            notes.append((onset, duration, midi))
        onset += duration
    return notes


def tokens_to_stream(tokens):
    """A `music21.stream.Stream` of the notes and rests of `tokens` (`<unk>` skipped).

    Raises:
        SeqKerasError: a token is malformed.
    """
    note = require("music21.note", "tasks", "the chorales data")
    stream = require("music21.stream", "tasks", "the chorales data")

    part = stream.Part()
    for token in as_tokens(tokens):
        if token == UNKNOWN:
            continue
        midi, duration = parse_token(token)
        event = note.Rest() if midi is None else note.Note(midi)
        event.duration.quarterLength = duration
        part.append(event)
    return stream.Score([part])


def write_midi(tokens, path, bpm=80):
    """Writes `tokens` as a standard MIDI file at `path` (atomically); returns the path.

    Args:
        tokens: event tokens, a list or a space-separated string.
        path: the `.mid` file to write.
        bpm: the tempo, in quarter notes per minute.
    """
    translate = require("music21.midi.translate", "tasks", "the chorales data")
    tempo = require("music21.tempo", "tasks", "the chorales data")
    score = tokens_to_stream(tokens)
    score.parts[0].insert(0, tempo.MetronomeMark(number=bpm))
    return atomic_write_bytes(path, translate.streamToMidiFile(score).writestr())


def voice_tokens(score, part=0, transpose=True):
    """The event tokens of one voice of a music21 score.

    Args:
        score: a `music21.stream.Score`.
        part: the voice's index (0 = soprano in the chorales).
        transpose: move to the key signature without sharps or flats first.
    """
    key = require("music21.key", "tasks", "the chorales data")

    if not 0 <= part < len(score.parts):
        raise SeqKerasError(
            f"chorales: part {part} out of range; the score has {len(score.parts)}."
        )
    voice = score.parts[part].stripTies()
    shift = 0
    if transpose:
        signatures = list(voice.recurse().getElementsByClass(key.KeySignature))
        sharps = signatures[0].sharps if signatures else 0
        shift = -((7 * sharps) % 12)
        shift += 12 if shift < -6 else 0
    tokens = []
    for event in voice.recurse().notesAndRests:
        if event.duration.quarterLength <= 0:  # grace notes
            continue
        if event.isRest:
            tokens.append(event_token(None, event.duration.quarterLength))
        else:
            midi = max(p.midi for p in event.pitches) + shift
            tokens.append(event_token(midi, event.duration.quarterLength))
    return tokens


def chorale_names():
    """The corpus names of the Bach chorales in music21 (371, in Riemenschneider order)."""
    corpus = require("music21.corpus", "tasks", "the chorales data")

    return list(corpus.chorales.Iterator(returnType="filename"))


def chorale_tokens(max_chorales=None, part=0, transpose=True, cache_dir=None, progress=True):
    """Event tokens of one voice of the first `max_chorales` Bach chorales.

    Args:
        max_chorales: how many chorales (None: all 371).
        part: the voice (0 soprano, 1 alto, 2 tenor, 3 bass).
        transpose: move each chorale to the key signature without sharps or flats.
        cache_dir: folder of the token cache (default `default_cache_dir()`); False: no cache.
        progress: show a progress bar while parsing.

    Returns:
        A list with one list of tokens per chorale.

    Example:

    >>> chorale_tokens(2)[0][:4]
    ['C5_1', 'C5_2', 'G5_1', 'E5_3/2']
    """
    music21 = require("music21", "tasks", "the chorales data")
    corpus = require("music21.corpus", "tasks", "the chorales data")
    tqdm = require("tqdm.auto", "tasks", "progress bars").tqdm

    if max_chorales is not None and (
        isinstance(max_chorales, bool) or not isinstance(max_chorales, int) or max_chorales < 1
    ):
        raise SeqKerasError(
            f"chorale_tokens: `max_chorales` must be a positive integer, got {max_chorales!r}."
        )
    names = chorale_names()[:max_chorales]
    cache_file = None
    cached = {}
    if cache_dir is not False:
        version = music21.__version__
        cache_file = pathlib.Path(cache_dir or default_cache_dir()) / (
            f"chorales-part{part}-{'c' if transpose else 'orig'}-music21-{version}.json"
        )
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            cached = {}
    missing = [name for name in names if name not in cached]
    for name in tqdm(missing, desc="chorales", unit="chorale", disable=not progress or not missing):
        cached[name] = voice_tokens(corpus.parse(name), part, transpose)
    if missing and cache_file is not None:
        try:
            atomic_write_text(cache_file, json.dumps(cached))
        except OSError as error:
            warnings.warn(
                f"chorales: the token cache {cache_file} was not written: {error}", stacklevel=2
            )
    return [cached[name] for name in names]
