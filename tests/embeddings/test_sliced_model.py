"""SlicedModel: one training step equals its slices' Keras train steps run one after another."""

import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.embeddings import SkipGram, SlicedModel


def embedding_regressor(model_class, **kwargs):
    ids = keras.Input(shape=(), dtype="int32", name="ids")
    vectors = keras.layers.Embedding(10, 4, name="E")(ids)
    return model_class({"ids": ids}, keras.layers.Dense(1, name="out")(vectors), **kwargs)


@pytest.mark.parametrize("jit_compile", [True, False])
def test_one_step_makes_one_update_per_slice(jit_compile):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, 32).astype("int32")
    y = rng.normal(size=(32, 1)).astype("float32")
    weights = rng.uniform(0.5, 1.5, 32).astype("float32")
    sliced = embedding_regressor(SlicedModel, slices=4)
    reference = embedding_regressor(keras.Model)
    reference.set_weights(sliced.get_weights())
    sliced.compile(keras.optimizers.SGD(0.1), "mse", jit_compile=jit_compile)
    reference.compile(keras.optimizers.SGD(0.1), "mse")

    history = sliced.fit(
        {"ids": ids}, y, sample_weight=weights, batch_size=32, shuffle=False, verbose=0
    )
    losses = [
        reference.train_on_batch({"ids": ids[i : i + 8]}, y[i : i + 8], weights[i : i + 8])
        for i in range(0, 32, 8)
    ]

    assert int(sliced.optimizer.iterations) == 4
    for got, want in zip(sliced.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # the step reports the mean of its slices' losses (each before its own update)
    np.testing.assert_allclose(history.history["loss"][0], np.mean(losses), rtol=1e-5)


def test_round_trip_keeps_slices(tmp_path):
    model = embedding_regressor(SlicedModel, slices=3)
    model.save(tmp_path / "sliced.keras")
    loaded = keras.saving.load_model(tmp_path / "sliced.keras")
    assert isinstance(loaded, SlicedModel) and loaded.slices == 3
    inputs = {"ids": np.arange(10, dtype="int32")}
    np.testing.assert_array_equal(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    )


def test_skipgram_counts_updates_not_steps():
    corpus = [["a", "b", "c", "d", "e"], ["b", "c", "d", "e", "a"]] * 20
    model = SkipGram(
        vector_size=4, window=2, min_count=1, sample=0, batch_size=8, updates_per_step=4
    )
    model.fit(corpus, epochs=2, verbose=0)
    steps = model.model.optimizer.iterations
    assert isinstance(model.model, SlicedModel) and model.model.slices == 4
    assert int(steps) % 4 == 0 and int(steps) > 0
    # the learning-rate schedule reaches its end exactly at the last update
    schedule = model.model.optimizer._learning_rate
    assert schedule.decay_steps == int(steps)


@pytest.mark.parametrize(
    "make", [lambda: SlicedModel(slices=0), lambda: SkipGram(updates_per_step=0)]
)
def test_bad_slices(make):
    with pytest.raises(SeqKerasError, match=r"slices|updates_per_step"):
        make()
