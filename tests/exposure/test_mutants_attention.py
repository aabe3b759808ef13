"""The attention rule's edges: when tracking counts as lost or gone, how gaze is binned and for how
long, when a look-away alert may come, fast head motion, and the texts the therapist reads.

Written to kill mutants that survived `make mutation` (tools/mutation/). Each test drives `step`
as the live session does, with gaze summaries stamped at exact times so each edge is met on it.
"""

from __future__ import annotations

from typing import Any

from exposure.core import FAST_HEAD_ALERT_S
from exposure.models import (
    Alert,
    ControlSettings,
    Decision,
    End,
    Gaze,
    Reading,
    SetLevel,
    Tick,
)
from tests.exposure.driving import QUICK, Driver

CALM = QUICK


class Run(Driver):
    """Drive the core with events at the times given, keeping every effect."""

    def __init__(self, settings: ControlSettings = CALM, auto: bool = True) -> None:
        super().__init__(settings, auto)

    def gaze(self, t: float, on: float = 1.0, **fields: Any) -> list[Any]:
        return self.send(Gaze(t=t, on_stimulus=on, **{"distance_m": 1.5, **fields}))

    def calm(self, start: float, end: float, on: float | None = None) -> None:
        """A 70 bpm reading each whole second from `start` up to `end`, with one gaze summary
        a tenth of a second apart when `on` is given."""
        t = start
        while t <= end:
            self.send(Reading(t=t, hr=70.0))
            if on is not None:
                for k in range(10):
                    self.gaze(round(t + k / 10, 3), on)
            t += 1.0


def exposed(settings: ControlSettings = CALM, auto: bool = True) -> Run:
    """Baseline 70 bpm over 10 s, then exposure at level 1 (manual mode: set by the therapist)."""
    run = Run(settings, auto)
    run.calm(1.0, 10.0)
    if not auto:
        run.send(SetLevel(t=10.0, level=1))
    assert run.state.phase == "exposure" and run.state.level == 1
    return run


# --------------------------------------------------------------------------- tracking


def test_tracking_counts_as_lost_after_exactly_tracking_lost_s_of_invalid_pose() -> None:
    run = exposed()
    run.gaze(20.0)
    run.gaze(20.1, valid=False)
    run.send(Tick(t=20.55))
    assert run.state.tracking == "ok"  # 0.45 s of invalid pose
    run.send(Tick(t=20.6))
    assert run.state.tracking == "lost"  # 0.5 s of it, the limit included


def test_tracking_is_gone_only_more_than_2_s_after_the_last_gaze_summary() -> None:
    run = exposed()
    run.gaze(20.0)
    run.send(Tick(t=22.0))
    assert run.state.tracking == "ok"
    run.send(Tick(t=22.1))
    assert run.state.tracking == "none" and run.state.attention is None


def test_the_tracking_lost_alert_says_what_the_headset_does_and_clears_when_it_is_back() -> None:
    run = exposed()
    run.calm(11.0, 20.0)  # the heart-rate signal stays fresh: only tracking holds the level
    run.gaze(20.0)
    run.gaze(20.1, valid=False)
    run.gaze(20.6, valid=False)
    raised = run.alerts("tracking_lost")
    assert len(raised) == 1 and raised[0].active and raised[0].t == 20.6
    assert raised[0].message == (
        "Head tracking lost for over 0.5 s: the headset shows a steady horizon and automatic "
        "step ups hold; check the headset's view of its sensors."
    )
    assert run.state.next_step == "Holding at level 1: head tracking lost, so attention is unknown."
    run.gaze(21.0)
    cleared = run.alerts("tracking_lost")[1:]
    assert len(cleared) == 1 and not cleared[0].active
    assert cleared[0].message == "Head tracking is back."


def test_ending_the_session_as_tracking_is_lost_raises_no_tracking_alert() -> None:
    run = exposed()
    run.gaze(20.0)
    run.gaze(20.1, valid=False)
    effects = run.send(End(t=20.6))  # the pose has been invalid for 0.5 s right as it ends
    assert run.state.phase == "ended"
    assert not [e for e in effects if isinstance(e, Alert) and e.kind == "tracking_lost"]
    assert run.alerts("tracking_lost") == []


def test_with_the_attention_rule_off_lost_tracking_holds_no_step_up() -> None:
    settings = CALM.model_copy(update={"attention_min": 0.0, "min_dwell_s": 15.0})
    run = exposed(settings)
    for t in range(11, 27):  # the pose is invalid from the start of exposure on
        run.send(Reading(t=t, hr=70.0))
        run.gaze(t, valid=False)
        assert t < 12 or run.state.tracking == "lost"
    steps = [e.to_level for e in run.effects if isinstance(e, Decision)]
    assert steps == [1, 2]


# --------------------------------------------------------------------------- gaze bins


def test_gaze_summaries_in_one_second_share_one_bin() -> None:
    run = exposed()
    for t, on in ((20.0, 1.0), (20.5, 0.0), (21.0, 0.0), (21.2, 1.0), (21.7, 0.0), (22.0, 1.0)):
        run.gaze(t, on)
    assert run.state.gaze_bins == ((20, 1.0, 2), (21, 1.0, 3), (22, 1.0, 1))
    run.gaze(23.0, 0.0)
    run.gaze(23.0, 0.0)
    assert run.state.gaze_bins[-2:] == ((22, 1.0, 1), (23, 0.0, 2))


