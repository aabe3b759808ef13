"""A session's own ladder (a client's hierarchy or a ladder file) is what the headset draws: its
levels' parameters reach the scene, in the session's order, not the scene's stock levels."""

from __future__ import annotations

import numpy as np
import pytest
from panda3d.core import NodePath

from scenes.checks import diff_fraction
from scenes.registry import discover
from scenes.render import start_render
from scenes.render.messages import Thumbnail
from tests.scenes.conftest import LIBRARY
from tests.scenes.test_render_process import collect_until, of, settle, stop


@pytest.fixture(scope="module")
def heights():
    found, problems = discover([LIBRARY])
    assert not problems
    return found["heights"]


def make(info):
    return info.scene_class(info.name, NodePath("root"), info.folder)


def test_a_reordered_ladder_draws_its_own_order(heights) -> None:
    stock = [dict(lv.params) for lv in heights.scene_class.levels]
    scene = make(heights)
    scene.use_levels([stock[9], stock[0], stock[4]])
    assert scene.params(1.0) == stock[9]
    assert scene.params(2.0) == stock[0]
    assert scene.params(3.0) == stock[4]
    assert scene.params(7.0) == stock[4]  # past the session's top: its top
    assert [lv.name for lv in scene.levels] == ["level 1", "level 2", "level 3"]


def test_a_level_that_leaves_a_parameter_out_keeps_the_scenes_own_at_that_step(heights) -> None:
    stock = [dict(lv.params) for lv in heights.scene_class.levels]
    key = sorted(stock[0])[0]
    scene = make(heights)
    scene.use_levels([{}, {key: stock[7][key]}, {"no_such_param": 3.0}])
    assert scene.params(1.0) == stock[0]  # a ladder that only renames levels draws as before
    assert scene.params(2.0) == {**stock[1], key: stock[7][key]}
    assert scene.params(3.0) == stock[2]  # an unknown parameter is ignored


def test_no_session_levels_keep_the_scenes_own(heights) -> None:
    scene = make(heights)
    scene.use_levels([])
    assert scene.params(10.0) == dict(heights.scene_class.levels[9].params)


def thumbnail(scene_levels, level: float) -> np.ndarray:
    handle = start_render(
        size=(160, 120),
        frame_rate=30.0,
        transition_s=0.1,
        thumbnail_hz=8.0,
        thumbnail_size=(80, 60),
        scenes=["heights"],
        scene_levels=scene_levels,
    )
    try:
        handle.wait_ready(60)
        settle(handle, "heights", level)
        msgs = collect_until(
            handle, lambda m: bool(of(m, Thumbnail)), ("heights", level, False), what="a picture"
        )
        t = of(msgs, Thumbnail)[-1]
        return np.frombuffer(t.rgb, np.uint8).reshape(t.height, t.width, 3).copy()
    finally:
        stop(handle)


@pytest.mark.render
def test_the_render_process_draws_the_sessions_levels(heights) -> None:
    stock = [dict(lv.params) for lv in heights.scene_class.levels]
    # the client's hierarchy starts where the scene's ladder ends: the roof edge first
    own = thumbnail({"heights": [stock[9], stock[0]]}, 1.0)
    stock_top = thumbnail(None, 10.0)
    stock_first = thumbnail(None, 1.0)
    assert diff_fraction(own, stock_first) > 0.05
    assert diff_fraction(own, stock_top) < diff_fraction(own, stock_first) / 4


def test_levels_set_again_start_from_the_scenes_own_and_none_restore_them(heights) -> None:
    stock = [dict(lv.params) for lv in heights.scene_class.levels]
    scene = make(heights)
    scene.use_levels([stock[9], stock[0]])
    scene.use_levels([{}, {}])  # the next session renames levels only: the scene's own at each
    assert scene.params(1.0) == stock[0] and scene.params(2.0) == stock[1]
    scene.use_levels([])
    assert scene.params(10.0) == stock[9] and len(scene.levels) == len(stock)


@pytest.mark.render
def test_a_running_render_process_takes_the_next_sessions_levels(heights) -> None:
    """A station's waiting room, built with the scene's own levels, is taken over by a session
    whose hierarchy differs: the levels travel down the pipe before its first target."""
    stock = [dict(lv.params) for lv in heights.scene_class.levels]
    handle = start_render(
        size=(160, 120),
        frame_rate=30.0,
        transition_s=0.1,
        thumbnail_hz=8.0,
        thumbnail_size=(80, 60),
        scenes=["heights"],
    )

    def picture(level: float) -> np.ndarray:
        settle(handle, "heights", level)
        msgs = collect_until(
            handle, lambda m: bool(of(m, Thumbnail)), ("heights", level, False), what="a picture"
        )
        t = of(msgs, Thumbnail)[-1]
        return np.frombuffer(t.rgb, np.uint8).reshape(t.height, t.width, 3).copy()

    try:
        handle.wait_ready(60)
        first, top = picture(1.0), picture(10.0)
        handle.use_levels("heights", [stock[9], stock[0]])
        own_first = picture(1.0)
        handle.use_levels("heights", [])
        again = picture(1.0)
    finally:
        stop(handle)
    # (the street's traffic and the gaze's sway move between pictures: nearer, not equal)
    assert diff_fraction(first, top) > 0.05
    assert diff_fraction(own_first, top) < diff_fraction(own_first, first) / 2
    assert diff_fraction(again, first) < diff_fraction(again, top) / 2
