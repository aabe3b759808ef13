"""The coach in a running station: the welcome reaches the headset, a click on the console
starts a line in the headset from speech cached before the click, and the record replays the lines.

How fast a click reaches the headset is a figure of `make bench` (`--only coach-click`), not a
timed assertion here."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from exposure.coach import replay_lines
from exposure.models import CoachLine
from scenes.registry import default_ladder
from sensors.simulator import SimulatedHeart
from tests.vret.test_session import FAST, free_port
from vret.coach_voice import CoachPlan, espeak_path
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread


def wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_click_starts_a_cached_line_in_the_headset(tmp_path: Path) -> None:
    heart = SimulatedHeart(resting_hr=70, reactivity_bpm=1.0, variability_bpm=0.5, lag_s=3, seed=3)
    client = SimulatedClient("text", heart, rate=4.0)
    db = f"sqlite:///{tmp_path / 'v.db'}"
    engine = "espeak-ng" if espeak_path() else "none"
    plan = SessionPlan(
        client="T-1",
        ladder=default_ladder("spiders"),
        sensor=client.start(),
        protocol="text",
        settings=FAST,
        display="offscreen",
        size=(96, 72),
        port=free_port(),
        db=db,
        coach=CoachPlan(folder=tmp_path / "coach", engine=engine),  # type: ignore[arg-type]
        on_ready=lambda station: client.wear(station.live),
    )
    runner = StationThread(plan)
    station = runner.start(timeout=60)
    try:
        render, speaker = station.render, station.speaker
        assert render is not None and speaker is not None
        # the welcome was said as the session opened; the headset says it once it is up
        wait(lambda: render.coach_spoke is not None, 60, "the welcome in the headset")
        assert render.coach_spoke is not None and "automated" in render.coach_spoke.text
        wait(lambda: speaker.prepared, 60, "the script's speech")
        before = render.coach_spoke
        cached = {p: p.stat().st_mtime_ns for p in speaker.voice.cache_dir.glob("*.wav")}
        with httpx.Client(base_url=station.url.split("/?")[0], timeout=10) as http:
            answer = http.post(
                "/api/coach",
                json={"action": "trigger"},
                headers={"Authorization": f"Bearer {station.token}"},
            )
        assert answer.status_code == 200, answer.text
        wait(lambda: render.coach_spoke is not before, 10, "the triggered line in the headset")
        spoke = render.coach_spoke
        assert spoke is not None and spoke.text == answer.json()["said"][0]["text"]
        assert spoke.sound == (engine != "none")
        if spoke.sound:  # played from the speech made before the click, not synthesised on it
            wav = Path(spoke.wav)
            assert wav in cached and wav.stat().st_mtime_ns == cached[wav]
    finally:
        runner.stop()
        client.stop()
    events = Records(db).events(station.session_id)
    lines = [e for e in events if isinstance(e, CoachLine)]
    assert lines[0].line == "welcome" and any(line.by == "clinician" for line in lines)
    auto = [line for line in lines if line.by == "auto"]
    assert [line for line in replay_lines(events, speaker.script) if line.by == "auto"] == auto
