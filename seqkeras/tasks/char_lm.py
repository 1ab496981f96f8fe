"""Character-level language model: a generator of first names (faker's locales).

Each name is a sequence of characters x<1..T>; the model reads <sos>, x<1>, ..., x<T> and
predicts x<1>, ..., x<T>, <eos>:

    a<t> = RNN(a<t-1>, e(x<t-1>)),   ŷ<t> = softmax(W a<t> + b) = P(x<t> | x<1..t-1>)

trained with cross-entropy (padding ignored) and gradient clipping. Generation feeds each drawn
character back in through a one-step model with explicit states (`inference_models`), the
graph that is exported.
"""

import collections
import math
from typing import ClassVar

import keras
import numpy as np

from seqkeras import layers
from seqkeras.datasets.names import DEFAULT_LOCALES, first_names
from seqkeras.errors import SeqKerasError
from seqkeras.metrics.perplexity import Perplexity
from seqkeras.runtime.pipelines.generation import StepDecoder
from seqkeras.tasks import register
from seqkeras.tasks.base import Task
from seqkeras.text import CharTokenizer, TextPreprocessor, bucket_by_length

CELLS = ("lstm", "gru")


def recurrent_layer(config, index):
    """The `index`-th recurrent layer: all steps out, and its final states (for the step model)."""
    common = {
        "return_sequences": True,
        "return_state": True,
        "dropout": config["dropout"],
        "jit_compile": config["jit_compile"],
        "name": f"rnn_{index}",
    }
    if config["cell"] == "lstm":
        return layers.LSTM(config["units"], peephole=config["peephole"], **common)
    if config["cell"] == "gru":
        return layers.GRU(config["units"], minimal=config["minimal_gru"], **common)
    raise SeqKerasError(f"char_lm: config 'cell' must be one of {CELLS}, got {config['cell']!r}.")


def build_model(config, vocab_size, name="char_lm"):
    """The training model: token ids (batch, time) -> next-token probabilities (batch, time, V).

    Embedding -> `num_layers` stacked seqkeras LSTM/GRU -> Dense -> softmax; compiled with Adam
    (gradient norm clipped to `clipnorm`), cross-entropy ignoring `<pad>`, and `Perplexity`.
    """
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(vocab_size, config["embedding_dim"], name="embedding")(tokens)
    for index in range(config["num_layers"]):
        hidden, *_ = recurrent_layer(config, index)(hidden)
    logits = keras.layers.Dense(vocab_size, name="logits")(hidden)
    probs = keras.layers.Softmax(name="probs")(logits)
    model = keras.Model(tokens, probs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=config["clipnorm"]),
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
        metrics=[Perplexity()],
    )
    return model


def state_sizes(model):
    """The sizes of the step model's states: (a, c) per LSTM layer, a per GRU layer."""
    sizes = []
    for layer in model.layers:
        if layer.name.startswith("rnn_"):
            sizes += [layer.units] * (2 if isinstance(layer, layers.LSTM) else 1)
    return sizes


def inference_models(model):
    """`{"step": step}`: one token and the states in, logits and new states out.

    The step model shares the training model's layers (and so its weights). Inputs: `"token"`
    (batch, 1) int32, `"state_0"`, `"state_1"`, ...; outputs: `"logits"` (batch, V) and
    `"new_state_0"`, ... (the convention of `seqkeras.runtime.StepDecoder`).
    """
    token = keras.Input((1,), dtype="int32", name="token")
    hidden = model.get_layer("embedding")(token)
    inputs, outputs = {"token": token}, {}
    for layer in model.layers:
        if not layer.name.startswith("rnn_"):
            continue
        count = 2 if isinstance(layer, layers.LSTM) else 1
        first = len(inputs) - 1
        states = [keras.Input((layer.units,), name=f"state_{first + i}") for i in range(count)]
        hidden, *new_states = layer(hidden, initial_state=states)
        for i, (state, new_state) in enumerate(zip(states, new_states)):
            inputs[f"state_{first + i}"] = state
            outputs[f"new_state_{first + i}"] = new_state
    vocab_size = model.get_layer("logits").units
    logits = keras.layers.Reshape((vocab_size,))(model.get_layer("logits")(hidden))
    return {"step": keras.Model(inputs, {"logits": logits, **outputs}, name=f"{model.name}_step")}


