"""Every control rule exactly at its threshold and one step either side.

The numbers make each percentage exact in binary floating point: a resting HR of exactly 100 bpm,
so HR 125.0 is arousal 0.25 to the last bit, and every threshold below is met exactly, not
approximately. Each setting has a value no other setting shares, so a rule that reads the wrong
setting moves its threshold and fails here. Time steps are 0.1 s around each time limit.

Which side of each edge counts (README, "How the level is chosen", and ControlSettings):
- step up: HR "no more than 25 % above baseline" (at 25 % allowed); at the level "for at least
  60 s" (at the dwell allowed); the latest SUDS "below 30" (30 holds) "or has halved from its
  peak" (exactly half allows), if "given in the last 5 minutes" (exactly 5 min old still counts);
  not rising: ControlSettings says "a trend above this many bpm per minute counts as rising", so a
  trend exactly at the limit does not hold (the README's "under +2 bpm a minute" is loose there).
  The limit here is 3.75 bpm/min, a slope a binary float holds exactly (1/16 bpm a second);
- step down: HR "more than 35 % above" (at 35 % does not count) "for 10 s" (at 10 s it does);
- safe scene: HR "more than 55 % above" (at 55 % does not go);
- hold: "no good reading for 5 s" makes the signal stale at 5 s, as the sensor's own quality gate
  (`sensors/quality.py`) and ControlSettings have it (the core waited for more than 5 s).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exposure.models import (
    SAFE_LEVEL,
    Alert,
    AutoOff,
    ControlSettings,
    Effect,
    Event,
    Ladder,
    Level,
    Pause,
    Quality,
    Reading,
    Resume,
    SetLevel,
    StepUp,
    Suds,
    Tick,
)
from tests.exposure.driving import Driver

SETTINGS = ControlSettings(
    baseline_s=20.0,
    min_baseline_readings=5,
    min_dwell_s=40.0,
    window_low=0.05,
    window_high=0.25,
    ceiling=0.35,
    ceiling_sustain_s=12.0,
    hard_ceiling=0.55,
    arousal_window_s=9.0,
    trend_window_s=24.0,
    rising_bpm_per_min=3.75,
    stale_after_s=6.0,
    suds_recent_s=300.0,
    suds_low=30,
    suds_reminder_s=500.0,
    suds_before_step_up=False,  # these tests pin the physiological rules; SUDS has its own
)
LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {n}") for n in range(1, 11)])
BASELINE_HR = 100.0
EXPOSED_AT = 20.0
"""The baseline ends, and level 1 starts, at t = baseline_s."""
CALM_HR = 110.0
"""10 % above baseline: inside the window, under every ceiling."""

HeartRate = float | Callable[[float], float]


class Run(Driver):
    """Drive the pure core event by event, keeping every effect."""

    def __init__(self, settings: ControlSettings = SETTINGS, *, auto: bool = True) -> None:
        super().__init__(settings, auto, ladder=LADDER)

    @property
    def t(self) -> float:
        return self.state.t

    def beats(
        self, until: float, hr: HeartRate, *, every: float = 1.0, quality: Quality = "ok"
    ) -> None:
        """Readings every `every` seconds after now, up to and including `until`."""
        start, n = self.t, 1
        while (t := start + n * every) <= until:
            value = hr(t) if callable(hr) else hr
            self.send(Reading(t=t, hr=value, quality=quality))
            n += 1

    def tick(self, t: float) -> list[Effect]:
        return self.send(Tick(t=t))

    def command(self, cmd: Event) -> list[Effect]:
        return self.send(cmd.model_copy(update={"t": self.t}))

    def alerts(self, kind: str) -> list[Alert]:
        """The alerts of `kind` raised (clears left out)."""
        return [a for a in super().alerts(kind) if a.active]


def exposed(*, auto: bool = True, level: int = 1) -> Run:
    """A run whose baseline is exactly 100 bpm, at `level` from t = 20 s (the level's start)."""
    run = Run(auto=auto)
    run.beats(EXPOSED_AT, BASELINE_HR)
    if not auto or level != 1:
        run.command(SetLevel(level=level))
    assert run.state.baseline_hr == BASELINE_HR
    assert run.state.phase == "exposure" and run.state.level == level
    assert run.state.level_since == EXPOSED_AT
    return run


DWELL_ENDS = EXPOSED_AT + SETTINGS.min_dwell_s
"""The first moment an automatic step up from level 1 may happen."""


# --------------------------------------------------------------------------- step up: the window


@pytest.mark.parametrize(("hr", "steps_up"), [(124.9, True), (125.0, True), (125.1, False)])
def test_a_step_up_is_allowed_up_to_the_top_of_the_therapeutic_window_and_not_above(
    hr: float, steps_up: bool
) -> None:
    run = exposed()
    run.beats(DWELL_ENDS, hr)
    if hr == 125.0:
        assert run.state.arousal == SETTINGS.window_high  # exactly at the edge
    assert run.state.level == (2 if steps_up else 1)
    if not steps_up:
        assert "above the therapeutic window (25%)" in run.state.next_step


# --------------------------------------------------------------------------- step up: the trend


@pytest.mark.parametrize(("bpm_per_min", "steps_up"), [(3.7, True), (3.75, True), (3.8, False)])
def test_a_step_up_is_allowed_while_the_trend_is_at_most_the_rising_limit(
    bpm_per_min: float, steps_up: bool
) -> None:
    run = exposed()
    run.beats(DWELL_ENDS, lambda t: CALM_HR + (t - EXPOSED_AT) * bpm_per_min / 60)
    if bpm_per_min == SETTINGS.rising_bpm_per_min:
        assert run.state.trend_bpm_per_min == SETTINGS.rising_bpm_per_min  # exactly at the limit
    assert run.state.level == (2 if steps_up else 1)
    if not steps_up:
        assert "HR is rising (+3.8 bpm/min)" in run.state.next_step


# --------------------------------------------------------------------------- step up: the dwell


@pytest.mark.parametrize(("at", "steps_up"), [(59.9, False), (60.0, True), (60.1, True)])
def test_a_step_up_waits_for_exactly_the_minimum_dwell(at: float, steps_up: bool) -> None:
    run = exposed()
    run.beats(at - 1, CALM_HR)
    run.tick(at)
    assert run.state.level == (2 if steps_up else 1)
    if steps_up:
        assert run.decisions()[-1].t == at and run.decisions()[-1].who == "auto"


@pytest.mark.parametrize("how", ["set_level", "step_up", "resume"])
@pytest.mark.parametrize(("after", "steps_up"), [(39.9, False), (40.0, True)])
def test_the_dwell_restarts_when_the_therapist_moves_the_level_or_resumes(
    how: str, after: float, steps_up: bool
) -> None:
    run = exposed()
    run.beats(EXPOSED_AT + 25, CALM_HR)
    if how == "set_level":
        run.command(SetLevel(level=3))
    elif how == "step_up":
        run.command(StepUp())
    else:
        run.command(Pause())
        run.beats(EXPOSED_AT + 30, CALM_HR)
        run.command(Resume())
    level, since = run.state.level, run.t
    run.beats(since + after - 1, CALM_HR)
    run.tick(since + after)
    assert run.state.level == (level + 1 if steps_up else level)


# --------------------------------------------------------------------------- step up: SUDS


def suds_then_dwell(*ratings: int) -> Run:
    run = exposed()
    for n, value in enumerate(ratings, start=1):
        run.beats(EXPOSED_AT + n, CALM_HR)
        run.command(Suds(value=value))
    run.beats(DWELL_ENDS, CALM_HR)
    return run


@pytest.mark.parametrize(("suds", "steps_up"), [(29, True), (30, False), (31, False)])
def test_a_recent_suds_allows_a_step_up_only_below_the_threshold(suds: int, steps_up: bool) -> None:
    run = suds_then_dwell(suds)
    assert run.state.level == (2 if steps_up else 1)
    if not steps_up:
        assert f"SUDS {suds} is not below 30" in run.state.next_step


@pytest.mark.parametrize(("suds", "steps_up"), [(39, True), (40, True), (41, False)])
def test_a_suds_exactly_half_its_peak_at_this_level_allows_a_step_up(
    suds: int, steps_up: bool
) -> None:
    run = suds_then_dwell(80, suds)  # both above the threshold: only the halving can allow it
    assert run.state.level == (2 if steps_up else 1)
    if not steps_up:
        assert run.state.suds_peak == 80
        assert "SUDS 41 is not below 30 nor half its peak" in run.state.next_step


def test_a_suds_peak_from_the_level_before_does_not_count() -> None:
    run = exposed()
    run.command(Suds(value=80))
    run.command(SetLevel(level=2))
    run.command(Suds(value=40))  # half of 80, but the peak at this level is 40
    run.beats(EXPOSED_AT + SETTINGS.min_dwell_s, CALM_HR)
    assert run.state.level == 2 and run.state.suds_peak == 40


@pytest.mark.parametrize(("age", "steps_up"), [(299.9, False), (300.0, False), (300.1, True)])
def test_a_suds_rating_counts_for_exactly_five_minutes(age: float, steps_up: bool) -> None:
    run = exposed()
    run.beats(EXPOSED_AT + 1, CALM_HR)
    rated_at = run.t
    run.command(Suds(value=80))
    run.beats(rated_at + age - 1, CALM_HR)
    run.tick(rated_at + age)
    assert run.state.level == (2 if steps_up else 1)


# --------------------------------------------------------------------------- step down: the ceiling


def at_level_five_with(hr: float, *, auto: bool = True, seconds: float = 40.0) -> Run:
    run = exposed(auto=auto, level=5)
    run.beats(EXPOSED_AT + seconds, hr)
    return run


@pytest.mark.parametrize(("hr", "steps_down"), [(134.9, False), (135.0, False), (135.1, True)])
def test_only_hr_more_than_the_ceiling_above_baseline_steps_down(
    hr: float, steps_down: bool
) -> None:
    run = at_level_five_with(hr)
    if hr == 135.0:
        assert run.state.arousal == SETTINGS.ceiling  # exactly at the ceiling, for 40 s
    downs = [d for d in run.decisions() if d.who == "auto" and d.to_level < d.from_level]
    assert bool(downs) == steps_down
    if steps_down:
        assert (downs[0].from_level, downs[0].to_level) == (5, 4)
        assert "ceiling 35%" in downs[0].reason


@pytest.mark.parametrize(("hr", "alerts"), [(134.9, False), (135.0, False), (135.1, True)])
def test_in_manual_mode_only_hr_more_than_the_ceiling_alerts(hr: float, alerts: bool) -> None:
    run = at_level_five_with(hr, auto=False)
    assert bool(run.alerts("ceiling")) == alerts
    assert run.state.level == 5


def test_a_reading_exactly_at_the_ceiling_does_not_count_as_above_it() -> None:
    run = at_level_five_with(135.0, seconds=10.0)
    assert run.state.arousal == SETTINGS.ceiling
    assert run.state.above_ceiling_since is None
    assert "over the ceiling" not in run.state.next_step


def over_the_ceiling_from_t31(auto: bool = True) -> Run:
    """Level 5 from t=20, HR exactly at the ceiling, then above it from the reading at t=31."""
    run = at_level_five_with(135.0, auto=auto, seconds=10.0)
    run.beats(31.0, 140.0)
    assert run.state.above_ceiling_since == 31.0
    return run


@pytest.mark.parametrize(("held", "steps_down"), [(11.9, False), (12.0, True), (12.1, True)])
def test_hr_above_the_ceiling_steps_down_once_it_has_held_for_the_sustain_time(
    held: float, steps_down: bool
) -> None:
    run = over_the_ceiling_from_t31()
    run.beats(31.0 + held - 1, 140.0)
    run.tick(31.0 + held)
    assert run.state.level == (4 if steps_down else 5)
    if steps_down:
        assert run.decisions()[-1].t == 31.0 + held


@pytest.mark.parametrize(("held", "alerts"), [(11.9, False), (12.0, True)])
def test_in_manual_mode_the_ceiling_alert_waits_for_the_sustain_time(
    held: float, alerts: bool
) -> None:
    run = over_the_ceiling_from_t31(auto=False)
    run.beats(31.0 + held - 1, 140.0)
    run.tick(31.0 + held)
    assert bool(run.alerts("ceiling")) == alerts


@pytest.mark.parametrize(("held", "steps_down"), [(11.9, False), (12.0, True)])
def test_the_ceiling_sustain_counts_again_from_the_first_reading_after_a_level_change(
    held: float, steps_down: bool
) -> None:
    run = over_the_ceiling_from_t31()
    run.beats(36.0, 140.0)
    run.command(SetLevel(level=7))  # the therapist moves at t=36 while HR is over the ceiling
    run.beats(37.0, 140.0)  # the new level's first look at the signal: the sustain starts here
    assert run.state.above_ceiling_since == 37.0
    run.beats(37.0 + held - 1, 140.0)
    run.tick(37.0 + held)
    assert run.state.level == (6 if steps_down else 7)


@pytest.mark.parametrize(("held", "steps_down"), [(11.9, False), (12.0, True)])
def test_the_ceiling_sustain_counts_again_from_resume(held: float, steps_down: bool) -> None:
    run = over_the_ceiling_from_t31()
    run.command(Pause())  # over the ceiling since t=31, paused at t=31
    run.beats(40.0, 140.0)
    run.command(Resume())  # t=40: the sustain counts from here, not from t=31
    run.beats(40.0 + held - 1, 140.0)
    run.tick(40.0 + held)
    assert run.state.level == (4 if steps_down else 5)


# --------------------------------------------------------------------------- the hard ceiling


@pytest.mark.parametrize(("hr", "to_safe"), [(154.9, False), (155.0, False), (155.1, True)])
def test_only_hr_more_than_the_hard_ceiling_above_baseline_goes_to_the_safe_scene(
    hr: float, to_safe: bool
) -> None:
    run = at_level_five_with(hr, seconds=SETTINGS.ceiling_sustain_s - 1)
    if hr == 155.0:
        assert run.state.arousal == SETTINGS.hard_ceiling
    assert (run.state.level == SAFE_LEVEL) == to_safe
    if to_safe:
        last = run.decisions()[-1]
        assert last.who == "auto" and "hard ceiling 55%" in last.reason
    else:
        assert run.state.level == 5  # not yet the ceiling's sustain time either


@pytest.mark.parametrize("where", ["manual", "paused"])
@pytest.mark.parametrize(("hr", "alerts"), [(154.9, False), (155.0, False), (155.1, True)])
def test_only_hr_more_than_the_hard_ceiling_alerts_in_manual_mode_and_while_paused(
    where: str, hr: float, alerts: bool
) -> None:
    run = exposed(level=5)
    if where == "manual":
        run.command(AutoOff())
    else:
        run.command(Pause())
    run.beats(EXPOSED_AT + 30, hr)
    assert bool(run.alerts("hard_ceiling")) == alerts
    assert run.state.level == 5  # alerts only: nothing moves in manual mode or while paused


# --------------------------------------------------------------------------- stale signal


@pytest.mark.parametrize(("silent", "stale"), [(5.9, False), (6.0, True), (6.1, True)])
def test_the_signal_is_stale_after_exactly_the_stale_time_without_a_good_reading(
    silent: float, stale: bool
) -> None:
    run = exposed()
    run.beats(30.0, CALM_HR)
    run.tick(30.0 + silent)
    assert run.state.stale == stale
    assert bool(run.alerts("stale_signal")) == stale


@pytest.mark.parametrize(("last_good", "steps_up"), [(54.1, True), (54.0, False), (53.9, False)])
def test_no_step_up_once_the_signal_is_stale_even_when_the_dwell_is_done(
    last_good: float, steps_up: bool
) -> None:
    run = exposed()
    run.beats(53.0, CALM_HR)
    run.send(Reading(t=last_good, hr=CALM_HR))
    run.tick(DWELL_ENDS)  # 5.9, 6.0 or 6.1 s after the last good reading
    assert run.state.stale != steps_up
    assert run.state.level == (2 if steps_up else 1)


@pytest.mark.parametrize(("last_good", "steps_down"), [(37.1, True), (37.0, False)])
def test_no_step_down_once_the_signal_is_stale_even_when_the_sustain_time_is_reached(
    last_good: float, steps_down: bool
) -> None:
    run = over_the_ceiling_from_t31()
    run.beats(36.0, 140.0)
    run.send(Reading(t=last_good, hr=140.0))
    run.tick(31.0 + SETTINGS.ceiling_sustain_s)  # held 12 s; 5.9 or 6.0 s after the last reading
    assert run.state.stale != steps_down
    assert run.state.level == (4 if steps_down else 5)


def test_in_baseline_the_signal_is_stale_after_the_stale_time_with_no_reading_at_all() -> None:
    run = Run()
    run.tick(5.9)
    assert not run.state.stale
    run.tick(6.0)
    assert run.state.stale


# --------------------------------------------------------------------------- baseline period


@pytest.mark.parametrize(("at", "ended"), [(19.9, False), (20.0, True), (20.1, True)])
def test_the_baseline_ends_after_exactly_the_baseline_period(at: float, ended: bool) -> None:
    run = Run()
    run.beats(19.0, BASELINE_HR)
    run.tick(at)
    assert (run.state.phase == "exposure") == ended
    assert (run.state.baseline_hr == BASELINE_HR) == ended


@pytest.mark.parametrize(("readings", "trusted"), [(4, False), (5, True), (6, True)])
def test_a_baseline_needs_exactly_the_minimum_number_of_good_readings(
    readings: int, trusted: bool
) -> None:
    run = Run()
    run.beats(float(readings), BASELINE_HR)
    run.tick(EXPOSED_AT)
    assert (run.state.baseline_hr is not None) == trusted
    assert bool(run.alerts("no_baseline")) != trusted


@pytest.mark.parametrize(("readings", "trusted"), [(4, False), (5, True)])
def test_a_baseline_ended_early_needs_the_minimum_number_of_good_readings(
    readings: int, trusted: bool
) -> None:
    run = Run()
    run.beats(float(readings), BASELINE_HR)
    run.command(StepUp())
    assert run.state.level == 1
    assert (run.state.baseline_hr is not None) == trusted


# --------------------------------------------------------------------------- SUDS reminder


@pytest.mark.parametrize(("after", "due"), [(499.9, False), (500.0, True)])
def test_the_suds_reminder_comes_after_exactly_the_reminder_interval(
    after: float, due: bool
) -> None:
    run = exposed(auto=False)
    # a long dwell, so the reminder's own interval sets it, not the dwell
    run.state = run.state.model_copy(
        update={"settings": SETTINGS.model_copy(update={"min_dwell_s": 900.0})}
    )
    for t in range(25, 500, 5):  # ticks are enough: the reminder does not need a signal
        run.tick(EXPOSED_AT + t)
    run.tick(EXPOSED_AT + after)
    assert bool(run.alerts("suds_due")) == due
