"""Classifying sequences of body keypoints (one frame of a video each) in NumPy.

The same classes serve the Keras `activity` task (its model wrapped to return NumPy arrays)
and the TF-free runtime (a bundle's graph), so both give the same labels:

    classify_frames: {"frames": (n, max_frames, 4 K) float32, zero-padded}
                     -> (n, len(labels)) class probabilities

A clip is an array (T, 2 K): the x, y of K keypoints per frame, in any unit and origin (pixels
of any camera). `KeypointPreprocessor` normalizes each clip on its own, so that the model sees
neither where the figure stands in the picture nor how large it is:

    s        = sqrt(mean_t,k |p<t>_k - p̄<t>|²)      the body's size: the keypoints' RMS distance
                                                    from their frame's centroid p̄<t>, over the clip
    pose<t>  = (p<t> - p̄<t>) / s                    the posture, centred on the frame's centroid
    move<t>  = (p<t> - p<t-1>) / s, move<1> = 0     each keypoint's motion since the last frame

and the frame's features are [pose<t>, move<t>] (4 K values). Frames after a clip's end are
zeros, which the model masks (a real frame is never all zeros: its pose has a spread s > 0).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqkeras.errors import SeqKerasError
from seqkeras.runtime.bundle import register_pipeline
from seqkeras.runtime.pipelines.labeling import ClassificationBundle, ClassLabels
from seqkeras.text.preprocessor import Preprocessor


class KeypointPreprocessor(ClassLabels, Preprocessor):
    """Keypoint clips -> normalized, zero-padded frame features, and class names <-> ids.

    Args:
        labels: the class names, in the order of the model's outputs.
        num_keypoints: K, the keypoints per frame (a clip has 2 K values per frame).
        max_frames: the model's fixed number of frames (longer clips are an error).

    Example:

    >>> pre = KeypointPreprocessor(["jumping", "standing"], num_keypoints=9, max_frames=60)
    >>> pre.encode([np.random.rand(25, 18)]).shape
    (1, 60, 36)
    """

    def __init__(self, labels: Iterable[str], num_keypoints: int, max_frames: int) -> None:
        labels = list(labels)
        if not labels or len(set(labels)) != len(labels):
            raise SeqKerasError(
                f"KeypointPreprocessor: the labels must be distinct names, got {labels!r}."
            )
        for name, value in (("num_keypoints", num_keypoints), ("max_frames", max_frames)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SeqKerasError(
                    f"KeypointPreprocessor: `{name}` must be an integer >= 1, got {value!r}."
                )
        self.labels = labels
        self.num_keypoints = num_keypoints
        self.max_frames = max_frames

    @property
    def num_features(self) -> int:
        """The model's features per frame: 4 K (pose and motion)."""
        return 4 * self.num_keypoints

    def get_config(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "num_keypoints": self.num_keypoints,
            "max_frames": self.max_frames,
        }

    def check_clip(self, clip: npt.ArrayLike | str | os.PathLike[str], row: int = 0) -> np.ndarray:
        """`clip` as a float64 (T, 2 K) array, read from a .npy file if it is a path.

        Raises:
            SeqKerasError: the file is unreadable, or the clip is not a 2-D numeric array of
                1 to `max_frames` frames of 2 K finite values.
        """
        if isinstance(clip, str | os.PathLike):
            try:
                clip = np.load(pathlib.Path(clip), allow_pickle=False)
            except (OSError, ValueError) as error:
                raise SeqKerasError(
                    f"clip {row}: cannot read {clip!r} as a .npy array: {error}"
                ) from None
        clip = np.asarray(clip)
        width = 2 * self.num_keypoints
        if clip.ndim != 2 or clip.shape[1] != width:
            raise SeqKerasError(
                f"clip {row}: expected an array (frames, {width}) (x, y of "
                f"{self.num_keypoints} keypoints per frame), got shape {clip.shape}."
            )
        if not np.issubdtype(clip.dtype, np.number) or np.issubdtype(
            clip.dtype, np.complexfloating
        ):
            raise SeqKerasError(f"clip {row}: expected real numbers, got dtype {clip.dtype}.")
        if not 1 <= len(clip) <= self.max_frames:
            raise SeqKerasError(
                f"clip {row}: has {len(clip)} frames; the model takes 1 to {self.max_frames}."
            )
        clip = clip.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(clip).all(axis=1))
        if bad.size:
            raise SeqKerasError(f"clip {row}: frame {bad[0]} holds NaN or infinite values.")
        return clip

    def normalize(self, clip: npt.ArrayLike | str | os.PathLike[str], row: int = 0) -> np.ndarray:
        """The features (T, 4 K) float32 of one clip: [pose<t>, move<t>] (module docstring).

        Raises:
            SeqKerasError: a bad clip (see `check_clip`), or one whose keypoints all coincide.
        """
        points = self.check_clip(clip, row).reshape(-1, self.num_keypoints, 2)
        pose = points - points.mean(axis=1, keepdims=True)
        size = np.sqrt(np.mean(np.sum(pose**2, axis=-1)))
        if not size > 1e-9 * max(1.0, np.abs(points).max()):
            raise SeqKerasError(f"clip {row}: all keypoints coincide in every frame (no body).")
        move = np.diff(points, axis=0, prepend=points[:1])
        features = np.concatenate([pose, move], axis=1) / size
        return features.reshape(len(points), self.num_features).astype(np.float32)

    def encode(self, clips: Iterable[npt.ArrayLike | str | os.PathLike[str]]) -> np.ndarray:
        """(n, max_frames, 4 K) float32 features of clips (arrays or .npy paths), zero-padded.

        Raises:
            SeqKerasError: `clips` is not a non-empty list of clips, or a clip is bad (see
                `normalize`).
        """
        if isinstance(clips, np.ndarray) and clips.ndim == 2:
            raise SeqKerasError(
                "expected a list of clips, got one (frames, values) array; wrap it in a list."
            )
        if isinstance(clips, str | os.PathLike):
            raise SeqKerasError("expected a list of clips, got one path; wrap it in a list.")
        clips = list(clips)
        if not clips:
            raise SeqKerasError("expected at least one clip, got an empty list.")
        batch = np.zeros((len(clips), self.max_frames, self.num_features), np.float32)
        for row, clip in enumerate(clips):
            features = self.normalize(clip, row)
            batch[row, : len(features)] = features
        return batch


@register_pipeline("classify_frames")
class FrameClassificationBundle(ClassificationBundle):
    """A keypoint-clip classification bundle: `predict(clips)` gives class names.

    Metadata: `"preprocessor"` (a `KeypointPreprocessor` config).

    Example:

    >>> bundle = seqkeras.runtime.load("activity_bundle")
    >>> bundle.predict([clip, "clip.npy"])          # (frames, 18) arrays or .npy files
    ['walking', 'jumping']
    """

    input_kind = "arrays"
    array_dtype = "float32"
    preprocessor_class = KeypointPreprocessor

    def read_files(self, paths: Sequence[str]) -> list[str]:
        """Clips: .npy files, read by the preprocessor."""
        return list(paths)
