import numpy as np
import pytest

from seqkeras import SeqKerasError
from seqkeras.datasets.activity import (
    ACTIVITIES,
    BONES,
    FPS_RANGE,
    KEYPOINTS,
    activity_clip,
    activity_clips,
)

HEAD, HIP = KEYPOINTS.index("head"), KEYPOINTS.index("hip")


def keypoints(clip):
    return clip.frames.reshape(len(clip.frames), len(KEYPOINTS), 2).astype(np.float64)


def body_height(points):
    """Pixels per body height, from the head-to-hip distance (0.42 heights in the skeleton)."""
    return np.median(np.linalg.norm(points[:, HEAD] - points[:, HIP], axis=-1)) / 0.42


def hip_track(clip):
    """The hip's (x, y) in body heights per frame, and the frame times in seconds."""
    points = keypoints(clip)
    return points[:, HIP] / body_height(points), np.arange(len(points)) / clip.fps


def clips_of(activity, count=30, seed=0, **options):
    rng = np.random.default_rng(seed)
    return [activity_clip(activity, rng, num_frames=60, **options) for _ in range(count)]


def test_shapes_lengths_rates_and_balanced_labels():
    clips = activity_clips(200, seed=3, min_frames=25, max_frames=35)
    assert all(clip.frames.dtype == np.float32 for clip in clips)
    assert all(clip.frames.shape[1] == 2 * len(KEYPOINTS) == 18 for clip in clips)
    lengths = [len(clip.frames) for clip in clips]
    assert min(lengths) >= 25 and max(lengths) <= 35 and len(set(lengths)) > 5
    assert all(FPS_RANGE[0] <= clip.fps <= FPS_RANGE[1] for clip in clips)
    labels = [clip.label for clip in clips]
    assert {label: labels.count(label) for label in ACTIVITIES} == dict.fromkeys(ACTIVITIES, 50)
    assert labels != sorted(labels)  # shuffled
    assert all(np.isfinite(clip.frames).all() for clip in clips)
    assert max(max(bone) for bone in BONES) == len(KEYPOINTS) - 1


def test_same_seed_same_clips_other_seed_other_clips():
    first, again, other = (activity_clips(12, seed=s) for s in (5, 5, 6))
    for a, b in zip(first, again):
        assert a.label == b.label and a.fps == b.fps
        np.testing.assert_array_equal(a.frames, b.frames)
    assert any(
        a.frames.shape != c.frames.shape or not np.allclose(a.frames, c.frames)
        for a, c in zip(first, other)
    )


def test_travel_speeds_follow_the_activity():
    def speeds(activity):
        # Net horizontal travel over the clip, in body heights per second.
        tracks = [hip_track(clip) for clip in clips_of(activity, pan=False)]
        return np.array([abs(xy[-1, 0] - xy[0, 0]) / t[-1] for xy, t in tracks])

    standing, walking, running = speeds("standing"), speeds("walking"), speeds("running")
    assert standing.max() < 0.1
    assert 0.5 < walking.min() and walking.max() < 1.2
    assert 1.1 < running.min() and running.max() < 3.2
    # A panning camera keeps at most 30% of the travel in the picture.
    panned = [hip_track(clip) for clip in clips_of("running", pan=True)]
    assert max(abs(xy[-1, 0] - xy[0, 0]) / t[-1] for xy, t in panned) < 0.3 * 3.2


def dominant_frequency(signal, fps):
    spectrum = np.abs(np.fft.rfft(signal - signal.mean(), n=1024))
    return np.fft.rfftfreq(1024, 1 / fps)[np.argmax(spectrum)]


def test_jumping_oscillates_vertically_at_the_hop_rate():
    for clip in clips_of("jumping", count=10, noise=0.0):
        (xy, _), fps = hip_track(clip), clip.fps
        assert np.ptp(xy[:, 1]) > 0.1  # flight 8-20% of the height, plus the crouch
        assert 1.3 < dominant_frequency(xy[:, 1], fps) < 2.3
    # Standing hips hardly move up or down; walking hips bounce at twice the gait cycle.
    assert max(np.ptp(hip_track(c)[0][:, 1]) for c in clips_of("standing", noise=0.0)) < 0.02
    for clip in clips_of("walking", count=10, noise=0.0):
        xy, _ = hip_track(clip)
        assert 0.015 < np.ptp(xy[:, 1]) < 0.05
        assert 1.5 < dominant_frequency(xy[:, 1], clip.fps) < 2.3


def test_legs_swing_wider_when_running_and_stay_still_when_standing():
    def foot_spread(clip):
        # The horizontal distance between the feet over the clip, in body heights.
        points = keypoints(clip)
        left, right = KEYPOINTS.index("left_foot"), KEYPOINTS.index("right_foot")
        return np.ptp(points[:, left, 0] - points[:, right, 0]) / body_height(points)

    walking = [foot_spread(clip) for clip in clips_of("walking", noise=0.0)]
    running = [foot_spread(clip) for clip in clips_of("running", noise=0.0)]
    standing = [foot_spread(clip) for clip in clips_of("standing", noise=0.0)]
    assert np.median(running) > 1.3 * np.median(walking)
    assert max(standing) < 0.02 < min(walking)


def test_noise_is_the_stated_fraction_of_the_height():
    clean = activity_clip("standing", np.random.default_rng(1), 40, noise=0.0)
    noisy = activity_clip("standing", np.random.default_rng(1), 40, noise=0.02)
    height = body_height(keypoints(clean))
    assert np.std(noisy.frames - clean.frames) / height == pytest.approx(0.02, rel=0.15)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"count": 0}, "count"),
        ({"count": 2.5}, "count"),
        ({"count": 4, "activities": ["swimming"]}, "activities"),
        ({"count": 4, "activities": []}, "activities"),
        ({"count": 4, "min_frames": 30, "max_frames": 20}, "min_frames"),
        ({"count": 4, "min_frames": 1}, "min_frames"),
        ({"count": 4, "noise": -0.1}, "noise"),
        ({"count": 4, "pan": 2}, "pan"),
    ],
)
def test_bad_arguments_raise(arguments, message):
    with pytest.raises(SeqKerasError, match=message):
        activity_clips(**arguments)
    with pytest.raises(SeqKerasError, match="unknown activity"):
        activity_clip("swimming", np.random.default_rng(0))
