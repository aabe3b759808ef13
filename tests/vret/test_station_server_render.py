"""The station's waiting room: a real render process (p3tinydisplay, offscreen, small) in the
safe scene between sessions, taken over by a session on the same display and handed back at its
end (no gap in the headset), restarted if it died."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from clinician_console.network import ConsoleNetwork
from vret.station_server import StationThread

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def wait_for(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_the_waiting_room_shows_between_sessions_and_comes_back_after_a_crash(
    tmp_path: Path,
) -> None:
    thread = StationThread(
        network=ConsoleNetwork(port=0),
        db=f"sqlite:///{tmp_path / 'station.db'}",
        render=True,
        render_pipe="tiny",
        size=(160, 120),
        listen_s=0.2,
    )
    server = thread.start()
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=120.0,
    )
    try:
        room = server.waiting_room
        assert room is not None and room.handle is not None
        room.handle.wait_ready(60)
        first_pid = room.handle.pid
        os.kill(first_pid, signal.SIGKILL)  # the waiting room's render process dies
        wait_for(lambda: room.starts == 2 and room.handle is not None)
        assert room.handle.pid != first_pid
        second_pid = room.handle.pid
        started = http.post(
            "/api/sessions", json={"client": "C-009", "scene": "spiders", "sensor": "simulated"}
        )
        assert started.status_code == 201, started.text
        session = server.session
        assert session is not None and session.render is not None
        assert room.handle is None and room.handovers == 1
        assert session.render.handle.pid == second_pid  # the same process: no gap, no start
        # the session's scene is drawn by it: frames come back showing the session's target
        wait_for(lambda: session.render is not None and session.render.frames)
        assert http.post("/api/commands", json={"type": "step_up"}).status_code == 200
        render = session.render
        wait_for(lambda: render.frames.get("scene") == "spiders" and render.frames["intensity"] > 0)
        assert http.post("/api/commands", json={"type": "end"}).status_code == 200
        wait_for(lambda: http.get("/api/sessions/current").json()["session"] is None)
        assert room.handle is not None and room.handle.pid == second_pid  # handed back
        assert room.starts == 2
        assert http.get("/api/sessions/current").json()["last"]["status"] == "completed"
        # a session on another display gets a render process of its own, and the room comes back
        elsewhere = http.post(
            "/api/sessions",
            json={
                "client": "C-009",
                "scene": "heights",
                "sensor": "simulated",
                "display": "window",
            },
        )
        assert elsewhere.status_code == 409  # no desktop here: refused before anything stops
        assert room.handle is not None and room.handle.alive()
    finally:
        thread.stop()
    assert server.waiting_room is not None and server.waiting_room.handle is None
