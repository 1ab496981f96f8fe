"""Speech recognition with CTC: spoken digits and commands (eSpeak NG voices) -> text.

Each utterance x is a sequence of log-mel frames x<1..T> (`seqkeras.audio`, normalized per
utterance, zero-padded to a fixed T); an optional front-end of strided 1-D convolutions
halves the frame rate per layer (T' = ⌈T / 2^layers⌉ frames, cheaper recurrent layers),
stacked bidirectional recurrent layers read the frames and a Dense layer gives, per frame,
logits over the characters and the CTC blank:

    a<t> = [a→<t>; a←<t>],   ŷ<t> = softmax(W a<t> + b)

trained with the CTC loss, which sums over every alignment that collapses to the transcript.
Transcripts are decoded by best path (`seqkeras.decoding.ctc_greedy_decode`) or prefix beam
search, optionally constrained to the task's words and scored by a word language model
(`seqkeras.decoding.WordNgramLM`), over each utterance's own frames, in NumPy, by the same
`Transcriber` the TF-free runtime uses.
"""

from typing import ClassVar

import keras

from seqkeras import layers
from seqkeras.audio import LogMelSpectrogram
from seqkeras.datasets.speech import WORDS, speech_corpus
from seqkeras.errors import SeqKerasError
from seqkeras.losses import CTCLoss
from seqkeras.metrics import cer, wer
from seqkeras.runtime.pipelines.ctc import SpeechPreprocessor, Transcriber
from seqkeras.tasks import register
from seqkeras.tasks.base import Task

CELLS = ("gru", "lstm")
CONV_KERNEL_SIZE = 5


def build_model(config, num_mel_bins, num_classes, max_frames, name="asr", decay_steps=None):
    """The recognizer: features (batch, T, num_mel_bins) -> logits (batch, T', num_classes).

    With `conv_filters` > 0, `conv_layers` x Conv1D(conv_filters, kernel 5, stride 2, "same"
    padding, ReLU) first: T' = ⌈T / 2^conv_layers⌉ output frames. Then `num_layers` x
    Bidirectional(seqkeras GRU or (peephole) LSTM) -> Dense; compiled with Adam (gradient norm
    clipped to 1) and `CTCLoss` (blank 0). A `FrameMask` masks the frames after each
    utterance's end (its first ⌈n / 2^conv_layers⌉ output frames are kept): the recurrent
    layers skip them, the backward direction starts at the utterance's last frame, and the
    CTC loss counts exactly the frames that decoding reads.

    Args:
        config: an `AsrTask` config (conv_filters, conv_layers, cell, peephole, units,
            num_layers, learning_rate, jit_compile).
        num_mel_bins: features per frame.
        num_classes: the characters and the blank.
        max_frames: the fixed number of frames T.
        name: the model's name.
        decay_steps: if given, the learning rate follows a cosine from `learning_rate` down
            to 5% of it over this many steps (the planned training), else it stays constant.
    """
    if config["cell"] not in CELLS:
        raise SeqKerasError(f"asr: config 'cell' must be one of {CELLS}, got {config['cell']!r}.")
    features = keras.Input((max_frames, num_mel_bins), name="features")
    hidden = features
    strides = conv_layers(config)
    for index in range(strides):
        hidden = keras.layers.Conv1D(
            config["conv_filters"],
            CONV_KERNEL_SIZE,
            strides=2,
            padding="same",
            activation="relu",
            name=f"conv_{index}",
        )(hidden)
    hidden = layers.FrameMask(2**strides, name="frame_mask")([hidden, features])
    for index in range(config["num_layers"]):
        if config["cell"] == "gru":
            recurrent = layers.GRU(
                config["units"],
                return_sequences=True,
                jit_compile=config["jit_compile"],
                name=f"rnn_{index}",
            )
        else:
            recurrent = layers.LSTM(
                config["units"],
                peephole=config["peephole"],
                return_sequences=True,
                jit_compile=config["jit_compile"],
                name=f"rnn_{index}",
            )
        hidden = keras.layers.Bidirectional(recurrent, name=f"bidirectional_{index}")(hidden)
    logits = keras.layers.Dense(num_classes, name="logits")(hidden)
    model = keras.Model(features, logits, name=name)
    learning_rate = config["learning_rate"]
    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, 0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
        loss=CTCLoss(blank=0),
    )
    return model