def unigram_perplexity(train_ids, test_ids, vocab_size):
    """Perplexity of the add-one-smoothed unigram model of `train_ids` on `test_ids`."""
    counts = collections.Counter(token for ids in train_ids for token in ids)
    total = sum(counts.values()) + vocab_size
    tokens = [token for ids in test_ids for token in ids]
    log_likelihood = sum(math.log((counts[token] + 1) / total) for token in tokens)
    return math.exp(-log_likelihood / len(tokens))


def novelty(generated, known):
    """The fraction of `generated` texts that are not in `known` (empty texts count as known)."""
    known = set(known)
    if not generated:
        return 0.0
    return sum(1 for text in generated if text and text not in known) / len(generated)


@register("char_lm")
class CharLMTask(Task):
    """A character-level name generator: stacked (peephole) LSTM or GRU over characters.

    Config (defaults; SEQKERAS_SMOKE=1 shrinks data, sizes and epochs):
        locales: faker locales the names come from.
        max_names: keep this many names (shuffled; None for all), max_length: longer names
            are left out, validation_fraction: held out for validation.
        cell: `"lstm"` or `"gru"`; peephole (LSTM), minimal_gru (GRU): the cell variant.
        embedding_dim, units, num_layers, dropout: the model's sizes.
        learning_rate, clipnorm (gradient clipping), batch_size, epochs, seed.

    Example:

    >>> task = CharLMTask({"epochs": 5})
    >>> task.fit()
    >>> task.generate(5, temperature=0.8, seed=0)
    ['Marian', 'Elise', 'Jorin', 'Katrin', 'Alvaro']
    >>> task.export("runs/char_lm/bundle")
    """

    preprocessor_class = TextPreprocessor
    pipeline = "generate"
    defaults: ClassVar[dict] = {
        "locales": list(DEFAULT_LOCALES),
        "max_names": None,
        "max_length": 16,
        "validation_fraction": 0.1,
        "cell": "lstm",
        "peephole": True,
        "minimal_gru": False,
        "embedding_dim": 32,
        "units": 128,
        "num_layers": 2,
        "dropout": 0.0,
        "learning_rate": 0.005,
        "clipnorm": 1.0,
        "batch_size": 64,
        "epochs": 20,
        "seed": 0,
    }
    smoke_config: ClassVar[dict] = {"max_names": 600, "embedding_dim": 16, "units": 32, "epochs": 2}
    bucket_boundaries = (6, 8, 10)

    def make_dataset(self):
        names = [
            n for n in first_names(self.config["locales"]) if len(n) <= self.config["max_length"]
        ]
        np.random.default_rng(self.config["seed"]).shuffle(names)
        names = names[: self.config["max_names"]]
        held_out = max(1, round(len(names) * self.config["validation_fraction"]))
        return {"train": names[held_out:], "validation": names[:held_out]}

    def build_preprocessor(self, examples):
        return TextPreprocessor.fit(examples, CharTokenizer(), max_length=self.config["max_length"])

    def build_model(self):
        return build_model(self.config, len(self.preprocessor.vocabulary), self.name)

    def to_dataset(self, examples, training=False):
        """Texts -> batches of (<sos> x<1..T>, x<1..T> <eos>), bucketed by length."""
        import tensorflow as tf

        vocabulary = self.preprocessor.vocabulary

        def inputs_and_targets(name):
            ids = self.preprocessor.tf_encode(name)
            return (
                tf.concat([[vocabulary.sos_id], ids], 0),
                tf.concat([ids, [vocabulary.eos_id]], 0),
            )

        dataset = tf.data.Dataset.from_tensor_slices(list(examples))
        if training:
            dataset = dataset.shuffle(len(examples), seed=self.config["seed"])
        dataset = dataset.map(inputs_and_targets)
        batches = bucket_by_length(dataset, self.config["batch_size"], self.bucket_boundaries)
        return batches.prefetch(2)

    def inference_models(self):
        return inference_models(self.model)

    def export_metadata(self):
        return {
            **super().export_metadata(),
            "state_sizes": state_sizes(self.model),
        }

    def export_verify_inputs(self):
        rng = np.random.default_rng(0)
        vocab_size = len(self.preprocessor.vocabulary)
        inputs = {"token": rng.integers(2, vocab_size, (2, 1)).astype("int32")}
        for i, size in enumerate(state_sizes(self.model)):
            inputs[f"state_{i}"] = rng.normal(0, 0.5, (2, size)).astype("float32")
        return {"step": inputs}

    def decoder(self):
        """The `StepDecoder` over this task's Keras step model (the runtime's exact loop).

        Built (and its `tf.function` traced) once per model: the step model shares the
        training model's layers, so it follows further training.
        """
        import tensorflow as tf

        self._check_trained()
        built_for, decoder = getattr(self, "_decoder", (None, None))
        if built_for is not self.model:
            step = tf.function(inference_models(self.model)["step"])

            def run_step(feeds):
                return {k: v.numpy() for k, v in step(feeds).items()}

            decoder = StepDecoder(run_step, self.preprocessor, state_sizes(self.model))
            self._decoder = (self.model, decoder)
        return decoder

    def generate(self, n=1, prefix="", **sampling):
        """Generates `n` names starting with `prefix` (see `StepDecoder.generate`).

        Args:
            n: how many names.
            prefix: the start of every name.
            **sampling: temperature (0 = greedy), top_k, top_p, seed, max_len.

        Returns:
            A list of `n` names.
        """
        return self.decoder().generate(n, prefix, **sampling)

    def predict(self, inputs, **sampling):
        """Completes each prefix in `inputs` (a string or a list of strings) into one name.

        Greedy by default (temperature 0); pass temperature/top_k/top_p/seed to sample.
        """
        prefixes = [inputs] if isinstance(inputs, str) else list(inputs)
        sampling.setdefault("temperature", 0.0)
        sampling["seed"] = np.random.default_rng(sampling.get("seed"))
        decoder = self.decoder()
        return [decoder.generate(1, prefix, **sampling)[0] for prefix in prefixes]

    def score(self, text):
        """log P(text) = Σ_t log P(y<t> | <sos>, y<1..t-1>), `<eos>` included, in nats."""
        return self.decoder().log_prob(text)[0]

    def perplexity(self, texts):
        """exp(-Σ log P(text) / Σ tokens) over `texts` (each text's `<eos>` counted)."""
        decoder = self.decoder()
        scores = [decoder.log_prob(text) for text in texts]
        return math.exp(-sum(s for s, _ in scores) / sum(n for _, n in scores))

    def unigram_baseline(self, examples):
        """The add-one unigram model's perplexity on `examples`, fitted on `data["train"]`."""
        encode = self.preprocessor.encode
        return unigram_perplexity(
            [encode(text, add_eos=True) for text in self.data["train"]],
            [encode(text, add_eos=True) for text in examples],
            len(self.preprocessor.vocabulary),
        )

    def evaluate(self, examples=None, samples=100):
        """Loss and perplexity, the unigram baseline's perplexity, and generated names' novelty.

        Returns:
            A dict: `loss`, `perplexity`, `unigram_perplexity` (an add-one unigram model of the
            training characters), `novel_fraction` (of `samples` names drawn at temperature 1
            with seed 0, the fraction not in the training set).
        """
        results = super().evaluate(examples)
        results["unigram_perplexity"] = self.unigram_baseline(examples or self.data["validation"])
        results["novel_fraction"] = novelty(self.generate(samples, seed=0), self.data["train"])
        return results
