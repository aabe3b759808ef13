"""The order a panic command takes through the real console: record, headset, then the answer.

Through the console's HTTP API, a Safe (or End) is written to the record first (write-ahead: the
LiveSession's `record`), then the headset (a listener added first, as the render link adds
itself) hears the safe scene from the same step, and only then does the HTTP answer leave. The
fault cases (a recorder that raises, a listener that raises) are in
tests/exposure/test_live_faults.py.
"""

from __future__ import annotations

import threading

import pytest

from exposure.models import Effect, Event, SceneTarget, SessionState
from tests.clinician_console.conftest import RunningConsole


@pytest.mark.parametrize("command", ["safe", "end"])
def test_a_panic_command_is_recorded_before_the_headset_hears_the_safe_scene_and_both_before_the_answer(
    console: RunningConsole, command: str
) -> None:
    steps: list[tuple[str, str, float, bool]] = []  # (who, what, t, after the answer)
    answered = threading.Event()

    def record(event: Event) -> None:
        if event.type == command:
            steps.append(("record", event.type, event.t, answered.is_set()))

    def headset(event: Event, _state: SessionState, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SceneTarget) and effect.safe:
                steps.append(("headset", effect.scene, effect.t, answered.is_set()))

    def other(event: Event, _state: SessionState, _effects: list[Effect]) -> None:
        if event.type == command:
            steps.append(("listener added later", event.type, event.t, answered.is_set()))

    session = console.session

    def wire() -> None:
        session.record = record
        session.add_listener(other)
        session.add_listener(headset, first=True)

    console.call(wire)
    with console.client() as c:
        r = c.post("/api/commands", json={"type": "set_level", "level": 3})
        assert r.status_code == 200 and r.json()["level"] == 3
        assert steps == []  # a level in the ladder's scene: nothing safe yet
        r = c.post("/api/commands", json={"type": command})
        answered.set()
        at_answer = list(steps)
    assert r.status_code == 200, r.text
    assert r.json()["level"] == 0 and r.json()["phase"] == ("ended" if command == "end" else "safe")
    safe_scene = session.state.ladder.safe_scene
    assert [(who, what) for who, what, _, _ in at_answer] == [
        ("record", command),
        ("headset", safe_scene),
        ("listener added later", command),
    ]
    assert len({t for _, _, t, _ in at_answer}) == 1  # one step: the event and its safe target
    assert not any(late for *_, late in at_answer)  # all of it before the answer left
    answered_targets = [e for e in r.json()["effects"] if e["type"] == "scene_target"]
    assert answered_targets and answered_targets[-1]["safe"] is True
    assert answered_targets[-1]["t"] == at_answer[0][2]
