"""Every way a baseline is fixed takes the median of the good readings, never their mean.

The readings [60, 61, 62, 100, 140] have a median of 62 and a mean of 84.6: a resting rate
pulled up by two startled beats would make every later arousal look 27 % too calm. They arrive
out of order, so taking the middle reading in time, or the last one, fails too.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import pytest

from exposure.models import (
    By,
    Reading,
    Resume,
    Safe,
    SetLevel,
    StepUp,
)
from tests.exposure.test_boundaries import EXPOSED_AT, SETTINGS, Run

RESTING = [140.0, 60.0, 100.0, 62.0, 61.0]
MEDIAN = 62.0
assert statistics.median(RESTING) == MEDIAN and abs(statistics.mean(RESTING) - MEDIAN) > 20
assert len(RESTING) == SETTINGS.min_baseline_readings


def rest(run: Run, readings: list[float], first_t: float = 1.0) -> None:
    """One good reading a second from `first_t`."""
    for n, hr in enumerate(readings):
        run.send(Reading(t=first_t + n, hr=hr))


def test_the_baseline_at_the_end_of_its_period_is_the_median() -> None:
    run = Run()
    rest(run, RESTING)
    run.tick(EXPOSED_AT)
    assert run.state.baseline_hr == MEDIAN
    first = run.decisions()[0]
    assert first.to_level == 1 and first.who == "auto"
    assert first.reason.startswith("Baseline 62 bpm (median of 5 readings over 20 s)")


def test_in_manual_mode_the_baseline_at_the_end_of_its_period_is_the_median() -> None:
    run = Run(auto=False)
    rest(run, RESTING)
    run.tick(EXPOSED_AT)
    assert run.state.phase == "baseline" and run.state.baseline_hr == MEDIAN
    assert run.state.next_step.startswith("Baseline 62 bpm")
    run.command(SetLevel(level=2))  # the therapist starts exposure: the baseline stands
    assert run.state.baseline_hr == MEDIAN


def end_early_with_step_up(run: Run) -> None:
    run.command(StepUp())


def end_early_with_set_level(run: Run) -> None:
    run.command(SetLevel(level=3))


@pytest.mark.parametrize("end", [end_early_with_step_up, end_early_with_set_level])
def test_a_baseline_the_therapist_ends_early_is_the_median(end: Callable[[Run], None]) -> None:
    run = Run()
    rest(run, RESTING)
    assert run.t < SETTINGS.baseline_s
    end(run)
    assert run.state.phase == "exposure" and run.state.baseline_hr == MEDIAN


def leave_with_resume(run: Run) -> None:
    run.command(Resume())


def leave_with_step_up(run: Run) -> None:
    run.command(StepUp())


def leave_with_set_level(run: Run) -> None:
    run.command(SetLevel(level=2))


@pytest.mark.parametrize("by", ["clinician", "client"])
@pytest.mark.parametrize("leave", [leave_with_resume, leave_with_step_up, leave_with_set_level])
def test_a_baseline_broken_off_by_a_break_is_the_median_of_the_readings_before_and_after_it(
    by: By, leave: Callable[[Run], None]
) -> None:
    run = Run()
    rest(run, RESTING[:2])
    run.command(Safe(by=by))
    assert run.state.phase == "safe" and run.state.baseline_hr is None
    rest(run, RESTING[2:], first_t=30.0)  # in the safe scene, still resting
    leave(run)
    assert run.state.phase == "exposure" and run.state.baseline_hr == MEDIAN


def test_arousal_is_measured_from_the_median() -> None:
    run = Run()
    rest(run, RESTING)
    run.tick(EXPOSED_AT)
    run.send(Reading(t=EXPOSED_AT + 1, hr=77.5))
    assert run.state.arousal == pytest.approx(0.25)  # (77.5 - 62) / 62; from the mean: -8 %
