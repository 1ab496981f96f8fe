"""The seqkeras sequence layers' base: `keras.layers.RNN` over a `RecurrentCell`'s step, in
TensorFlow's loop or, for training, in the XLA-compiled one (`compiled_loop`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from seqkeras.compat import backend as keras_backend
from seqkeras.errors import SeqKerasError
from seqkeras.layers._types import Config, Identifier, Shape, Tensor
from seqkeras.layers.recurrent import RecurrentCell

# The longest known sequence `jit_compile="auto"` unrolls for training (cells with
# `unrolled_training_by_default`): the SimpleRNN trained 1.12-1.27x faster unrolled over 50
# steps, 1.03-1.05x over 100 and 200, where tracing takes seconds (benchmarks/RESULTS.md).
MAX_UNROLLED_TRAINING_STEPS = 64


class RecurrentLayer(keras.layers.RNN):
    """Base class of the seqkeras sequence layers: `keras.layers.RNN` whose loop runs a step
    function built once per call (`RecurrentCell.make_step`).

    Subclasses build their cell from their own arguments and pass it here; everything
    `keras.layers.RNN` offers (return_sequences, return_state, go_backwards, stateful, unroll,
    masking, initial_state, Bidirectional, dropout) works unchanged.

    `jit_compile` chooses the training loop, as `use_cudnn` does for `keras.layers.LSTM`:
    `True` trains in the XLA-compiled loop (`compiled_loop`), and raises a `SeqKerasError`
    naming what prevents it (another backend, `unroll`, recurrent dropout, an activation other
    than sigmoid, tanh, relu or linear); `False` trains in TensorFlow's loop; `"auto"`
    (default) uses the compiled loop where it can run and is the faster one
    (`trains_compiled`: the LSTM and the full GRU in float32, unless TensorFlow has one
    intra-op thread and several inter-op threads), and unrolls TensorFlow's loop where that
    is faster (`unrolls_training`: the SimpleRNN over a short sequence). Inference always runs
    TensorFlow's loop as `unroll` says, which is what the exports trace.

    `accepts_projected_inputs` declares that `inner_loop` can run over x<t>·W + b computed for
    the whole sequence beforehand (`inputs_projected=True`), as the TFLite export does.
    """

    accepts_projected_inputs = True

    def __init__(
        self,
        cell: RecurrentCell,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        activity_regularizer: Identifier = None,
        jit_compile: bool | str = "auto",
        **kwargs: Any,
    ) -> None:
        if jit_compile not in (True, False, "auto"):
            raise SeqKerasError(
                f"`jit_compile` must be True, False or 'auto', got {jit_compile!r}."
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
        self.jit_compile = jit_compile

    def build(self, sequences_shape: Shape, initial_state_shape: Shape | None = None) -> None:
        if len(sequences_shape) != 3 or sequences_shape[-1] is None:
            raise SeqKerasError(
                f"{self.name}: expected inputs of shape (batch, time, features) with a known "
                f"number of features, got shape {tuple(sequences_shape)}."
            )
        super().build(sequences_shape, initial_state_shape)

    def call(
        self,
        sequences: Tensor,
        initial_state: Sequence[Tensor] | None = None,
        mask: Tensor | None = None,
        training: bool = False,
    ) -> Tensor | list[Tensor]:
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def inner_loop(
        self,
        sequences: Tensor,
        initial_state: Sequence[Tensor],
        mask: Tensor | Sequence[Tensor] | None,
        training: bool = False,
        inputs_projected: bool = False,
    ) -> tuple[Tensor, Tensor, list[Tensor]]:
        """`keras.layers.RNN.inner_loop`; with `inputs_projected`, `sequences` holds
        x<t>·W + b for every step (`cell.project_inputs` of the whole sequence, one matmul)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if training and not inputs_projected and self.trains_compiled():
            blocker = self.compiled_loop_blocker()
            if blocker is None:
                return self.compiled_inner_loop(sequences, initial_state, mask, training)
            if self.jit_compile is True:
                raise SeqKerasError(
                    f"{self.name}: jit_compile=True cannot train with {blocker}; pass "
                    "jit_compile='auto' to train in TensorFlow's loop instead."
                )
        unroll = self.unroll or (
            training and not inputs_projected and self.unrolls_training(sequences)
        )
        go_backwards = self.go_backwards
        if go_backwards and unroll:
            # Keras's unrolled loop zeroes masked outputs (zero_output_for_mask, which
            # Bidirectional sets) by the mask in input order while its outputs are in reading
            # order: valid steps get zeroed. Reading the reversed sequence forwards is the same
            # computation with the mask in reading order.
            sequences = ops.flip(sequences, axis=1)
            mask = None if mask is None else ops.flip(mask, axis=1)
            go_backwards = False
        return keras_backend.rnn(
            self.cell.make_step(initial_state[0], training, inputs_projected),
            sequences,
            list(initial_state),
            go_backwards=go_backwards,
            mask=mask,
            unroll=unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )

    def trains_compiled(self) -> bool:
        """Whether `jit_compile` asks for the compiled loop: True, or "auto" for a cell measured
        faster there (`RecurrentCell.compiled_loop_by_default`) computing in float32, unless
        TensorFlow's thread settings favour its own loop
        (`compiled_loop.threads_favour_tensorflows_loop`). (In mixed_bfloat16, TensorFlow's
        loop trains the LSTM faster: XLA's CPU matmuls do not use the CPU's bfloat16
        instructions.)"""
        if self.jit_compile != "auto":
            return self.jit_compile is True
        if not (self.cell.compiled_loop_by_default and self.cell.compute_dtype == "float32"):
            return False
        if keras.backend.backend() != "tensorflow":
            return False
        from seqkeras.layers.compiled_loop import threads_favour_tensorflows_loop

        return not threads_favour_tensorflows_loop()

    def unrolls_training(self, sequences: Tensor) -> bool:
        """Whether `jit_compile="auto"` trains in TensorFlow's loop unrolled: for a cell
        measured faster that way (`RecurrentCell.unrolled_training_by_default`), over a known
        number of steps up to `MAX_UNROLLED_TRAINING_STEPS`."""
        steps = sequences.shape[1]
        return (
            self.jit_compile == "auto"
            and self.cell.unrolled_training_by_default
            and steps is not None
            and steps <= MAX_UNROLLED_TRAINING_STEPS
        )

    def compiled_loop_blocker(self) -> str | None:
        """Why this layer cannot train in the compiled loop, or None when it can."""
        if keras.backend.backend() != "tensorflow":
            return f"the {keras.backend.backend()} backend"
        if self.unroll:
            return "unroll=True"
        return self.cell.compiled_loop_blocker()

    def compiled_inner_loop(
        self,
        sequences: Tensor,
        initial_state: Sequence[Tensor],
        mask: Tensor | None,
        training: bool,
    ) -> tuple[Tensor, Tensor, list[Tensor]]:
        """`inner_loop` in `compiled_loop`: the projection x<t>·W + b of every step in one
        matmul, then the recurrence compiled by XLA."""
        from seqkeras.layers.compiled_loop import compiled_loop  # imports TensorFlow

        projected = self.cell.project_inputs(ops.transpose(sequences, (1, 0, 2)), training)
        if mask is not None:
            mask = ops.expand_dims(ops.transpose(ops.cast(mask, "bool")), -1)
        if self.go_backwards:
            projected = ops.flip(projected, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=0)
        weights = [ops.cast(w, self.cell.compute_dtype) for w in self.cell.recurrent_weights()]
        outputs, states = compiled_loop(
            self.cell, projected, mask, list(initial_state), weights, self.zero_output_for_mask
        )
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), states

    @property
    def units(self) -> int:
        return self.cell.units

    def get_config(self) -> Config:
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config = super().get_config()
        del config["cell"]
        return {**config, **cell_config, "jit_compile": self.jit_compile}

    @classmethod
    def from_config(cls, config: Config) -> RecurrentLayer:
        return cls(**config)
