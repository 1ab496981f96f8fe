"""Image files <-> the uint8 arrays a caption bundle takes (NumPy and zlib only).

    save_png(image, "scene.png")                   # a uint8 (height, width, 3) image
    images = read_images(["scene.png", "more.npy"], (32, 32, 3))   # uint8 (n, 32, 32, 3)
    bundle.predict(images)

PNG files (grey, grey + alpha, palette, RGB or RGBA; 1 to 16 bits; not interlaced) are read by
`seqkeras.png`; `.npy` files hold one image (height, width, channels) or a batch.
Pixels become uint8 the way the training images are: float values in [0, 1] are scaled by 255
and rounded (an 8-bit PNG gives back its bytes exactly); grey is repeated over the three
channels; an alpha channel is composited over black, the background of the training scenes.
Images are not resized: a model trained on 32 x 32 scenes reads shapes by their pixel sizes,
so another size is an error naming the expected and the given shape.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.files import atomic_write_bytes
from seqkeras.png import decode_png, encode_png

# A file path as callers pass it.
PathLike = str | os.PathLike[str]


def read_images(paths: Sequence[PathLike], image_shape: tuple[int, ...]) -> np.ndarray:
    """Reads PNG and `.npy` files into one uint8 batch of `image_shape` images.

    Args:
        paths: file paths: `.npy` files (one image or a batch each), any other path is read as
            a PNG.
        image_shape: (height, width, channels) the images must have (channels 1 or 3).

    Returns:
        A uint8 array (n, height, width, channels), the files' images in order.

    Raises:
        SeqKerasError: no paths, a file is missing or unreadable, or an image has another
            size or values out of range.
    """
    if not paths:
        raise SeqKerasError("expected at least one image file (.png or .npy), got none.")
    batches = []
    for path in paths:
        if pathlib.Path(path).suffix.lower() == ".npy":
            array = _load(path, lambda p: np.load(p, allow_pickle=False), "a .npy array")
            batch = array if array.ndim == len(image_shape) + 1 else array[None]
            if not len(batch):
                raise SeqKerasError(f"{path}: holds an empty batch of images.")
            batches.append(np.stack([to_pixels(image, image_shape, str(path)) for image in batch]))
        else:
            array = _load(path, _read_png, "a PNG image")
            batches.append(to_pixels(array, image_shape, str(path))[None])
    return np.concatenate(batches)


def _read_png(path: PathLike) -> np.ndarray:
    return decode_png(pathlib.Path(path).read_bytes(), str(path))


def _load(path: PathLike, reader: Callable[[PathLike], Any], kind: str) -> np.ndarray:
    if not pathlib.Path(path).is_file():
        raise SeqKerasError(f"{path}: no such file.")
    try:
        return np.asarray(reader(path))
    except SeqKerasError:
        raise
    except (OSError, ValueError) as error:
        raise SeqKerasError(f"{path}: cannot read it as {kind} ({error}).") from None


def to_pixels(image: np.ndarray, image_shape: tuple[int, ...], name: str = "image") -> np.ndarray:
    """One image as uint8 pixels of `image_shape`, scaled and converted like training images.

    Args:
        image: (height, width) or (height, width, channels) pixels with channels 1 (grey),
            2 (grey + alpha), 3 (RGB) or 4 (RGBA): uint8, or floats in [0, 1] (scaled by 255
            and rounded).
        image_shape: the (height, width, channels) wanted, channels 1 or 3.
        name: the file or argument named in errors.

    Returns:
        A uint8 array of `image_shape`.

    Raises:
        SeqKerasError: another height or width, an unknown channel count, or float values
            outside [0, 1], or pixels neither uint8 nor float.
    """
    image = np.asarray(image)
    height, width, channels = image_shape
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[:2] != (height, width) or not 1 <= image.shape[2] <= 4:
        raise SeqKerasError(
            f"{name}: expected a {height} x {width} image (shape {tuple(image_shape)}; grey, "
            f"grey + alpha, RGB or RGBA), got shape {image.shape}. Images are not resized."
        )
    if np.issubdtype(image.dtype, np.floating):
        if not np.all((image >= 0) & (image <= 1)):
            raise SeqKerasError(f"{name}: float pixels must lie in [0, 1].")
        image = image.astype(np.float32)
    elif image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    else:
        raise SeqKerasError(f"{name}: expected uint8 or float pixels, got {image.dtype}.")
    if image.shape[2] in (2, 4):  # composited over black: colour * alpha
        image = image[..., :-1] * image[..., -1:]
    if image.shape[2] != channels:
        image = image.mean(axis=2, keepdims=True) if channels == 1 else np.repeat(image, 3, 2)
    return np.round(image * 255.0).astype(np.uint8)


def save_png(image: np.ndarray, path: PathLike) -> pathlib.Path:
    """Writes a uint8 image as an 8-bit PNG, atomically: seqkeras's one writer of PNG pixels.

    Args:
        image: uint8 (height, width) grey or (height, width, channels) with channels 1 (grey),
            2 (grey + alpha), 3 (RGB) or 4 (RGBA).
        path: the file to write.

    Example: a scene to try `seqkeras predict BUNDLE scene.png` on.

    >>> from seqkeras.datasets.shapes import shape_scenes
    >>> images, captions = shape_scenes(1, seed=7)
    >>> save_png(images[0], "scene.png")  # doctest: +SKIP

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        SeqKerasError: `image` is not uint8 grey, grey + alpha, RGB or RGBA pixels.
    """
    try:
        data = encode_png(image)
    except SeqKerasError as error:
        raise SeqKerasError(f"save_png: {error}") from None
    return atomic_write_bytes(path, data)
