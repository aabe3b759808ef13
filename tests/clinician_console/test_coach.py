"""The coach panel's API: the next line and why, the therapist's controls, recordings."""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exposure.coach import Coach, load_script
from exposure.live import LiveSession
from exposure.models import CoachControl, CoachLine, SessionStart
from tests.clinician_console.conftest import ConsoleThread, RunningConsole, ShiftedClock
from vret.coach_voice import CoachDesk, CoachSpeaker, CoachVoice, espeak_path
from vret.simulated_client import DEMO_SETTINGS, demo_ladder

SCRIPT = load_script("en")


def tone(seconds: float, amplitude: float = 0.3, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                int(amplitude * 32767 * math.sin(2 * math.pi * 220 * i / rate)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(int(seconds * rate))
            )
        )
    return buffer.getvalue()


@pytest.fixture
def coach_console(tmp_path: Path) -> Iterator[Callable[..., tuple[RunningConsole, CoachDesk]]]:
    """`coach_console(engine="none")`: a console on a demo session with a coach."""
    threads: list[ConsoleThread] = []

    def start(engine: str = "none") -> tuple[RunningConsole, CoachDesk]:
        voice = CoachVoice(tmp_path / "cache", tmp_path / "rec", engine=engine)  # type: ignore[arg-type]
        desk = CoachDesk(CoachSpeaker(voice, SCRIPT), lambda: None)

        def factory() -> LiveSession:
            ladder, _ = demo_ladder()
            start = SessionStart(client="DEMO-01", ladder=ladder, settings=DEMO_SETTINGS)
            return LiveSession(start, clock=ShiftedClock(), coach=Coach(SCRIPT))

        thread = ConsoleThread(factory, feed_period_s=None, app_kwargs={"coach": desk})
        threads.append(thread)
        return thread.start(), desk

    yield start
    for thread in threads:
        thread.stop()
    for thread in threads:
        thread.join()


def test_the_panel_shows_the_next_line_and_why(coach_console: Any) -> None:
    console, _ = coach_console()
    with console.client() as c:
        view = c.get("/api/coach").json()
    assert view["enabled"] and view["mode"] == "person" and not view["muted"]
    assert [line["line"] for line in view["said"]] == ["welcome"]
    assert view["next"]["line"].startswith("baseline") and view["next"]["why"]
    assert 0 < view["next"]["in_s"] <= SCRIPT.min_gap_s
    assert len(view["lines"]) == len(SCRIPT.lines)
    assert all(not line["recorded"] for line in view["lines"])


def test_trigger_skip_mute_and_a_typed_line_are_recorded_events(coach_console: Any) -> None:
    console, _ = coach_console()
    recorded: list[Any] = []
    console.call(console.session.add_listener, lambda e, s, fx: recorded.append(e))
    with console.client() as c:
        said = c.post("/api/coach", json={"action": "trigger"}).json()["said"]
        assert said[0]["by"] == "clinician" and said[0]["line"].startswith("baseline")
        assert c.post("/api/coach", json={"action": "mute"}).status_code == 200
        assert c.get("/api/coach").json()["muted"]
        typed = c.post("/api/coach", json={"action": "say", "text": "Take your time."}).json()
        assert typed["said"][0]["text"] == "Take your time."
        bad = c.post("/api/coach", json={"action": "say", "text": "  "})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("Type the line")
        assert c.post("/api/coach", json={"action": "mode", "mode": "voice"}).status_code == 200
        assert c.get("/api/coach").json()["mode"] == "voice"
    kinds = [(e.type, getattr(e, "action", None)) for e in recorded if e.type.startswith("coach")]
    assert kinds == [
        ("coach_control", "trigger"),
        ("coach", None),
        ("coach_control", "mute"),
        ("coach_control", "say"),
        ("coach", None),
        ("coach_control", "mode"),
    ]
    assert all(
        isinstance(e, CoachControl | CoachLine) for e in recorded if e.type.startswith("coach")
    )


def test_a_recording_is_kept_checked_played_back_and_forgotten(coach_console: Any) -> None:
    console, desk = coach_console()
    with console.client() as c:
        put = c.put(
            "/api/coach/recordings/welcome",
            content=tone(1.5),
            headers={"content-type": "audio/wav"},
        )
        assert put.status_code == 200 and put.json()["seconds"] == pytest.approx(1.5)
        line = next(x for x in c.get("/api/coach").json()["lines"] if x["id"] == "welcome")
        assert line["recorded"] and line["source"] == "recorded"
        back = c.get("/api/coach/recordings/welcome")
        assert back.headers["content-type"] == "audio/wav" and back.content == tone(1.5)
        silent = c.put("/api/coach/recordings/welcome", content=tone(1.0, amplitude=0.0))
        assert silent.status_code == 422 and "silent" in silent.json()["detail"]
        assert c.put("/api/coach/recordings/nope", content=tone(1.0)).status_code == 404
        assert c.put("/api/coach/recordings/end", content=b"not audio").status_code == 422
        assert c.delete("/api/coach/recordings/welcome").json() == {"deleted": True}
        assert c.get("/api/coach/recordings/welcome").status_code == 404


@pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is missing: `make test` installs it")
def test_a_typed_line_is_voiced_before_it_is_sent(coach_console: Any) -> None:
    console, desk = coach_console(engine="espeak-ng")
    with console.client() as c:
        c.post("/api/coach", json={"action": "say", "text": "You are doing fine."})
    say = desk.speaker.say_for(CoachLine(line="typed", text="You are doing fine."))
    assert say.wav and say.seconds > 0.5 and max(say.envelope) > 0.2


def test_a_session_without_a_coach_says_so(console: RunningConsole) -> None:
    with console.client() as c:
        view = c.get("/api/coach").json()
        assert not view["enabled"] and view["mode"] == "off"
        refused = c.post("/api/coach", json={"action": "trigger"})
        assert (
            refused.status_code == 409 and refused.json()["detail"] == "This session has no coach."
        )
        assert c.put("/api/coach/recordings/welcome", content=b"x").status_code == 409


def test_a_question_asked_from_the_panel_is_a_coach_line_with_its_ask(coach_console: Any) -> None:
    console, _ = coach_console()
    with console.client() as c:
        said = c.post("/api/coach", json={"action": "ask", "ask": "ssq"}).json()["said"]
        assert said[0]["ask"] == "ssq" and said[0]["by"] == "clinician"
        missing = c.post("/api/coach", json={"action": "ask"})
        assert missing.status_code == 422 and "question to ask" in missing.json()["detail"]


def test_setting_the_form_on_the_console_is_kept_for_the_client(tmp_path: Path) -> None:
    kept: list[str] = []
    voice = CoachVoice(tmp_path / "cache", tmp_path / "rec", engine="none")
    desk = CoachDesk(CoachSpeaker(voice, SCRIPT), lambda: None, kept.append)

    def factory() -> LiveSession:
        ladder, _ = demo_ladder()
        start = SessionStart(client="C-9", ladder=ladder, settings=DEMO_SETTINGS)
        return LiveSession(start, clock=ShiftedClock(), coach=Coach(SCRIPT))

    thread = ConsoleThread(factory, feed_period_s=None, app_kwargs={"coach": desk})
    console = thread.start()
    try:
        with console.client() as c:
            assert c.post("/api/coach", json={"action": "mode", "mode": "voice"}).status_code == 200
        assert kept == ["voice"]
    finally:
        thread.stop()
        thread.join()
