"""Video clips of a moving stick figure as per-frame body keypoints: what a pose tracker gives.

    clip.frames  (T, 18) float32   x, y of 9 keypoints per frame, in pixels (y up), T = 20-60
    clip.label   "walking" | "running" | "jumping" | "standing"

Each clip animates a side view of a figure (a 2-D kinematic skeleton: torso, head, two arms
with elbows, two legs with knees) seen by a camera at a random frame rate (15-30 fps), from a
random distance (figure height 60-200 px) and position, facing left or right, with Gaussian
keypoint noise (a tracker's jitter, 1% of the figure's height by default). In half of the
clips the camera pans to follow the figure (keeping 0-30% of its travel in the picture), so
the limbs' motion must tell walking from running. The activities differ in their dynamics,
over several frames, not in any one pose:

    standing   no travel; slow sway (0.2-0.5 Hz) and small arm drift
    walking    travel at 0.6-1.05 heights/s; gait cycle 0.8-1.1 Hz; legs swing ±17-26°,
               arms ±11-23° against them; hips bounce 1-2% of the height at twice the cycle
    running    travel at 1.3-2.9 heights/s; gait cycle 1.15-1.6 Hz; legs ±31-46°, knees and
               elbows bent; hips bounce 3-6%; forward lean 6-14°
    jumping    hops in place at 1.4-2.2 Hz: flight 8-20% of the height up, a crouch on
               landing, arms swung up in flight; little travel

A frame in mid-stride (legs together, arms down) looks like standing, and the top of a hop
like either: a single frame is ambiguous, the sequence is not. Speed, cadence, amplitudes,
phase and every camera setting are drawn per clip, so the same seed gives the same clips.
"""

import typing

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

tqdm = require("tqdm.auto", "tasks", "progress bars").tqdm

ACTIVITIES = ("walking", "running", "jumping", "standing")
KEYPOINTS = (
    "head", "neck", "hip", "left_hand", "right_hand",
    "left_knee", "right_knee", "left_foot", "right_foot",
)  # fmt: skip
# The skeleton's segments, as pairs of keypoint indices (for drawing the figure).
BONES = ((0, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6), (5, 7), (6, 8))
NUM_FEATURES = 2 * len(KEYPOINTS)
MIN_FRAMES, MAX_FRAMES = 20, 60
FPS_RANGE = (15.0, 30.0)
HEIGHT_RANGE = (60.0, 200.0)  # the figure's height in pixels
# Segment lengths in body heights.
TORSO, NECK_TO_HEAD, UPPER_ARM, FOREARM, THIGH, SHIN = 0.30, 0.12, 0.17, 0.16, 0.245, 0.245


class ActivityClip(typing.NamedTuple):
    """One clip: keypoint frames (T, 18) float32 (x, y per keypoint of `KEYPOINTS`), the
    activity's name, and the camera's frame rate."""

    frames: np.ndarray
    label: str
    fps: float


def _direction(angle):
    """Unit vectors (forward, up) at `angle` radians from straight down, positive forward."""
    return np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def _gait(t, rng, cycle, stride, hip_swing, knee_bend, arm_swing, elbow, bounce, lean):
    """Joint angles of walking or running; each argument is a (low, high) range to draw from."""
    frequency = rng.uniform(*cycle)
    phase = 2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi)
    speed = frequency * rng.uniform(*stride)
    hip, knee = rng.uniform(*hip_swing), rng.uniform(*knee_bend)
    arm, elbow_bend = rng.uniform(*arm_swing), rng.uniform(*elbow)
    legs = [hip * np.sin(phase), hip * np.sin(phase + np.pi)]
    # A knee bends while its leg swings forward (the hip angle rising).
    knees = [knee * np.maximum(0, np.cos(phase)) ** 2, knee * np.maximum(0, -np.cos(phase)) ** 2]
    return {
        "travel": speed * t,
        "rise": rng.uniform(*bounce) * np.cos(2 * phase),
        "lean": np.full_like(t, rng.uniform(*lean)),
        "legs": legs,
        "knees": knees,
        "arms": [-arm * np.sin(phase), arm * np.sin(phase)],
        "elbows": [np.full_like(t, elbow_bend)] * 2,
    }


