"""A SUDS rating before each automatic step up (issue 16: steps up happened with no SUDS ever
given, because the reminder's 2 min default was longer than the dwell)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exposure.models import (
    Alert,
    ControlSettings,
    Decision,
    SessionStart,
    StepUp,
    Suds,
    parse_event,
)
from tests.exposure.test_core import LADDER, Run, exposed


def auto_ups(run: Run) -> list[Decision]:
    return [d for d in run.decisions() if d.who == "auto" and d.from_level > 0]


def test_an_automatic_step_up_waits_for_a_suds_rating_at_the_level_and_says_so() -> None:
    run = exposed(ControlSettings())  # the clinical defaults
    run.beats(90, 70.0)  # calm and steady for longer than the 60 s dwell
    assert not auto_ups(run) and run.state.level == 1
    assert run.state.next_step == (
        "Holding at level 1: waiting for a SUDS rating before stepping up."
    )
    (due,) = [a for a in run.alerts("suds_due")]
    assert due.t - run.state.level_since == 60.0  # due when the dwell is up, not after 5 min
    assert due.message == (
        "No SUDS rating for 60 s: ask the client how anxious they feel. The automatic step up "
        "waits for it."
    )
    run.command(Suds(value=20))
    run.beats(1, 70.0)
    (up,) = auto_ups(run)
    assert up.to_level == 2 and up.reason.endswith("SUDS 20: step up to level 2 (situation 2).")
    assert run.alerts("suds_due")[-1].active is False


def test_a_rating_at_the_level_before_does_not_count_for_the_next_step_up() -> None:
    run = exposed(ControlSettings())
    run.beats(30, 70.0)
    run.command(Suds(value=10))  # at level 1
    run.beats(31, 70.0)
    assert [d.to_level for d in auto_ups(run)] == [2]
    run.beats(70, 70.0)  # a whole dwell at level 2 with no new rating
    assert run.state.level == 2
    assert run.state.next_step.endswith("waiting for a SUDS rating before stepping up.")


def test_a_rating_given_early_in_the_dwell_lets_the_step_up_come_when_the_dwell_ends() -> None:
    run = exposed(ControlSettings())
    run.beats(20, 70.0)
    run.command(Suds(value=15))
    run.beats(45, 70.0)
    (up,) = auto_ups(run)
    assert up.t - run.decisions()[0].t == 60.0  # exactly the dwell after the first level began
    assert not [a for a in run.alerts("suds_due") if a.active]  # nothing to remind


def test_a_high_rating_still_holds_until_it_halves_or_falls_below_the_threshold() -> None:
    run = exposed(ControlSettings())
    run.command(Suds(value=60))
    run.beats(70, 70.0)
    assert run.state.level == 1
    assert "SUDS 60 is not below 30 nor half its peak" in run.state.next_step
    run.command(Suds(value=30))
    run.beats(1, 70.0)
    assert [d.to_level for d in auto_ups(run)] == [2]


def test_with_the_rule_off_heart_rate_alone_steps_up() -> None:
    run = exposed(ControlSettings(suds_before_step_up=False))
    run.beats(61, 70.0)
    assert [d.to_level for d in auto_ups(run)] == [2]


def test_the_therapist_steps_up_without_a_rating() -> None:
    run = exposed(ControlSettings())
    run.command(StepUp())
    assert run.state.level == 2  # the rule holds automatic steps only


def test_a_record_made_before_the_rule_replays_by_the_rules_it_ran_under() -> None:
    old = SessionStart(ladder=LADDER).model_dump(mode="json")
    del old["settings"]["suds_before_step_up"]
    parsed = parse_event(old)
    assert isinstance(parsed, SessionStart) and not parsed.settings.suds_before_step_up
    assert parse_event(
        SessionStart(ladder=LADDER).model_dump(mode="json")
    ).settings.suds_before_step_up  # type: ignore[union-attr]


@settings(max_examples=60)
@given(
    dwell=st.integers(10, 200).map(float),
    reminder=st.integers(10, 600).map(float),
)
def test_the_reminder_comes_due_no_later_than_the_dwell(dwell: float, reminder: float) -> None:
    run = exposed(ControlSettings(min_dwell_s=dwell, suds_reminder_s=reminder))
    run.beats(dwell, 70.0)
    due = [a for a in run.effects if isinstance(a, Alert) and a.kind == "suds_due"]
    assert due and due[0].t - run.state.level_since <= dwell
    assert not auto_ups(run)
