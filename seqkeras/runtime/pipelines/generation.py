"""Generation pipeline: a language model's step graph, sampled token by token in NumPy.

The decoding loops here are the only ones: a Keras task runs the same classes on its own
graphs (see `StepDecoder`), so the Keras path and the runtime give the same tokens.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqkeras import decoding
from seqkeras.decoding._types import Seed, State
from seqkeras.decoding._validation import as_generator, log_softmax
from seqkeras.errors import SeqKerasError
from seqkeras.runtime.bundle import Bundle, register_pipeline
from seqkeras.runtime.contract import LimitError, Option, check_stop, declare
from seqkeras.text.preprocessor import TextPreprocessor


class StepDecoder:
    """Token-by-token generation and scoring over a language model's step graph, in NumPy.

    The step graph takes `"token"` (batch, 1) int32 and the recurrent states `"state_0"`,
    `"state_1"`, ... (batch, size) float32, and returns `"logits"` (batch, vocab_size) and the
    new states `"new_state_0"`, ...; every state starts at zeros.

    Args:
        run_step: `run_step(feeds) -> outputs`, dicts name -> array: a runtime graph's
            `run`, or a Keras step model wrapped to return NumPy arrays.
        preprocessor: the task's `TextPreprocessor`.
        state_sizes: the size of each state, in order.
    """

    def __init__(
        self,
        run_step: Callable[[dict[str, np.ndarray]], Any],
        preprocessor: TextPreprocessor,
        state_sizes: Sequence[int],
    ) -> None:
        self.run_step = run_step
        self.preprocessor = preprocessor
        self.state_sizes = [int(size) for size in state_sizes]

    def initial_state(self, batch: int = 1) -> list[np.ndarray]:
        """The zero states of `batch` rows."""
        return [np.zeros((batch, size), np.float32) for size in self.state_sizes]

    def step_fn(self, tokens: npt.ArrayLike, state: State) -> tuple[np.ndarray, list[np.ndarray]]:
        """`decoding`'s step function: (tokens [n], state) -> (log_probs [n, vocab], state)."""
        feeds = {"token": np.asarray(tokens, np.int32).reshape(-1, 1)}
        feeds.update({f"state_{i}": s for i, s in enumerate(state)})
        outputs = self.run_step(feeds)
        new_state = [outputs[f"new_state_{i}"] for i in range(len(state))]
        return log_softmax(outputs["logits"]), new_state

    def generate(
        self,
        n: int = 1,
        prefix: str = "",
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: Seed = None,
        max_len: int | None = None,
    ) -> list[str]:
        """Generates `n` texts that start with `prefix`.

        The prefix's tokens are fed after `<sos>`; then each next token is drawn (see
        `seqkeras.decoding.sample`) until `<eos>` or `max_len` new tokens.

        Args:
            n: how many texts.
            prefix: the text every generated text starts with ("" for none).
            temperature: 0 is greedy (argmax); T < 1 sharper, T > 1 flatter.
            top_k: sample among the k most probable tokens only.
            top_p: sample within the nucleus of probability mass p.
            seed: an integer seed (the same seed, the same texts), a `np.random.Generator`,
                or None.
            max_len: the most new tokens per text; by default up to the preprocessor's
                `max_length` (or 100 without one).

        Returns:
            A list of `n` strings.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SeqKerasError(f"generate: `n` must be an integer >= 1, got {n!r}.")
        vocabulary = self.preprocessor.vocabulary
        prefix_ids = self.preprocessor.encode(prefix)
        if max_len is None:
            longest = self.preprocessor.max_length or 100
            max_len = max(1, longest - len(prefix_ids)) + 1  # room for <eos>
        sampler = decoding.get_sampler(temperature, top_k, top_p)
        rng = as_generator(seed)
        tokens = [vocabulary.sos_id, *prefix_ids]
        state = self.initial_state()
        for token in tokens[:-1]:
            _, state = self.step_fn([token], state)
        texts = []
        for _ in range(n):
            generated = sampler.generate(
                self.step_fn, state, tokens[-1], vocabulary.eos_id, max_len, rng=rng
            )
            texts.append(self.preprocessor.decode([*prefix_ids, *generated]))
        return texts

    def log_prob(self, text: str) -> tuple[float, int]:
        """log P(text) = Σ_t log P(y<t> | <sos>, y<1..t-1>), `<eos>` included, in nats.

        Returns:
            `(log_prob, token_count)`: the count includes `<eos>`, so that
            exp(-log_prob / token_count) is the text's perplexity.
        """
        tokens = self.preprocessor.tokenize(text)  # any length: generated texts may be long
        ids = self.preprocessor.vocabulary.encode(tokens, add_sos=True, add_eos=True)
        state = self.initial_state()
        total = 0.0
        for token, target in itertools.pairwise(ids):
            log_probs, state = self.step_fn([token], state)
            total += float(log_probs[0, target])
        return total, len(ids) - 1


@register_pipeline("generate")
class GenerationBundle(Bundle):
    """A language model's bundle: its `"step"` graph; `predict(prefixes, num=...)` samples
    `num` texts per prefix, `generate(...)` and `score(...)` as in the Keras task.

    Metadata: `"preprocessor"` (a `TextPreprocessor` config) and `"state_sizes"`.

    Example:

    >>> bundle = seqkeras.runtime.load("char_lm_bundle")
    >>> bundle.predict(["Ma", ""], num=2, temperature=0.8, seed=0)
    [['Marlen', 'Marta'], ['Jonas', 'Elia']]
    """

    input_kind = "prefixes"
    options = declare(
        Option("num", int, 1, low=1, high=64, help="texts per prefix"),
        Option("temperature", float, 1.0, low=0.0, high=100.0, help="0 = greedy"),
        Option("top_k", int, None, low=1, high=100_000, help="sample among the k most probable"),
        Option("top_p", float, None, low=0.0, high=1.0, help="sample within the nucleus of mass p"),
        Option(
            "seed",
            int,
            None,
            low=0,
            high=2**63 - 1,
            also=(np.random.Generator,),
            help="random seed (reproducible output)",
        ),
        Option("max_len", int, None, low=1, high=1000, help="most tokens generated per text"),
    )
    limits = {"inputs": 256, "generated": 1024}  # noqa: RUF012 (see Bundle.limits)
    preprocessor_class = TextPreprocessor
    preprocessor: TextPreprocessor

    def setup(self) -> None:
        self.decoder = StepDecoder(  # the step is fed its own outputs: `run`, unchecked
            self["step"].run, self.preprocessor, self.metadata["state_sizes"]
        )

    def check_inputs(self, inputs: Any, options: dict[str, Any]) -> list[str]:
        inputs = super().check_inputs(inputs, options)
        if not all(isinstance(prefix, str) for prefix in inputs):
            raise SeqKerasError("expected a list of prefix strings.")
        generated = len(inputs) * options["num"]
        if generated > self.limits["generated"]:
            raise LimitError(
                f"{len(inputs)} prefixes x num {options['num']} = {generated} texts; the most "
                f"per call is {self.limits['generated']}."
            )
        return inputs

    def answer(
        self, prefixes: Sequence[str], num: int, seed: Seed, **sampling: Any
    ) -> list[list[str]]:
        """`num` texts per prefix; an integer seed seeds each prefix's texts on its own.

        The texts come one at a time from one generator per prefix (the same texts as
        `generate(num, ...)`), with `check_stop()` between them.
        """
        outputs = []
        for prefix in prefixes:
            rng = as_generator(seed)
            texts = []
            for _ in range(num):
                check_stop()
                texts.extend(self.decoder.generate(1, prefix, seed=rng, **sampling))
            outputs.append(texts)
        return outputs

    def scored(self, prefixes: Sequence[str], **options: Any) -> list[dict[str, Any]]:
        return [
            {"texts": texts, "log_probs": [self.score(text) for text in texts]}
            for texts in self.answer(prefixes, **options)
        ]

    def generate(self, n: int = 1, prefix: str = "", **sampling: Any) -> list[str]:
        """`StepDecoder.generate`: n texts (temperature, top_k, top_p, seed, max_len)."""
        return self.decoder.generate(n, prefix, **sampling)

    def score(self, text: str) -> float:
        """log P(text) in nats (`StepDecoder.log_prob`, without the token count)."""
        return self.decoder.log_prob(text)[0]
