"""Pictures of two coloured shapes, one beside or above the other, and captions saying so.

    image (32 x 32 RGB)  -> "a red circle above a blue square"
                            "a blue square below a red circle"

Each scene draws two different (colour, shape) pairs on a black background: the first shape's
centre is offset from the second's by a random 12-15 pixels along one axis (up, down, left or
right) and 0-3 pixels along the other, each shape of radius 4-6 pixels. Both captions of a
scene are correct (the relation read from either shape), so a scene has two references.
"""

import itertools

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

tqdm = require("tqdm.auto", "tasks", "progress bars").tqdm

COLOURS = {
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 240),
    "yellow": (240, 220, 40),
}
SHAPES = ("circle", "square", "triangle")
# relation -> (row step, column step) from the first shape to the second, and its converse.
RELATIONS = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1), "right of": (0, -1)}
CONVERSE = {"above": "below", "below": "above", "left of": "right of", "right of": "left of"}
IMAGE_SIZE = 32


def _draw(image, shape, colour, row, column, radius):
    rows, columns = np.ogrid[: image.shape[0], : image.shape[1]]
    dy, dx = rows - row, columns - column
    if shape == "circle":
        mask = dy**2 + dx**2 <= radius**2
    elif shape == "square":
        mask = (np.abs(dy) <= radius - 1) & (np.abs(dx) <= radius - 1)
    else:  # an upward triangle: its half-width grows from 0 at the top to `radius` at the base
        mask = (dy >= -radius) & (dy <= radius) & (np.abs(dx) <= (dy + radius) / 2)
    image[mask] = COLOURS[colour]


def shape_scenes(count, seed=0, progress=False):
    """Draws `count` scenes of two shapes with their two captions.

    Args:
        count: the number of scenes (a positive integer).
        seed: the random seed: the same seed gives the same scenes.
        progress: show a progress bar.

    Returns:
        `(images, captions)`: uint8 images (count, 32, 32, 3) and, for each, a list of its two
        captions ("a red circle above a blue square", "a blue square below a red circle").

    Raises:
        SeqKerasError: `count` is not a positive integer.

    Example:

    >>> images, captions = shape_scenes(2, seed=0)
    >>> images.shape, len(captions[0])
    ((2, 32, 32, 3), 2)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeqKerasError(f"shape_scenes: `count` must be a positive integer, got {count!r}.")
    rng = np.random.default_rng(seed)
    objects = list(itertools.product(COLOURS, SHAPES))
    relations = list(RELATIONS)
    images = np.zeros((count, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    captions = []
    for index in tqdm(range(count), desc="scenes", unit="scene", disable=not progress):
        first, second = (objects[i] for i in rng.choice(len(objects), 2, replace=False))
        relation = relations[rng.integers(len(relations))]
        step_row, step_column = RELATIONS[relation]
        distance, slack = rng.integers(12, 16), rng.integers(-3, 4)
        offset_row = step_row * distance + (slack if step_row == 0 else 0)
        offset_column = step_column * distance + (slack if step_column == 0 else 0)
        middle = IMAGE_SIZE // 2 + rng.integers(-2, 3, size=2)
        centres = (
            (middle[0] - offset_row // 2, middle[1] - offset_column // 2),
            (
                middle[0] + offset_row - offset_row // 2,
                middle[1] + offset_column - offset_column // 2,
            ),
        )
        for (colour, shape), (row, column) in zip((first, second), centres):
            _draw(images[index], shape, colour, row, column, rng.integers(4, 7))
        a, b = " ".join(first), " ".join(second)
        captions.append([f"a {a} {relation} a {b}", f"a {b} {CONVERSE[relation]} a {a}"])
    return images, captions
