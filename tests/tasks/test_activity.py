import json

import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, runtime, tasks
from seqkeras.datasets.activity import activity_clip
from seqkeras.runtime.pipelines.frames import FrameClassificationBundle, KeypointPreprocessor
from seqkeras.tasks.activity import ActivityTask, build_model


@pytest.fixture(scope="module")
def task():
    task = ActivityTask(smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("activity") / "bundle")


@pytest.fixture(scope="module")
def clips(task):
    """Test clips of many lengths, the longest the model takes."""
    return [example.frames for example in task.data["test"][:40]]


def test_training_recognizes_each_activity(task):
    result = task.evaluate()
    activities = ("jumping", "running", "standing", "walking")
    assert set(result) == {"accuracy", *(f"accuracy_{name}" for name in activities)}
    assert result["accuracy"] > 0.75  # chance: 0.25
    assert min(result.values()) > 0.4
    # The metric is the fraction of labels predicted right.
    examples = task.data["test"][:30]
    predicted = task.predict([example.frames for example in examples])
    right = np.mean([p == example.label for p, example in zip(predicted, examples)])
    assert task.evaluate(examples)["accuracy"] == pytest.approx(right)


def test_the_preprocessor_normalizes_each_clip_by_hand():
    # Two keypoints 4 apart vertically, moving 3 to the right: centroid-relative pose
    # (0, ∓2), body size sqrt(mean |pose|²) = 2, motion (3, 0) per frame.
    clip = np.array([[0, 0, 0, 4], [3, 0, 3, 4]], np.float32)
    pre = KeypointPreprocessor(["a", "b"], num_keypoints=2, max_frames=4)
    expected = np.array([[0, -1, 0, 1, 0, 0, 0, 0], [0, -1, 0, 1, 1.5, 0, 1.5, 0]])
    encoded = pre.encode([clip])
    np.testing.assert_allclose(encoded[0, :2], expected, atol=1e-7)
    np.testing.assert_array_equal(encoded[0, 2:], 0)  # padding
    # Neither where the figure is in the picture nor its size changes the features.
    moved = clip * 7.5 + np.array([120, -40, 120, -40], np.float32)
    np.testing.assert_allclose(pre.encode([moved]), encoded, atol=1e-6)
    assert KeypointPreprocessor.from_json(pre.to_json()) == pre


def probabilities_with(model_config, weights, clips, max_frames):
    """The clips' probabilities through a model of `max_frames` frames with `weights`."""
    model = build_model(model_config, 36, 4, max_frames)
    model.set_weights(weights)
    pre = KeypointPreprocessor(list("abcd"), num_keypoints=9, max_frames=max_frames)
    return model.predict(pre.encode(clips), verbose=0)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_padding_never_changes_the_output(task, cell):
    config = {**task.config, "cell": cell, "peephole": True}
    weights = (
        task.model.get_weights()
        if cell == "gru"
        else build_model(config, 36, 4, task.config["max_frames"]).get_weights()
    )
    rng = np.random.default_rng(4)
    clip = activity_clip("walking", rng, num_frames=23).frames
    # The reference has no padding at all: a model exactly as long as the clip.
    unpadded = probabilities_with(config, weights, [clip], 23)
    for max_frames in (24, task.config["max_frames"], 97):
        padded = probabilities_with(config, weights, [clip], max_frames)
        np.testing.assert_allclose(padded, unpadded, atol=1e-6)
    # Nor does the batch it is in.
    others = [activity_clip("running", rng, num_frames=n).frames for n in (5, 40)]
    batch = probabilities_with(config, weights, [others[0], clip, others[1]], 40)
    np.testing.assert_allclose(batch[1], unpadded[0], atol=1e-6)
    if cell == "gru":
        np.testing.assert_allclose(task.probabilities([clip]), unpadded, atol=1e-6)


