"""`FrameMask`: marks which frames of a (possibly downsampled) sequence hold signal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from seqkeras.errors import SeqKerasError
from seqkeras.layers._types import Config, Shape, Tensor


@keras.saving.register_keras_serializable(package="seqkeras")
class FrameMask(keras.layers.Layer):
    """Passes `frames` through, masked where the zero-padded `features` hold no signal.

    Feature frames x<1..T> are zero-padded after each sequence's end; frame t holds signal
    when any of its features is non-zero. After a front-end of strided layers with total
    stride s ("same" padding, so T' = ⌈T / s⌉ frames), output frame t' covers input frame
    s·t', and is kept when that frame holds signal: a sequence of n frames keeps its first
    ⌈n / s⌉ output frames. Downstream layers that support masking (recurrent layers,
    `Dense`, `CTCLoss`) then skip the padding.

    Unlike `keras.layers.Masking`, this also works after layers that drop masks
    (convolutions) and it does not change the values.

    Args:
        stride: the front-end's total stride s (1: none).
        **kwargs: base `Layer` arguments (`name`, ...).

    Call arguments:
        inputs: `[frames, features]`: frames (batch, ⌈T / s⌉, channels) to pass through and
            the zero-padded features (batch, T, features) that decide the mask.

    Returns:
        `frames`, with a (batch, ⌈T / s⌉) boolean mask.

    Example:

    >>> features = keras.Input((100, 40))
    >>> hidden = keras.layers.Conv1D(64, 5, strides=2, padding="same")(features)
    >>> hidden = FrameMask(stride=2)([hidden, features])   # hidden._keras_mask: (batch, 50)
    """

    def __init__(self, stride: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise SeqKerasError(f"FrameMask: `stride` must be an integer >= 1, got {stride!r}.")
        self.stride = stride

    def call(self, inputs: Sequence[Tensor]) -> Tensor:
        frames, _ = inputs
        return frames

    def compute_mask(self, inputs: Sequence[Tensor], previous_mask: Tensor | None = None) -> Tensor:
        _, features = inputs
        holds_signal = ops.any(ops.not_equal(features, 0), axis=-1)
        return holds_signal[:, :: self.stride]

    def compute_output_shape(self, input_shape: Sequence[Shape]) -> Shape:
        return input_shape[0]

    def get_config(self) -> Config:
        return {**super().get_config(), "stride": self.stride}
