"""Sequence-to-sequence translation over an encoder graph and a decoder-step graph, in NumPy.

The same classes serve the Keras task (its graphs wrapped to return NumPy arrays) and the
TF-free runtime (a bundle's graphs), so both give the same strings:

    encoder: {"source": (n, Tx) int32} -> {"values", ["keys",] "source_mask", <state names>...}
    step:    {"token": (n,) int32, "values", ["keys",] "source_mask", <states>...}
             -> {"log_probs": (n, vocab), "next_<state>"..., "attention": (n, Tx), "context"}

Image captioning uses the same step graph and decoder; only its encoder reads images
(`CaptionPreprocessor`, `CaptionBundle`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from seqkeras import decoding
from seqkeras.decoding._types import State, StepFn
from seqkeras.errors import SeqKerasError
from seqkeras.runtime.bundle import Bundle, register_pipeline
from seqkeras.runtime.contract import Option, declare
from seqkeras.text.preprocessor import Preprocessor, TextPreprocessor
from seqkeras.text.tokenizers import Tokenizer

# A graph run: feeds by name -> outputs by name (a runtime graph's `predict`, or a Keras model's).
RunGraph = Callable[[dict[str, np.ndarray]], Any]


class Seq2SeqPreprocessor(Preprocessor):
    """Source and target texts <-> padded id arrays (NumPy only).

    Sources are normalized (runs of whitespace become one space, ends stripped; the source
    tokenizer may lowercase) and padded with 0 to `source.max_length`; targets get `<sos>`
    (decoder input) or `<eos>` (decoder output) and are padded to `target.max_length + 1`.

    Args:
        source, target: `TextPreprocessor`s (or their configs) with a `max_length`.
    """

    def __init__(
        self, source: TextPreprocessor | dict[str, Any], target: TextPreprocessor | dict[str, Any]
    ) -> None:
        self.source = _text_preprocessor(source, "source")
        self.target = _text_preprocessor(target, "target")

    @classmethod
    def fit(
        cls,
        sources: Iterable[str],
        targets: Sequence[str],
        source_tokenizer: Tokenizer,
        target_tokenizer: Tokenizer,
    ) -> Seq2SeqPreprocessor:
        """Vocabularies and maximum lengths from training pairs."""
        sources = [cls.normalize(text) for text in sources]
        source = TextPreprocessor.fit(sources, source_tokenizer)
        target = TextPreprocessor.fit(targets, target_tokenizer)
        source.max_length = max(len(source.tokenize(text)) for text in sources)
        target.max_length = max(len(target.tokenize(text)) for text in targets)
        return cls(source, target)

    def get_config(self) -> dict[str, Any]:
        return {"source": self.source.get_config(), "target": self.target.get_config()}

    @property
    def source_length(self) -> int:
        """Encoder steps: the longest source (checked to be set by `__init__`)."""
        return cast(int, self.source.max_length)

    @property
    def target_length(self) -> int:
        """Decoder steps: the longest target plus `<eos>`."""
        return cast(int, self.target.max_length) + 1

    @staticmethod
    def normalize(text: object) -> str:
        """`text` with runs of whitespace as one space, ends stripped."""
        if not isinstance(text, str):
            raise SeqKerasError(f"expected a text string, got {type(text).__name__}.")
        return " ".join(text.split())

    def encode_sources(self, texts: Any) -> np.ndarray:
        """(n, Tx) int32 ids of the source texts.

        Raises:
            SeqKerasError: a text is not a string, is empty, has characters (tokens) the
                vocabulary lacks, or is longer than `source_length`.
        """
        if isinstance(texts, str):
            raise SeqKerasError("expected a list of texts, got one string; wrap it in a list.")
        texts = list(texts)
        if not texts:
            raise SeqKerasError("expected at least one text, got an empty list.")
        ids = np.zeros((len(texts), self.source_length), np.int32)
        vocabulary = self.source.vocabulary
        for row, raw in enumerate(texts):
            text = self.normalize(raw)
            if not text:
                raise SeqKerasError(f"input {row} is empty (or only whitespace).")
            tokens = self.source.tokenize(text)
            unknown = sorted({token for token in tokens if token not in vocabulary})
            if unknown:
                raise SeqKerasError(
                    f"input {row} {raw!r} has tokens the model never saw: {unknown}."
                )
            encoded = self.source.encode(text)  # raises on more than max_length tokens
            ids[row, : len(encoded)] = encoded
        return ids

    def encode_targets(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """`(target_in, target_out)`: (n, Ty) int32 each, `<sos>` y and y `<eos>`, 0-padded."""
        eos = self.target.vocabulary.eos_id
        return self.teacher_forcing([[*self.target.encode(text), eos] for text in texts])

    def teacher_forcing(self, outputs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """`(target_in, target_out)` for decoder output id lists (each ending in `<eos>` if
        it was produced): target_in is `<sos>` + output[:-1]; both 0-padded to at least Ty."""
        width = max(self.target_length, *(len(ids) for ids in outputs))
        target_in = np.zeros((len(outputs), width), np.int32)
        target_out = np.zeros_like(target_in)
        for row, ids in enumerate(outputs):
            target_in[row, : len(ids)] = [self.target.vocabulary.sos_id, *ids[:-1]]
            target_out[row, : len(ids)] = ids
        return target_in, target_out

    def decode_target(self, ids: Iterable[int]) -> str:
        """The target text of generated ids (`<eos>` and other special tokens dropped)."""
        return self.target.decode(ids)


def _text_preprocessor(value: object, name: str) -> TextPreprocessor:
    if isinstance(value, dict):
        value = TextPreprocessor.from_config(value)
    if not isinstance(value, TextPreprocessor) or value.max_length is None:
        raise SeqKerasError(
            f"Seq2SeqPreprocessor: `{name}` must be a TextPreprocessor with a "
            "max_length (or its config)."
        )
    return value


class CaptionPreprocessor(Seq2SeqPreprocessor):
    """Images -> float arrays in [0, 1]; captions <-> ids as in `Seq2SeqPreprocessor`.

    Args:
        image_shape: (height, width, channels) of the images.
        target: a `TextPreprocessor` (or its config) with a `max_length`.
    """

    def __init__(
        self, image_shape: Iterable[int], target: TextPreprocessor | dict[str, Any]
    ) -> None:
        self.image_shape = tuple(int(size) for size in image_shape)
        self.target = _text_preprocessor(target, "target")

    @classmethod
    def fit(  # type: ignore[override]  # fits on images and captions, not source texts
        cls, images: npt.ArrayLike, captions: Sequence[str], target_tokenizer: Tokenizer
    ) -> CaptionPreprocessor:
        """The caption vocabulary and maximum length, and the image shape."""
        target = TextPreprocessor.fit(captions, target_tokenizer)
        target.max_length = max(len(target.tokenize(text)) for text in captions)
        return cls(np.shape(images)[1:], target)

    def get_config(self) -> dict[str, Any]:
        return {"image_shape": list(self.image_shape), "target": self.target.get_config()}

    def encode_sources(self, images: npt.ArrayLike) -> np.ndarray:
        """(n, height, width, channels) float32 pixels / 255 of uint8 images.

        Raises:
            SeqKerasError: `images` is not a non-empty batch of `image_shape` uint8 images.
        """
        array = np.asarray(images)
        if array.dtype != np.uint8 or array.shape[1:] != self.image_shape or not len(array):
            raise SeqKerasError(
                f"expected a non-empty batch of uint8 images of shape {self.image_shape}, got "
                f"an array of {array.dtype} and shape {array.shape}."
            )
        return array.astype(np.float32) / 255.0


class Seq2SeqDecoder:
    """Greedy and beam-search translation through encoder and step graphs.

    Args:
        run_encoder: `run_encoder(feeds) -> outputs` (dicts name -> array).
        run_step: `run_step(feeds) -> outputs`.
        preprocessor: a `Seq2SeqPreprocessor`.
        state_names: the step graph's recurrent state inputs, e.g. ("state_h", "state_c").
        batch_size: the most texts searched together (one step call for all their hypotheses).
        ensemble: `(run_encoder, run_step)` pairs of more models with the same vocabularies and
            state names, searched jointly with the first (`seqkeras.decoding.ensemble`: each
            step's distribution is the mean of the models' probabilities). `encode`,
            `attention` and `run_teacher_forced` use the first model.
    """

    def __init__(
        self,
        run_encoder: RunGraph,
        run_step: RunGraph,
        preprocessor: Seq2SeqPreprocessor,
        state_names: Iterable[str],
        batch_size: int = 128,
        ensemble: Iterable[tuple[RunGraph, RunGraph]] = (),
    ) -> None:
        self.batch_size = batch_size
        self.run_encoder = run_encoder
        self.run_step = run_step
        self.preprocessor = preprocessor
        self.state_names = tuple(state_names)
        self.models = [(run_encoder, run_step), *ensemble]

    def encode(self, texts: Any) -> dict[str, np.ndarray]:
        """Encoder outputs for the texts: dict name -> array with one row per text."""
        return self.run_encoder({"source": self.preprocessor.encode_sources(texts)})

    def step_fn(
        self, tokens: npt.ArrayLike, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """`seqkeras.decoding`'s step function; `state` holds the encoder outputs and states."""
        return self._advance(self.run_step, tokens, state)

    def _advance(
        self, run_step: RunGraph, tokens: npt.ArrayLike, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        outputs = run_step({**state, "token": np.asarray(tokens, np.int32)})
        new_state = dict(state)
        new_state.update({name: outputs[f"next_{name}"] for name in self.state_names})
        return outputs["log_probs"], new_state

    def search(
        self, texts: Any, beam_width: int = 1, alpha: float = 0.7
    ) -> list[list[tuple[str, list[int], float]]]:
        """The `beam_width` best translations of each text, with their scores.

        Runs `seqkeras.decoding.beam_search_batch` (`beam_width=1` is greedy decoding) on
        `batch_size` texts at a time, over the models of the ensemble jointly if there are
        several; the score is the length-normalized log-probability
        (1/Ty^alpha) Σ log p(y<t> | x, y<1..t-1>).

        Returns:
            One list per text of `(translation, token_ids, score)`, best first.
        """
        sources = self.preprocessor.encode_sources(texts)
        vocabulary = self.preprocessor.target.vocabulary
        results: list[list[tuple[str, list[int], float]]] = []
        for start in range(0, len(sources), self.batch_size):
            chunk = sources[start : start + self.batch_size]
            step, state = self._search_step(chunk)
            found = decoding.beam_search_batch(
                step,
                state,
                len(chunk),
                vocabulary.sos_id,
                vocabulary.eos_id,
                beam_width=beam_width,
                max_len=self.preprocessor.target_length,
                alpha=alpha,
            )
            results.extend(
                [(self.preprocessor.decode_target(t), t, score) for t, score in hypotheses]
                for hypotheses in found
            )
        return results

    def _search_step(self, sources: np.ndarray) -> tuple[StepFn, State]:
        """The step function of a search over `sources` (every model's, joined if several)
        and its initial state."""
        steps = [
            _SharedEncoding(
                functools.partial(self._advance, run_step),
                run_encoder({"source": sources}),
                self.state_names,
            )
            for run_encoder, run_step in self.models
        ]
        if len(steps) == 1:
            return steps[0], steps[0].initial_state()
        return decoding.ensemble(steps), [step.initial_state() for step in steps]

    def translate(self, texts: Any, beam_width: int = 1, alpha: float = 0.7) -> list[str]:
        """The best translation of each text (a list of strings)."""
        return [hypotheses[0][0] for hypotheses in self.search(texts, beam_width, alpha)]

    def run_teacher_forced(
        self, state: dict[str, np.ndarray], tokens: Sequence[int]
    ) -> list[dict[str, np.ndarray]]:
        """Feeds `<sos>` + tokens[:-1] and returns each step's outputs (a list of dicts)."""
        fed = [self.preprocessor.target.vocabulary.sos_id, *tokens[:-1]]
        steps = []
        for token in fed:
            outputs = self.run_step({**state, "token": np.array([token], np.int32)})
            state = {**state, **{name: outputs[f"next_{name}"] for name in self.state_names}}
            steps.append(outputs)
        return steps

    def attention(self, text: str, translation_ids: Iterable[int]) -> np.ndarray:
        """The attention weights α<t,t'> of the decoder producing `translation_ids` for
        `text`: an array (len(translation_ids), len(source tokens))."""
        encoded = self.encode([text])
        steps = self.run_teacher_forced(encoded, list(translation_ids))
        length = int(np.count_nonzero(encoded["source_mask"][0]))
        return np.stack([outputs["attention"][0, :length] for outputs in steps])


class _SharedEncoding:
    """`Seq2SeqDecoder.step_fn` for a search whose state holds, per hypothesis, its input's
    row and its decoder states only.

    The hypotheses of one input share its encoder outputs, so the search need not carry (and
    gather) them every step: they are gathered here, again only when the inputs of the rows
    change (a beam reorders its hypotheses every step, but the number each input has seldom
    changes).
    """

    def __init__(
        self,
        step_fn: Callable[[npt.ArrayLike, dict[str, np.ndarray]], Any],
        encoded: dict[str, np.ndarray],
        state_names: tuple[str, ...],
    ) -> None:
        self.step_fn = step_fn
        self.state_names = state_names
        self.encoded = {k: v for k, v in encoded.items() if k not in state_names}
        self.states = {name: encoded[name] for name in state_names}
        self.rows = np.arange(len(next(iter(encoded.values()))))
        self.gathered = self.encoded

    def initial_state(self) -> dict[str, np.ndarray]:
        return {"input": self.rows, **self.states}

    def __call__(
        self, tokens: npt.ArrayLike, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rows = state["input"]
        if len(rows) != len(self.rows) or (rows != self.rows).any():
            self.gathered = {k: np.take(v, rows, axis=0) for k, v in self.encoded.items()}
            self.rows = rows
        states = {name: state[name] for name in self.state_names}
        log_probs, new_state = self.step_fn(tokens, {**self.gathered, **states})
        return log_probs, {"input": rows, **{name: new_state[name] for name in self.state_names}}


@register_pipeline("seq2seq")
class Seq2SeqBundle(Bundle):
    """A translation bundle: `"encoder"` and `"step"` graphs; `predict(texts)` translates.

    Metadata: `"preprocessor"` (a `preprocessor_class` config), `"state_names"`,
    `"beam_width"` and `"alpha"` (the default decoding settings), and for an ensemble
    (`seqkeras.export.join_bundles`) `"ensemble"`: the graph names of each further model, e.g.
    `[{"encoder": "encoder_2", "step": "step_2"}]`, searched jointly with the first.

    Example:

    >>> bundle = seqkeras.runtime.load("dates_bundle", backend="tflite")
    >>> bundle.predict(["Saturday 9 May 2018", "3 mars 2021"])
    ['2018-05-09', '2021-03-03']
    """

    input_kind = "texts"
    model_graphs = ("encoder", "step")
    options = declare(
        Option("beam_width", int, 1, low=1, high=32, help="1 = greedy (default: the bundle's)"),
        Option("alpha", float, 0.7, low=0.0, high=10.0, help="length normalization exponent"),
    )
    preprocessor_class: type[Preprocessor] = Seq2SeqPreprocessor
    preprocessor: Seq2SeqPreprocessor

    def setup(self) -> None:
        self.decoder = Seq2SeqDecoder(
            self["encoder"].predict,
            self["step"].run,  # fed the encoder's outputs and its own, already checked
            self.preprocessor,
            self.metadata["state_names"],
            ensemble=[
                (self[graphs["encoder"]].predict, self[graphs["step"]].run)
                for graphs in self.metadata.get("ensemble", [])
            ],
        )
        for name in ("beam_width", "alpha"):
            if name in self.metadata:
                self.options[name] = self.options[name].with_default(self.metadata[name])

    @property
    def beam_width(self) -> int:
        """The default beam width (the bundle's)."""
        return self.options["beam_width"].default

    @property
    def alpha(self) -> float:
        """The default length-normalization exponent (the bundle's)."""
        return self.options["alpha"].default

    def answer(self, inputs: Any, beam_width: int, alpha: float) -> list[str]:
        return self.decoder.translate(inputs, beam_width, alpha)

    def scored(self, inputs: Any, beam_width: int, alpha: float) -> list[dict[str, Any]]:
        """Each input's best output and its score: the length-normalized log-probability
        (1/Ty^alpha) Σ log p(y<t> | x, y<1..t-1>) (`alpha=0`: the sequence log-probability)."""
        return [
            {"output": hypotheses[0][0], "score": float(hypotheses[0][2])}
            for hypotheses in self.decoder.search(inputs, beam_width, alpha)
        ]


@register_pipeline("caption")
class CaptionBundle(Seq2SeqBundle):
    """An image captioning bundle: `predict(images)` takes a uint8 batch (n, height, width,
    channels) and returns one caption per image (see `Seq2SeqBundle`)."""

    input_kind = "arrays"
    array_dtype = "uint8"
    preprocessor_class = CaptionPreprocessor
    preprocessor: CaptionPreprocessor

    def read_files(self, paths: Sequence[str]) -> np.ndarray:
        """PNG or .npy images (`seqkeras.runtime.images.read_images`)."""
        from seqkeras.runtime.images import read_images

        return read_images(paths, self.preprocessor.image_shape)
