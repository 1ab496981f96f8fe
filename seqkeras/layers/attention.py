"""Attention over the steps of an encoded sequence: additive (Bahdanau) and multiplicative (Luong).

Both layers score every encoder step a<t'> against a decoder state s, turn the scores into
weights α with a softmax over t' (masked steps excluded), and return the context
c = Σ_t' α<t'> a<t'> together with the weights. The query may be one state per example
(batch, query_dim), as in a decoder step, or a sequence of them (batch, Tq, query_dim), as in
a decoder run over a whole teacher-forced target at once.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from seqkeras.compat import get_keras_mask
from seqkeras.errors import SeqKerasError
from seqkeras.layers._types import Config, Identifier, Shape, Tensor
from seqkeras.layers.recurrent import check_units

# Added to the scores of masked steps: exp of it underflows to exactly 0 in float32.
MASKED_SCORE = -1e9
LUONG_SCORES = ("dot", "general")


class Attention(keras.layers.Layer):
    """What both attention layers share: masking, softmax and the weighted sum.

    A subclass implements `scores(query, keys) -> e` with e of shape (batch, Tq, Tv) for a
    query of shape (batch, Tq, query_dim), and may override `keys(values)`: the part of the
    scores that depends on the values alone (TF Addons' "memory layer"). A decoder that attends
    over the same values at every step computes the keys once and passes them to each call;
    `projects_values` says whether the keys differ from the values.
    """

    projects_values = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_shapes(self, query_shape: Shape, values_shape: Shape) -> None:
        if len(values_shape) != 3 or values_shape[-1] is None:
            raise SeqKerasError(
                f"{self.name}: `values` must have shape (batch, steps, features) with a known "
                f"number of features, got {tuple(values_shape)}."
            )
        if len(query_shape) not in (2, 3) or query_shape[-1] is None:
            raise SeqKerasError(
                f"{self.name}: `query` must have shape (batch, features) or (batch, steps, "
                f"features) with a known number of features, got {tuple(query_shape)}."
            )

    def keys(self, values: Tensor) -> Tensor:
        """What the scores read of the values, (batch, Tv, key_dim): the values themselves."""
        return values

    def call(
        self,
        query: Tensor,
        values: Tensor,
        mask: Tensor | None = None,
        keys: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)
        scores = self.scores(query, self.keys(values) if keys is None else keys)
        if mask is None:
            mask = get_keras_mask(values)
        if mask is not None:
            keep = ops.expand_dims(ops.cast(mask, scores.dtype), 1)
            scores = scores + (1.0 - keep) * MASKED_SCORE
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:
            # A row whose steps are all masked gets weights 0 (and context 0), not uniform ones.
            weights = weights * keep
        context = ops.matmul(weights, values)
        if single_step:
            return context[:, 0, :], weights[:, 0, :]
        return context, weights

    def compute_mask(
        self, query: Tensor, values: Tensor, mask: Tensor | None = None, keys: Tensor | None = None
    ) -> None:
        return None

    def compute_output_shape(
        self, query_shape: Shape, values_shape: Shape, keys_shape: Shape | None = None
    ) -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
        return (*query_shape[:-1], values_shape[-1]), (*query_shape[:-1], values_shape[1])


@keras.saving.register_keras_serializable(package="seqkeras")
class BahdanauAttention(Attention):
    """Additive attention (Bahdanau, Cho & Bengio 2015).

    For a decoder state s (the query) and encoder outputs a<1..Tx> (the values):

        e<t'> = vᵀ tanh(W1 s + W2 a<t'>)
        α<t'> = exp(e<t'>) / Σ_t'' exp(e<t''>)       (masked steps excluded: α = 0)
        c = Σ_t' α<t'> a<t'>

    In the course's notation the query is s<t-1> and e<t,t'>, α<t,t'>, c<t> carry the
    decoder step t; a query with a time axis computes every t at once.

    Args:
        units: positive integer, the width of the hidden layer W1 s + W2 a<t'>.
        kernel_initializer: initializer of W1 (`query_kernel`, (query_dim, units)),
            W2 (`value_kernel`, (value_dim, units)) and v (`score_kernel`, (units,)).
            Default `"glorot_uniform"`.

    Call arguments:
        query: (batch, query_dim), or (batch, Tq, query_dim) for Tq queries at once.
        values: (batch, Tx, value_dim), the encoder outputs a<t'>.
        mask: optional (batch, Tx), boolean or 0/1: False/0 marks padding steps, which get
            α = 0. Defaults to the Keras mask of `values` (e.g. from an `Embedding` with
            `mask_zero=True`).
        keys: optional (batch, Tx, units), `keys(values)` = W2 a<t'> computed beforehand
            (once per source sequence, not once per decoder step).

    Returns:
        `(context, attention_weights)`: context (batch, [Tq,] value_dim) and weights
        (batch, [Tq,] Tx), each row of the weights summing to 1.

    Example:

    >>> attention = BahdanauAttention(16)
    >>> context, weights = attention(np.zeros((2, 8)), np.ones((2, 5, 6)))
    >>> context.shape, weights.shape
    ((2, 6), (2, 5))
    """

    def __init__(
        self, units: int, kernel_initializer: Identifier = "glorot_uniform", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_units(self.name, units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape: Shape, values_shape: Shape) -> None:
        self._check_shapes(query_shape, values_shape)
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], self.units),
            name="query_kernel",
            initializer=self.kernel_initializer,
        )
        self.value_kernel = self.add_weight(
            shape=(values_shape[-1], self.units),
            name="value_kernel",
            initializer=self.kernel_initializer,
        )
        self.score_kernel = self.add_weight(
            shape=(self.units,), name="score_kernel", initializer=self.kernel_initializer
        )

    projects_values = True

    def keys(self, values: Tensor) -> Tensor:
        """W2 a<t'>: (batch, Tx, units)."""
        return ops.matmul(values, self.value_kernel)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        projected_query = ops.expand_dims(ops.matmul(query, self.query_kernel), 2)
        hidden = ops.tanh(projected_query + ops.expand_dims(keys, 1))
        return ops.sum(hidden * self.score_kernel, axis=-1)

    def get_config(self) -> Config:
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package="seqkeras")
class LuongAttention(Attention):
    """Multiplicative attention (Luong, Pham & Manning 2015).

    For a decoder state s (the query) and encoder outputs a<1..Tx> (the values):

        e<t'> = sᵀ a<t'>                 score="dot" (query and values of the same width)
        e<t'> = sᵀ Wa a<t'>              score="general"
        α<t'> = exp(e<t'>) / Σ_t'' exp(e<t''>)       (masked steps excluded: α = 0)
        c = Σ_t' α<t'> a<t'>

    Args:
        score: `"dot"` (no weights) or `"general"` (a matrix `score_kernel` Wa of shape
            (query_dim, value_dim)).
        kernel_initializer: initializer of Wa. Default `"glorot_uniform"`.

    Call arguments:
        query: (batch, query_dim), or (batch, Tq, query_dim) for Tq queries at once.
        values: (batch, Tx, value_dim), the encoder outputs a<t'>.
        mask: optional (batch, Tx), boolean or 0/1: False/0 marks padding steps, which get
            α = 0. Defaults to the Keras mask of `values`.
        keys: optional, `keys(values)`: the values themselves (`projects_values` is False).

    Returns:
        `(context, attention_weights)`: context (batch, [Tq,] value_dim) and weights
        (batch, [Tq,] Tx), each row of the weights summing to 1.

    Example:

    >>> attention = LuongAttention(score="general")
    >>> context, weights = attention(np.zeros((2, 3, 8)), np.ones((2, 5, 6)))
    >>> context.shape, weights.shape
    ((2, 3, 6), (2, 3, 5))
    """

    def __init__(
        self,
        score: str = "dot",
        kernel_initializer: Identifier = "glorot_uniform",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if score not in LUONG_SCORES:
            raise SeqKerasError(
                f"{self.name}: `score` must be one of {LUONG_SCORES}, got {score!r}."
            )
        self.score = score
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape: Shape, values_shape: Shape) -> None:
        self._check_shapes(query_shape, values_shape)
        if self.score == "general":
            self.score_kernel = self.add_weight(
                shape=(query_shape[-1], values_shape[-1]),
                name="score_kernel",
                initializer=self.kernel_initializer,
            )
        elif query_shape[-1] != values_shape[-1]:
            raise SeqKerasError(
                f"{self.name}: score='dot' needs query and values of the same width, got "
                f"{query_shape[-1]} and {values_shape[-1]}; use score='general'."
            )

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        if self.score == "general":
            query = ops.matmul(query, self.score_kernel)
        return ops.matmul(query, ops.swapaxes(keys, 1, 2))

    def get_config(self) -> Config:
        return {
            **super().get_config(),
            "score": self.score,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