def test_a_summary_goes_into_its_own_seconds_bin_whatever_the_last_bin_holds() -> None:
    run = Run()
    run.gaze(0.0, 1.0)
    run.gaze(1.0, 0.0)  # the bin of second 0 sums to 1.0, the next second's number: a new bin
    assert run.state.gaze_bins == ((0, 1.0, 1), (1, 0.0, 1))


def test_a_gaze_bin_lives_the_attention_window_and_one_second_more() -> None:
    run = exposed()
    run.gaze(20.0)
    run.gaze(31.0)  # second 20 is 11 s old: kept
    assert [b[0] for b in run.state.gaze_bins] == [20, 31]
    run.gaze(31.5)  # 11.5 s old: dropped
    assert [b[0] for b in run.state.gaze_bins] == [31]


def test_attention_counts_the_second_at_the_windows_far_edge() -> None:
    run = exposed()
    run.gaze(20.0, 1.0)
    run.gaze(30.0, 0.0)  # second 20 is exactly the attention window (10 s) old
    assert run.state.attention == 0.5


def test_attention_is_kept_to_four_decimals() -> None:
    run = exposed()
    for t, on in ((20.0, 1.0), (20.1, 0.0), (20.2, 0.0)):
        run.gaze(t, on)
    assert run.state.attention == 0.3333


def test_the_state_keeps_the_latest_head_speed_and_distance_to_the_stimulus() -> None:
    run = exposed()
    run.gaze(20.0, distance_m=1.25, head_speed_dps=40.0)
    assert run.state.gaze_distance_m == 1.25 and run.state.head_speed_dps == 40.0
    run.gaze(20.1, distance_m=0.75, head_speed_dps=12.5)
    assert run.state.gaze_distance_m == 0.75 and run.state.head_speed_dps == 12.5


def test_a_client_looking_at_exactly_attention_min_may_step_up() -> None:
    settings = CALM.model_copy(update={"min_dwell_s": 15.0})
    run = exposed(settings)
    run.calm(11.0, 26.0, on=0.5)
    assert run.state.attention == 0.5 and run.state.tracking == "ok"
    assert [e.to_level for e in run.effects if isinstance(e, Decision)] == [1, 2]


# --------------------------------------------------------------------------- the look-away alert


def test_the_look_away_alert_waits_for_a_full_attention_window_of_gaze() -> None:
    run = exposed()
    run.calm(11.0, 19.0)  # no head tracking yet: the rule is off
    run.calm(20.0, 30.0, on=0.0)  # gaze from second 20 on, never at the stimulus
    raised = run.alerts("looking_away")
    assert len(raised) == 1
    assert raised[0].t == 29.0  # second 20 is then the window's first (29 - 10 + 1)
    assert raised[0].message == (
        "Client looked away 100% of the last 10 s: holding at level 1; encourage them to look "
        "at what they fear."
    )


def test_in_manual_mode_the_look_away_alert_does_not_say_the_level_is_held() -> None:
    run = exposed(auto=False)
    run.calm(11.0, 25.0, on=0.2)
    raised = run.alerts("looking_away")
    assert len(raised) == 1
    assert raised[0].message == (
        "Client looked away 80% of the last 10 s at level 1; encourage them to look at what "
        "they fear."
    )


# --------------------------------------------------------------------------- fast head motion


def test_a_head_speed_at_exactly_fast_head_dps_is_not_fast() -> None:
    run = exposed()
    run.gaze(20.0, head_speed_dps=CALM.fast_head_dps)
    assert run.state.fast_head_since is None
    run.gaze(20.1, head_speed_dps=CALM.fast_head_dps + 0.5)
    assert run.state.fast_head_since == 20.1


def test_fast_head_motion_for_exactly_fast_head_s_alerts_and_the_alert_expires() -> None:
    run = exposed()
    run.gaze(20.0, head_speed_dps=200.0)
    run.gaze(22.9, head_speed_dps=200.0)
    assert run.alerts("fast_head_motion") == []
    run.gaze(23.0, head_speed_dps=200.0)
    raised = run.alerts("fast_head_motion")
    assert len(raised) == 1 and raised[0].t == 23.0
    assert raised[0].expires_at == 23.0 + FAST_HEAD_ALERT_S
    assert raised[0].message == (
        "Fast head movement for 3 s (over 120 degrees a second): possible discomfort or "
        "cybersickness; ask how the client feels."
    )
    run.gaze(24.0, head_speed_dps=5.0)
    run.send(Tick(t=52.9))
    assert len(run.alerts("fast_head_motion")) == 1
    run.send(Tick(t=53.0))
    cleared = run.alerts("fast_head_motion")[1:]
    assert len(cleared) == 1 and not cleared[0].active


def test_fast_head_motion_in_a_scene_without_a_stimulus_is_still_flagged() -> None:
    run = Run()  # the baseline's safe scene has nothing to look at
    for t in (1.0, 2.0, 4.0):
        run.gaze(t, 0.0, distance_m=None, head_speed_dps=200.0)
    assert run.state.head_speed_dps == 200.0 and run.state.gaze_bins == ()
    assert len(run.alerts("fast_head_motion")) == 1


def test_lost_tracking_restarts_the_fast_head_timer() -> None:
    run = exposed()
    run.gaze(20.0, head_speed_dps=200.0)
    run.gaze(21.0, valid=False)
    run.gaze(22.0, head_speed_dps=200.0)
    run.gaze(24.0, head_speed_dps=200.0)  # 4 s since the first fast summary, 2 s since the loss
    assert run.state.fast_head_since == 22.0
    assert run.alerts("fast_head_motion") == []
    run.gaze(25.0, head_speed_dps=200.0)
    assert len(run.alerts("fast_head_motion")) == 1