def conv_layers(config):
    """The number of strided convolutions in front: 0 without `conv_filters`."""
    filters, count = config["conv_filters"], config["conv_layers"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (filters, count)) or (
        filters < 0 or count < 1
    ):
        raise SeqKerasError(
            "asr: config 'conv_filters' must be an integer >= 0 (0: no front-end) and "
            f"'conv_layers' an integer >= 1, got {filters!r} and {count!r}."
        )
    return count if filters else 0


@register("asr")
class AsrTask(Task):
    """Recognizes spoken digits and commands; evaluated on voices unseen in training.

    Config (`defaults`; `smoke_config` in smoke mode):
        train_size, validation_size: utterances of `speech_corpus` (validation: held-out
            voices).
        words, max_words: the vocabulary and the most words per utterance.
        max_seconds: the longest audio the model takes (sets its fixed number of frames).
        num_mel_bins, frame_length, frame_step: the log-mel features.
        conv_filters, conv_layers: the strided convolutional front-end (0 filters: none).
        cell (`"gru"` or `"lstm"`), peephole (LSTM), units, num_layers: the model.
        learning_rate (cosine-decayed over the planned epochs), frequency_mask (the widest
            band of mel bins zeroed per training utterance, SpecAugment; 0: none),
            batch_size, epochs, seed: training.

    Example:

    >>> task = AsrTask({"epochs": 30})
    >>> task.fit()
    >>> task.evaluate()
    {'loss': 3.1, 'cer': 0.06, 'wer': 0.15}
    >>> audio = seqkeras.datasets.speech.synthesize("seven go")
    >>> task.predict([audio])
    ['seven go']
    >>> task.predict([audio], beam_width=8, lexicon=True)   # only the task's words
    ['seven go']
    """

    preprocessor_class = SpeechPreprocessor
    pipeline = "ctc"
    defaults: ClassVar[dict] = {
        "train_size": 3000,
        "validation_size": 300,
        "words": list(WORDS),
        "max_words": 3,
        "max_seconds": 3.0,
        "num_mel_bins": 40,
        "frame_length": 512,
        "frame_step": 256,
        "conv_filters": 128,
        "conv_layers": 2,
        "cell": "gru",
        "peephole": False,
        "units": 128,
        "num_layers": 2,
        "learning_rate": 3e-3,
        "frequency_mask": 8,
        "batch_size": 32,
        "epochs": 30,
        "seed": 0,
    }
    smoke_config: ClassVar[dict] = {
        "train_size": 32,
        "validation_size": 8,
        "max_words": 1,
        "max_seconds": 1.5,
        "num_mel_bins": 20,
        "frame_step": 512,
        "conv_filters": 16,
        "conv_layers": 1,
        "units": 16,
        "num_layers": 1,
        "learning_rate": 1e-2,
        "frequency_mask": 4,
        "batch_size": 16,
        "epochs": 2,
    }

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self):
        """{"train", "validation"}: lists of `seqkeras.datasets.speech.Utterance`."""
        c = self.config
        return speech_corpus(
            c["train_size"],
            c["validation_size"],
            seed=c["seed"],
            words=c["words"],
            max_words=c["max_words"],
        )

    def build_preprocessor(self, examples):
        c = self.config
        features = LogMelSpectrogram(
            frame_length=c["frame_length"],
            frame_step=c["frame_step"],
            num_mel_bins=c["num_mel_bins"],
            max_seconds=c["max_seconds"],
        )
        max_frames = features.num_frames(round(c["max_seconds"] * features.sample_rate))
        # The words (space-separated) give every character, even when a small sample misses some.
        texts = [example.text for example in examples]
        return SpeechPreprocessor.fit(
            texts, features, max_frames, words=c["words"], downsampling=2 ** conv_layers(c)
        )

    def build_model(self):
        c = self.config
        return build_model(
            c,
            self.preprocessor.features.num_mel_bins,
            self.preprocessor.num_classes,
            self.preprocessor.max_frames,
            self.name,
            decay_steps=c["epochs"] * -(-c["train_size"] // c["batch_size"]),
        )

    def to_dataset(self, examples, training=False):
        """Utterances -> batches of (features, labels padded with -1)."""
        import tensorflow as tf

        features, _ = self.preprocessor.encode_audio([example.audio for example in examples])
        labels = self.preprocessor.encode_texts([example.text for example in examples])
        # CTC needs a frame per label and a blank between repeated labels.
        repeats = (labels[:, 1:] == labels[:, :-1]) & (labels[:, 1:] >= 0)
        needed = (labels >= 0).sum(axis=1) + repeats.sum(axis=1)
        frames = self.preprocessor.output_frames(self.preprocessor.max_frames)
        if needed.max() > frames:
            row = int(needed.argmax())
            raise SeqKerasError(
                f"{self.name}: transcript {examples[row].text!r} needs {needed[row]} CTC frames; "
                f"the model has {frames} (raise max_seconds or lower the front-end's stride)."
            )
        dataset = tf.data.Dataset.from_tensor_slices((features, labels))
        if training:
            dataset = dataset.shuffle(len(examples), seed=self.config["seed"])
            if self.config["frequency_mask"]:
                dataset = dataset.map(self._mask_frequencies, num_parallel_calls=2)
        return dataset.batch(self.config["batch_size"]).prefetch(2)

    def _mask_frequencies(self, features, labels):
        """SpecAugment's frequency masking: zeroes a random band of 0 to `frequency_mask` mel
        bins of the whole utterance, so the model cannot lean on one voice's formants."""
        import tensorflow as tf

        bins = self.preprocessor.features.num_mel_bins
        width = tf.random.uniform((), 0, self.config["frequency_mask"] + 1, tf.int32)
        start = tf.random.uniform((), 0, bins - width + 1, tf.int32)
        keep = tf.logical_or(tf.range(bins) < start, tf.range(bins) >= start + width)
        return features * tf.cast(keep, features.dtype), labels

    def export_verify_inputs(self):
        waveforms = [example.audio for example in self.data["validation"][:2]]
        return {"model": self.preprocessor.encode_audio(waveforms)[0]}

    # Inference ---------------------------------------------------------------------------

    @property
    def transcriber(self):
        """The runtime's `Transcriber` over this Keras model."""
        self._check_trained()
        return Transcriber(lambda x: self.model.predict(x, verbose=0), self.preprocessor)

    def predict(self, inputs, sample_rate=None, **options):
        """The transcript of each waveform (or WAV file path) in `inputs`.

        Args:
            inputs: a list of 1-D sample arrays (float in [-1, 1] or int16) or WAV paths.
            sample_rate: the arrays' rate (default 22,050 Hz, the only one accepted).
            **options: decoding options of `Transcriber.decode`: `beam_width` (None: best
                path), `lexicon` (True: the config's words), `lm`, `lm_weight`, `word_bonus`.

        Raises:
            SeqKerasError: `inputs` is not a non-empty list, or a waveform is empty, holds
                NaN/inf, has another sample rate, or is longer than `max_seconds`; or a bad
                decoding option.
        """
        return self.transcriber.predict(inputs, sample_rate, **options)

    def evaluate(self, examples=None, **options):
        """The CTC loss and the transcripts' character and word error rates.

        Args:
            examples: `Utterance`s; `data["validation"]` (held-out voices) if None.
            **options: decoding options of `Transcriber.decode` (e.g. `beam_width=8,
                lexicon=True`): the transcripts are also decoded with them.

        Returns:
            A dict of floats: "loss", "cer" and "wer" (best path: edit distances over
            reference lengths), and with `options` "cer_beam" and "wer_beam".
        """
        self._check_trained()
        examples = self.data["validation"] if examples is None else list(examples)
        if not examples:
            raise SeqKerasError(f"{self.name}: evaluate got no examples.")
        results = super().evaluate(examples)
        references = [example.text for example in examples]
        logits, frames = self.transcriber.logits([example.audio for example in examples])
        hypotheses = self.transcriber.decode(logits, frames)
        results.update(cer=cer(references, hypotheses), wer=wer(references, hypotheses))
        if options:
            hypotheses = self.transcriber.decode(logits, frames, **options)
            results.update(
                cer_beam=cer(references, hypotheses), wer_beam=wer(references, hypotheses)
            )
        return results
