import json
import re

import numpy as np
import pytest

from seqkeras import SeqKerasError, cli, runtime, tasks
from seqkeras.runtime.images import save_png
from seqkeras.runtime.pipelines.seq2seq import CaptionBundle
from seqkeras.tasks import captioning
from seqkeras.tasks.captioning import CaptioningTask
from tests.figure_helpers import capture_figures, colorbar_labels


@pytest.fixture(scope="module")
def task():
    task = CaptioningTask(smoke=True)
    task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def images(task):
    return np.stack([image for image, _ in task.data["test"][::2]])


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("captioning") / "bundle")


def test_registered_and_two_captions_per_image(task):
    assert tasks.get("captioning") is CaptioningTask
    assert len(task.data["test"]) == 2 * 50


def test_encoder_and_step_reproduce_the_teacher_forced_model(task):
    pairs = task.data["validation"][:3]
    inputs, _ = task.arrays(pairs)
    logits = task.model.predict(inputs, verbose=0)
    graphs = task.inference_models()
    encoded = graphs["encoder"].predict({"source": inputs["source"]}, verbose=0)
    assert encoded["values"].shape[1] == 64
    state = {name: encoded[name] for name in ("state_h", "state_c")}
    for t in range(inputs["target_in"].shape[1]):
        feeds = {**encoded, **state, "token": inputs["target_in"][:, t]}
        outputs = graphs["step"].predict(feeds, verbose=0)
        state = {name: outputs[f"next_{name}"] for name in ("state_h", "state_c")}
        expected = logits[:, t] - np.log(np.exp(logits[:, t]).sum(axis=-1, keepdims=True))
        np.testing.assert_allclose(outputs["log_probs"], expected, atol=1e-5)
        np.testing.assert_allclose(outputs["attention"].sum(axis=-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_captions_equal_keras(task, images, bundle_path, backend):
    assert len(images) >= 50
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, CaptionBundle)
    for beam_width in (1, 3):
        assert bundle.predict(images, beam_width=beam_width) == task.predict(
            images, beam_width=beam_width
        )


def test_evaluate_scores_each_image_once_against_both_captions(task):
    result = task.evaluate(beam_width=1)
    assert set(result) == {"bleu", "exact_match", "loss"}
    assert 0.0 <= result["bleu"] <= 100.0
    assert task.scores([["a b c d e", "f g h i j"]], ["f g h i j"])["exact_match"] == 1.0
    both = task.scores(
        [["a red circle above a blue square", "a blue square below a red circle"]],
        ["a blue square below a red circle"],
    )
    assert both["bleu"] == pytest.approx(100.0)


def test_attention_plot(task, images, tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch, captioning)
    _caption, weights = task.attention_weights(images[0], beam_width=1)
    assert weights.shape[1] == 64
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    path = task.plot_attention(images[0], tmp_path / "attention.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = figures
    assert colorbar_labels(figure) == ["attention weight α<t,i>"]
    # One colour scale for the whole figure: every word's overlay ends at the largest weight.
    overlays = [axis.images[1] for axis in figure.axes[1:] if len(axis.images) == 2]
    limits = {overlay.get_clim() for overlay in overlays}
    assert overlays and len(limits) == 1 and limits.pop()[0] == 0.0


@pytest.mark.parametrize(
    "images",
    [np.zeros((2, 16, 16, 3), np.uint8), np.zeros((2, 32, 32, 3), np.float32), []],
)
def test_bad_images_raise(task, images):
    with pytest.raises(SeqKerasError, match="uint8 images of shape"):
        task.predict(images)


def test_save_and_load(task, images, tmp_path):
    task.save(tmp_path / "captioning")
    loaded = CaptioningTask.load(tmp_path / "captioning")
    assert loaded.predict(images[:5]) == task.predict(images[:5])


def test_cli_captions_png_and_npy_files_like_keras(task, images, bundle_path, tmp_path, capsys):
    pngs = [str(save_png(image, tmp_path / f"scene{i}.png")) for i, image in enumerate(images[:3])]
    np.save(tmp_path / "batch.npy", images[3:5])
    files = [*pngs, str(tmp_path / "batch.npy")]
    for options in ([], ["--beam-width", "1", "--backend", "tflite"]):
        capsys.readouterr()
        assert cli.main(["predict", str(bundle_path), *files, *options]) == 0
        beam_width = int(options[1]) if options else None
        expected = task.predict(images[:5], beam_width=beam_width)
        assert json.loads(capsys.readouterr().out)["outputs"] == expected


def test_cli_image_errors_are_one_clear_line(images, bundle_path, tmp_path, capsys):
    small = save_png(np.zeros((16, 16, 3), np.uint8), tmp_path / "small.png")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"truncated")
    cases = {
        small: r"small.png: expected a 32 x 32 image \(shape \(32, 32, 3\).*got shape \(16, 16",
        corrupt: "corrupt.png: cannot read it as a PNG image",
        tmp_path / "missing.png": "missing.png: no such file",
    }
    for path, message in cases.items():
        capsys.readouterr()
        assert cli.main(["predict", str(bundle_path), str(path)]) == 2
        error = capsys.readouterr().err
        assert re.match(f"seqkeras predict: .*{message}", error), error
        assert "Traceback" not in error and error.count("\n") == 1
    scene = save_png(images[0], tmp_path / "scene.png")
    assert cli.main(["predict", str(bundle_path), str(scene), "--beam-width", "0"]) == 2
    assert "option `beam_width` must be between 1 and" in capsys.readouterr().err
