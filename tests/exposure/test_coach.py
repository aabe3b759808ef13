"""The coach's line chooser: its rules as properties over random sessions, and its script."""

from __future__ import annotations

import re
import tomllib

import pytest
from hypothesis import given, settings

from exposure.coach import (
    SCRIPTS_DIR,
    SITUATIONS,
    Coach,
    ScriptError,
    available_languages,
    choose,
    load_script,
    parse_script,
    replay_lines,
)
from exposure.core import replay, step
from exposure.live import LiveSession
from exposure.models import (
    SAFE_LEVEL,
    CoachControl,
    CoachLine,
    Decision,
    Event,
    Reading,
    SessionStart,
    SessionState,
)
from tests.exposure.test_core_properties import LADDER, SETTINGS, sessions

SCRIPT = load_script("en")
SCRIPT_PATH = SCRIPTS_DIR / "en.toml"
QUICK = settings(max_examples=60, deadline=None)


def fold_with_coach(events: list[Event]) -> list[tuple[Event, SessionState, list[Decision]]]:
    """Step events through the core with a coach answering each, as the live session does."""
    coach = Coach(SCRIPT)
    state: SessionState | None = None
    out: list[tuple[Event, SessionState, list[Decision]]] = []
    for event in events:
        state, effects = step(state, event)
        out.append((event, state, [e for e in effects if isinstance(e, Decision)]))
        line = coach.respond(event, state, effects)
        if line is not None:
            state, effects = step(state, line)
            coach.respond(line, state, effects)
            out.append((line, state, []))
    return out


def lines_of(folded: list[tuple[Event, SessionState, list[Decision]]]) -> list[CoachLine]:
    return [e for e, _, _ in folded if isinstance(e, CoachLine)]


def situation(line: CoachLine) -> str:
    found = SCRIPT.line(line.line)
    assert found is not None
    return found.situation


@QUICK
@given(sessions())
def test_no_line_is_said_twice_in_a_row(events: list[Event]) -> None:
    lines = lines_of(fold_with_coach(events))
    for a, b in zip(lines, lines[1:], strict=False):
        assert a.line != b.line


@QUICK
@given(sessions())
def test_lines_the_coach_chooses_keep_the_minimum_gap_except_calm_words(
    events: list[Event],
) -> None:
    lines = lines_of(fold_with_coach(events))
    for a, b in zip(lines, lines[1:], strict=False):
        if situation(b) not in ("calm", "end"):
            assert b.t - a.t >= SCRIPT.min_gap_s


@QUICK
@given(sessions())
def test_the_safe_scene_always_gets_its_calm_line_first(events: list[Event]) -> None:
    folded = fold_with_coach(events)
    for i, (_, state, decisions) in enumerate(folded):
        if any(d.to_level == SAFE_LEVEL and state.phase == "safe" for d in decisions):
            following = folded[i + 1]
            assert isinstance(following[0], CoachLine), "no line right after the safe scene"
            assert situation(following[0]) == "calm"
            assert following[0].t == state.t


@QUICK
@given(sessions())
def test_the_coach_never_changes_a_decision(events: list[Event]) -> None:
    with_coach = [e for e, _, _ in fold_with_coach(events)]
    assert replay(with_coach) == replay(events)


def test_a_coach_line_moves_the_sessions_clock_and_nothing_else() -> None:
    state, _ = step(None, SessionStart(ladder=LADDER, settings=SETTINGS))
    state, _ = step(state, Reading(t=10.0, hr=70.0))
    said, effects = step(state, CoachLine(t=12.5, line="typed", text="Breathe slowly."))
    assert effects == [] and said.t == 12.5
    assert said.model_copy(update={"t": state.t}) == state
    # a reading stamped before the line (it arrived late) does not move the clock back
    later, _ = step(said, Reading(t=12.0, hr=70.0))
    assert later.t == 12.5


@QUICK
@given(sessions())
def test_replaying_a_record_says_the_same_lines(events: list[Event]) -> None:
    recorded = [e for e, _, _ in fold_with_coach(events)]
    assert replay_lines(recorded, SCRIPT) == lines_of(fold_with_coach(events))


@QUICK
@given(sessions())
def test_the_first_line_says_the_coach_is_automated_unless_the_safe_scene_came_first(
    events: list[Event],
) -> None:
    lines = lines_of(fold_with_coach(events))
    if lines:
        assert situation(lines[0]) in ("welcome", "calm", "end")
    welcome = SCRIPT.of("welcome")[0].text.lower()
    assert "automated" in welcome and "therapist" in welcome


def start() -> SessionState:
    state, _ = step(None, SessionStart(ladder=LADDER, settings=SETTINGS))
    return state


