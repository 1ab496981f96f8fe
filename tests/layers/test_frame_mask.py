import keras
import numpy as np
import pytest
import tensorflow as tf

from seqkeras import SeqKerasError, layers
from seqkeras.losses import CTCLoss
from seqkeras.saving import load_model

LENGTHS = (13, 5, 21)


def padded_features(lengths=LENGTHS, frames=21, features=6):
    x = np.random.default_rng(0).normal(size=(len(lengths), frames, features)).astype("float32")
    for row, length in enumerate(lengths):
        x[row, length:] = 0
    return x


def front_end(stride):
    features = keras.Input((21, 6))
    hidden = features
    for _ in range(int(np.log2(stride))):
        hidden = keras.layers.Conv1D(4, 5, strides=2, padding="same")(hidden)
    hidden = layers.FrameMask(stride)([hidden, features])
    return keras.Model(features, keras.layers.Dense(3, name="logits")(hidden))


@pytest.mark.parametrize("stride", [1, 2, 4])
def test_an_utterance_of_n_frames_keeps_its_first_ceil_n_over_s_frames(stride):
    model = front_end(stride)
    outputs = model(padded_features())
    mask = np.asarray(outputs._keras_mask)
    assert mask.shape == (3, -(-21 // stride))
    expected = [[t < -(-n // stride) for t in range(mask.shape[1])] for n in LENGTHS]
    np.testing.assert_array_equal(mask, expected)


def test_values_pass_through_unchanged():
    frames = np.arange(12, dtype="float32").reshape(1, 4, 3)
    np.testing.assert_array_equal(layers.FrameMask()([frames, frames]), frames)


def test_the_ctc_loss_counts_only_the_masked_frames():
    model = front_end(4)
    outputs = model(padded_features())
    labels = np.array([[1, 2, -1], [1, -1, -1], [2, 2, 1]])
    reference = tf.nn.ctc_loss(
        labels=tf.ragged.constant([[1, 2], [1], [2, 2, 1]]).to_sparse(),
        logits=np.asarray(outputs),
        label_length=None,
        logit_length=[-(-n // 4) for n in LENGTHS],
        logits_time_major=False,
        blank_index=0,
    )
    np.testing.assert_allclose(CTCLoss()(labels, outputs), np.mean(reference), rtol=1e-5)


def test_round_trip_and_bad_stride(tmp_path):
    model = front_end(2)
    model.save(tmp_path / "model.keras")
    restored = load_model(tmp_path / "model.keras")
    x = padded_features()
    np.testing.assert_allclose(restored(x), model(x), atol=1e-6)
    assert restored.layers[2].get_config()["stride"] == 2
    with pytest.raises(SeqKerasError, match="stride"):
        layers.FrameMask(0)
