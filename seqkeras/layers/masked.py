"""Layers that keep a sequence's mask where Keras's drop or ignore it: convolution, max pooling."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from seqkeras.layers._types import Shape, Tensor


@keras.saving.register_keras_serializable(package="seqkeras")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Global max pooling over the unmasked steps of a sequence.

    `keras.layers.GlobalMaxPooling1D` ignores the mask, so padding steps could win the max;
    here each masked step is replaced by the sequence's smallest value first, so the result is
    the max over the real steps only, whatever the padding holds and however long it is.

    Call arguments:
        inputs: a 3D tensor (batch, steps, features).
        mask: boolean (batch, steps); False steps are left out.

    Returns:
        A 2D tensor (batch, features).

    Example:

    >>> x = np.array([[[1.0], [5.0], [2.0]]])
    >>> MaskedGlobalMaxPooling1D()(x, mask=np.array([[True, False, True]]))
    <tf.Tensor: shape=(1, 1), dtype=float32, numpy=array([[2.]], dtype=float32)>
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is not None:
            smallest = ops.min(inputs, axis=1, keepdims=True)
            inputs = ops.where(ops.expand_dims(mask, -1), inputs, smallest)
        return ops.max(inputs, axis=1)

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        return None

    def compute_output_shape(self, input_shape: Shape) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="seqkeras")
class MaskedConv1D(keras.layers.Conv1D):
    """`keras.layers.Conv1D` that reads masked steps as zeros and passes the mask on
    (Conv1D drops it).

    With `padding="same"`, the outputs at the real steps of a padded sequence are those of
    the unpadded sequence: the convolution sees zeros past the sequence's end either way,
    whatever the padding steps hold. Arguments are those of Conv1D.

    Example:

    >>> scanner = MaskedConv1D(16, 9, padding="same", activation="relu")
    >>> scanner(keras.layers.Masking(0.0)(np.zeros((2, 50, 4)))).shape
    (2, 50, 16)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is not None:
            inputs = ops.where(ops.expand_dims(mask, -1), inputs, ops.zeros_like(inputs))
        return super().call(inputs)

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        return mask
