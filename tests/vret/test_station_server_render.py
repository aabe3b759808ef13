"""The station's waiting room: a real render process (p3tinydisplay, offscreen, small) in the
safe scene between sessions, stopped for a session's own, back after it, restarted if it died."""

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
        started = http.post(
            "/api/sessions", json={"client": "C-009", "scene": "spiders", "sensor": "simulated"}
        )
        assert started.status_code == 201, started.text
        assert room.handle is None  # one render process at a time: the session's own
        assert server.session is not None and server.session.render is not None
        assert http.post("/api/commands", json={"type": "end"}).status_code == 200
        wait_for(lambda: http.get("/api/sessions/current").json()["session"] is None)
        wait_for(lambda: room.handle is not None)
        assert room.starts == 3
        room.handle.wait_ready(60)
    finally:
        thread.stop()
    assert server.waiting_room is not None and server.waiting_room.handle is None
