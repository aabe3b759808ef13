"""The scene-sound mute from the session to the headset and into the record.

The render link tells a real render process (offscreen, null audio) what the therapist chose,
shows what the headset reports, tells a restarted process again, and hands the process back
to the station's waiting room with the sound on; the recorded `scene_sound` commands replay,
export and show in the report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from exposure.core import replay
from exposure.live import LiveSession
from exposure.models import Event, SceneSound, SessionStart, SetLevel
from scenes.registry import default_ladder
from scenes.render.messages import SceneSoundApplied
from tests.conftest import wait_for
from tests.vret.test_session import Running
from vret.cli import main
from vret.export import csv_rows
from vret.records import Records
from vret.render_link import RenderLink, RestartPolicy
from vret.report import report_of


def pump_until(
    link: RenderLink, cond: Callable[[], object], what: str, limit_s: float = 60
) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        assert time.monotonic() < deadline, f"{what}: not within {limit_s} s"
        link.pump()
        time.sleep(0.01)


@pytest.mark.render
def test_the_headset_follows_the_mute_through_a_restart_and_the_next_session_starts_on() -> None:
    live = LiveSession(SessionStart(ladder=default_ladder("spiders"), auto=False))
    link = RenderLink(
        live, "offscreen", (64, 48), thumbnail_hz=0, restarts=RestartPolicy(first_delay_s=0.2)
    )
    handle = None
    try:
        link.start()
        pump_until(link, lambda: link.frames, "the first frame report")
        assert link.scene_sound_heard is False  # a session starts with the sound on

        live.submit(SetLevel(t=0.0, level=1))
        live.submit(SceneSound(t=0.0, muted=True))
        assert link.scene_sound_muted is True
        pump_until(link, lambda: link.scene_sound_heard is True, "the headset muted")

        # the render process dies: the new one is told the session's choice again
        first = link.handle
        assert first is not None and first.pid is not None
        os.kill(first.pid, signal.SIGKILL)
        pump_until(link, lambda: link.restarts == 1, "the restart")
        assert link.scene_sound_heard is None  # no report from a process that is not there
        pump_until(link, lambda: link.ready is not None, "the new render process ready")
        assert link.handle is not first
        pump_until(link, lambda: link.frames and link.scene_sound_heard is True, "muted again")
        assert link.frames["scene_sound_muted"] is True and link.frames["scene_volume"] == 0.0

        # the end of the session hands the process back (the waiting room) with the sound on
        handle = link.release()
        assert handle is not None and link.scene_sound_heard is None

        def unmuted() -> bool:
            handle.send_target("safe_place", 0.0, True)  # the waiting room's heartbeat
            return any(m == SceneSoundApplied(muted=False) for m in handle.poll())

        wait_for(unmuted, 30, "the waiting room's sound back on")

        # the next client's session takes it over: sound on, whatever the last one chose
        after = LiveSession(SessionStart(ladder=default_ladder("spiders"), auto=False))
        nxt = RenderLink(after, "offscreen", (64, 48), thumbnail_hz=0)
        nxt.adopt(handle)
        pump_until(nxt, lambda: nxt.frames and nxt.scene_sound_heard is False, "the next session")
        assert nxt.scene_sound_muted is False
    finally:
        link.stop()
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.stop()


def test_scene_sound_is_recorded_replayed_exported_and_reported(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'vret.db'}"
    start = SessionStart(client="C-7", ladder=default_ladder("spiders"), auto=False)
    with Records(url) as records:
        sid = records.open_session(start, "spiders")
        events: list[Event] = []
        clock = iter(float(n) for n in range(1000))

        def record(event: Event) -> None:
            events.append(event)
            records.append(sid, event)

        live = LiveSession(start, clock=lambda: next(clock), record=record)
        live.submit(SetLevel(t=0.0, level=2))
        live.submit(SceneSound(t=0.0, muted=True))
        live.submit(SetLevel(t=0.0, level=3))
        live.submit(SceneSound(t=0.0, muted=False))
        live.submit(SetLevel(t=0.0, level=1))
        records.close_session(sid)

        stored = [e for e in records.events(sid) if isinstance(e, SceneSound)]
        assert [(e.muted, e.by) for e in stored] == [(True, "clinician"), (False, "clinician")]
        assert live.state.level == 1  # the mute changed nothing the controller decides
        assert replay(records.events(sid)) == live.decisions

        rows = [r for r in csv_rows(records.events(sid), []) if r["type"] == "scene_sound"]
        assert [r["detail"] for r in rows] == [
            "scene sound muted by clinician",
            "scene sound on by clinician",
        ]
        page = report_of(records, sid)
        assert "muted the scene sound in the headset (not the coach&#x27;s voice)" in page
        assert "turned the scene sound back on" in page

    assert main(["replay", str(sid), "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if " level " in line]) == len(live.decisions) == 3


@pytest.mark.render
def test_a_station_mutes_the_headset_from_the_console_and_records_it(tmp_path: Path) -> None:
    running = Running(tmp_path)
    station = running.station
    try:
        auth = {"Authorization": f"Bearer {station.token}"}
        base = f"http://127.0.0.1:{station.port}"
        with httpx.Client(base_url=base, headers=auth, timeout=10) as c:

            def headset(muted: bool) -> bool:
                return c.get("/api/state").json()["scene_sound"] == {
                    "muted": muted,
                    "headset_muted": muted,
                }

            wait_for(lambda: headset(False), 60, "the headset's first report")
            assert c.post("/api/scene-sound", json={"muted": True}).status_code == 200
            wait_for(lambda: headset(True), 10, "the headset muted")
    finally:
        running.stop()
    events = Records(running.db).events(station.session_id)
    assert [(e.muted, e.by) for e in events if isinstance(e, SceneSound)] == [(True, "clinician")]
