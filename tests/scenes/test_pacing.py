"""Frame timing in the render loop: the reported intervals and the sleep-paced grid."""

from __future__ import annotations

import pytest

from scenes.render.pacing import (
    BUSY_HIGH,
    BUSY_LOW,
    FAILED_WITHIN_S,
    HOLD_MAX_S,
    HOLD_S,
    RING,
    DetailGovernor,
    FrameTimes,
    Pacer,
)

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


# --------------------------------------------------------------------------- the detail governor

HZ90 = 1 / 90
WINDOW = 45
"""Frames in the governor's window at 90 Hz (half a second)."""
CHEAP = 0.5 * HZ90
CLOSE = 0.9 * HZ90
"""Over `BUSY_HIGH` (85 %) of the budget: close to late, though not late."""


def feed(governor: DetailGovernor, t: float, busy: list[float]) -> tuple[float, list[int]]:
    """Frames of these busy times, one budget apart from `t`: the time after, and the steps."""
    steps = []
    for b in busy:
        t += HZ90
        steps.append(governor.frame(t, b))
    return t, steps


def test_cheap_frames_keep_the_scene_as_authored() -> None:
    governor = DetailGovernor(HZ90, steps=2)
    _, steps = feed(
        governor, 0.0, [CHEAP] * 900 + [BUSY_HIGH * HZ90] * 900
    )  # at the mark: not over
    assert set(steps) == {0} and governor.lowered == 0


def test_detail_steps_down_once_a_tenth_of_a_window_comes_close_to_late() -> None:
    # 4 close frames in a window of 45 (under a tenth): kept; 5 (over): one step down
    governor = DetailGovernor(HZ90, steps=2)
    t, steps = feed(governor, 0.0, [CHEAP] * 41 + [CLOSE] * 4 + [CHEAP] * 45)
    assert set(steps) == {0}
    _, steps = feed(governor, t, [CLOSE] * 5)
    assert steps == [0, 0, 0, 0, 1] and governor.lowered == 1


def test_a_close_frame_that_left_the_window_no_longer_counts() -> None:
    # five close frames within 45: down a step
    _, steps = feed(DetailGovernor(HZ90, steps=2), 0.0, [CLOSE] * 4 + [CHEAP] * 40 + [CLOSE])
    assert steps[-1] == 1
    # one frame further apart: the first close frame has left the window, four are in it
    _, steps = feed(DetailGovernor(HZ90, steps=2), 0.0, [CLOSE] * 4 + [CHEAP] * 41 + [CLOSE])
    assert set(steps) == {0}


def test_detail_steps_down_one_window_at_a_time_and_no_further_than_the_scene_offers() -> None:
    governor = DetailGovernor(HZ90, steps=2)
    _, steps = feed(governor, 0.0, [CLOSE] * 300)
    # the first full window of close frames lowers a step; the next window (a new one: what
    # was measured at the old detail does not count) the next; then there is no lower
    assert steps[WINDOW - 1] == 1 and steps[WINDOW - 2] == 0
    assert steps[2 * WINDOW - 1] == 2 and steps[2 * WINDOW - 2] == 1
    assert set(steps[2 * WINDOW :]) == {2} and governor.lowered == 2


def test_a_scene_with_no_steps_is_never_changed() -> None:
    governor = DetailGovernor(HZ90, steps=0)
    _, steps = feed(governor, 0.0, [2 * HZ90] * 200)
    assert set(steps) == {0} and governor.lowered == 0


def test_detail_comes_back_after_the_hold_where_every_frame_of_a_window_is_cheap() -> None:
    governor = DetailGovernor(HZ90, steps=2)
    t, steps = feed(governor, 0.0, [CLOSE] * WINDOW)
    assert steps[-1] == 1
    lowered_at = t
    # cheap frames, but not cheap enough: one frame a window at the low mark keeps it down
    pattern = [CHEAP] * 44 + [BUSY_LOW * HZ90]
    t, steps = feed(governor, t, pattern * 20)  # 10 s
    assert set(steps) == {1}
    # every frame under the low mark: up again (the hold of 5 s has passed) as soon as the
    # last frame at the mark leaves the window
    t, steps = feed(governor, t, [CHEAP] * WINDOW)
    assert steps == [1] * (WINDOW - 1) + [0] and t - lowered_at >= HOLD_S


def test_detail_is_not_given_back_before_the_hold() -> None:
    governor = DetailGovernor(HZ90, steps=1)
    t, _ = feed(governor, 0.0, [CLOSE] * WINDOW)
    lowered_at = t
    t, steps = feed(governor, t, [CHEAP] * 900)
    up = steps.index(0)
    assert (lowered_at + (up + 1) * HZ90) - lowered_at == pytest.approx(HOLD_S, abs=HZ90)


def test_a_step_up_undone_soon_doubles_the_hold_and_one_that_lasts_resets_it() -> None:
    governor = DetailGovernor(HZ90, steps=1)
    t, _ = feed(governor, 0.0, [CLOSE] * WINDOW)
    t, steps = feed(governor, t, [CHEAP] * round(HOLD_S * 90 + 10))
    assert steps[-1] == 0 and governor.hold_s == HOLD_S
    # the full detail proves too much within FAILED_WITHIN_S: down again, and a longer hold
    t, steps = feed(governor, t, [CLOSE] * WINDOW)
    assert steps[-1] == 1 and governor.hold_s == 2 * HOLD_S
    t, steps = feed(governor, t, [CHEAP] * round(HOLD_S * 90 + 10))
    assert steps[-1] == 1  # still held: the hold is now twice as long
    t, steps = feed(governor, t, [CHEAP] * round(HOLD_S * 90))
    assert steps[-1] == 0
    # it holds this time: after FAILED_WITHIN_S the hold is short again
    t, steps = feed(governor, t, [CHEAP] * round(FAILED_WITHIN_S * 90 + 1))
    assert set(steps) == {0} and governor.hold_s == HOLD_S


def test_the_hold_doubles_no_further_than_its_limit() -> None:
    governor = DetailGovernor(HZ90, steps=1)
    t = 0.0
    for _ in range(12):
        t, _ = feed(governor, t, [CLOSE] * WINDOW)
        assert governor.step == 1
        t, _ = feed(governor, t, [CHEAP] * round(governor.hold_s * 90 + 2 * WINDOW))
        assert governor.step == 0
    assert governor.hold_s == HOLD_MAX_S
