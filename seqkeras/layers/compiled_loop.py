"""The training loop of the seqkeras sequence layers, compiled by XLA, with backpropagation
through time written out.

On CPU, TensorFlow's while loop spends most of a training step dispatching the few small ops
of each time step (benchmarks/RESULTS.md: keras.layers.LSTM trains at 25-31% of the CPU's
matmul peak). XLA compiles a whole loop into one kernel, but TensorFlow cannot differentiate
a compiled loop from outside it ("TensorList crossing the XLA/TF boundary"), and differentiating
it inside XLA is slow. So this module compiles two loops and ties them with
`tf.custom_gradient`:

- forward: `cell.forward_step` at each step, keeping every step's states and the gate values
  it returns;
- backward through time: `cell.backward_step` from the last step to the first, on the weights
  `cell.backward_weights` prepared once. Then `cell.recurrent_weight_gradients` once over all
  steps (large matmuls instead of one per step), outside XLA: TensorFlow's kernel multiplies
  an operand transposed faster than XLA's dot does (the LSTM's [3200, 256]ᵀ × [3200, 1024]:
  9.0 against 10.5-14.6 ms on 2 AMD EPYC cores).

A cell with `compiled_step_in_halves` (the full GRU) runs both steps on the two halves of the
batch: XLA runs each step's small matmuls on one core, and the halves' two independent chains
on both. The input projection x<t>·W + b stays outside, computed for all steps in one matmul
and differentiated by TensorFlow. A layer takes this path when its `jit_compile` asks for it
(`RecurrentLayer.trains_compiled`) and nothing prevents it (`compiled_loop_blocker`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import tensorflow as tf

from seqkeras.layers._types import Tensor

if TYPE_CHECKING:
    from seqkeras.layers.recurrent import RecurrentCell


def threads_favour_tensorflows_loop() -> bool:
    """Whether TensorFlow's thread pools make its own loop train faster than this one: one
    intra-op thread, so XLA runs every step of the compiled loop on one core, and several
    inter-op threads, so TensorFlow's loop runs a step's independent ops side by side.

    benchmarks/rnn_threads.py, LSTM train step on 2 cores with 1 intra-op and 2 inter-op
    threads: 63-74 ms in TensorFlow's loop against 84-89 ms compiled, in three runs. The
    compiled loop is faster with TensorFlow's defaults (one thread per core in both pools),
    with 2 and 1, and with 1 and 1.
    """
    cores = os.cpu_count() or 1
    intra = tf.config.threading.get_intra_op_parallelism_threads() or cores
    inter = tf.config.threading.get_inter_op_parallelism_threads() or cores
    return intra == 1 and inter > 1


def _previous(initial: Tensor, stacked: Tensor) -> Tensor:
    """The state each step starts from: `initial`, then `stacked` (time-major) but its last."""
    return tf.concat([initial[None], stacked[:-1]], axis=0)


def _flat(stacked: Tensor) -> Tensor:
    """(time, batch, width) -> (time * batch, width)."""
    return tf.reshape(stacked, [-1, stacked.shape[-1]])


def _on_batch(cell, step, batch_args):
    """`step(*batch_args)`, or, for a cell with `compiled_step_in_halves`, `step` on each half of
    the batch and the results joined: two chains of small matmuls that XLA runs side by side."""
    if not cell.compiled_step_in_halves:
        return step(*batch_args)
    flat = tf.nest.flatten(batch_args)
    size = tf.shape(flat[0])[0]
    parts = [tf.split(tensor, [size // 2, size - size // 2]) for tensor in flat]
    halves = [
        step(*tf.nest.pack_sequence_as(batch_args, [part[i] for part in parts])) for i in (0, 1)
    ]
    return tf.nest.map_structure(lambda first, second: tf.concat([first, second], 0), *halves)


@tf.function(jit_compile=True, reduce_retracing=True)
def _forward(cell, projected, mask, initial_states, weights, zero_output_for_mask):
    steps = tf.shape(projected)[0]
    # Traced only to learn how many tensors a step keeps for its backward step; XLA drops it.
    saved_count = len(cell.forward_step(projected[0], list(initial_states), weights, None)[1])
    outputs = tf.TensorArray(projected.dtype, size=steps)
    states_kept = [tf.TensorArray(s.dtype, size=steps) for s in initial_states]
    saved_kept = [tf.TensorArray(projected.dtype, size=steps) for _ in range(saved_count)]

    def body(t, states, output, outputs, states_kept, saved_kept):
        new_states, saved = _on_batch(
            cell,
            lambda x, s: cell.forward_step(x, s, weights, None),
            (projected[t], list(states)),
        )
        if mask is not None:
            # A masked step keeps the states, and outputs zeros or the previous output, as
            # keras.layers.RNN does.
            kept = mask[t]
            skipped = tf.zeros_like(output) if zero_output_for_mask else output
            output = tf.where(kept, new_states[0], skipped)
            new_states = [tf.where(kept, new, old) for new, old in zip(new_states, states)]
            outputs = outputs.write(t, output)
        states_kept = [array.write(t, s) for array, s in zip(states_kept, new_states)]
        saved_kept = [array.write(t, s) for array, s in zip(saved_kept, saved)]
        return t + 1, new_states, output, outputs, states_kept, saved_kept

    loop_state = (0, list(initial_states), tf.zeros_like(initial_states[0]), outputs)
    _, _, _, outputs, states_kept, saved_kept = tf.while_loop(
        lambda t, *_: t < steps, body, (*loop_state, states_kept, saved_kept)
    )
    all_states, saved = [a.stack() for a in states_kept], [a.stack() for a in saved_kept]
    # Unmasked, the outputs are the first state's stack: the caller takes it from there, since
    # XLA copies a result returned twice into a buffer of its own.
    return None if mask is None else outputs.stack(), all_states, saved


@tf.function(jit_compile=True, reduce_retracing=True)
def _backward(
    cell,
    d_outputs,
    d_final_states,
    mask,
    initial_states,
    all_states,
    saved,
    weights,
    zero_output_for_mask,
):
    steps = tf.shape(d_outputs)[0]
    previous = [_previous(s0, s) for s0, s in zip(initial_states, all_states)]
    backward_weights = cell.backward_weights(weights)
    d_projected = tf.TensorArray(d_outputs.dtype, size=steps)

    def body(t, d_states, d_output, d_projected):
        d_output = d_output + d_outputs[t]
        d_new_states = [d_states[0] + d_output, *d_states[1:]]
        if mask is not None:
            kept = mask[t]
            d_new_states = [tf.where(kept, d, tf.zeros_like(d)) for d in d_new_states]
        d_projected_t, d_previous = _on_batch(
            cell,
            lambda d, kept_saved, p, s: cell.backward_step(d, kept_saved, p, s, backward_weights),
            (
                d_new_states,
                [s[t] for s in saved],
                [p[t] for p in previous],
                [s[t] for s in all_states],
            ),
        )
        if mask is None:
            d_output = tf.zeros_like(d_output)
        else:
            d_previous = [
                dp + tf.where(kept, tf.zeros_like(d), d) for dp, d in zip(d_previous, d_states)
            ]
            carried = tf.zeros_like(d_output) if zero_output_for_mask else d_output
            d_output = tf.where(kept, tf.zeros_like(d_output), carried)
        return t - 1, d_previous, d_output, d_projected.write(t, d_projected_t)

    loop_state = (steps - 1, list(d_final_states), tf.zeros_like(d_outputs[0]), d_projected)
    _, d_initial_states, _, d_projected = tf.while_loop(lambda t, *_: t >= 0, body, loop_state)
    return d_projected.stack(), d_initial_states


def compiled_loop(
    cell: RecurrentCell,
    projected: Tensor,
    mask: Tensor | None,
    initial_states: Sequence[Tensor],
    weights: Sequence[Tensor],
    zero_output_for_mask: bool = False,
) -> tuple[Tensor, list[Tensor]]:
    """Runs `cell` over `projected` in the compiled loops above, differentiable.

    Args:
        cell: a cell whose `compiled_loop_blocker()` is None.
        projected: x<t>·W + b for every step, time-major (time, batch, gate_count * units).
        mask: boolean (time, batch, 1), False at the steps to skip; None: no step skipped.
        initial_states: the states before the first step, each (batch, size).
        weights: `cell.recurrent_weights()`, in the compute dtype.
        zero_output_for_mask: whether a skipped step outputs zeros rather than the previous
            output.

    Returns:
        `(outputs, final_states)`: the outputs, time-major (time, batch, units), and the states
        after the last step. Gradients flow to `projected`, `initial_states` and `weights`.
    """
    state_count = len(initial_states)

    @tf.custom_gradient
    def loop(projected, *states_and_weights):
        projected = tf.stop_gradient(projected)
        held = [tf.stop_gradient(t) for t in states_and_weights]
        initial, kept_weights = held[:state_count], held[state_count:]
        outputs, all_states, saved = _forward(
            cell, projected, mask, initial, kept_weights, zero_output_for_mask
        )

        # TensorFlow passes zeros, not None, for the outputs the loss does not use.
        def gradient(d_outputs, *d_final_states):
            d_projected, d_initial = _backward(
                cell,
                d_outputs,
                list(d_final_states),
                mask,
                initial,
                all_states,
                saved,
                kept_weights,
                zero_output_for_mask,
            )
            d_weights = cell.recurrent_weight_gradients(
                _flat(d_projected),
                [_flat(s) for s in saved],
                [_flat(_previous(s0, s)) for s0, s in zip(initial, all_states)],
                [_flat(s) for s in all_states],
                kept_weights,
            )
            return (d_projected, *d_initial, *d_weights)

        if outputs is None:
            outputs = all_states[0]
        return (outputs, *[s[-1] for s in all_states]), gradient

    outputs, *final_states = loop(projected, *initial_states, *weights)
    return outputs, final_states