def test_unfolding_classifies_each_prefix(task, clips):
    clip = clips[0]
    unfolding = task.unfolding(clip)
    assert unfolding.shape == (len(clip), 4)
    np.testing.assert_allclose(unfolding.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(unfolding[-1], task.probabilities([clip])[0], atol=1e-6)
    np.testing.assert_allclose(unfolding[9], task.probabilities([clip[:10]])[0], atol=1e-6)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_labels_equal_keras(task, bundle_path, clips, backend):
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, FrameClassificationBundle)
    assert bundle.predict(clips) == task.predict(clips)
    np.testing.assert_allclose(bundle.probabilities(clips), task.probabilities(clips), atol=1e-4)
    manifest = json.loads((bundle_path / "bundle.json").read_text())
    assert manifest["metadata"]["pipeline"] == "classify_frames"
    artifact = manifest["graphs"]["model"]["artifacts"][backend]
    assert max(artifact["verification"]["max_abs_diff"].values()) <= 1e-4


def test_save_and_load_give_the_same_probabilities(task, clips, tmp_path):
    task.save(tmp_path / "saved")
    loaded = tasks.Task.load(tmp_path / "saved")
    assert isinstance(loaded, ActivityTask) and loaded.preprocessor == task.preprocessor
    np.testing.assert_allclose(loaded.probabilities(clips), task.probabilities(clips), atol=1e-6)


def test_cli_predicts_npy_clips(task, bundle_path, clips, tmp_path, capsys):
    paths = []
    for index, clip in enumerate(clips[:3]):
        paths.append(str(tmp_path / f"clip{index}.npy"))
        np.save(paths[-1], clip)
    capsys.readouterr()
    assert cli.main(["predict", str(bundle_path), *paths, "--backend", "tflite"]) == 0
    assert json.loads(capsys.readouterr().out) == {"outputs": task.predict(clips[:3])}
    np.save(tmp_path / "wide.npy", np.zeros((10, 20)))
    assert cli.main(["predict", str(bundle_path), str(tmp_path / "wide.npy")]) == 2
    assert "expected an array (frames, 18)" in capsys.readouterr().err


def test_cli_trains_the_task(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "activity", "--smoke", "--epochs", "1", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["task"] == "activity"
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 1
    loaded = tasks.Task.load(out)
    clip = activity_clip("jumping", np.random.default_rng(0), num_frames=30).frames
    assert isinstance(loaded, ActivityTask)
    assert loaded.predict([clip])[0] in loaded.preprocessor.labels


def bad_clips(tmp_path):
    good = activity_clip("standing", np.random.default_rng(0), num_frames=30).frames
    nan, inf = good.copy(), good.copy()
    nan[7, 3] = np.nan
    inf[2, 0] = -np.inf
    (tmp_path / "broken.npy").write_bytes(b"not an array")
    return [
        ([nan], "frame 7 holds NaN or infinite"),
        ([inf], "frame 2 holds NaN or infinite"),
        ([good[:, :16]], r"expected an array \(frames, 18\)"),
        ([good[0]], r"expected an array \(frames, 18\)"),
        ([good[:0]], "has 0 frames"),
        ([np.concatenate([good, good])], "has 60 frames; the model takes 1 to 40"),
        ([good.astype(str)], "expected real numbers"),
        ([np.zeros_like(good)], "keypoints coincide"),
        ([str(tmp_path / "broken.npy")], "cannot read"),
        ([str(tmp_path / "missing.npy")], "cannot read"),
        (good, "wrap it in a list"),
        (str(tmp_path / "clip.npy"), "wrap it in a list"),
        ([], "at least one clip"),
    ]


def test_bad_inputs_raise_clear_errors(task, bundle_path, tmp_path):
    bundle = runtime.load(bundle_path)
    for inputs, message in bad_clips(tmp_path):
        with pytest.raises(SeqKerasError, match=message):
            task.predict(inputs)
        with pytest.raises(SeqKerasError, match=message):
            bundle.predict(inputs)


def test_bad_configurations_raise(task):
    with pytest.raises(SeqKerasError, match="'cell' must be one of"):
        build_model({**task.config, "cell": "cnn"}, 36, 4, 40)
    with pytest.raises(SeqKerasError, match="'num_layers' must be >= 1"):
        build_model({**task.config, "num_layers": 0}, 36, 4, 40)
    with pytest.raises(SeqKerasError, match="distinct"):
        KeypointPreprocessor(["a", "a"], 9, 40)
    with pytest.raises(SeqKerasError, match="max_frames"):
        KeypointPreprocessor(["a"], 9, 0)
    with pytest.raises(SeqKerasError, match="unknown labels"):
        task.preprocessor.encode_labels(["swimming"])
