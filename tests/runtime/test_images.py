"""`seqkeras.runtime.images`: PNG and .npy files -> the uint8 batches caption bundles take."""

import sys

import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.datasets.shapes import shape_scenes
from seqkeras.runtime.images import read_images, save_png, to_pixels

SHAPE = (32, 32, 3)


@pytest.fixture(scope="module")
def scenes():
    return shape_scenes(3, seed=5)[0]


def test_png_round_trip_is_exact(scenes, tmp_path):
    paths = [save_png(image, tmp_path / f"scene{i}.png") for i, image in enumerate(scenes)]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    batch = read_images([str(path) for path in paths], SHAPE)
    assert batch.dtype == np.uint8
    np.testing.assert_array_equal(batch, scenes)


def test_npy_files_hold_one_image_or_a_batch(scenes, tmp_path):
    np.save(tmp_path / "one.npy", scenes[0])
    np.save(tmp_path / "batch.npy", scenes[1:].astype(np.float32) / 255.0)
    batch = read_images([tmp_path / "one.npy", tmp_path / "batch.npy"], SHAPE)
    np.testing.assert_array_equal(batch, scenes)


def test_conversions_match_the_training_pixels():
    rgb = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(SHAPE)
    np.testing.assert_array_equal(to_pixels(rgb, SHAPE), rgb)
    np.testing.assert_array_equal(to_pixels(rgb / np.float32(255), SHAPE), rgb)
    # Alpha is composited over black (the scenes' background); grey fills all channels.
    alpha = np.zeros((32, 32, 1), np.uint8)
    alpha[:16] = 255
    composited = to_pixels(np.concatenate([rgb, alpha], axis=2), SHAPE)
    np.testing.assert_array_equal(composited[:16], rgb[:16])
    assert not composited[16:].any()
    grey = rgb[..., 0]
    np.testing.assert_array_equal(to_pixels(grey, SHAPE), np.repeat(grey[..., None], 3, 2))
    grey_alpha = to_pixels(np.stack([grey, alpha[..., 0]], axis=2), SHAPE)
    np.testing.assert_array_equal(grey_alpha[:16], np.repeat(grey[:16, :, None], 3, 2))
    assert not grey_alpha[16:].any()


def test_png_files_need_neither_matplotlib_nor_pillow(scenes, tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.image", "PIL", "PIL.Image"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    path = save_png(scenes[0], tmp_path / "scene.png")
    np.testing.assert_array_equal(read_images([path], SHAPE), scenes[:1])


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((16, 16, 3), np.uint8), r"expected a 32 x 32 image .* got shape \(16, 16, 3\)"),
        (np.zeros((32, 32, 5), np.uint8), "got shape"),
        (np.full(SHAPE, 2.0), r"float pixels must lie in \[0, 1\]"),
        (np.zeros(SHAPE, np.int64), "expected uint8 or float pixels, got int64"),
    ],
)
def test_bad_pixels_raise(image, message):
    with pytest.raises(SeqKerasError, match=message):
        to_pixels(image, SHAPE)


def test_bad_files_raise(tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 4)
    (tmp_path / "text.npy").write_text("not an array")
    np.save(tmp_path / "empty.npy", np.zeros((0, *SHAPE), np.uint8))
    cases = {
        tmp_path / "missing.png": "missing.png: no such file",
        corrupt: "corrupt.png: cannot read it as a PNG image",
        tmp_path / "text.npy": r"text.npy: cannot read it as a \.npy array",
        tmp_path / "empty.npy": "empty batch",
    }
    for path, message in cases.items():
        with pytest.raises(SeqKerasError, match=message):
            read_images([path], SHAPE)
    with pytest.raises(SeqKerasError, match="at least one image file"):
        read_images([], SHAPE)
    with pytest.raises(SeqKerasError, match="save_png: expected uint8 pixels"):
        save_png(np.zeros((4, 4)), tmp_path / "grey.png")
