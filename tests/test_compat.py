"""seqkeras.compat: the private Keras APIs seqkeras uses exist with the shape it relies on."""

import inspect

import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError, compat


def test_every_private_symbol_resolves():
    for name in compat.PRIVATE_SYMBOLS:
        assert compat.private_symbol(name) is getattr(compat, name)


def test_a_moved_symbol_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(compat.PRIVATE_SYMBOLS, "gone", ("keras.src.no_such_module", "Thing"))
    with pytest.raises(SeqKerasError, match=r"keras\.src\.no_such_module\.Thing.*Keras 3\."):
        compat.private_symbol("gone")
    monkeypatch.setitem(compat.PRIVATE_SYMBOLS, "gone", ("keras.src.backend", "no_such_function"))
    with pytest.raises(SeqKerasError, match="no_such_function"):
        compat.private_symbol("gone")


def test_dropout_rnn_cell_is_the_mixin_keras_rnn_prepares():
    methods = ("get_dropout_mask", "get_recurrent_dropout_mask", "reset_dropout_mask")
    for method in methods:
        assert callable(getattr(compat.DropoutRNNCell, method)), method
    source = inspect.getsource(keras.layers.RNN)
    assert "DropoutRNNCell" in source  # RNN resets the masks of cells of this class only


def test_backend_rnn_takes_the_arguments_seqkeras_passes():
    parameters = inspect.signature(compat.backend.rnn).parameters
    for name in (
        "go_backwards",
        "mask",
        "unroll",
        "input_length",
        "zero_output_for_mask",
        "return_all_outputs",
    ):
        assert name in parameters, name
    x = np.arange(6, dtype="float32").reshape(1, 3, 2)

    def step(inputs, states):
        total = states[0] + inputs
        return total, [total]

    last, outputs, _ = compat.backend.rnn(step, x, [np.zeros((1, 2), "float32")])
    np.testing.assert_allclose(np.asarray(last), x.sum(axis=1))
    np.testing.assert_allclose(np.asarray(outputs), np.cumsum(x, axis=1))


def test_get_keras_mask_reads_the_mask_of_a_masking_layer():
    x = np.array([[[1.0], [2.0], [0.0]]], "float32")
    masked = keras.layers.Masking(0.0)(x)
    np.testing.assert_array_equal(np.asarray(compat.get_keras_mask(masked)), [[True, True, False]])
    assert compat.get_keras_mask(keras.ops.convert_to_tensor(x)) is None


def test_reduce_weighted_values_is_keras_losses_reduction():
    losses = np.array([1.0, 2.0, 3.0, 4.0], "float32")
    weights = np.array([1.0, 0.0, 1.0, 0.0], "float32")
    reduced = compat.reduce_weighted_values(
        losses, sample_weight=weights, reduction="sum_over_batch_size", dtype="float32"
    )
    assert float(reduced) == pytest.approx((1.0 + 3.0) / 4)
    total = compat.reduce_weighted_values(losses, reduction="sum", dtype="float32")
    assert float(total) == pytest.approx(10.0)


def test_build_for_training_creates_the_optimizer_variables():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    assert not model.optimizer.built
    compat.build_for_training(model, (np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32")))
    assert model.optimizer.built
