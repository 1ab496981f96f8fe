"""Long Short-Term Memory, with optional peephole connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from seqkeras.layers._types import Config, Identifier, Shape, Tensor
from seqkeras.layers.recurrent import RecurrentCell, apply_mask, derivative, get_activation
from seqkeras.layers.recurrent_layer import RecurrentLayer


@keras.saving.register_keras_serializable(package="seqkeras")
class LSTMCell(RecurrentCell):
    """Cell class for the LSTM layer (Hochreiter & Schmidhuber 1997), optionally with peepholes.

    With z = W x<t> + U a<t-1> + b split into four blocks (i, f, c, o):

        Γi = σ(z_i [+ p_i * c<t-1>])         update (input) gate
        Γf = σ(z_f [+ p_f * c<t-1>])         forget gate
        c~<t> = tanh(z_c)
        c<t> = Γf * c<t-1> + Γi * c~<t>
        Γo = σ(z_o [+ p_o * c<t>])           output gate
        a<t> = Γo * tanh(c<t>)

    The bracketed peephole terms (Gers & Schmidhuber 2002) exist only with `peephole=True`; the
    diagonal weights p_i, p_f, p_o are the rows of `peephole_kernel` (3, units). Weights use
    the layout of `keras.layers.LSTMCell` (gate blocks i, f, c, o), so they copy across.

    Args:
        units: positive integer, dimensionality of a<t> and c<t>.
        activation: activation of c~<t> and of c<t> in a<t> (default `"tanh"`).
        recurrent_activation: activation σ of the gates (default `"sigmoid"`).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer: initializer of `kernel` (W). Default `"glorot_uniform"`.
        recurrent_initializer: initializer of `recurrent_kernel` (U). Default `"orthogonal"`.
        bias_initializer: initializer of `bias`. Default `"zeros"`.
        unit_forget_bias: if True, add 1 to the forget gate's bias at initialization
            (Jozefowicz et al. 2015).
        peephole: if True, the gates see the cell state through `peephole_kernel`.
        peephole_initializer: initializer of `peephole_kernel`. Default `"glorot_uniform"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, peephole_regularizer:
            regularizers of the weights.
        kernel_constraint, recurrent_constraint, bias_constraint, peephole_constraint:
            constraints of the weights.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of a<t-1>'s units to drop in the recurrent matmul.
        seed: random seed for dropout.

    Call arguments:
        inputs: a 2D tensor (batch, features), x<t>.
        states: list of two tensors (batch, units): [a<t-1>, c<t-1>].
        training: whether dropout applies.

    Returns:
        `(a<t>, [a<t>, c<t>])`.

    Example:

    >>> cell = LSTMCell(8, peephole=True)
    >>> layer = keras.layers.RNN(cell)
    >>> layer(np.zeros((2, 5, 3))).shape
    (2, 8)
    """

    gate_count = 4
    compiled_loop_by_default = True

    def __init__(
        self,
        units: int,
        activation: Identifier = "tanh",
        recurrent_activation: Identifier = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Identifier = "glorot_uniform",
        recurrent_initializer: Identifier = "orthogonal",
        bias_initializer: Identifier = "zeros",
        unit_forget_bias: bool = True,
        peephole: bool = False,
        peephole_initializer: Identifier = "glorot_uniform",
        kernel_regularizer: Identifier = None,
        recurrent_regularizer: Identifier = None,
        bias_regularizer: Identifier = None,
        peephole_regularizer: Identifier = None,
        kernel_constraint: Identifier = None,
        recurrent_constraint: Identifier = None,
        bias_constraint: Identifier = None,
        peephole_constraint: Identifier = None,
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
        self.recurrent_activation = get_activation(
            self.name, "recurrent_activation", recurrent_activation
        )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.peephole = bool(peephole)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)
        self.peephole_regularizer = keras.regularizers.get(peephole_regularizer)
        self.peephole_constraint = keras.constraints.get(peephole_constraint)
        self.state_size = [self.units, self.units]

    def build(self, input_shape: Shape) -> None:
        super().build(input_shape)
        if self.peephole:
            self.peephole_kernel = self.add_weight(
                shape=(3, self.units),
                name="peephole_kernel",
                initializer=self.peephole_initializer,
                regularizer=self.peephole_regularizer,
                constraint=self.peephole_constraint,
            )

    def build_bias_initializer(self) -> Callable[..., Tensor]:
        if not self.unit_forget_bias:
            return self.bias_initializer

        def bias_initializer(_: Shape, *args: Any, **kwargs: Any) -> Tensor:
            return ops.concatenate(
                [
                    self.bias_initializer((self.units,), *args, **kwargs),
                    keras.initializers.get("ones")((self.units,), *args, **kwargs),
                    self.bias_initializer((self.units * 2,), *args, **kwargs),
                ]
            )

        return bias_initializer

    def recurrent_weights(self) -> list[Tensor]:
        if self.peephole:
            return [self.recurrent_kernel, self.peephole_kernel]
        return [self.recurrent_kernel]

    def activations(self) -> dict[str, Callable[[Tensor], Tensor]]:
        return {"activation": self.activation, "recurrent_activation": self.recurrent_activation}

    def forward_step(
        self,
        projected: Tensor,
        states: list[Tensor],
        weights: list[Tensor],
        recurrent_mask: Tensor | None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        a_prev, c_prev = states
        z = projected + ops.matmul(apply_mask(a_prev, recurrent_mask), weights[0])
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        if self.peephole:
            p_i, p_f, p_o = ops.unstack(weights[1], 3, axis=0)
            z_i = z_i + p_i * c_prev
            z_f = z_f + p_f * c_prev
        gate_i = self.recurrent_activation(z_i)
        gate_f = self.recurrent_activation(z_f)
        candidate = self.activation(z_c)
        c = gate_f * c_prev + gate_i * candidate
        if self.peephole:
            z_o = z_o + p_o * c
        gate_o = self.recurrent_activation(z_o)
        return [gate_o * self.activation(c), c], [gate_i, gate_f, candidate, gate_o]

    def backward_step(
        self,
        d_states: list[Tensor],
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> tuple[Tensor, list[Tensor]]:
        d_a, d_c = d_states
        gate_i, gate_f, candidate, gate_o = saved
        c_prev, c = previous_states[1], states[1]
        gate_derivative = derivative(self.recurrent_activation)
        activated_c = self.activation(c)
        d_z_o = d_a * activated_c * gate_derivative(gate_o)
        d_c = d_c + d_a * gate_o * derivative(self.activation)(activated_c)
        if self.peephole:
            p_i, p_f, p_o = ops.unstack(weights[1], 3, axis=0)
            d_c = d_c + d_z_o * p_o
        d_z_i = d_c * candidate * gate_derivative(gate_i)
        d_z_f = d_c * c_prev * gate_derivative(gate_f)
        d_z_c = d_c * gate_i * derivative(self.activation)(candidate)
        d_c_prev = d_c * gate_f
        if self.peephole:
            d_c_prev = d_c_prev + d_z_i * p_i + d_z_f * p_f
        d_z = ops.concatenate([d_z_i, d_z_f, d_z_c, d_z_o], axis=-1)
        return d_z, [ops.matmul(d_z, weights[0]), d_c_prev]

    def recurrent_weight_gradients(
        self,
        d_projected: Tensor,
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> list[Tensor]:
        d_kernel = super().recurrent_weight_gradients(
            d_projected, saved, previous_states, states, weights
        )
        if not self.peephole:
            return d_kernel
        return [*d_kernel, _peephole_gradient(d_projected, previous_states[1], states[1])]

    def get_config(self) -> Config:
        serialize = keras.saving.serialize_keras_object
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "peephole": self.peephole,
            "peephole_initializer": serialize(self.peephole_initializer),
            "peephole_regularizer": serialize(self.peephole_regularizer),
            "peephole_constraint": serialize(self.peephole_constraint),
        }
        return {**super().get_config(), **config}


@tf.function(jit_compile=True, reduce_retracing=True)
def _peephole_gradient(d_projected: Tensor, c_prev: Tensor, c: Tensor) -> Tensor:
    """The gradient of the peephole kernel: the sums over steps and rows of ∂L/∂z_i ⊙ c<t-1>,
    ∂L/∂z_f ⊙ c<t-1> and ∂L/∂z_o ⊙ c<t>. Compiled: XLA reads each gate's block in place and
    fuses products and sums, where TensorFlow's ops copy the blocks out first."""
    d_z_i, d_z_f, _, d_z_o = tf.split(d_projected, 4, axis=-1)
    return tf.stack(
        [
            tf.reduce_sum(d_z_i * c_prev, axis=0),
            tf.reduce_sum(d_z_f * c_prev, axis=0),
            tf.reduce_sum(d_z_o * c, axis=0),
        ]
    )


@keras.saving.register_keras_serializable(package="seqkeras")
class LSTM(RecurrentLayer):
    """Long Short-Term Memory layer, optionally with peephole connections.

    Runs `LSTMCell` over a sequence. Takes the arguments of `keras.layers.LSTM` (whose weights
    it can load) plus `peephole`.

    Args:
        units, activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, unit_forget_bias, peephole,
        peephole_initializer, *_regularizer, *_constraint, dropout, recurrent_dropout, seed:
            as in `LSTMCell`.
        activity_regularizer: regularizer of the layer's output.
        return_sequences: return a<1..T> (batch, time, units) rather than a<T>.
        return_state: also return the final [a<T>, c<T>].
        go_backwards: process the sequence backwards (and return it reversed).
        stateful: carry the final states of batch i over as the initial states of batch i+1.
        unroll: unroll the loop (faster for short sequences; a fixed length).
        jit_compile: `"auto"` (default), True or False: whether training runs the XLA-compiled
            loop with hand-written backpropagation through time (`RecurrentLayer`).

    Call arguments:
        inputs: a 3D tensor (batch, time, features).
        mask: boolean (batch, time); False steps leave the states unchanged.
        training: whether dropout applies.
        initial_state: list [a<0>, c<0>]; zeros if omitted.

    Returns:
        a<T> (or the sequence), followed by a<T>, c<T> when `return_state=True`.

    Example:

    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> outputs, a, c = LSTM(4, peephole=True, return_sequences=True, return_state=True)(inputs)
    >>> outputs.shape, a.shape, c.shape
    ((32, 10, 4), (32, 4), (32, 4))
    """

    def __init__(
        self,
        units: int,
        activation: Identifier = "tanh",
        recurrent_activation: Identifier = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Identifier = "glorot_uniform",
        recurrent_initializer: Identifier = "orthogonal",
        bias_initializer: Identifier = "zeros",
        unit_forget_bias: bool = True,
        peephole: bool = False,
        peephole_initializer: Identifier = "glorot_uniform",
        kernel_regularizer: Identifier = None,
        recurrent_regularizer: Identifier = None,
        bias_regularizer: Identifier = None,
        peephole_regularizer: Identifier = None,
        activity_regularizer: Identifier = None,
        kernel_constraint: Identifier = None,
        recurrent_constraint: Identifier = None,
        bias_constraint: Identifier = None,
        peephole_constraint: Identifier = None,
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
        cell = LSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            peephole=peephole,
            peephole_initializer=peephole_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            peephole_regularizer=peephole_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            peephole_constraint=peephole_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="lstm_cell",
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
