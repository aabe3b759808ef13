"""The single-session report's measures: SSQ change, sickness ratings, expectancy violations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exposure.live import LiveSession
from exposure.measures import load_instrument, score
from exposure.models import (
    ControlSettings,
    End,
    Event,
    Expectancy,
    Ladder,
    Level,
    Measure,
    Reading,
    SessionStart,
    StepUp,
)
from vret.records import Records
from vret.report import build_report
from vret.report.measures import session_measures

LADDER = Ladder(
    scene="spiders",
    levels=[Level(name="Photo"), Level(name="Jar across the room"), Level(name="Jar on the table")],
)
START = SessionStart(
    client="C-0007",
    ladder=LADDER,
    settings=ControlSettings(baseline_s=10, min_baseline_readings=3, min_dwell_s=30),
)
PRE = [1, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 3, 0]  # N 6, O 3, D 3: total 44.88
POST = [2, 1, 2, 0, 0, 0, 1, 3, 0, 0, 0, 2, 0, 0, 3, 0]  # N 9, O 5, D 5: total 71.06


def _ssq(phase: str, answers: list[int]) -> Measure:
    return Measure.model_validate(
        {
            "instrument": "ssq",
            "phase": phase,
            "answers": answers,
            "scores": score(load_instrument("ssq"), answers),
        }
    )


def _sickness(rating: int) -> Measure:
    return Measure(
        instrument="sickness", phase="mid", answers=[rating], scores={"sickness": rating}
    )


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _record(tmp_path: Path, script: dict[int, Event]) -> str:
    now = [0.0]
    with Records(f"sqlite:///{tmp_path / 'vret.db'}") as records:
        sid = records.open_session(START, scene="spiders")
        live = LiveSession(
            START, clock=lambda: now[0], record=lambda e: records.append(sid, e), session_id=sid
        )
        live.add_listener(lambda _e, _s, effects: records.append_effects(sid, effects))
        for second in range(1, 121):
            now[0] = float(second)
            live.submit(Reading(t=0.0, hr=70.0))
            if second in script:
                live.submit(script[second])
        records.close_session(sid)
        return build_report(records.get_session(sid), records.events(sid), records.effects(sid))


def test_the_report_lists_the_ssq_change_and_each_steps_expectancy_violation(
    tmp_path: Path,
) -> None:
    page = _record(
        tmp_path,
        {
            2: _ssq("pre", PRE),
            12: Expectancy(level=1, stage="before", expectation="It will <move>", likelihood=80),
            30: _sickness(7),
            40: Expectancy(level=1, stage="after", happened=False, surprise=60),
            50: _sickness(2),
            60: StepUp(),
            61: Expectancy(level=2, stage="before", expectation="I will scream", likelihood=30),
            90: Expectancy(level=2, stage="after", happened=True, surprise=80),
            95: Expectancy(level=3, stage="before", expectation="It escapes", likelihood=50),
            110: End(),
            111: _ssq("post", POST),  # after End: the post-session SSQ is still recorded
        },
    )
    text = _text(page)
    assert "Simulator sickness (SSQ)" in text
    assert "Before 0:02 57.2 22.7 41.8 44.9" in text
    # after: N 9 x 9.54 = 85.86, O 5 x 7.58 = 37.9, D 5 x 13.92 = 69.6, total 19 x 3.74 = 71.06
    assert "After 1:51 85.9 37.9 69.6 71.1" in text
    assert "Change +28.6 +15.2 +27.8 +26.2" in text
    assert "The SSQ total rose by 26.2" in text
    assert "0:30 7/10 · sick, not scared" in text and "0:50 2/10" in text
    assert "1 · Photo It will &lt;move&gt; 80 % no 60 +80" in text
    assert "2 · Jar across the room I will scream 30 % yes 80 -70" in text
    assert "3 · Jar on the table It escapes 50 % — — —" in text  # not rated after
    assert "Sick, not scared: the client rates sickness 7/10" in text  # the alert, as shown live
    assert "<move>" not in page


def test_a_session_without_measures_has_no_measures_section(tmp_path: Path) -> None:
    page = _record(tmp_path, {60: End()})
    assert "SSQ" not in page and "Expectancy" not in page


def test_a_missing_ssq_after_is_said_plainly(tmp_path: Path) -> None:
    page = _record(tmp_path, {2: _ssq("pre", PRE), 60: End()})
    assert "No SSQ was taken after the session: no change to show." in _text(page)


def test_afters_pair_with_the_latest_open_before_of_their_level() -> None:
    events: list[Event] = [
        START,
        Expectancy(t=1, level=2, stage="before", expectation="a", likelihood=90),
        Expectancy(t=2, level=2, stage="after", happened=False, surprise=10),
        Expectancy(t=3, level=2, stage="before", expectation="b", likelihood=40),
        Expectancy(t=4, level=1, stage="after", happened=True, surprise=5),  # no before
        Expectancy(t=5, level=2, stage="after", happened=True, surprise=70),
        _ssq("pre", [0] * 16),
        _ssq("pre", [3] * 16),  # a second "before" does not replace the first
        _ssq("mid", [1] * 16),
    ]
    m = session_measures(events)
    assert [(s.level, s.expectation, s.violation) for s in m.steps] == [
        (2, "a", 90),
        (2, "b", -60),
        (1, None, None),
    ]
    assert m.ssq_pre is not None and m.ssq_pre.scores["total"] == 0
    assert m.ssq_post is None and m.ssq_change is None and len(m.ssq_mid) == 1


@pytest.mark.parametrize("likelihood", [0, 50, 100])
def test_the_reports_violation_is_the_instruments(likelihood: int) -> None:
    expectancy = load_instrument("expectancy")
    for happened in (False, True):
        steps = session_measures(
            [
                Expectancy(level=1, stage="before", expectation="x", likelihood=likelihood),
                Expectancy(level=1, stage="after", happened=happened, surprise=0),
            ]
        ).steps
        scored = score(expectancy, [likelihood, int(happened), 0])["violation"]
        assert steps[0].violation == scored
