"""Parameters ease monotonically between neighbouring levels and hit each level exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenes.api import Scene, smoothstep
from tests.scenes.conftest import EXPOSURE_SCENES, LIBRARY_SCENES


class _Root:
    """Just enough of a NodePath for Scene.__init__ (params need no Panda3D)."""

    def attachNewNode(self, name):  # noqa: N802
        return _Root()


def make(info) -> Scene:
    return info.scene_class(info.name, _Root())


@pytest.mark.parametrize("name", LIBRARY_SCENES)
def test_integer_intensity_gives_exactly_the_level(built_in, name):
    info = built_in[name]
    scene = make(info)
    for n, lv in enumerate(info.ladder.levels, start=1):
        assert scene.params(float(n)) == pytest.approx(lv.params)
    assert scene.params(0.0) == pytest.approx(info.ladder.levels[0].params)  # below 1: level 1
    assert scene.params(99.0) == pytest.approx(info.ladder.levels[-1].params)


@pytest.mark.parametrize("name", EXPOSURE_SCENES)
@given(a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0), step=st.integers(0, 11))
def test_easing_is_monotonic_between_levels(built_in, name, a, b, step):
    info = built_in[name]
    top = info.ladder.top
    k = 1 + step % (top - 1)
    lo, hi = sorted((a, b))
    scene = make(info)
    p_lo = dict(scene.params(k + lo))
    p_hi = dict(scene.params(k + hi))
    start, end = info.ladder.levels[k - 1].params, info.ladder.levels[k].params
    for key in start:
        rising = end[key] >= start[key]
        # every parameter stays between the two levels and moves only toward the next one
        assert min(start[key], end[key]) - 1e-9 <= p_lo[key] <= max(start[key], end[key]) + 1e-9
        if rising:
            assert p_lo[key] <= p_hi[key] + 1e-9
        else:
            assert p_lo[key] >= p_hi[key] - 1e-9


@given(st.floats(-1.0, 2.0), st.floats(-1.0, 2.0))
def test_smoothstep_is_monotonic_and_clamped(x, y):
    lo, hi = sorted((x, y))
    assert 0.0 <= smoothstep(lo) <= smoothstep(hi) <= 1.0
    assert smoothstep(0.0) == 0.0 and smoothstep(1.0) == 1.0 and smoothstep(0.5) == 0.5
