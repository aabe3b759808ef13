"""Frame timing in the render loop: the reported intervals and the sleep-paced grid."""

from __future__ import annotations

import pytest

from scenes.render.pacing import RING, FrameTimes, Pacer

BUDGET = 1 / 60


def test_intervals_are_reported_in_ms_from_the_second_frame_and_then_reset() -> None:
    times = FrameTimes(BUDGET)
    assert times.frame(10.0) == 0.0
    assert times.frame(10.016) == pytest.approx(0.016)
    times.frame(10.050)  # 34 ms: more than 1.5 budgets (25 ms), so late
    assert times.frames == 3
    intervals, late, fps = times.take()
    assert intervals == (16.0, 34.0) and late == 1
    assert fps == pytest.approx(1000 / 25)
    assert times.take() == ((), 0, 0.0)


def test_only_the_newest_ring_of_intervals_is_kept_between_reports() -> None:
    times = FrameTimes(BUDGET)
    t = 0.0
    for i in range(RING + 10):
        t += 0.001 if i < 10 else 0.002  # the 9 oldest intervals (1 ms) fall out
        times.frame(t)
    intervals, late, _ = times.take()
    assert len(intervals) == RING and set(intervals) == {2.0} and late == 0


def test_the_pacer_sleeps_to_a_fixed_grid_and_restarts_it_after_a_stall() -> None:
    pacer = Pacer(0.01)
    assert pacer.wait_s(100.0) == 0.0  # the first frame starts the grid at now
    assert pacer.wait_s(100.004) == pytest.approx(0.006)  # a quick frame waits for its slot
    assert pacer.wait_s(100.0235) == 0.0  # a late frame does not wait
    assert pacer.wait_s(100.025) == pytest.approx(0.005)  # and the next one catches up
    assert pacer.wait_s(100.5) == 0.0  # a stall: the grid starts again from now
    assert pacer.wait_s(100.503) == pytest.approx(0.007)
