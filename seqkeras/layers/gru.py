"""Gated Recurrent Unit: the full GRU (Cho et al. 2014) and the course's minimal GRU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from seqkeras.layers._types import Config, Identifier, Tensor
from seqkeras.layers.recurrent import RecurrentCell, apply_mask, derivative, get_activation
from seqkeras.layers.recurrent_layer import RecurrentLayer


@keras.saving.register_keras_serializable(package="seqkeras")
class GRUCell(RecurrentCell):
    """Cell class for the GRU layer.

    Full GRU (`minimal=False`, Cho et al. 2014), the relevance gate Γr applied to c<t-1>
    before the recurrent matmul:

        Γu = σ(Wu x<t> + Uu c<t-1> + bu)                  update gate
        Γr = σ(Wr x<t> + Ur c<t-1> + br)                  relevance (reset) gate
        c~<t> = tanh(Wc x<t> + Uc (Γr * c<t-1>) + bc)
        c<t> = Γu * c~<t> + (1 - Γu) * c<t-1>,   a<t> = c<t>

    Minimal GRU (`minimal=True`, the course's simplified GRU): no Γr, and
    c~<t> = tanh(Wc x<t> + Uc c<t-1> + bc).

    Weights: `kernel` (in, 3u), `recurrent_kernel` (u, 3u), `bias` (3u,) with blocks Γu, Γr,
    c~ — the layout of `keras.layers.GRUCell(reset_after=False)`, whose update gate z is
    1 - Γu (negate the Γu blocks to copy weights across). With `minimal=True` the blocks are
    Γu, c~ (width 2u).

    Args:
        units: positive integer, dimensionality of c<t>.
        minimal: if True, the minimal GRU (update gate only).
        activation: activation of c~<t> (default `"tanh"`).
        recurrent_activation: activation σ of the gates (default `"sigmoid"`).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (default `"glorot_uniform"`, `"orthogonal"`, `"zeros"`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of c<t-1>'s units to drop in the recurrent matmuls.
        seed: random seed for dropout.

    Call arguments:
        inputs: a 2D tensor (batch, features), x<t>.
        states: list of one tensor (batch, units): [c<t-1>].
        training: whether dropout applies.

    Returns:
        `(c<t>, [c<t>])`.

    Example:

    >>> layer = keras.layers.RNN(GRUCell(8, minimal=True))
    >>> layer(np.zeros((2, 5, 3))).shape
    (2, 8)
    """

    def __init__(
        self,
        units: int,
        minimal: bool = False,
        activation: Identifier = "tanh",
        recurrent_activation: Identifier = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Identifier = "glorot_uniform",
        recurrent_initializer: Identifier = "orthogonal",
        bias_initializer: Identifier = "zeros",
        kernel_regularizer: Identifier = None,
        recurrent_regularizer: Identifier = None,
        bias_regularizer: Identifier = None,
        kernel_constraint: Identifier = None,
        recurrent_constraint: Identifier = None,
        bias_constraint: Identifier = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
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
            **kwargs,
        )
        self.minimal = bool(minimal)
        self.gate_count = 2 if self.minimal else 3
        # The full GRU's step is two dependent matmuls ([Uu Ur], then Uc), each too small for
        # XLA to spread over cores; on the batch's two halves, its compiled loop trains faster
        # than TensorFlow's loop (benchmarks/rnn_speed.py). The minimal GRU's does not.
        self.compiled_step_in_halves = not self.minimal
        self.compiled_loop_by_default = not self.minimal
        self.recurrent_activation = get_activation(
            self.name, "recurrent_activation", recurrent_activation
        )
        self.state_size = self.units

    def recurrent_weights(self) -> list[Tensor]:
        if self.minimal:
            return [self.recurrent_kernel]
        # The full GRU's two recurrent matmuls: [Uu Ur] on c<t-1>, Uc on Γr * c<t-1>.
        split = 2 * self.units
        return [self.recurrent_kernel[:, :split], self.recurrent_kernel[:, split:]]

    def activations(self) -> dict[str, Callable[[Tensor], Tensor]]:
        return {"activation": self.activation, "recurrent_activation": self.recurrent_activation}

    def forward_step(
        self,
        projected: Tensor,
        states: list[Tensor],
        weights: list[Tensor],
        recurrent_mask: Tensor | None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        c_prev = states[0]
        c_in = apply_mask(c_prev, recurrent_mask)
        if self.minimal:
            z_u, z_c = ops.split(projected + ops.matmul(c_in, weights[0]), 2, axis=-1)
            gate_u = self.recurrent_activation(z_u)
            candidate = self.activation(z_c)
            saved = [gate_u, candidate]
        else:
            projected_gates, projected_candidate = ops.split(projected, [2 * self.units], axis=-1)
            gates = self.recurrent_activation(projected_gates + ops.matmul(c_in, weights[0]))
            gate_u, gate_r = ops.split(gates, 2, axis=-1)
            candidate = self.activation(projected_candidate + ops.matmul(gate_r * c_in, weights[1]))
            saved = [gate_u, gate_r, candidate]
        return [gate_u * candidate + (1.0 - gate_u) * c_prev], saved

    def backward_weights(self, weights: list[Tensor]) -> list[Tensor]:
        return [ops.transpose(w) for w in weights]  # the gates' blocks and the candidate's

    def backward_step(
        self,
        d_states: list[Tensor],
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> tuple[Tensor, list[Tensor]]:
        d_c, c_prev = d_states[0], previous_states[0]
        gate_u, candidate = saved[0], saved[-1]
        gate_derivative = derivative(self.recurrent_activation)
        d_z_u = d_c * (candidate - c_prev) * gate_derivative(gate_u)
        d_z_c = d_c * gate_u * derivative(self.activation)(candidate)
        d_c_prev = d_c * (1.0 - gate_u)
        if self.minimal:
            d_z = ops.concatenate([d_z_u, d_z_c], axis=-1)
            return d_z, [d_c_prev + ops.matmul(d_z, weights[0])]
        gate_r = saved[1]
        d_reset_c = ops.matmul(d_z_c, weights[1])
        d_z_gates = ops.concatenate([d_z_u, d_reset_c * c_prev * gate_derivative(gate_r)], axis=-1)
        d_c_prev = d_c_prev + d_reset_c * gate_r + ops.matmul(d_z_gates, weights[0])
        return ops.concatenate([d_z_gates, d_z_c], axis=-1), [d_c_prev]

    def recurrent_weight_gradients(
        self,
        d_projected: Tensor,
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> list[Tensor]:
        if self.minimal:
            return super().recurrent_weight_gradients(
                d_projected, saved, previous_states, states, weights
            )
        c_prev, gate_r = previous_states[0], saved[1]
        d_z_gates, d_z_c = ops.split(d_projected, [2 * self.units], axis=-1)
        return [
            ops.matmul(ops.transpose(c_prev), d_z_gates),
            ops.matmul(ops.transpose(gate_r * c_prev), d_z_c),
        ]

    def get_config(self) -> Config:
        config = {
            "minimal": self.minimal,
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="seqkeras")
class GRU(RecurrentLayer):
    """Gated Recurrent Unit layer: the full GRU, or the course's minimal GRU.

    Runs `GRUCell` over a sequence. Takes the arguments of `keras.layers.GRU` plus `minimal`;
    the full GRU is `keras.layers.GRU(reset_after=False)` with Γu = 1 - z.

    Args:
        units, minimal, activation, recurrent_activation, use_bias, *_initializer,
        *_regularizer, *_constraint, dropout, recurrent_dropout, seed: as in `GRUCell`.
        activity_regularizer: regularizer of the layer's output.
        return_sequences: return c<1..T> (batch, time, units) rather than c<T>.
        return_state: also return the final c<T>.
        go_backwards: process the sequence backwards (and return it reversed).
        stateful: carry the final state of batch i over as the initial state of batch i+1.
        unroll: unroll the loop (faster for short sequences; a fixed length).
        jit_compile: `"auto"` (default), True or False: whether training runs the XLA-compiled
            loop with hand-written backpropagation through time (`RecurrentLayer`).

    Call arguments:
        inputs: a 3D tensor (batch, time, features).
        mask: boolean (batch, time); False steps leave the state unchanged.
        training: whether dropout applies.
        initial_state: list [c<0>]; zeros if omitted.

    Returns:
        c<T> (or the sequence), followed by c<T> when `return_state=True`.

    Example:

    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> GRU(4, minimal=True, return_sequences=True)(inputs).shape
    (32, 10, 4)
    """

    def __init__(
        self,
        units: int,
        minimal: bool = False,
        activation: Identifier = "tanh",
        recurrent_activation: Identifier = "sigmoid",
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
        cell = GRUCell(
            units,
            minimal=minimal,
            activation=activation,
            recurrent_activation=recurrent_activation,
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
            name="gru_cell",
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
