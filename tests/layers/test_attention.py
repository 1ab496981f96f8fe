import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError, export, layers
from seqkeras.saving import load_model

BATCH, STEPS, QUERY_DIM, VALUE_DIM, UNITS = 3, 6, 5, 4, 7


def softmax(scores, mask):
    """α over the last axis with masked steps excluded (a fully masked row gives zeros)."""
    weights = np.zeros_like(scores)
    for index in np.ndindex(scores.shape[:-1]):
        keep = mask[index[0]].astype(bool)
        if keep.any():
            e = np.exp(scores[index][keep] - scores[index][keep].max())
            weights[index][keep] = e / e.sum()
    return weights


def bahdanau_reference(query, values, mask, w1, w2, v):
    """e<t'> = vᵀ tanh(W1 s + W2 a<t'>) for every query row, one step at a time."""
    scores = np.zeros((*query.shape[:-1], values.shape[1]))
    for index in np.ndindex(query.shape[:-1]):
        for t in range(values.shape[1]):
            s, a = query[index], values[index[0], t]
            scores[(*index, t)] = v @ np.tanh(s @ w1 + a @ w2)
    return scores


def attend(scores, values, mask):
    weights = softmax(scores, mask)
    context = np.einsum("b...t,btd->b...d", weights, values)
    return context, weights


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    mask = np.ones((BATCH, STEPS), bool)
    mask[0, 4:] = False
    mask[1, 1:3] = False  # masking need not be padding at the end
    return {
        "query": rng.normal(size=(BATCH, QUERY_DIM)).astype("float32"),
        "queries": rng.normal(size=(BATCH, 2, QUERY_DIM)).astype("float32"),
        "values": rng.normal(size=(BATCH, STEPS, VALUE_DIM)).astype("float32"),
        "mask": mask,
    }


@pytest.mark.parametrize("query_key", ["query", "queries"])
def test_bahdanau_equals_numpy_equations(data, query_key):
    layer = layers.BahdanauAttention(UNITS)
    context, weights = layer(data[query_key], data["values"], mask=data["mask"])
    w1, w2, v = (w.numpy() for w in layer.weights)
    assert (w1.shape, w2.shape, v.shape) == ((QUERY_DIM, UNITS), (VALUE_DIM, UNITS), (UNITS,))
    scores = bahdanau_reference(data[query_key], data["values"], data["mask"], w1, w2, v)
    expected_context, expected_weights = attend(scores, data["values"], data["mask"])
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)


def test_bahdanau_keys_computed_once_give_the_same_attention(data):
    layer = layers.BahdanauAttention(UNITS)
    expected = layer(data["query"], data["values"], mask=data["mask"])
    keys = layer.keys(data["values"])
    np.testing.assert_allclose(keys, data["values"] @ layer.value_kernel.numpy(), atol=1e-5)
    given = layer(data["query"], data["values"], mask=data["mask"], keys=keys)
    for value, reference in zip(given, expected):
        np.testing.assert_allclose(value, reference, atol=1e-6)
    assert layer.projects_values and not layers.LuongAttention().projects_values


@pytest.mark.parametrize("score", ["dot", "general"])
@pytest.mark.parametrize("query_key", ["query", "queries"])
def test_luong_equals_numpy_equations(data, score, query_key):
    values = data["values"]
    query = data[query_key]
    if score == "dot":
        query = query[..., :VALUE_DIM]
    layer = layers.LuongAttention(score=score)
    context, weights = layer(query, values, mask=data["mask"])
    w_a = layer.weights[0].numpy() if score == "general" else np.eye(VALUE_DIM)
    scores = np.einsum("b...q,qd,btd->b...t", query, w_a, values)
    expected_context, expected_weights = attend(scores, values, data["mask"])
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)


@pytest.mark.parametrize(
    "make", [lambda: layers.BahdanauAttention(3), lambda: layers.LuongAttention("general")]
)
def test_weights_sum_to_one_and_masked_steps_get_zero(data, make):
    mask = data["mask"].copy()
    mask[2] = False  # a row with every step masked: no attention at all
    _, weights = make()(data["queries"], data["values"], mask=mask)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights[:2].sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(weights[~mask[:, None, :].repeat(2, axis=1)] == 0.0)
    assert np.all(weights[2] == 0.0)


def test_keras_mask_of_values_is_used():
    tokens = keras.Input((4,), dtype="int32")
    query = keras.Input((2,))
    values = keras.layers.Embedding(5, 3, mask_zero=True)(tokens)
    _, weights = layers.BahdanauAttention(4)(query, values)
    model = keras.Model([tokens, query], weights)
    result = model.predict([np.array([[1, 2, 0, 0]]), np.ones((1, 2))], verbose=0)
    assert np.all(result[0, 2:] == 0.0)
    np.testing.assert_allclose(result.sum(), 1.0, atol=1e-6)


def test_argument_errors():
    with pytest.raises(SeqKerasError, match="units"):
        layers.BahdanauAttention(0)
    with pytest.raises(SeqKerasError, match="score"):
        layers.LuongAttention("concat")
    with pytest.raises(SeqKerasError, match="same width"):
        layers.LuongAttention("dot")(np.zeros((1, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(SeqKerasError, match="values"):
        layers.BahdanauAttention(2)(np.zeros((1, 3)), np.zeros((1, 4)))


def test_get_config_round_trip():
    for layer in (
        layers.BahdanauAttention(5, kernel_initializer="zeros", name="additive"),
        layers.LuongAttention("general", kernel_initializer="ones"),
    ):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


@pytest.fixture(scope="module")
def attention_model():
    """Both layers, a single-step query and a float 0/1 mask: what a decoder step exports."""
    query = keras.Input((QUERY_DIM,), name="query")
    values = keras.Input((STEPS, VALUE_DIM), name="values")
    mask = keras.Input((STEPS,), name="mask")
    context, weights = layers.BahdanauAttention(UNITS, name="bahdanau")(query, values, mask=mask)
    luong_context, luong_weights = layers.LuongAttention("general", name="luong")(
        query, values, mask=mask
    )
    model = keras.Model(
        {"query": query, "values": values, "mask": mask},
        {
            "context": context,
            "weights": weights,
            "luong_context": luong_context,
            "luong_weights": luong_weights,
        },
    )
    rng = np.random.default_rng(1)
    for weight in model.weights:
        weight.assign(rng.uniform(-1, 1, weight.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def model_inputs(data):
    return {"query": data["query"], "values": data["values"], "mask": data["mask"] * 1.0}


def test_keras_file_round_trip(attention_model, model_inputs, tmp_path):
    path = tmp_path / "attention.keras"
    attention_model.save(path)
    reloaded = load_model(path)
    expected = attention_model.predict(model_inputs, verbose=0)
    for name, value in reloaded.predict(model_inputs, verbose=0).items():
        np.testing.assert_array_equal(value, expected[name])


def test_tflite_export_is_builtins_only_and_matches(attention_model, model_inputs, tmp_path):
    path = export.to_tflite(attention_model, tmp_path / "attention.tflite")
    operators = export.tflite_operators(path)
    assert not [op for op in operators if op.startswith("Flex") or op == "CUSTOM"]
    assert {"SOFTMAX", "TANH"} <= set(operators)
    report = export.verify(attention_model, path, model_inputs)
    assert max(report.max_abs_diff.values()) <= 1e-4, report


def test_onnx_export_matches(attention_model, model_inputs, tmp_path):
    path = export.to_onnx(attention_model, tmp_path / "attention.onnx")
    report = export.verify(attention_model, path, model_inputs)
    assert max(report.max_abs_diff.values()) <= 1e-4, report
