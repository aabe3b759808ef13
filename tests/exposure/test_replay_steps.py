"""`replay_steps` is the one fold over a record: replay, the report and the export read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from exposure.core import replay, replay_steps, step
from exposure.models import Decision, Event, SessionState, Tick, parse_event

EXAMPLE = Path(__file__).resolve().parents[2] / "exposure" / "examples" / "spiders_session.jsonl"


def _events() -> list[Event]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [parse_event(json.loads(line)) for line in lines if line.strip()]


def test_each_event_comes_with_the_state_and_effects_step_gives_after_it() -> None:
    events = _events()
    state: SessionState | None = None
    steps = list(replay_steps(events))
    assert len(steps) == len(events)
    for (event, replayed_state, effects), recorded in zip(steps, events, strict=True):
        state, expected = step(state, recorded)
        assert event is recorded
        assert (replayed_state, effects) == (state, expected)


def test_replay_is_the_decisions_of_the_steps() -> None:
    events = _events()
    decisions = [e for _, _, fx in replay_steps(events) for e in fx if isinstance(e, Decision)]
    assert decisions  # the example session changes level
    assert replay(events) == decisions


def test_steps_are_lazy_and_read_each_event_once() -> None:
    events = _events()
    taken: list[Event] = []

    def source() -> Iterator[Event]:
        for event in events:
            taken.append(event)
            yield event

    steps = replay_steps(source())
    first = next(steps)
    assert first[0] is events[0] and taken == [events[0]]
    assert [e for e, _, _ in steps] == events[1:]
    assert taken == events


def test_a_record_without_its_session_start_is_refused() -> None:
    with pytest.raises(ValueError, match="session_start"):
        list(replay_steps([Tick(t=1.0)]))
