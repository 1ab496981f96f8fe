"""What the stronger g2p recipe adds to the shared seq2seq code: stacked encoders, dropout,
label smoothing, length buckets, and the stress-stripped error rates."""

import keras
import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.tasks.g2p import G2PTask, error_rates, strip_stress
from seqkeras.tasks.seq2seq_model import SmoothedSequenceLoss, build_seq2seq, inference_models


def test_strip_stress_removes_only_vowel_stress_digits():
    assert strip_stress("HH AH0 L OW1") == "HH AH L OW"
    assert strip_stress("EH2 K S") == "EH K S"


def test_error_rates_without_stress_compare_stripped_pronunciations():
    references = [["HH AH0 L OW1"], ["K AE1 T"]]
    predictions = ["HH AH1 L OW1", "K AE1 D"]
    assert error_rates(references, predictions) == pytest.approx({"wer": 1.0, "per": 2 / 7})
    stripped = error_rates(references, predictions, stress=False)
    assert stripped == pytest.approx({"wer": 0.5, "per": 1 / 7})


def _reference_loss(y_true, logits, epsilon):
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    vocab = logits.shape[-1]
    targets = np.eye(vocab)[y_true] * (1 - epsilon) + epsilon / vocab
    per_token = -(targets * log_probs).sum(-1)
    mask = y_true != 0
    return per_token[mask].mean()


@pytest.mark.parametrize("epsilon", [0.0, 0.1])
def test_smoothed_loss_is_the_mean_over_real_tokens(epsilon):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 7)).astype("float32")
    y_true = np.array([[3, 2, 1, 0, 0], [4, 4, 4, 4, 1], [6, 1, 0, 0, 0]])
    loss = SmoothedSequenceLoss(epsilon)(y_true, logits)
    np.testing.assert_allclose(float(loss), _reference_loss(y_true, logits, epsilon), rtol=1e-5)
    if epsilon == 0.0:
        keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
        np.testing.assert_allclose(float(loss), float(keras_loss(y_true, logits)), rtol=1e-5)
    config = SmoothedSequenceLoss.from_config(SmoothedSequenceLoss(epsilon).get_config())
    assert config.label_smoothing == epsilon


def test_smoothed_loss_rejects_a_bad_epsilon():
    with pytest.raises(SeqKerasError, match="label_smoothing"):
        SmoothedSequenceLoss(1.0)


def test_stacked_encoder_graphs_equal_the_training_model():
    model = build_seq2seq(9, 8, None, units=6, embedding_dim=4, encoder_layers=3, dropout=0.3)
    assert [layer.name for layer in model.layers if layer.name.startswith("encoder")] == [
        "encoder_1",
        "encoder_2",
        "encoder",
    ]
    with pytest.raises(SeqKerasError, match="source_length"):
        inference_models(model)
    graphs = inference_models(model, source_length=5)
    source = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], np.int32)
    target = np.array([[1, 3, 4], [1, 5, 2]], np.int32)
    logits = model({"source": source, "target_in": target}, training=False)
    encoded = graphs["encoder"]({"source": source})
    state = {name: encoded[name] for name in ("state_h", "state_c")}
    for t in range(target.shape[1]):
        feeds = {
            **state,
            "token": target[:, t],
            "values": encoded["values"],
            "keys": encoded["keys"],
            "source_mask": encoded["source_mask"],
        }
        step = graphs["step"]({name: np.asarray(value) for name, value in feeds.items()})
        expected = keras.ops.log_softmax(logits[:, t], axis=-1)
        np.testing.assert_allclose(step["log_probs"], expected, atol=1e-5)
        state = {"state_h": step["next_state_h"], "state_c": step["next_state_c"]}


def test_encoder_layers_must_be_positive():
    with pytest.raises(SeqKerasError, match="encoder_layers"):
        build_seq2seq(9, 8, 5, encoder_layers=0)


def test_length_buckets_cut_batches_to_their_longest_word():
    task = G2PTask({"batch_size": 16}, smoke=True)
    task.preprocessor = task.build_preprocessor(task.data["train"])
    batches = list(task.to_dataset(task.data["train"], training=True))
    assert sum(len(target) for _, target in batches) == len(task.data["train"])
    for inputs, target in batches:
        source = inputs["source"].numpy()
        assert (source[:, -1] != 0).any()
        assert (target.numpy()[:, -1] != 0).any()
        assert inputs["target_in"].shape == target.shape
        buckets = np.searchsorted(task.config["length_buckets"], (source != 0).sum(1), "right")
        assert len(set(buckets)) == 1
