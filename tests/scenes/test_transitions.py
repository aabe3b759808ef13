"""The client's view as a pure state machine: every timing pinned to its own setting.

Each setting has a value no other setting shares (and no default), so a rule that used the
wrong one (the watchdog timing out after the fade time, say) fails here.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenes.api import smoothstep
from scenes.render.config import fade_seconds
from scenes.render.messages import WatchdogRecovered, WatchdogTripped
from scenes.render.transitions import MAX_STEP_S, Transitions, TransitionSettings

SAFE = "calm_lake"
SETTINGS = TransitionSettings(
    safe_scene=SAFE,
    transition_s=2.0,
    fade_s=0.4,
    watchdog_s=1.3,
    break_hold_s=2.7,
    cut_fade_from=0.35,
    orphan_exit_s=9.0,
)
FRAME = 0.01
T0 = 100.0


def test_the_fixture_gives_every_timing_its_own_value() -> None:
    times = [SETTINGS.transition_s, SETTINGS.fade_s, SETTINGS.watchdog_s]
    times += [SETTINGS.break_hold_s, SETTINGS.orphan_exit_s]
    assert len(set(times)) == len(times)
    defaults = TransitionSettings()
    for name in ("safe_scene", "transition_s", "fade_s", "watchdog_s", "break_hold_s"):
        assert getattr(SETTINGS, name) != getattr(defaults, name), name


class Clock:
    """Drives a Transitions frame by frame, the heartbeat on unless told otherwise."""

    def __init__(self, view: Transitions, t: float = T0) -> None:
        self.view = view
        self.t = t

    def run(self, seconds: float, heartbeat: bool = True) -> list[object]:
        """Step frames for `seconds`; returns the watchdog notices seen."""
        notices = []
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.t = round(self.t + FRAME, 6)
            if heartbeat:
                self.view.heard(self.t)
            notice = self.view.step(self.t)
            if notice is not None:
                notices.append(notice)
        return notices

    def until(self, cond, limit: float, heartbeat: bool = True) -> float:
        """Step until `cond(view)`; returns the seconds it took (fails past `limit`)."""
        start = self.t
        while not cond(self.view):
            assert self.t - start < limit, f"not within {limit} s"
            self.run(FRAME, heartbeat)
        return self.t - start


def at_level(scene: str, level: float) -> tuple[Transitions, Clock]:
    """A view settled on `scene` at `level` (through the fade from the safe scene)."""
    view = Transitions(SETTINGS, T0)
    clock = Clock(view)
    view.target(scene, level, False)
    clock.run(2 * SETTINGS.fade_s + SETTINGS.transition_s + 0.5)
    assert (view.scene, view.intensity, view.fade) == (scene, level, 1.0)
    return view, clock


def test_starts_in_the_safe_scene_fully_bright() -> None:
    view = Transitions(SETTINGS, T0)
    assert (view.scene, view.intensity, view.fade, view.watchdog) == (SAFE, 0.0, 1.0, False)


def test_a_new_level_eases_over_the_transition_time_with_smoothstep() -> None:
    view, clock = at_level("spiders", 2.0)
    view.target("spiders", 6.0, False)
    clock.run(FRAME)
    start = clock.t
    seen = []
    while clock.t - start < SETTINGS.transition_s + 0.2:
        clock.run(FRAME)
        f = (clock.t - start) / SETTINGS.transition_s
        assert view.intensity == pytest.approx(2.0 + 4.0 * smoothstep(f), abs=0.03)
        seen.append(view.intensity)
    assert seen == sorted(seen)
    # arrives exactly at the transition time, not at the fade or any other time
    assert seen[int((SETTINGS.transition_s - 0.05) / FRAME)] < 6.0
    assert view.intensity == 6.0 and view.scene == "spiders" and view.fade == 1.0


def test_another_scene_fades_out_over_the_fade_time_then_in() -> None:
    view, clock = at_level("spiders", 3.0)
    view.target("heights", 4.0, False)
    out_s = clock.until(lambda v: v.scene == "heights", 5.0)
    assert out_s == pytest.approx(SETTINGS.fade_s, abs=2 * FRAME)
    assert view.fade == 0.0 and view.intensity == 4.0  # switched in the dark, at the new level
    in_s = clock.until(lambda v: v.fade == 1.0, 5.0)
    assert in_s == pytest.approx(SETTINGS.fade_s, abs=2 * FRAME)


def test_turning_back_mid_fade_brightens_the_same_scene_again() -> None:
    view, clock = at_level("spiders", 3.0)
    view.target("heights", 4.0, False)
    clock.run(SETTINGS.fade_s / 2)
    assert 0.0 < view.fade < 1.0
    view.target("spiders", 3.0, False)
    clock.until(lambda v: v.fade == 1.0, 1.0)
    assert view.scene == "spiders"


def test_a_safe_target_cuts_to_the_safe_scene_in_the_same_step() -> None:
    view, clock = at_level("public_speaking", 8.0)
    view.target(SAFE, 0.0, True)
    clock.run(FRAME)
    assert view.scene == SAFE and view.intensity == 0.0
    assert view.fade == pytest.approx(SETTINGS.cut_fade_from + FRAME / SETTINGS.fade_s)
    rest = clock.until(lambda v: v.fade == 1.0, 2.0)
    assert rest + FRAME == pytest.approx(
        (1.0 - SETTINGS.cut_fade_from) * SETTINGS.fade_s, abs=2 * FRAME
    )


def test_the_watchdog_trips_after_its_own_timeout_and_fades_to_the_safe_scene() -> None:
    view, clock = at_level("enclosed_space", 4.0)
    tripped = clock.until(lambda v: v.watchdog, 5.0, heartbeat=False)
    # the watchdog timeout, not the fade time or the break hold
    assert tripped == pytest.approx(SETTINGS.watchdog_s, abs=2 * FRAME)
    assert view.scene == "enclosed_space"  # a fade, not a cut
    notices = clock.run(SETTINGS.fade_s + 3 * FRAME, heartbeat=False)
    assert view.scene == SAFE and not notices
    assert view.watchdog


def test_the_watchdog_reports_its_trip_once_with_the_silence_and_its_recovery() -> None:
    view, clock = at_level("enclosed_space", 4.0)
    notices = clock.run(SETTINGS.watchdog_s + 0.5, heartbeat=False)
    assert len(notices) == 1 and isinstance(notices[0], WatchdogTripped)
    assert notices[0].silent_s == pytest.approx(SETTINGS.watchdog_s, abs=2 * FRAME)
    assert notices[0].silent_s > SETTINGS.watchdog_s
    notices = clock.run(SETTINGS.fade_s * 3)  # messages again: the latest target is obeyed
    assert notices == [WatchdogRecovered()]
    assert not view.watchdog
    clock.until(lambda v: v.scene == "enclosed_space" and v.fade == 1.0, 2.0)


def test_silence_shorter_than_the_watchdog_changes_nothing() -> None:
    view, clock = at_level("heights", 5.0)
    assert clock.run(SETTINGS.watchdog_s - 2 * FRAME, heartbeat=False) == []
    assert clock.run(1.0) == []
    assert (view.scene, view.fade, view.watchdog) == ("heights", 1.0, False)


def test_the_break_cuts_to_safe_and_holds_for_the_break_hold_time() -> None:
    view, clock = at_level("spiders", 5.0)
    view.client_break(clock.t)
    clock.run(FRAME)
    assert view.scene == SAFE  # a cut, in the next step
    held_from = clock.t - FRAME
    # the control side still resends the old target; it is ignored for the hold time
    while clock.t - held_from < SETTINGS.break_hold_s - 2 * FRAME:
        view.target("spiders", 5.0, False)
        clock.run(FRAME)
        assert view.scene == SAFE
    # the hold ends after break_hold_s (not the watchdog or fade time): the fade out begins
    clock.until(lambda v: v.fade < 1.0, 4 * FRAME)
    assert clock.t - held_from == pytest.approx(SETTINGS.break_hold_s, abs=2 * FRAME)


def test_a_safe_target_ends_the_break_hold() -> None:
    view, clock = at_level("spiders", 5.0)
    view.client_break(clock.t)
    clock.run(0.1)
    view.target(SAFE, 0.0, True)
    clock.run(0.1)
    view.target("spiders", 2.0, False)  # the therapist resumes
    clock.until(lambda v: v.scene == "spiders", SETTINGS.fade_s + 0.1)


def test_a_failed_scene_cuts_to_safe_and_is_never_shown_again() -> None:
    view, clock = at_level("spiders", 5.0)
    view.scene_failed("spiders")
    assert view.scene == SAFE and view.fade == SETTINGS.cut_fade_from
    view.target("spiders", 1.0, False)
    clock.run(2.0)
    assert view.scene == SAFE
    view.scene_failed(SAFE)  # never: there is nothing safer
    assert SAFE not in view.failed and view.scene == SAFE


def test_a_target_for_a_failed_scene_is_a_cut_to_safe() -> None:
    view, clock = at_level("heights", 2.0)
    view.scene_failed("spiders")
    view.target("spiders", 3.0, False)
    clock.run(FRAME)
    assert view.scene == SAFE


def test_a_non_finite_level_is_ignored() -> None:
    view, clock = at_level("heights", 2.0)
    for bad in (math.nan, math.inf, -math.inf):
        view.target("heights", bad, False)
        clock.run(0.2)
        assert view.intensity == 2.0


def test_a_closed_pipe_fades_to_safe_and_expires_after_the_orphan_time() -> None:
    view, clock = at_level("heights", 2.0)
    closed = clock.t
    view.pipe_closed(closed)
    clock.run(SETTINGS.fade_s + 0.1)  # messages "arrive" (heard), but the pipe is gone
    assert view.scene == SAFE
    assert not view.orphan_expired(closed + SETTINGS.orphan_exit_s - FRAME)
    assert view.orphan_expired(closed + SETTINGS.orphan_exit_s + FRAME)
    view.pipe_closed(closed + 5.0)  # the first close counts
    assert view.orphan_expired(closed + SETTINGS.orphan_exit_s + FRAME)


def test_a_stalled_frame_advances_a_fade_by_at_most_the_step_limit() -> None:
    view, clock = at_level("spiders", 3.0)
    view.target("heights", 3.0, False)
    view.heard(clock.t + 0.9)
    view.step(clock.t + 0.9)  # one frame 0.9 s late
    assert view.fade == pytest.approx(1.0 - MAX_STEP_S / SETTINGS.fade_s)


def test_the_fade_time_follows_the_transition_time_within_its_bounds() -> None:
    assert fade_seconds(3.0) == 1.0
    assert fade_seconds(1.0) == 0.5
    assert fade_seconds(0.2) == 0.2
    assert fade_seconds(10.0) == 1.0


@given(st.lists(st.tuples(st.sampled_from(["a", "b", SAFE]), st.floats(0, 10), st.booleans())))
def test_the_view_always_stays_in_range(targets) -> None:
    view = Transitions(SETTINGS, T0)
    clock = Clock(view)
    for scene, level, safe in targets:
        view.target(scene, level, safe)
        clock.run(0.05)
        assert 0.0 <= view.fade <= 1.0
        assert 0.0 <= view.intensity <= 10.0
        assert view.scene in ("a", "b", SAFE)
