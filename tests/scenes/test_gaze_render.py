"""Head tracking in the render process: scripted poses in, gaze summaries out (offscreen).

Each scenario starts a small render process (p3tinydisplay, 64x48) on the spiders scene with a
pose script, and reads what it sends back: the summaries must say where the scripted head
looked. The poses look down at the spiders on the table (pitch -30) or turn away from them.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from scenes.pose import PoseScript, from_hpr, pose_line
from scenes.render import start_render
from scenes.render.loop import GROUND, SKY
from scenes.render.messages import Frames, FromRender, GazeSummary, Thumbnail
from tests.conftest import wait_for

pytestmark = pytest.mark.render

EYE = (0.0, 0.0, 1.6)
AT = from_hpr(0.0, -30.0)  # down at the spiders on the table
AWAY = from_hpr(150.0, -30.0)  # turned round to the room behind
LEVEL = 3.0


def script(*poses: tuple[float, tuple[float, float, float, float], bool]) -> PoseScript:
    return PoseScript.parse("\n".join(pose_line(t, EYE, q, ok) for t, q, ok in poses))


def run(pose_script: PoseScript, seconds: float, then=None, thumbnails: float = 0.0):
    """Show spiders at LEVEL with `pose_script` for `seconds` (after the first summary);
    `then(handle)` runs half-way. Returns every message the render process sent."""
    handle = start_render(
        size=(64, 48),
        frame_rate=30.0,
        thumbnail_hz=thumbnails,
        thumbnail_size=(32, 24),
        scenes=["spiders"],
        transition_s=0.2,
        pose_script=pose_script,
    )
    try:
        ready = handle.wait_ready(60)
        assert ready.pose == "script"
        out: list[FromRender] = []

        def first_summary() -> bool:
            handle.send_target("spiders", LEVEL)
            out.extend(handle.poll())
            return any(isinstance(m, GazeSummary) and m.distance_m for m in out)

        wait_for(first_summary, 30, "a gaze summary on the spiders")
        out.clear()
        start = time.monotonic()
        half = then is not None
        while time.monotonic() - start < seconds:
            handle.send_target("spiders", LEVEL)
            time.sleep(0.05)
            out.extend(handle.poll())
            if half and time.monotonic() - start >= seconds / 2:
                then(handle)
                half = False
        return out
    finally:
        handle.stop()


def summaries(messages: list[FromRender]) -> list[GazeSummary]:
    return [m for m in messages if isinstance(m, GazeSummary)]


def test_looking_at_then_away_gives_the_expected_attention_figures():
    # 0.9 s at the spiders, a quick turn, 0.9 s away, a turn back (the script repeats every
    # 2 s): half the time on the stimulus, over any whole number of repeats
    poses = script(
        (0.0, AT, True),
        (0.9, AT, True),
        (1.0, AWAY, True),
        (1.9, AWAY, True),
        (2.0, AT, True),
    )
    got = summaries(run(poses, 6.0))
    gaps = [b.t - a.t for a, b in zip(got, got[1:], strict=False)]
    assert statistics.median(gaps) == pytest.approx(0.1, abs=0.034)  # ten a second (30 fps)
    on = [g.on_stimulus for g in got]
    assert statistics.fmean(on) == pytest.approx(0.5, abs=0.08)
    assert sum(v == 1.0 for v in on) >= 0.35 * len(on)  # whole intervals looking
    assert sum(v == 0.0 for v in on) >= 0.35 * len(on)  # whole intervals turned away
    looking = [g for g in got if g.on_stimulus == 1.0]
    assert all(g.distance_m == pytest.approx(2.06, abs=0.05) for g in looking)  # eye to spider
    # holding still is 0 degrees a second: every summary between two slow ones (a turn may
    # fall across two summaries, a sliver of it in one, as the frames fall on the script's time)
    speeds = [g.head_speed_dps for g in got]
    still = [s for i, s in enumerate(speeds) if max(speeds[max(0, i - 1) : i + 2]) < 50]
    assert still and max(still) == 0.0
    assert max(g.head_speed_dps for g in got) > 300  # a 150-degree turn in a tenth of a second
    assert all(g.valid for g in got)


def test_recentring_makes_the_way_the_client_faces_forward():
    poses = script((0.0, from_hpr(120.0, -30.0), True), (1.0, from_hpr(120.0, -30.0), True))
    got = summaries(run(poses, 4.0, then=lambda handle: handle.recentre()))
    half = len(got) // 2
    before, after = got[: half - 3], got[half + 3 :]
    assert all(g.on_stimulus == 0.0 for g in before)  # facing the side wall
    assert all(g.on_stimulus == 1.0 for g in after)  # the same pose now faces the table


def test_lost_tracking_fades_to_a_steady_horizon_and_says_invalid():
    level = from_hpr(0.0, 0.0)
    poses = script((0.0, level, True), (0.5, level, False), (60.0, level, False))
    messages = run(poses, 3.0, thumbnails=8.0)
    got = summaries(messages)
    assert got and all(not g.valid and g.distance_m is None for g in got[10:])
    picture = [m for m in messages if isinstance(m, Thumbnail)][-1]
    rgb = np.frombuffer(picture.rgb, np.uint8).reshape(picture.height, picture.width, 3)
    sky = np.array(SKY) * 255
    ground = np.array(GROUND) * 255
    assert np.abs(rgb[1].mean(axis=0) - sky).max() < 12  # the top row: sky
    assert np.abs(rgb[-2].mean(axis=0) - ground).max() < 12  # the bottom row: ground


def test_offscreen_without_a_script_sends_no_gaze():
    handle = start_render(size=(64, 48), frame_rate=30.0, thumbnail_hz=0, scenes=["spiders"])
    try:
        assert handle.wait_ready(60).pose == "none"
        out: list[FromRender] = []

        def two_reports() -> bool:
            handle.send_target("spiders", LEVEL)
            out.extend(handle.poll())
            return sum(isinstance(m, Frames) for m in out) >= 2

        wait_for(two_reports, 20, "two frame reports")
        assert not summaries(out)
    finally:
        handle.stop()
