import keras
import numpy as np

from seqkeras.layers import MaskedConv1D, MaskedGlobalMaxPooling1D
from seqkeras.saving import load_model


def test_masked_max_pooling_equals_numpy():
    values = np.random.default_rng(0).normal(size=(3, 7, 5)).astype("float32")
    values[0, 4:] = 9.0  # padding that would win an unmasked max
    mask = np.arange(7)[None, :] < np.array([[4], [7], [1]])
    pooled = keras.ops.convert_to_numpy(MaskedGlobalMaxPooling1D()(values, mask=mask))
    expected = [values[row][mask[row]].max(axis=0) for row in range(3)]
    np.testing.assert_allclose(pooled, expected)


def test_masked_conv_reads_masked_steps_as_zeros():
    values = np.random.default_rng(1).normal(size=(1, 6, 2)).astype("float32")
    garbage = np.concatenate([values, np.full((1, 4, 2), 7.0, "float32")], axis=1)
    mask = np.arange(10)[None, :] < 6
    conv = MaskedConv1D(3, 5, padding="same")
    exact = keras.ops.convert_to_numpy(conv(values))
    padded = keras.ops.convert_to_numpy(conv(garbage, mask=mask))
    np.testing.assert_allclose(padded[:, :6], exact, atol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(conv(garbage))[:, :6], exact)


def test_masked_layers_round_trip_in_a_fresh_load(tmp_path):
    bases = keras.Input((None, 4))
    hidden = keras.layers.Masking(0.0)(bases)
    hidden = MaskedConv1D(3, 5, padding="same", name="scan")(hidden)
    model = keras.Model(bases, MaskedGlobalMaxPooling1D(name="pool")(hidden))
    model.save(tmp_path / "model.keras")
    restored = load_model(tmp_path / "model.keras")
    x = np.random.default_rng(2).normal(size=(2, 8, 4)).astype("float32")
    x[0, 5:] = 0
    np.testing.assert_allclose(restored(x), model(x), atol=1e-6)
    assert restored.get_layer("scan").get_config()["kernel_size"] == (5,)
