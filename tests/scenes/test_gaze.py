"""Gaze arithmetic (pure) and the stimulus anchors every built-in scene declares."""

from __future__ import annotations

import math

import pytest

from scenes.api import Scene
from scenes.registry import LIBRARY, discover
from scenes.render.gaze import GAZE_CONE_DEG, GazeSummariser, angle_between, nearest_anchor
from tests.scenes.conftest import EXPOSURE_SCENES

EYE = (0.0, 0.0, 1.6)


def test_the_nearest_anchor_is_the_one_nearest_the_gaze_direction():
    anchors = [(0.0, 2.0, 1.6), (2.0, 0.0, 1.6), (0.0, -5.0, 1.6)]
    angle, dist = nearest_anchor(EYE, (1.0, 1.0, 0.0), anchors)  # 45 degrees to two of them
    assert angle == pytest.approx(45.0)
    angle, dist = nearest_anchor(EYE, (0.1, 1.0, 0.0), anchors)
    assert angle == pytest.approx(math.degrees(math.atan(0.1)))
    assert dist == pytest.approx(2.0)
    assert nearest_anchor(EYE, (0.0, 1.0, 0.0), []) is None
    assert nearest_anchor(EYE, (0.0, 0.0, 0.0), anchors) is None
    assert nearest_anchor(EYE, (0.0, 1.0, 0.0), [EYE]) == (0.0, 0.0)
    assert angle_between((0, 1, 0), (0, 0, 1)) == pytest.approx(90.0)


def frames(summariser, n, gaze, anchors, valid=True, dt=0.01, t0=0.0):
    out = []
    for k in range(n):
        s = summariser.frame(t0 + k * dt, dt, EYE, gaze, anchors, valid)
        if s is not None:
            out.append(s)
    return out


def test_a_summary_every_tenth_of_a_second_with_the_share_on_the_stimulus():
    g = GazeSummariser()
    spider = [(0.0, 2.0, 0.8)]
    at = (0.0, 2.0, -0.8)
    away = (1.0, 0.0, 0.0)
    got = frames(g, 61, at, spider)
    assert len(got) in (5, 6)  # every 0.1 s of frames 10 ms apart, as the sums of floats fall
    assert all(s.on_stimulus == 1.0 and s.valid and s.head_speed_dps == 0.0 for s in got)
    assert got[0].distance_m == pytest.approx(math.hypot(2.0, 0.8), abs=1e-3)
    mixed = []
    for k in range(200):  # 30 ms at, 70 ms away, in every tenth of a second
        gaze = at if (k % 10) < 3 else away
        s = g.frame(0.62 + k * 0.01, 0.01, EYE, gaze, spider, True)
        if s is not None:
            mixed.append(s)
    assert len(mixed) >= 19
    assert all(s.on_stimulus == pytest.approx(0.3, abs=0.11) for s in mixed[1:])
    # turning 90 degrees every 10 ms back and forth: a fast head
    assert mixed[-1].head_speed_dps > 1000


def test_the_cone_is_thirty_degrees():
    g = GazeSummariser()
    anchor = [(0.0, 10.0, 1.6)]

    def on_at(deg):
        gaze = (math.sin(math.radians(deg)), math.cos(math.radians(deg)), 0.0)
        return frames(GazeSummariser(), 11, gaze, anchor)[0].on_stimulus

    assert GAZE_CONE_DEG == 30.0 and g.cone_deg == 30.0
    assert on_at(29.5) == 1.0
    assert on_at(30.5) == 0.0


def test_no_anchors_means_no_distance_and_lost_tracking_is_invalid():
    got = frames(GazeSummariser(), 11, (0, 1, 0), [])
    assert got[0].distance_m is None and got[0].valid
    lost = frames(GazeSummariser(), 11, (0, 1, 0), [(0, 2, 1.6)], valid=False)
    assert not lost[0].valid and lost[0].distance_m is None and lost[0].head_speed_dps == 0.0


@pytest.fixture(scope="module")
def scenes():
    found, problems = discover([LIBRARY])
    assert not problems
    return found


class _Root:
    """Enough of a NodePath for a scene's constructor (anchors need no scene graph)."""

    def attachNewNode(self, name):  # noqa: N802 - Panda3D's name
        return _Root()


@pytest.mark.parametrize("name", EXPOSURE_SCENES)
def test_every_exposure_scene_declares_anchors_at_every_level(scenes, name):
    scene: Scene = scenes[name].scene_class(name, _Root())
    top = len(scene.levels)
    for step in range(0, top * 4 + 1):
        intensity = 1.0 + step * (top - 1) / (top * 4)
        anchors = scene.stimulus_anchors(intensity)
        assert anchors, f"{name} declares no stimulus at {intensity}"
        for a in anchors:
            assert len(a) == 3 and all(math.isfinite(c) for c in a)
            assert a[1] > 0.0, f"{name}: the stimulus is in front of the client (+Y)"


def test_the_safe_scene_has_no_stimulus(scenes):
    scene = scenes["safe_place"].scene_class("safe_place", _Root())
    assert list(scene.stimulus_anchors(1.0)) == []


def test_the_scene_template_declares_its_stand_in_as_the_stimulus():
    from scenes.template import __file__ as template_init  # the folder `vret scenes new` copies

    text = (__import__("pathlib").Path(template_init).parent / "scene.py.tmpl").read_text()
    assert "def stimulus_anchors(self, intensity: float)" in text


def test_the_console_marks_gaze_with_the_pictures_own_field_of_view():
    from scenes.render.gaze import CLIENT_VIEW_FOV_DEG
    from scenes.stage import PREVIEW_FOV

    assert CLIENT_VIEW_FOV_DEG == PREVIEW_FOV
