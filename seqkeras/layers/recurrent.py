"""The seqkeras cells' base class, and the argument checks the layers share.

A cell writes its equations once, in `forward_step`. Its sequence layer
(`recurrent_layer.RecurrentLayer`) builds the step
function once per call (`RecurrentCell.make_step`): the recurrent weights are read, and split
into the blocks the step multiplies by, outside the loop, so the loop holds only the two
matmuls x<t>·W and a<t-1>·U and the gate arithmetic. That loop is TensorFlow's, differentiated
by TensorFlow; it serves inference (what the exports trace), unrolling and recurrent dropout.

Training otherwise runs in `compiled_loop`: the same `forward_step` compiled by XLA, and each
cell's `backward_step` (its equations differentiated by hand, checked against TensorFlow's
autodiff in the tests). The layer's `jit_compile` chooses.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import ops

from seqkeras.compat import DropoutRNNCell
from seqkeras.errors import SeqKerasError
from seqkeras.layers._types import Config, Identifier, Shape, StepFn, Tensor


def check_units(layer_name: str, units: object) -> int:
    """Returns `units` as an int, or raises `SeqKerasError` unless it is a positive integer."""
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise SeqKerasError(f"{layer_name}: `units` must be a positive integer, got {units!r}.")
    return int(units)


def check_rate(layer_name: str, argument: str, rate: object) -> float:
    """Returns a dropout rate as a float, or raises `SeqKerasError` unless 0 <= rate < 1."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= float(rate) < 1.0:
        raise SeqKerasError(f"{layer_name}: `{argument}` must be a float in [0, 1), got {rate!r}.")
    return float(rate)


def get_activation(
    layer_name: str, argument: str, identifier: Identifier
) -> Callable[[Tensor], Tensor]:
    """`keras.activations.get` that names the layer and argument at fault."""
    try:
        return keras.activations.get(identifier)
    except (ValueError, TypeError):
        raise SeqKerasError(
            f"{layer_name}: unknown `{argument}` {identifier!r}; expected the name of a Keras "
            "activation ('tanh', 'relu', 'sigmoid', ...) or a callable."
        ) from None


def apply_mask(tensor: Tensor, mask: Tensor | None) -> Tensor:
    """`tensor * mask`, or `tensor` when there is no mask."""
    return tensor if mask is None else tensor * mask


# g'(z) written with y = g(z), for the activations `backward_step` can differentiate.
DERIVATIVES_FROM_OUTPUT: dict[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]] = {
    keras.activations.sigmoid: lambda y: y * (1.0 - y),
    keras.activations.tanh: lambda y: 1.0 - y * y,
    keras.activations.relu: lambda y: ops.cast(y > 0, y.dtype),
    keras.activations.linear: ops.ones_like,
}


