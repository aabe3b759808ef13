"""Private self-report: the panel's questions for each ask, and the events its answers make."""

from __future__ import annotations

import pytest

from exposure.coach import Coach, load_script
from exposure.core import step
from exposure.models import CoachControl, Expectancy, Measure, SessionStart
from tests.exposure.test_core_properties import LADDER, SETTINGS
from vret.headset_questions import AnswerError, answer_event, questions_for


def test_each_ask_has_its_questions_from_the_instruments() -> None:
    assert len(questions_for("ssq", 0).items) == 16
    ssq = questions_for("ssq", 0).items[0]
    assert (ssq.low, ssq.high, ssq.labels) == (0, 3, ("none", "slight", "moderate", "severe"))
    sickness = questions_for("sickness", 0).items
    assert len(sickness) == 1 and (sickness[0].low, sickness[0].high) == (0, 10)
    after = questions_for("expectancy_after", 3)
    assert after.level == 3 and [i.high for i in after.items] == [1, 100]
    with pytest.raises(ValueError):
        questions_for("shout", 0)


def test_answers_become_the_events_the_console_shows() -> None:
    before = answer_event({"kind": "expectancy_before", "level": 2, "answers": [70]}, "exposure")
    assert isinstance(before, Expectancy) and (before.stage, before.likelihood) == ("before", 70)
    after = answer_event({"kind": "expectancy_after", "level": 2, "answers": [0, 85]}, "exposure")
    assert isinstance(after, Expectancy) and (after.happened, after.surprise) == (False, 85)
    for phase, when in (("baseline", "pre"), ("exposure", "mid"), ("ended", "post")):
        ssq = answer_event({"kind": "ssq", "answers": [1] * 16}, phase)  # type: ignore[arg-type]
        assert isinstance(ssq, Measure) and ssq.phase == when and ssq.scores["total"] > 0
    sick = answer_event({"kind": "sickness", "answers": [7]}, "exposure")
    assert isinstance(sick, Measure) and sick.scores["sickness"] == 7


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "ssq", "answers": [1] * 15},
        {"kind": "ssq", "answers": [9] * 16},
        {"kind": "expectancy_after", "answers": [1]},
        {"kind": "expectancy_before", "answers": [170]},
        {"kind": "nope", "answers": [1]},
        {"kind": "ssq", "answers": "1,1"},
    ],
)
def test_answers_that_do_not_fit_are_refused(bad: dict) -> None:
    with pytest.raises(AnswerError):
        answer_event(bad, "exposure")


def test_a_therapist_asks_a_question_in_the_headset_through_the_coach() -> None:
    coach = Coach(load_script("en"))
    state, _ = step(None, SessionStart(ladder=LADDER, settings=SETTINGS))
    state = state.model_copy(update={"phase": "exposure", "level": 3})
    line = coach.respond(CoachControl(action="ask", ask="expectancy_before"), state, [])
    assert line is not None and (line.ask, line.level, line.by) == (
        "expectancy_before",
        4,
        "clinician",
    )
    line = coach.respond(CoachControl(action="ask", ask="ssq"), state, [])
    assert line is not None and line.ask == "ssq" and line.level is None and "panel" in line.text