def _standing(t, rng):
    """A relaxed pose or one frozen from another activity, held with a slow sway."""
    source = str(rng.choice(["relaxed", "walking", "running", "jumping"]))
    if source == "relaxed":
        stance = rng.uniform(0.02, 0.08)
        pose = {
            "lean": rng.uniform(-0.03, 0.05),
            "legs": [stance, -stance],
            "knees": [rng.uniform(0, 0.1)] * 2,
            "arms": rng.uniform(-0.1, 0.1, 2),
            "elbows": [rng.uniform(0, 0.3)] * 2,
        }
    else:  # e.g. a foot forward, knees bent, arms up: any single frame of the others
        frozen = _motion(source, rng.uniform(0, 1, 1), rng)
        pose = {key: frozen[key] for key in ("lean", "legs", "knees", "arms", "elbows")}
    # Each joint's two sides as (2, T) arrays: the held angles; the arms drift a little.
    held = {key: np.reshape(pose[key], (2, 1)) + 0 * t for key in ("legs", "knees", "elbows")}
    drift = 0.05 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4, (2, 1)) * t + rng.uniform(0, 6, (2, 1)))
    return {
        "travel": 0.01 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 6)),
        "rise": 0.003 * np.sin(2 * np.pi * rng.uniform(0.2, 0.4) * t),
        "lean": np.full_like(t, np.ravel(pose["lean"])[0]),
        "arms": list(np.reshape(pose["arms"], (2, 1)) + drift),
        **{key: list(value) for key, value in held.items()},
    }


def _jumping(t, rng):
    """Two-footed hops in place: a parabolic flight, then a crouch that bends the knees."""
    position = (rng.uniform(1.4, 2.2) * t + rng.uniform()) % 1.0  # within the hop cycle
    flight = rng.uniform(0.45, 0.6)  # the fraction of the cycle in the air
    airborne = position < flight
    arc = np.where(airborne, 4 * (position / flight) * (1 - position / flight), 0.0)
    crouch = np.where(airborne, 0.0, np.sin(np.pi * (position - flight) / (1 - flight)))
    depth = rng.uniform(0.05, 0.12)
    knee = crouch * depth * 8  # the knees bend as the hips sink
    arms = rng.uniform(0.5, 2.5) * arc + rng.uniform(-0.1, 0.2)
    return {
        "travel": rng.uniform(-0.05, 0.05) * t,
        "rise": rng.uniform(0.08, 0.2) * arc - depth * crouch,
        "lean": 0.15 * crouch,
        "legs": [knee / 2, knee / 2],
        "knees": [knee, knee],
        "arms": [arms, arms + rng.normal(0, 0.05)],
        "elbows": [np.full_like(t, rng.uniform(0, 0.4))] * 2,
    }


def _motion(activity, t, rng):
    """The hips' travel and rise, the lean and the joint angles of `activity` at times `t`."""
    if activity == "standing":
        return _standing(t, rng)
    if activity == "jumping":
        return _jumping(t, rng)
    if activity == "walking":
        ranges = {
            "cycle": (0.8, 1.1), "stride": (0.75, 0.95), "hip_swing": (0.3, 0.5),
            "knee_bend": (0.4, 1.0), "arm_swing": (0.2, 0.5), "elbow": (0.1, 1.0),
            "bounce": (0.01, 0.02), "lean": (0.0, 0.12),
        }  # fmt: skip
    else:
        ranges = {
            "cycle": (1.15, 1.6), "stride": (1.1, 1.8), "hip_swing": (0.45, 0.8),
            "knee_bend": (0.8, 1.8), "arm_swing": (0.4, 0.8), "elbow": (0.6, 1.6),
            "bounce": (0.03, 0.06), "lean": (0.05, 0.25),
        }  # fmt: skip
    return _gait(t, rng, **ranges)


def _skeleton(motion):
    """Keypoints (T, 9, 2) in body heights, (forward, up), the hips at (travel, rise)."""
    hip = np.stack([motion["travel"], 0.49 + motion["rise"]], axis=-1)
    neck = hip + TORSO * _direction(np.pi - motion["lean"])
    head = neck + NECK_TO_HEAD * _direction(np.pi - motion["lean"])
    hands, knees, feet = [], [], []
    for side in range(2):
        shoulder = motion["arms"][side]
        elbow = neck + UPPER_ARM * _direction(shoulder)
        hands.append(elbow + FOREARM * _direction(shoulder + motion["elbows"][side]))
        knee = hip + THIGH * _direction(motion["legs"][side])
        knees.append(knee)
        feet.append(knee + SHIN * _direction(motion["legs"][side] - motion["knees"][side]))
    return np.stack([head, neck, hip, *hands, *knees, *feet], axis=1)