def derivative(activation: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """g' as a function of g's output (`DERIVATIVES_FROM_OUTPUT`)."""
    return DERIVATIVES_FROM_OUTPUT[activation]


class RecurrentCell(DropoutRNNCell, keras.layers.Layer):
    """Base class of the seqkeras cells.

    A cell with `gate_count` blocks keeps `kernel` (input_dim, gate_count * units),
    `recurrent_kernel` (units, gate_count * units) and `bias` (gate_count * units,), the layout
    of the matching `keras.layers` cell.

    A subclass sets `gate_count` and `state_size` and writes its equations once, in
    `forward_step(projected_t, states, weights, recurrent_mask) -> (new_states, saved)`:
    `projected_t` is x<t>·W + b (`project_inputs`), `weights` are `recurrent_weights()`,
    `recurrent_mask` the recurrent dropout mask (or None); new_states[0] is the output a<t>, and
    `saved` the gate values its derivative needs. The derivative is `backward_step` and
    `recurrent_weight_gradients`, which the compiled training loop (`compiled_loop`) runs.

    Args:
        units: positive integer, dimensionality of a<t>.
        activation: activation g of the candidate / output (default `"tanh"`).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of the three
            weights.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: their regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: their constraints.
        dropout: fraction of the input units to drop (one mask for the whole sequence).
        recurrent_dropout: fraction of a<t-1>'s units to drop in the recurrent matmul.
        seed: random seed for dropout.
    """

    gate_count = 1
    # Whether jit_compile="auto" trains this cell in `compiled_loop`: only where
    # benchmarks/rnn_speed.py measures it faster than TensorFlow's loop. XLA runs each step's
    # small matmul on one core; TensorFlow's loop pays per op but uses both, and wins for
    # cells with few ops per step.
    compiled_loop_by_default = False
    # Whether jit_compile="auto" trains this cell in TensorFlow's loop unrolled, over at most
    # `MAX_UNROLLED_TRAINING_STEPS` known steps: where benchmarks/RESULTS.md measures that faster.
    unrolled_training_by_default = False
    # Whether `compiled_loop` runs each step on the two halves of the batch: two independent
    # chains of matmuls, which XLA runs on two cores at once.
    compiled_step_in_halves = False

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
        kernel_constraint: Identifier = None,
        recurrent_constraint: Identifier = None,
        bias_constraint: Identifier = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_units(self.name, units)
        self.activation = get_activation(self.name, "activation", activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = check_rate(self.name, "dropout", dropout)
        self.recurrent_dropout = check_rate(self.name, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.output_size = self.units

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise SeqKerasError(
                f"{self.name}: a cell takes one time step of shape (batch, features) with a known "
                f"number of features, got shape {tuple(input_shape)}."
            )
        width = self.gate_count * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,),
                name="bias",
                initializer=self.build_bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def build_bias_initializer(self) -> Callable[..., Tensor]:
        """The initializer of `bias`; the LSTM overrides it for `unit_forget_bias`."""
        return self.bias_initializer

    def project_inputs(self, inputs: Tensor, training: bool = False) -> Tensor:
        """x<t>·W + b, with the input dropout mask (batch, features) applied when training: of
        one step (batch, features), or of all steps (..., batch, features), time-major when
        training."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        projected = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            projected = projected + self.bias
        return projected

    def recurrent_weights(self) -> list[Tensor]:
        """The weights `forward_step` multiplies the states by: the recurrent kernel, or its
        blocks. Read once per sequence, outside the loop."""
        return [self.recurrent_kernel]

    def make_step(
        self, first_state: Tensor, training: bool = False, inputs_projected: bool = False
    ) -> StepFn:
        """`step(x_t, states) -> (output, new_states)`, with the recurrent weights read, and the
        recurrent dropout mask drawn (shaped like `first_state`), once for the whole sequence.
        With `inputs_projected`, the step takes x<t>·W + b (`project_inputs`) instead of x<t>."""
        weights = self.recurrent_weights()
        recurrent_mask = None
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self.get_recurrent_dropout_mask(first_state)

        def step(inputs: Tensor, states: Sequence[Tensor]) -> tuple[Tensor, list[Tensor]]:
            projected = inputs if inputs_projected else self.project_inputs(inputs, training)
            new_states, _ = self.forward_step(projected, list(states), weights, recurrent_mask)
            return new_states[0], new_states

        return step

    def activations(self) -> dict[str, Callable[[Tensor], Tensor]]:
        """The cell's activations by argument name; `backward_step` differentiates these."""
        return {"activation": self.activation}

    def compiled_loop_blocker(self) -> str | None:
        """Why the compiled training loop cannot train this cell, or None when it can."""
        if self.recurrent_dropout > 0:
            return "recurrent_dropout > 0"
        for argument, activation in self.activations().items():
            if activation not in DERIVATIVES_FROM_OUTPUT:
                return f"a `{argument}` other than sigmoid, tanh, relu or linear"
        return None

    def backward_weights(self, weights: list[Tensor]) -> list[Tensor]:
        """`weights` (`recurrent_weights()`) as `backward_step` takes them, prepared once per
        sequence: the recurrent kernel transposed, since the backward step multiplies the
        gradients by it from the right (XLA's CPU matmul runs about 15% slower on an operand
        transposed in place, step after step)."""
        return [ops.transpose(weights[0]), *weights[1:]]

    def backward_step(
        self,
        d_states: list[Tensor],
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> tuple[Tensor, list[Tensor]]:
        """One step of backpropagation through time.

        Args:
            d_states: the loss's gradient with respect to the step's new states.
            saved: what `forward_step` saved at this step.
            previous_states: the states the step started from.
            states: the states it produced.
            weights: `backward_weights(recurrent_weights())`.

        Returns:
            `(d_projected, d_previous_states)`: the gradient with respect to the step's
            x<t>·W + b and to the states it started from.
        """
        raise NotImplementedError

    def recurrent_weight_gradients(
        self,
        d_projected: Tensor,
        saved: list[Tensor],
        previous_states: list[Tensor],
        states: list[Tensor],
        weights: list[Tensor],
    ) -> list[Tensor]:
        """The gradients with respect to `weights`, from every step at once: the arguments are
        `backward_step`'s, each with the steps stacked along the batch axis."""
        return [ops.matmul(ops.transpose(previous_states[0]), d_projected)]

    def call(
        self, inputs: Tensor, states: Tensor | Sequence[Tensor], training: bool = False
    ) -> tuple[Tensor, list[Tensor]]:
        if not isinstance(states, (list, tuple)):
            states = [states]
        return self.make_step(states[0], training)(inputs, states)

    def get_initial_state(self, batch_size: int | None = None) -> list[Tensor]:
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self) -> Config:
        serialize = keras.saving.serialize_keras_object
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "recurrent_initializer": serialize(self.recurrent_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "recurrent_regularizer": serialize(self.recurrent_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "recurrent_constraint": serialize(self.recurrent_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
