"""Only `ok` readings steer: a reading the sensor flagged is ignored even when it carries a rate.

Artefacts, searching, no-contact and stale readings can arrive with an `hr` (a device that
reports its last number while the finger slips, a beat that jumped 40 %). None of them may move
the level, enter the baseline, or keep the signal fresh: a stream of them with a calm rate must
still go stale after `stale_after_s` and hold the ladder.
"""

from __future__ import annotations

import pytest

from exposure.models import Quality, Reading, SetLevel
from tests.exposure.test_boundaries import BASELINE_HR, EXPOSED_AT, SETTINGS, Run, exposed

FLAGGED: list[Quality] = ["artefact", "searching", "no-contact", "stale"]


def flagged_between(run: Run, quality: Quality, hr: float, per_second: int) -> None:
    """`per_second` flagged readings at `hr` spread through the second after now."""
    start = run.t
    for n in range(1, per_second + 1):
        run.send(Reading(t=start + n / (per_second + 1), hr=hr, quality=quality))


@pytest.mark.parametrize("quality", FLAGGED)
def test_flagged_readings_with_a_heart_rate_never_enter_the_baseline(quality: Quality) -> None:
    run = Run()
    for second in range(1, 20):
        if second <= SETTINGS.min_baseline_readings:
            run.send(Reading(t=float(second), hr=BASELINE_HR))
        flagged_between(run, quality, 180.0, per_second=2)
    assert len(run.state.baseline_samples) == SETTINGS.min_baseline_readings
    run.tick(EXPOSED_AT)
    assert run.state.baseline_hr == BASELINE_HR
    assert "median of 5 readings" in run.decisions()[0].reason


@pytest.mark.parametrize("quality", FLAGGED)
def test_flagged_readings_with_a_racing_heart_rate_never_step_down_or_go_to_the_safe_scene(
    quality: Quality,
) -> None:
    run = exposed(level=5)
    for second in range(1, 31):
        run.send(Reading(t=EXPOSED_AT + second, hr=BASELINE_HR))
        flagged_between(run, quality, 250.0, per_second=1)  # 150 % above baseline
    assert run.state.level == 5 and run.state.arousal == 0.0
    assert [d.to_level for d in run.decisions()] == [1, 5]  # the baseline's start, the therapist
    assert not run.alerts("ceiling") and not run.alerts("hard_ceiling")


@pytest.mark.parametrize("quality", FLAGGED)
def test_flagged_readings_with_a_calm_heart_rate_never_step_up(quality: Quality) -> None:
    run = exposed()
    for second in range(1, 2 * int(SETTINGS.min_dwell_s)):
        run.send(Reading(t=EXPOSED_AT + second, hr=130.0))  # 30 %: above the window
        flagged_between(run, quality, BASELINE_HR, per_second=3)
    assert run.state.level == 1 and run.state.arousal == 0.30
    assert "above the therapeutic window" in run.state.next_step


@pytest.mark.parametrize("quality", FLAGGED)
def test_a_stream_of_flagged_readings_with_a_heart_rate_goes_stale_after_the_stale_time(
    quality: Quality,
) -> None:
    run = exposed()
    run.beats(30.0, 110.0)  # the last good reading is at t=30
    run.beats(35.5, 110.0, every=0.5, quality=quality)
    assert not run.state.stale
    run.beats(36.0, 110.0, every=0.5, quality=quality)
    assert run.state.stale and run.alerts("stale_signal")
    assert run.state.last_good_t == 30.0
    run.beats(30.0 + SETTINGS.arousal_window_s + 1, 110.0, every=0.5, quality=quality)
    assert run.state.hr is None and run.state.arousal is None  # no rate left to steer by


@pytest.mark.parametrize("quality", FLAGGED)
def test_a_stale_stream_of_flagged_readings_holds_the_ladder_at_the_end_of_the_dwell(
    quality: Quality,
) -> None:
    run = exposed()
    run.beats(EXPOSED_AT + 10, 110.0)
    run.beats(EXPOSED_AT + 3 * SETTINGS.min_dwell_s, 110.0, every=0.5, quality=quality)
    assert run.state.level == 1 and run.state.stale
    assert run.state.next_step.startswith("Holding: no fresh")


@pytest.mark.parametrize("quality", FLAGGED)
def test_flagged_readings_in_the_safe_scene_never_enter_a_baseline_broken_off_by_a_break(
    quality: Quality,
) -> None:
    run = Run()
    run.beats(3.0, BASELINE_HR)
    run.command(SetLevel(level=0))  # a break during the baseline
    run.beats(10.0, 180.0, every=0.5, quality=quality)
    run.beats(11.0, BASELINE_HR)
    assert run.state.baseline_samples == (BASELINE_HR,) * 4  # the flagged readings left out
    run.beats(12.0, BASELINE_HR)  # the fifth good reading fixes it, in the safe scene
    assert run.state.baseline_hr == BASELINE_HR and run.state.phase == "safe"
    assert run.state.baseline_note.startswith("median of 5 good readings")
