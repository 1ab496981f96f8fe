"""The loop over time steps that the TFLite export traces for its WHILE route: Keras's own
loop (`keras.src.backend.rnn`, not unrolled), except that each step writes its output into the
output sequence in place.

Keras collects a loop's outputs in a TensorArray. Converted with builtin operators only, each
write becomes a SLICE of the steps before, a SLICE of the steps after and a CONCATENATION: a
copy of the whole sequence at every step, through tensors resized at every step, none of
which XNNPACK takes. Here the sequence is a loop variable that a DYNAMIC_UPDATE_SLICE updates
at row t (benchmarks/RESULTS.md, "Export latency": a 256-unit LSTM returning its 50-step
sequence, batch 1, LiteRT, 1.41 ms with the TensorArray, 1.08 ms written in place, 0.98 ms
for the same layer returning its last output only).

`outputs_written_in_place()` swaps this loop in for Keras's while the TFLite graph is traced.
Calls it does not cover (unrolled loops, constants, time-major or nested inputs) go to Keras's.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import keras
import tensorflow as tf
from tensorflow.compiler.tf2xla.python.xla import dynamic_update_slice

from seqkeras.compat import backend


def _time_major(tensor):
    return tf.transpose(tensor, [1, 0, *range(2, tensor.shape.rank)])


def rnn(
    step_function,
    inputs,
    initial_states,
    go_backwards=False,
    mask=None,
    zero_output_for_mask=False,
    return_all_outputs=True,
):
    """`keras.src.backend.rnn(..., unroll=False)` for one (batch, time, ...) input tensor, with
    the outputs kept in a tensor that each step updates in place (see the module docstring).

    Returns:
        `(last_output, outputs, new_states)`, as Keras's: `outputs` is (batch, time, ...), or
        `last_output` as (batch, 1, ...) when `return_all_outputs` is False.
    """
    sequence = _time_major(inputs)
    if go_backwards:
        sequence = tf.reverse(sequence, [0])
    steps, batch = tf.unstack(tf.shape(sequence)[:2])
    # Traced for the output's shape and dtype only; nothing uses its value, so the converter
    # drops it (zeros_like would compute it with a free batch size).
    first_output, _ = step_function(sequence[0], tuple(initial_states))
    zeros = tf.zeros([batch, *first_output.shape[1:]], first_output.dtype)
    row_start = [0] * first_output.shape.rank
    if mask is not None:  # (time, batch, 1, ...): broadcasts against a step's output
        mask = tf.transpose(tf.cast(mask, tf.bool))
        for _ in row_start[1:]:
            mask = tf.expand_dims(mask, -1)
        if go_backwards:
            mask = tf.reverse(mask, [0])

    def body(time, output, states, written):
        new_output, new_states = step_function(tf.gather(sequence, time), states)
        new_states = keras.tree.flatten(new_states)
        if mask is not None:
            kept = tf.gather(mask, time)
            new_output = tf.where(kept, new_output, zeros if zero_output_for_mask else output)
            old_states = keras.tree.flatten(states)
            new_states = [tf.where(kept, new, old) for new, old in zip(new_states, old_states)]
        if return_all_outputs:
            row = tf.expand_dims(new_output, 0)
            written = (dynamic_update_slice(written[0], row, [time, *row_start]),)
        states = keras.tree.pack_sequence_as(states, new_states)
        return time + 1, new_output, states, written

    # the output sequence, time-major; nothing when only the last output is returned
    written: tuple = ()
    if return_all_outputs:
        written = (tf.zeros([steps, batch, *zeros.shape[1:]], zeros.dtype),)
    _, last_output, states, written = tf.while_loop(
        lambda time, *_: time < steps,
        body,
        (tf.constant(0), zeros, tuple(initial_states), written),
    )
    outputs = _time_major(written[0]) if return_all_outputs else last_output[:, None]
    return last_output, outputs, states


class _Installation:
    """`_loop` in place of Keras's `backend.rnn` while a thread is in `outputs_written_in_place`:
    how many blocks are open in all threads and in each one, and Keras's function meanwhile."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_blocks = 0
        self.keras_rnn: Callable[..., Any] = backend.rnn
        self.per_thread = threading.local()

    def depth(self) -> int:
        """Blocks open in the calling thread."""
        return getattr(self.per_thread, "depth", 0)


_installation = _Installation()


def _loop(
    step_function,
    inputs,
    initial_states,
    go_backwards=False,
    mask=None,
    constants=None,
    unroll=False,
    input_length=None,
    time_major=False,
    zero_output_for_mask=False,
    return_all_outputs=True,
):
    """`keras.src.backend.rnn` while installed: `rnn` above for the calls it covers in a thread
    inside `outputs_written_in_place`, Keras's loop for the rest."""
    covered = not (unroll or constants or time_major or keras.tree.is_nested(inputs))
    if _installation.depth() and covered:
        return rnn(
            step_function,
            inputs,
            initial_states,
            go_backwards,
            mask,
            zero_output_for_mask,
            return_all_outputs,
        )
    return _installation.keras_rnn(
        step_function,
        inputs,
        initial_states,
        go_backwards=go_backwards,
        mask=mask,
        constants=constants,
        unroll=unroll,
        input_length=input_length,
        time_major=time_major,
        zero_output_for_mask=zero_output_for_mask,
        return_all_outputs=return_all_outputs,
    )


@contextlib.contextmanager
def outputs_written_in_place() -> Iterator[None]:
    """Within the block, recurrent layers called in this thread trace `rnn` above instead of
    Keras's loop where it applies (not unrolled, one input tensor, no constants, batch-major).

    Other threads keep Keras's loop (and its gradient: DYNAMIC_UPDATE_SLICE's op has none in
    TensorFlow), and Keras's function is back once the last block in any thread has closed.
    """
    with _installation.lock:
        if not _installation.open_blocks:
            _installation.keras_rnn = backend.rnn
            backend.rnn = _loop
        _installation.open_blocks += 1
    _installation.per_thread.depth = _installation.depth() + 1
    try:
        yield
    finally:
        _installation.per_thread.depth -= 1
        with _installation.lock:
            _installation.open_blocks -= 1
            if not _installation.open_blocks:
                backend.rnn = _installation.keras_rnn