def test_nothing_is_chosen_inside_the_gap_but_a_preview_sees_the_next_line() -> None:
    state = start()
    first = CoachLine(t=0.0, line="welcome", text="hi")
    later = state.model_copy(update={"t": 5.0})
    assert choose(SCRIPT, later, None, [first]) is None
    preview = choose(SCRIPT, later, None, [first], ignore_gap=True)
    assert preview is not None and preview.line.situation == "baseline"


def test_a_therapist_can_mute_skip_trigger_and_type() -> None:
    coach = Coach(SCRIPT)
    state = start()
    welcome = coach.respond(SessionStart(ladder=LADDER, settings=SETTINGS), state, [])
    assert welcome is not None and welcome.line == "welcome"
    coach.respond(welcome, state, [])
    assert coach.respond(CoachControl(action="mute"), state, []) is None
    later = state.model_copy(update={"t": 100.0})
    assert coach.respond(Reading(t=100.0, hr=70), later, []) is None  # muted
    typed = coach.respond(CoachControl(action="say", text="Well done."), later, [])
    assert typed is not None and (typed.line, typed.by, typed.text) == (
        "typed",
        "clinician",
        "Well done.",
    )
    coach.respond(typed, later, [])
    trigger = coach.respond(CoachControl(action="trigger"), later, [])
    assert trigger is not None and trigger.by == "clinician" and trigger.line.startswith("baseline")
    coach.respond(CoachControl(action="unmute"), later, [])
    coach.respond(CoachControl(action="mode", mode="off"), later, [])
    assert coach.respond(Reading(t=200.0, hr=70), later.model_copy(update={"t": 200.0}), []) is None


def test_a_skipped_line_is_not_said_at_that_level() -> None:
    coach = Coach(SCRIPT)
    state = start().model_copy(
        update={"phase": "exposure", "level": 2, "level_since": 0.0, "t": 50.0}
    )
    coach.said.append(CoachLine(t=0.0, line="welcome", text="hi"))
    upcoming, _ = coach.upcoming(state)
    assert upcoming is not None and upcoming.line.situation == "before_step"
    coach.respond(CoachControl(action="skip"), state, [])
    line = coach.respond(Reading(t=50.0, hr=70), state, [])
    assert line is None or situation(line) != "before_step"


def test_a_live_session_records_the_lines_as_events() -> None:
    clock = iter(float(i) for i in range(1000))
    recorded: list[Event] = []
    live = LiveSession(
        SessionStart(ladder=LADDER, settings=SETTINGS),
        clock=lambda: next(clock),
        record=recorded.append,
        coach=Coach(SCRIPT),
    )
    live.submit(Reading(t=0.0, hr=70))
    lines = [e for e in recorded if isinstance(e, CoachLine)]
    assert [line.line for line in lines] == ["welcome"]
    assert replay_lines(recorded, SCRIPT) == lines


def test_every_shipped_script_covers_every_situation() -> None:
    assert "en" in available_languages()
    for language in available_languages():
        script = load_script(language)
        assert {line.situation for line in script.lines} == set(SITUATIONS)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.pop("line"), "no [[line]]"),
        (lambda d: d["line"][0].update(situation="nap"), "situation 'nap'"),
        (lambda d: d["line"][1].update(id="welcome"), "unique"),
        (lambda d: d["line"][0].update(ask="shout"), "asks 'shout'"),
        (lambda d: d.update(min_gap_s=-1), "min_gap_s"),
        (lambda d: d.update(line=[x for x in d["line"] if x["id"] != "calm-2"]), "two lines"),
    ],
)
def test_a_bad_script_is_one_clear_sentence(change: object, says: str) -> None:
    data = tomllib.loads((SCRIPT_PATH).read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    with pytest.raises(ScriptError, match=re.escape(says)):
        parse_script(data)


def test_an_unknown_language_names_the_ones_there_are() -> None:
    with pytest.raises(ScriptError, match="use one of en"):
        load_script("xx")


@QUICK
@given(sessions())
def test_a_question_after_a_step_pairs_with_the_question_before_it(events: list[Event]) -> None:
    lines = lines_of(fold_with_coach(events))
    for i, line in enumerate(lines):
        if line.ask == "expectancy_after":
            assert any(
                earlier.ask == "expectancy_before" and earlier.level == line.level
                for earlier in lines[:i]
            )


def test_a_paced_script_scales_every_timing() -> None:
    fast = SCRIPT.paced(0.5)
    assert fast.min_gap_s == SCRIPT.min_gap_s / 2 and fast.lines == SCRIPT.lines
    assert fast.after_step_delay_s == SCRIPT.after_step_delay_s / 2
    assert SCRIPT.paced(1.0) is SCRIPT