def activity_clip(activity, rng, num_frames=None, noise=0.01, pan=False):
    """Draws one clip of `activity` (see the module's docstring for the settings drawn).

    Args:
        activity: one of `ACTIVITIES`.
        rng: a `np.random.Generator`.
        num_frames: the clip's length; drawn from 20-60 if None.
        noise: the keypoints' Gaussian noise, in figure heights.
        pan: the camera pans to follow the figure, keeping 0-30% of its travel.

    Returns:
        An `ActivityClip`.
    """
    if activity not in ACTIVITIES:
        raise SeqKerasError(f"activity_clip: unknown activity {activity!r}; known: {ACTIVITIES}.")
    if num_frames is None:
        num_frames = int(rng.integers(MIN_FRAMES, MAX_FRAMES + 1))
    fps = float(rng.uniform(*FPS_RANGE))
    t = np.arange(num_frames) / fps
    motion = _motion(activity, t, rng)
    if pan:
        motion["travel"] = motion["travel"] * rng.uniform(0.0, 0.3)
    points = _skeleton(motion)
    height = rng.uniform(*HEIGHT_RANGE)
    facing = rng.choice([-1.0, 1.0])
    origin = np.array([rng.uniform(100, 540), rng.uniform(80, 300)])
    pixels = origin + height * points * np.array([facing, 1.0])
    pixels += rng.normal(0.0, noise * height, pixels.shape)
    return ActivityClip(pixels.reshape(num_frames, NUM_FEATURES).astype(np.float32), activity, fps)


def activity_clips(
    count,
    seed=0,
    activities=ACTIVITIES,
    min_frames=MIN_FRAMES,
    max_frames=MAX_FRAMES,
    noise=0.01,
    pan=0.5,
    progress=False,
):
    """Draws `count` clips, the activities in equal shares (in shuffled order).

    Args:
        count: the number of clips (a positive integer).
        seed: the random seed: the same seed gives the same clips.
        activities: the activities to draw from (a subset of `ACTIVITIES`).
        min_frames, max_frames: each clip's length is drawn uniformly from this range.
        noise: the keypoints' Gaussian noise, in figure heights.
        pan: the share of clips whose camera pans to follow the figure.
        progress: show a progress bar.

    Returns:
        A list of `ActivityClip`.

    Raises:
        SeqKerasError: a bad count, an unknown activity, or a bad frame range, noise or pan.

    Example:

    >>> clips = activity_clips(8, seed=1)
    >>> clips[0].frames.shape, clips[0].label
    ((55, 18), 'running')
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeqKerasError(f"activity_clips: `count` must be an integer >= 1, got {count!r}.")
    activities = list(activities)
    unknown = sorted(set(activities) - set(ACTIVITIES))
    if not activities or unknown:
        raise SeqKerasError(
            f"activity_clips: `activities` must be a non-empty subset of {ACTIVITIES}, got "
            f"{activities!r}."
        )
    if not (isinstance(min_frames, int) and isinstance(max_frames, int)) or not (
        2 <= min_frames <= max_frames
    ):
        raise SeqKerasError(
            f"activity_clips: need integers 2 <= min_frames <= max_frames, got {min_frames!r} "
            f"and {max_frames!r}."
        )
    if not 0 <= noise < 0.5:
        raise SeqKerasError(f"activity_clips: `noise` must be in [0, 0.5), got {noise!r}.")
    if not 0 <= pan <= 1:
        raise SeqKerasError(f"activity_clips: `pan` must be in [0, 1], got {pan!r}.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.resize(activities, count))
    lengths = rng.integers(min_frames, max_frames + 1, count)
    panned = rng.uniform(size=count) < pan
    return [
        activity_clip(str(label), rng, int(length), noise, bool(follow))
        for label, length, follow in tqdm(
            zip(labels, lengths, panned), total=count, disable=not progress, desc="activity clips"
        )
    ]
