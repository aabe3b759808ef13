"""`python -m benchmarks --only station`: ten sessions in a row on one `vret station`.

A real station (console, home API, the render process that shows the waiting room and that
each session takes over, simulated client on a pty, SQLite records) runs ten short sessions
started and ended through the HTTP API, as the home page does. After each one it prints the
control process's and the render process's resident memory and the session's wall time; the
figure is the control process's growth from the end of the second session to the end of the
tenth (the first warms imports and caches). About 35 s on a 2-core machine, so it is part of
`make bench`.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import rss_mb, table
from clinician_console.network import ConsoleNetwork
from vret.station_server import StationThread

SESSIONS = 10
SESSION_S = 3.0


def _wait(http: httpx.Client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http.get("/api/sessions/current").json()["session"] is None:
            return
        time.sleep(0.05)
    raise RuntimeError("the session did not end")


def run(
    results: dict[str, Any],
    *,
    sessions: int = SESSIONS,
    size: tuple[int, int] = (320, 180),
    pipe: str | None = None,
) -> None:
    with tempfile.TemporaryDirectory(prefix="vret-bench-station-") as folder:
        thread = StationThread(
            network=ConsoleNetwork(port=0),
            db=f"sqlite:///{Path(folder) / 'station.db'}",
            render=True,
            render_pipe=pipe or "tiny",
            size=size,
            listen_s=0.2,
        )
        server = thread.start()
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}",
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=120.0,
        )
        rows = []
        try:
            for n in range(1, sessions + 1):
                began = time.monotonic()
                answer = http.post(
                    "/api/sessions",
                    json={"client": f"B-{n:03d}", "scene": "spiders", "sensor": "simulated"},
                )
                answer.raise_for_status()
                time.sleep(SESSION_S / 2)
                http.post("/api/commands", json={"type": "step_up"}).raise_for_status()
                time.sleep(SESSION_S / 2)
                http.post("/api/commands", json={"type": "end"}).raise_for_status()
                _wait(http)
                gc.collect()
                room = server.waiting_room
                room_pid = room.handle.pid if room is not None and room.handle else None
                rows.append(
                    (
                        n,
                        answer.json()["id"],
                        round(time.monotonic() - began, 1),
                        round(rss_mb(os.getpid()), 1),
                        round(rss_mb(room_pid), 1) if room_pid else 0.0,
                        room_pid or 0,
                        server.last["status"] if server.last else "?",
                    )
                )
                print(f"session {n}: {rows[-1][3]} MB control, {rows[-1][2]} s", flush=True)
        finally:
            http.close()
            thread.stop()
    print(
        table(
            f"station: {sessions} sessions in a row",
            ["#", "session", "wall s", "control RSS MB", "render RSS MB", "render pid", "status"],
            rows,
        )
    )
    growth = rows[-1][3] - rows[1][3] if len(rows) > 1 else 0.0
    per_session = growth / max(1, len(rows) - 2)
    print(
        f"control process: {rows[1][3]} MB after session 2, {rows[-1][3]} MB after session "
        f"{len(rows)}: {growth:+.1f} MB ({per_session:+.2f} MB a session)"
    )
    results["station_rss_mb"] = [r[3] for r in rows]
    results["station_rss_growth_mb"] = round(growth, 2)
    results["station_session_wall_s"] = [r[2] for r in rows]
    results["station_render_rss_mb"] = [r[4] for r in rows]
    results["station_render_pids"] = len({r[5] for r in rows})
    results["station_statuses"] = [r[6] for r in rows]


if __name__ == "__main__":
    run({})
