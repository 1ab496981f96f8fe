"""`Seq2SeqTask`: the base of the translation tasks built on `seq2seq_model` (`dates`, `g2p`,
`captioning`): training with teacher forcing, decoding through the runtime's `Seq2SeqDecoder`,
evaluation, error analysis, attention plots and export."""

import keras
import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.plotting import heatmap, save_figure
from seqkeras.runtime.pipelines.seq2seq import Seq2SeqDecoder, Seq2SeqPreprocessor
from seqkeras.tasks.base import Task
from seqkeras.tasks.seq2seq_model import (
    STATE_NAMES,
    SmoothedSequenceLoss,
    build_seq2seq,
    cell_kind,
    inference_models,
    sequence_log_probs,
)


def _numpy_runner(model):
    """`feeds -> outputs` (dicts of NumPy arrays) through a compiled call of a Keras model."""
    import tensorflow as tf

    function = tf.function(lambda feeds: model(feeds, training=False), reduce_retracing=True)

    def run(feeds):
        outputs = function({name: tf.convert_to_tensor(value) for name, value in feeds.items()})
        return {name: value.numpy() for name, value in outputs.items()}

    return run


def group_references(examples):
    """`[(source, [targets...]), ...]` of (source, target) pairs, in first-seen order: a
    source with several acceptable targets (a word's pronunciations, an image's captions) is
    translated once. Sources are strings or arrays (compared by their bytes)."""
    groups = {}
    for source, target in examples:
        key = source if isinstance(source, str) else np.asarray(source).tobytes()
        groups.setdefault(key, (source, []))[1].append(target)
    return list(groups.values())


# Config keys every Seq2SeqTask has, with the values that keep a subclass's older behaviour.
TRAINING_DEFAULTS = {
    "encoder_layers": 1,
    "dropout": 0.0,
    "label_smoothing": 0.0,
    "length_buckets": None,
}


def _trim_padding(inputs, target_out):
    """One batch cut to its longest source and target (the padding columns dropped)."""
    import tensorflow as tf

    source_length = tf.reduce_max(tf.reduce_sum(tf.cast(inputs["source"] > 0, tf.int32), 1))
    target_length = tf.reduce_max(tf.reduce_sum(tf.cast(target_out > 0, tf.int32), 1))
    trimmed = {
        "source": inputs["source"][:, :source_length],
        "target_in": inputs["target_in"][:, :target_length],
    }
    return trimmed, target_out[:, :target_length]


