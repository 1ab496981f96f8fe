"""Perplexity of a language model, as a Keras metric."""

from __future__ import annotations

from typing import Any

from seqkeras.optional import require

keras = require("keras", "keras", "seqkeras.metrics.Perplexity")
ops = keras.ops
Metric: Any = keras.metrics.Metric


@keras.saving.register_keras_serializable(package="seqkeras")
class Perplexity(Metric):
    """Perplexity: the exponential of the mean per-token cross-entropy.

        PP = exp(Σ_t w<t> · (-log p(y<t>)) / Σ_t w<t>)

    where p(y<t>) is the predicted probability of the true token y<t>, and the weight w<t> is
    the product of: 0 for padding (y<t> = `mask_token_id`), else 1; the Keras mask of `y_pred`
    (e.g. from `Embedding(mask_zero=True)`), if any; and `sample_weight`, if given.
    Cross-entropy and weights accumulate over batches until `reset_state()`. The result is 0
    before any token was counted.

    Args:
        from_logits: whether `y_pred` holds logits (True) or probabilities (False).
        mask_token_id: the padding id whose positions are ignored (default 0, the `<pad>` of
            `seqkeras.text.Vocabulary`); None to count every position.
        name: name of the metric.
        dtype: dtype of the metric's variables and result.

    Call arguments (`update_state`):
        y_true: integer token ids, shape (batch, time) (or (batch, time, 1)).
        y_pred: probabilities or logits, shape (batch, time, vocab_size).
        sample_weight: optional weights broadcastable from the left to (batch, time),
            e.g. (batch,) per sequence or (batch, time) per token.

    Example:

    >>> import numpy as np
    >>> metric = Perplexity(mask_token_id=None)
    >>> metric.update_state(np.array([[1, 2]]), np.full((1, 2, 4), 0.25))
    >>> round(float(metric.result()), 4)
    4.0
    """

    def __init__(
        self,
        from_logits: bool = False,
        mask_token_id: int | None = 0,
        name: str = "perplexity",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.from_logits = from_logits
        self.mask_token_id = mask_token_id
        self.total_cross_entropy = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total_cross_entropy"
        )
        self.token_count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="token_count"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        # Keras attaches the mask of a model's output to the tensor as `_keras_mask`.
        keras_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.convert_to_tensor(y_true)
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        y_true = ops.cast(y_true, "int32")
        cross_entropy = keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=self.from_logits
        )
        weights = ops.ones_like(cross_entropy)
        if self.mask_token_id is not None:
            weights = ops.cast(ops.not_equal(y_true, self.mask_token_id), self.dtype)
        for weight in (keras_mask, sample_weight):
            if weight is not None:
                weight = ops.cast(weight, self.dtype)
                for _ in range(len(weights.shape) - len(weight.shape)):
                    weight = ops.expand_dims(weight, axis=-1)
                weights = weights * weight
        self.total_cross_entropy.assign_add(ops.sum(cross_entropy * weights))
        self.token_count.assign_add(ops.sum(weights))

    def result(self) -> Any:
        mean_cross_entropy = ops.divide_no_nan(self.total_cross_entropy, self.token_count)
        return ops.where(self.token_count > 0, ops.exp(mean_cross_entropy), 0.0)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "mask_token_id": self.mask_token_id,
        }
