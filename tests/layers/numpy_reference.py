"""The course's equations in NumPy, step by step: the independent reference for the layers.

`run` applies one cell over a sequence with Keras's masking semantics (a masked step keeps
the states; its output is the previous output, or zeros with `zero_output_for_mask`),
`go_backwards` and `return_sequences`; `bidirectional` concatenates two runs the way
`keras.layers.Bidirectional` does.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def hard_sigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "relu": relu,
    "linear": lambda x: x,
    "hard_sigmoid": hard_sigmoid,
}


def simple_rnn_step(x_t, states, weights, activation=np.tanh, **_):
    """a<t> = g(Waa a<t-1> + Wax x<t> + ba), with kernel = Waxᵀ, recurrent_kernel = Waaᵀ."""
    kernel, recurrent_kernel, bias = weights
    return [activation(x_t @ kernel + states[0] @ recurrent_kernel + bias)]


def gru_step(x_t, states, weights, activation=np.tanh, gate=sigmoid, minimal=False, **_):
    """Full GRU (Γr on c<t-1> before Uc) or minimal GRU; c<t> = Γu c~<t> + (1 - Γu) c<t-1>."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    c = states[0]
    projected = x_t @ kernel + bias
    gate_u = gate(projected[:, :units] + c @ recurrent_kernel[:, :units])
    if minimal:
        candidate = activation(projected[:, units:] + c @ recurrent_kernel[:, units:])
    else:
        gate_r = gate(projected[:, units : 2 * units] + c @ recurrent_kernel[:, units : 2 * units])
        candidate = activation(
            projected[:, 2 * units :] + (gate_r * c) @ recurrent_kernel[:, 2 * units :]
        )
    return [gate_u * candidate + (1.0 - gate_u) * c]


def lstm_step(x_t, states, weights, activation=np.tanh, gate=sigmoid, **_):
    """LSTM with gate blocks i, f, c, o; peepholes (a fourth weight (3, units)): Γi, Γf see
    c<t-1>, Γo sees c<t>."""
    kernel, recurrent_kernel, bias = weights[:3]
    a, c = states
    units = recurrent_kernel.shape[0]
    p_i, p_f, p_o = weights[3] if len(weights) > 3 else np.zeros((3, units))
    z_i, z_f, z_c, z_o = np.split(x_t @ kernel + a @ recurrent_kernel + bias, 4, axis=-1)
    gate_i = gate(z_i + p_i * c)
    gate_f = gate(z_f + p_f * c)
    c = gate_f * c + gate_i * activation(z_c)
    gate_o = gate(z_o + p_o * c)
    return [gate_o * activation(c), c]


STEPS = {"simple_rnn": simple_rnn_step, "gru": gru_step, "lstm": lstm_step}
STATE_COUNT = {"simple_rnn": 1, "gru": 1, "lstm": 2}


def run(
    cell,
    x,
    weights,
    mask=None,
    go_backwards=False,
    return_sequences=True,
    zero_output_for_mask=False,
    initial_states=None,
    **options,
):
    """One recurrent layer over `x` (batch, time, features), as `keras.layers.RNN` runs it.

    Args:
        cell: `"simple_rnn"`, `"gru"` or `"lstm"`.
        x: the inputs, float64 preferred.
        weights: the layer's weights in seqkeras order (kernel, recurrent_kernel, bias[,
            peephole_kernel]); a layer without bias gets a zero bias here.
        mask: boolean (batch, time) or None.
        go_backwards: read the sequence from its end (outputs in reading order).
        return_sequences: return every step's output, else the last.
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        initial_states: list of (batch, units) arrays; zeros if None.
        **options: `activation`, `gate` (NumPy functions), `minimal` for the GRU.

    Returns:
        `(outputs, final_states)`.
    """
    step = STEPS[cell]
    batch, time = x.shape[:2]
    units = weights[1].shape[0]
    if initial_states is None:
        initial_states = [np.zeros((batch, units)) for _ in range(STATE_COUNT[cell])]
    states = [np.asarray(s, "float64") for s in initial_states]
    mask = np.ones((batch, time), bool) if mask is None else np.asarray(mask, bool)
    order = range(time - 1, -1, -1) if go_backwards else range(time)
    output = np.zeros((batch, units))
    outputs = []
    for t in order:
        keep = mask[:, t][:, None]
        new_states = step(x[:, t], states, weights, **options)
        output = np.where(keep, new_states[0], output)
        states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        outputs.append(np.where(keep, output, 0.0) if zero_output_for_mask else output)
    sequence = np.stack(outputs, axis=1)
    return (sequence if return_sequences else outputs[-1]), states


def bidirectional(cell, x, forward_weights, backward_weights, mask=None, **options):
    """`keras.layers.Bidirectional(..., return_sequences=True)` with merge_mode "concat"."""
    forward, _ = run(cell, x, forward_weights, mask=mask, zero_output_for_mask=True, **options)
    backward, _ = run(
        cell,
        x,
        backward_weights,
        mask=mask,
        go_backwards=True,
        zero_output_for_mask=True,
        **options,
    )
    return np.concatenate([forward, backward[:, ::-1]], axis=-1)


def simple_rnn(x, kernel, recurrent_kernel, bias, activation=np.tanh):
    """a<1..T> of a SimpleRNN from zero states."""
    return run("simple_rnn", x, [kernel, recurrent_kernel, bias], activation=activation)[0]


def gru(x, kernel, recurrent_kernel, bias, minimal=False):
    """c<1..T> of a full or minimal GRU from zero states."""
    return run("gru", x, [kernel, recurrent_kernel, bias], minimal=minimal)[0]


def lstm(x, kernel, recurrent_kernel, bias, peephole_kernel=None):
    """a<1..T> of an LSTM (with peepholes if `peephole_kernel` is given) from zero states."""
    weights = [kernel, recurrent_kernel, bias]
    if peephole_kernel is not None:
        weights.append(peephole_kernel)
    return run("lstm", x, weights)[0]
