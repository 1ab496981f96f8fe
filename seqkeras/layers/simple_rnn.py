"""The basic recurrent unit of the course: a<t> = g(Waa a<t-1> + Wax x<t> + ba)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from seqkeras.layers._types import Identifier, Tensor
from seqkeras.layers.recurrent import RecurrentCell, apply_mask, derivative
from seqkeras.layers.recurrent_layer import RecurrentLayer


@keras.saving.register_keras_serializable(package="seqkeras")
class SimpleRNNCell(RecurrentCell):
    """Cell class for the SimpleRNN layer.

        a<t> = g(Waa a<t-1> + Wax x<t> + ba),   g = tanh or relu

    Weights use the layout of `keras.layers.SimpleRNNCell`: `kernel` (in, u) = Waxᵀ,
    `recurrent_kernel` (u, u) = Waaᵀ, `bias` (u,) = ba.

    Args:
        units: positive integer, dimensionality of a<t>.
        activation: g, `"tanh"` (default) or `"relu"` (or any Keras activation).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (default `"glorot_uniform"`, `"orthogonal"`, `"zeros"`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of a<t-1>'s units to drop in the recurrent matmul.
        seed: random seed for dropout.

    Call arguments:
        inputs: a 2D tensor (batch, features), x<t>.
        states: list of one tensor (batch, units): [a<t-1>].
        training: whether dropout applies.

    Returns:
        `(a<t>, [a<t>])`.

    Example:

    >>> cell = SimpleRNNCell(3)
    >>> a1, _ = cell(np.eye(4, dtype="float32")[:1], [np.zeros((1, 3), "float32")])
    >>> a1.shape
    (1, 3)
    """

    unrolled_training_by_default = True

    def __init__(self, units: int, activation: Identifier = "tanh", **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.state_size = self.units

    def forward_step(
        self,
        projected: Tensor,
        states: list[Tensor],
        weights: list[Tensor],
        recurrent_mask: Tensor | None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        a_prev = states[0]
        a = self.activation(projected + ops.matmul(apply_mask(a_prev, recurrent_mask), weights[0]))
        return [a], []

    def backward_step(
        self,
        d_states: list[Tensor],
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> tuple[Tensor, list[Tensor]]:
        d_z = d_states[0] * derivative(self.activation)(states[0])
        return d_z, [ops.matmul(d_z, weights[0])]


@keras.saving.register_keras_serializable(package="seqkeras")
class SimpleRNN(RecurrentLayer):
    """Fully-connected RNN layer: a<t> = g(Waa a<t-1> + Wax x<t> + ba).

    Runs `SimpleRNNCell` over a sequence. Takes the arguments of `keras.layers.SimpleRNN`.

    Args:
        units, activation, use_bias, *_initializer, *_regularizer, *_constraint, dropout,
        recurrent_dropout, seed: as in `SimpleRNNCell`.
        activity_regularizer: regularizer of the layer's output.
        return_sequences: return a<1..T> (batch, time, units) rather than a<T>.
        return_state: also return the final a<T>.
        go_backwards: process the sequence backwards (and return it reversed).
        stateful: carry the final state of batch i over as the initial state of batch i+1.
        unroll: unroll the loop (faster for short sequences; a fixed length).
        jit_compile: `"auto"` (default), True or False: whether training runs the XLA-compiled
            loop with hand-written backpropagation through time (`RecurrentLayer`).

    Call arguments:
        inputs: a 3D tensor (batch, time, features).
        mask: boolean (batch, time); False steps leave the state unchanged.
        training: whether dropout applies.
        initial_state: list [a<0>]; zeros if omitted.

    Returns:
        a<T> (or the sequence), followed by a<T> when `return_state=True`.

    Example:

    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> SimpleRNN(4, return_sequences=True)(inputs).shape
    (32, 10, 4)
    """

    def __init__(
        self,
        units: int,
        activation: Identifier = "tanh",
        use_bias: bool = True,
        kernel_initializer: Identifier = "glorot_uniform",
        recurrent_initializer: Identifier = "orthogonal",
        bias_initializer: Identifier = "zeros",
        kernel_regularizer: Identifier = None,
        recurrent_regularizer: Identifier = None,
        bias_regularizer: Identifier = None,
        activity_regularizer: Identifier = None,
        kernel_constraint: Identifier = None,
        recurrent_constraint: Identifier = None,
        bias_constraint: Identifier = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        **kwargs: Any,
    ) -> None:
        cell = SimpleRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="simple_rnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
