"""The math of a recurrent layer in one canonical form, for the fused/native RNN operators.

TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM and ONNX's LSTM / GRU / RNN operators compute the
classic cells from plain weight matrices. `describe` reads a Keras or seqkeras recurrent layer
into a `Recurrence` with the weights in the layout of `keras.layers` (gate blocks LSTM i, f, c,
o; GRU z, r, h with c<t> = z * c<t-1> + (1 - z) * c~<t>), or returns None when no such
operator computes the layer (activations the operators lack, a seqkeras GRU whose gates are not
sigmoids, a dtype other than float32, a custom cell). The minimal GRU is described as a full
GRU whose reset gate is held at 1.
"""

import dataclasses

import keras
import numpy as np

from seqkeras import layers as seqkeras_layers

OPEN_GATE_BIAS = 100.0  # sigmoid(100) rounds to 1.0 in float32 and in float64
_ACTIVATIONS = {
    keras.activations.tanh: "tanh",
    keras.activations.sigmoid: "sigmoid",
    keras.activations.relu: "relu",
}


@dataclasses.dataclass(frozen=True)
class Recurrence:
    """One recurrent layer as the fused operators see it.

    Attributes:
        kind: `"LSTM"`, `"GRU"` or `"RNN"`.
        units: the state width.
        kernel: (features, gates * units), applied to x<t>.
        recurrent_kernel: (units, gates * units), applied to the previous output.
        bias: (gates * units,), added to x<t>·kernel.
        recurrent_bias: (gates * units,), added to the recurrent matmul (non-zero only for a
            Keras GRU with `reset_after=True`).
        peephole: (3, units) diagonal peephole weights for the i, f, o gates, or None.
        activation: `"tanh"`, `"relu"` or `"sigmoid"`: the candidate / output activation.
        gate_activation: the gates' activation (None for `"RNN"`).
        reset_after: GRU only: whether r multiplies the recurrent matmul's result (True) or
            enters it (False).
        go_backwards: whether the layer reads the sequence backwards.
    """

    kind: str
    units: int
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    recurrent_bias: np.ndarray
    peephole: np.ndarray | None
    activation: str
    gate_activation: str | None
    reset_after: bool
    go_backwards: bool


def _open_reset_gate(units, kernel, recurrent_kernel, bias):
    """A minimal GRU's weights (blocks u, c) as a full GRU's (u, r, c) whose reset gate is 1:
    zero weights and a bias where the sigmoid is 1.0 exactly, in float32 and float64."""

    def with_gate(weights, value):
        gate = np.full((*weights.shape[:-1], units), value, weights.dtype)
        return np.concatenate([weights[..., :units], gate, weights[..., units:]], axis=-1)

    return with_gate(kernel, 0.0), with_gate(recurrent_kernel, 0.0), with_gate(bias, OPEN_GATE_BIAS)


def describe(layer):
    """The `Recurrence` of a `keras.layers.RNN` layer, or None if no fused operator fits it."""
    cell = getattr(layer, "cell", None)
    if cell is None or keras.backend.standardize_dtype(layer.compute_dtype) != "float32":
        return None
    activation = _ACTIVATIONS.get(cell.activation)
    gate_activation = _ACTIVATIONS.get(getattr(cell, "recurrent_activation", None))
    if activation is None:
        return None
    units = cell.units
    kernel = np.array(cell.kernel.numpy())
    recurrent_kernel = np.array(cell.recurrent_kernel.numpy())
    width = recurrent_kernel.shape[1]
    bias = np.zeros(width, "float32") if cell.bias is None else np.array(cell.bias.numpy())
    recurrent_bias = np.zeros(width, "float32")
    peephole = None
    reset_after = False
    if isinstance(cell, (keras.layers.LSTMCell, seqkeras_layers.LSTMCell)):
        kind = "LSTM"
        if getattr(cell, "peephole", False):
            peephole = np.array(cell.peephole_kernel.numpy())
    elif isinstance(cell, keras.layers.GRUCell):
        kind = "GRU"
        reset_after = cell.reset_after
        if reset_after and cell.bias is not None:
            bias, recurrent_bias = bias[0], bias[1]
    elif isinstance(cell, seqkeras_layers.GRUCell):
        # seqkeras's update gate Γu is the operators' 1 - z, and 1 - σ(v) = σ(-v) holds for
        # the sigmoid only: with another gate activation no weight change gives z.
        if gate_activation != "sigmoid":
            return None
        kind = "GRU"
        for weights in (kernel, recurrent_kernel, bias):
            weights[..., :units] *= -1.0
        if cell.minimal:
            kernel, recurrent_kernel, bias = _open_reset_gate(units, kernel, recurrent_kernel, bias)
            recurrent_bias = np.zeros_like(bias)
    elif isinstance(cell, (keras.layers.SimpleRNNCell, seqkeras_layers.SimpleRNNCell)):
        kind = "RNN"
        gate_activation = None
    else:
        return None
    if kind != "RNN" and gate_activation is None:
        return None
    return Recurrence(
        kind=kind,
        units=units,
        kernel=kernel,
        recurrent_kernel=recurrent_kernel,
        bias=bias,
        recurrent_bias=recurrent_bias,
        peephole=peephole,
        activation=activation,
        gate_activation=gate_activation,
        reset_after=reset_after,
        go_backwards=layer.go_backwards,
    )