class Seq2SeqTask(Task):
    """Base of the translation tasks: a `build_seq2seq` model over (source, target) strings.

    A subclass sets `defaults` (with the keys below), implements `make_dataset()`
    (`{"train", "validation", "test"}` lists of (source, target) pairs; a source may come
    with several targets, each one acceptable) and `source_tokenizer()` /
    `target_tokenizer()`, and names its quality measures in `scores(references,
    predictions)`. The rest is shared: training with teacher forcing, decoding through
    `Seq2SeqDecoder` (the runtime's code), error analysis, attention plots and export.

    Config keys used here:
        seed, cell, peephole, units, embedding_dim, attention, attention_units: the model
            (see `build_seq2seq`).
        batch_size, learning_rate: training (`epochs` too, through `Task.fit`).
        beam_width, alpha: the default decoding (beam width 1 is greedy) and its length
            normalization exponent.
        encoder_layers, dropout: the model (see `build_seq2seq`); label_smoothing: ε of
            `SmoothedSequenceLoss` (0: plain cross-entropy). These come with every subclass
            (`TRAINING_DEFAULTS`, which keep the older behaviour).
        length_buckets: None, or source-length boundaries (e.g. [5, 7, 9, 12]): batches then
            hold sources of similar length, cut to their longest source and target, and the
            training model takes any source length (much less padding computed).
    """

    preprocessor_class = Seq2SeqPreprocessor

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.defaults = {**TRAINING_DEFAULTS, **cls.defaults}

    pipeline = "seq2seq"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoder = None
        self._decoder_model = None

    # Hooks of the subclasses -------------------------------------------------------------

    def source_tokenizer(self):
        raise NotImplementedError

    def target_tokenizer(self):
        raise NotImplementedError

    def scores(self, references, predictions):
        """Quality measures: a dict of floats, given one list of acceptable targets and one
        prediction per source."""
        raise NotImplementedError

    # Task hooks --------------------------------------------------------------------------

    def build_preprocessor(self, examples):
        sources, targets = zip(*examples)
        return Seq2SeqPreprocessor.fit(
            sources, targets, self.source_tokenizer(), self.target_tokenizer()
        )

    def build_model(self):
        c = self.config
        model = build_seq2seq(
            len(self.preprocessor.source.vocabulary),
            len(self.preprocessor.target.vocabulary),
            None if c["length_buckets"] else self.preprocessor.source_length,
            cell=c["cell"],
            peephole=c["peephole"],
            units=c["units"],
            embedding_dim=c["embedding_dim"],
            attention=c["attention"],
            attention_units=c["attention_units"],
            encoder_layers=c["encoder_layers"],
            dropout=c["dropout"],
            jit_compile=c["jit_compile"],
            name=self.name,
        )
        return self.compile_model(model)

    def compile_model(self, model):
        """Compiles `model` with Adam (clipped gradients) and the padding-masked loss (with
        label smoothing if the config asks for it)."""
        smoothing = self.config["label_smoothing"]
        if smoothing:
            loss = SmoothedSequenceLoss(smoothing)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
        model.compile(
            optimizer=keras.optimizers.Adam(self.config["learning_rate"], clipnorm=1.0), loss=loss
        )
        return model

    def arrays(self, examples):
        """`(inputs, target_out)` arrays of (source, target) pairs, as the model takes them."""
        sources, targets = zip(*examples)
        target_in, target_out = self.preprocessor.encode_targets(targets)
        inputs = {"source": self.preprocessor.encode_sources(sources), "target_in": target_in}
        return inputs, target_out

    def to_dataset(self, examples, training=False):
        boundaries = self.config["length_buckets"]
        if not boundaries:
            return self.batched(self.arrays(examples), training)
        import tensorflow as tf

        arrays = self.arrays(examples)
        dataset = tf.data.Dataset.from_tensor_slices(arrays)
        if training:
            dataset = dataset.shuffle(len(examples), seed=self.config["seed"])
        size = self.config["batch_size"]
        dataset = dataset.bucket_by_sequence_length(
            lambda inputs, _: tf.reduce_sum(tf.cast(inputs["source"] > 0, tf.int32)),
            list(boundaries),
            [size] * (len(boundaries) + 1),
        )
        return dataset.map(_trim_padding).prefetch(2)

    def inference_models(self):
        self._check_trained()
        return inference_models(self.model, self.preprocessor.source_length)

    def export_metadata(self):
        return {
            **super().export_metadata(),
            "state_names": list(STATE_NAMES[cell_kind(self.model)]),
            "beam_width": self.config["beam_width"],
            "alpha": self.config["alpha"],
        }

    def export_verify_inputs(self):
        sources = [source for source, _ in self.data["validation"][:4]]
        encoded = self.decoder.encode(sources)
        tokens = np.full(len(sources), self.preprocessor.target.vocabulary.sos_id, np.int32)
        return {
            "encoder": {"source": self.preprocessor.encode_sources(sources)},
            "step": {**encoded, "token": tokens},
        }

    # Inference ---------------------------------------------------------------------------

    @property
    def decoder(self):
        """The `Seq2SeqDecoder` over this model's encoder and step graphs (the runtime's)."""
        self._check_trained()
        if self._decoder_model is not self.model:
            graphs = self.inference_models()
            self._decoder = Seq2SeqDecoder(
                _numpy_runner(graphs["encoder"]),
                _numpy_runner(graphs["step"]),
                self.preprocessor,
                STATE_NAMES[cell_kind(self.model)],
            )
            self._decoder_model = self.model
        return self._decoder

    def predict(self, inputs, beam_width=None, alpha=None):
        """The translations of a list of source strings.

        Args:
            inputs: a list of strings.
            beam_width: beam width (1: greedy); the config's if None.
            alpha: length normalization exponent; the config's if None.

        Raises:
            SeqKerasError: an input is empty, too long, or has characters never seen in
                training.
        """
        return self.decoder.translate(inputs, *self._decoding(beam_width, alpha))

    def _decoding(self, beam_width, alpha):
        return (
            self.config["beam_width"] if beam_width is None else beam_width,
            self.config["alpha"] if alpha is None else alpha,
        )

    # Evaluation --------------------------------------------------------------------------

    def evaluate(self, examples=None, beam_width=None, alpha=None):
        """The task's `scores` of the translations and the teacher-forced loss.

        Each distinct source is translated once and judged against all its targets.

        Args:
            examples: (source, target) pairs; `data["test"]` if None.
            beam_width, alpha: decoding settings (the config's if None).

        Returns:
            `scores(...)` plus "loss": mean cross-entropy per target token.
        """
        self._check_trained()
        examples = self.data["test"] if examples is None else list(examples)
        if not examples:
            raise SeqKerasError(f"{self.name}: evaluate got no examples.")
        sources, references = zip(*group_references(examples))
        predictions = self.predict(list(sources), beam_width, alpha)
        losses = self.model.evaluate(self._sized_dataset(examples), verbose=0, return_dict=True)
        return {**self.scores(list(references), predictions), "loss": float(losses["loss"])}

    def error_analysis(self, examples=None, beam_width=None, alpha=None):
        """The course's error analysis: is each error the beam search's fault or the model's?

        For every wrong translation ŷ of x the model scores ŷ and the references,
        score(y) = (1/Ty^α) log P(y|x) (the objective the search maximizes), and y* is the
        best-scored reference. If score(y*) > score(ŷ) the search missed a better sequence
        (a wider beam may help); otherwise the model prefers the wrong one (more data, a
        bigger model...).

        Returns:
            {"examples": distinct sources, "errors": wrong count, "search": count blamed on
            the search, "model": count blamed on the model, "rows": one dict per error with
            source, target (y*), prediction, log_p_target, log_p_prediction and blame}.
        """
        self._check_trained()
        beam_width, alpha = self._decoding(beam_width, alpha)
        examples = self.data["test"] if examples is None else list(examples)
        references = group_references(examples)
        searched = self.decoder.search([source for source, _ in references], beam_width, alpha)
        wrong = [
            (source, targets, hypotheses[0])
            for (source, targets), hypotheses in zip(references, searched)
            if hypotheses[0][0] not in targets
        ]
        # Scored rows: per error, the prediction at `start`, then each reference.
        eos = self.preprocessor.target.vocabulary.eos_id
        starts, sources, outputs = [], [], []
        for source, targets, (_, tokens, _) in wrong:
            starts.append(len(outputs))
            outputs += [list(tokens)] + [
                [*self.preprocessor.target.encode(t), eos] for t in targets
            ]
            sources += [source] * (1 + len(targets))
        rows = []
        if wrong:
            target_in, target_out = self.preprocessor.teacher_forcing(outputs)
            log_p = sequence_log_probs(
                self.model, self.preprocessor.encode_sources(sources), target_in, target_out
            )
            normalized = log_p / np.array([len(ids) for ids in outputs]) ** alpha
            for start, (source, targets, (prediction, _, _)) in zip(starts, wrong):
                chosen = int(np.argmax(normalized[start + 1 : start + 1 + len(targets)]))
                best = start + 1 + chosen
                rows.append(
                    {
                        "source": source,
                        "target": targets[chosen],
                        "prediction": prediction,
                        "log_p_target": float(log_p[best]),
                        "log_p_prediction": float(log_p[start]),
                        "blame": "search" if normalized[best] > normalized[start] else "model",
                    }
                )
        search = sum(row["blame"] == "search" for row in rows)
        return {
            "examples": len(references),
            "errors": len(rows),
            "search": search,
            "model": len(rows) - search,
            "rows": rows,
        }

    def attention_weights(self, text, beam_width=None):
        """`(translation, weights)`: the weights α<t,t'> (output tokens + `<eos>`, input
        tokens)."""
        (translation, tokens, _), *_ = self.decoder.search(
            [text], *self._decoding(beam_width, None)
        )[0]
        return translation, self.decoder.attention(text, tokens)

    def plot_attention(self, text, path, beam_width=None):
        """Saves the attention heatmap of translating `text` as a PNG (written atomically).

        Returns:
            `path` as a `pathlib.Path`.
        """
        from matplotlib.figure import Figure

        translation, weights = self.attention_weights(text, beam_width)
        source_tokens = self.preprocessor.source.tokenize(Seq2SeqPreprocessor.normalize(text))
        target_tokens = [*self.preprocessor.target.tokenize(translation), "<eos>"]
        target_tokens = target_tokens[: len(weights)]
        figure = Figure(figsize=(0.3 * len(source_tokens) + 3.2, 0.3 * len(weights) + 1.5))
        axis = figure.subplots()
        heatmap(
            axis,
            weights,
            "attention weight α<t,t'>",
            cmap="viridis",
            vmin=0.0,
            vmax=1.0,
            aspect="auto",
        )
        axis.set_xticks(range(len(source_tokens)), [repr(t)[1:-1] for t in source_tokens])
        axis.set_yticks(range(len(target_tokens)), target_tokens)
        axis.set(xlabel="input t'", ylabel="output t", title=f"{text!r} -> {translation}")
        return save_figure(figure, path)
