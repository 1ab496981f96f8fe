"""Losses for sequence models."""

import keras
from keras import ops

# Keras's own reduction (sample weights, "sum_over_batch_size", ...), for masked logits.
from seqkeras.compat import reduce_weighted_values
from seqkeras.errors import SeqKerasError


@keras.saving.register_keras_serializable(package="seqkeras")
class CTCLoss(keras.losses.Loss):
    """Connectionist Temporal Classification loss (Graves et al. 2006) over padded batches.

    For logits y of T frames and a label sequence l, CTC sums over every alignment π of length
    T that collapses to l (merge repeats, then drop blanks: "ttt_h_eee___ ___qqq" -> "the q"):

        loss = −log Σ_{π ∈ B⁻¹(l)} Π_t softmax(y<t>)[π<t>]

    Args:
        blank: index of the blank class in the logits (default 0).
        label_padding: the value that pads `y_true` past each label's end (default -1).
        reduction, name: as in `keras.losses.Loss`.

    Call arguments:
        y_true: int (batch, max_label_length), labels padded with `label_padding`.
        y_pred: float (batch, frames, classes) logits. If it carries a Keras mask (e.g. from
            `Masking` upstream), each example's frame count is its number of unmasked frames
            (frames must be left-aligned); else every frame counts.
        sample_weight: optional (batch,) weights.

    Returns:
        The per-example negative log-likelihood, reduced.

    Example:

    >>> model.compile(optimizer="adam", loss=CTCLoss(blank=0))
    """

    def __init__(self, blank=0, label_padding=-1, reduction="sum_over_batch_size", name="ctc"):
        super().__init__(reduction=reduction, name=name)
        if isinstance(blank, bool) or not isinstance(blank, int) or blank < 0:
            raise SeqKerasError(f"CTCLoss: `blank` must be a class index >= 0, got {blank!r}.")
        self.blank = blank
        self.label_padding = int(label_padding)

    def __call__(self, y_true, y_pred, sample_weight=None):
        frame_mask = getattr(y_pred, "_keras_mask", None)
        if frame_mask is None:
            return super().__call__(y_true, y_pred, sample_weight)
        # A frame mask gives each example its frame count; Keras's Loss would instead apply
        # the (batch, frames) mask to the (batch,) losses.
        frame_length = ops.sum(ops.cast(frame_mask, "int32"), axis=1)
        losses = self.ctc(y_true, y_pred, frame_length)
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, reduction=self.reduction, dtype=self.dtype
        )

    def call(self, y_true, y_pred):
        return self.ctc(y_true, y_pred, None)

    def ctc(self, y_true, y_pred, frame_length):
        """Per-example CTC negative log-likelihoods; every frame counts if `frame_length` is
        None."""
        if len(y_true.shape) != 2 or len(y_pred.shape) != 3:
            raise SeqKerasError(
                "CTCLoss: expected labels (batch, max_label_length) and logits "
                f"(batch, frames, classes), got {tuple(y_true.shape)} and {tuple(y_pred.shape)}."
            )
        y_true = ops.cast(y_true, "int32")
        is_label = ops.not_equal(y_true, self.label_padding)
        label_length = ops.sum(ops.cast(is_label, "int32"), axis=1)
        # Padding positions must hold a valid class id for the kernel; they are never read.
        labels = ops.where(is_label, y_true, ops.zeros_like(y_true))
        if frame_length is None:
            frame_length = ops.full((ops.shape(y_pred)[0],), ops.shape(y_pred)[1], "int32")
        return ops.ctc_loss(labels, y_pred, label_length, frame_length, mask_index=self.blank)

    def get_config(self):
        return {**super().get_config(), "blank": self.blank, "label_padding": self.label_padding}
