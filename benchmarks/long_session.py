"""A 60-minute session, accelerated: memory of both processes at start and end, records per hour.

The session clock runs `speedup` times faster than the wall clock; the simulated sensor writes
`speedup` lines a second and the core is ticked `speedup` times as often, so it sees one reading
and four ticks per session second, as in a real session. The render process draws at 90 Hz throughout,
following every level change; a WebSocket client watches the console all along.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import free_port, rss_mb, table
from exposure.models import ControlSettings
from scenes.registry import default_ladder
from sensors.simulator import SimulatedHeart
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread


def _watch(port: int, token: str, stop: threading.Event, counts: list[int]) -> None:
    import websockets

    async def go() -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/api/live?token={token}", origin=f"http://127.0.0.1:{port}"
        ) as ws:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), timeout=0.5)
                    counts[0] += 1
                except TimeoutError:
                    pass

    asyncio.run(go())


def run(
    results: dict[str, Any],
    *,
    session_minutes: float = 60.0,
    speedup: float = 60.0,
    size: tuple[int, int] = (320, 240),
) -> None:

    wall_s = session_minutes * 60.0 / speedup
    heart = SimulatedHeart(resting_hr=70, reactivity_bpm=1.0, seed=5)
    sim = SimulatedClient("text", heart, rate=speedup)
    sim.start()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "long.db"
        plan = SessionPlan(
            client="BENCH",
            ladder=default_ladder("heights"),
            sensor=sim.port_path,
            protocol="text",
            settings=ControlSettings(),
            display="offscreen",
            size=size,
            port=free_port(),
            db=f"sqlite:///{db_path}",
            clock=lambda: (time.monotonic() - t0) * speedup,
            tick_s=0.25 / speedup,
        )
        runner = StationThread(plan)
        station = runner.start()
        stop = threading.Event()
        counts = [0]
        watcher = threading.Thread(
            target=_watch, args=(plan.port, station.token, stop, counts), daemon=True
        )
        watcher.start()
        time.sleep(3.0)  # past start-up allocations
        render_pid = station.render.handle.pid if station.render else None
        control_start, render_start = rss_mb(os.getpid()), rss_mb(render_pid) if render_pid else 0.0
        session_start_t = station.live.now()
        while station.live.now() < session_minutes * 60.0:
            time.sleep(0.5)
        control_end, render_end = rss_mb(os.getpid()), rss_mb(render_pid) if render_pid else 0.0
        session_t = station.live.now() - session_start_t
        decisions = len(station.live.decisions)
        events = len(station.records.events(station.session_id))
        stop.set()
        runner.stop(60)
        watcher.join(10)
        sim.stop()
        station.records.close()
        db_bytes = sum(p.stat().st_size for p in db_path.parent.glob("long.db*"))
    hours = station.live.now() / 3600.0
    growth = max(control_end - control_start, render_end - render_start)
    rows = [
        ["control process", control_start, control_end, control_end - control_start],
        ["render process", render_start, render_end, render_end - render_start],
    ]
    print(
        table(
            f"Long session: {session_minutes:g} min at {speedup:g}x ({wall_s:.0f} s of wall "
            f"time; {events} events, {decisions} level changes, {counts[0]} WebSocket messages)",
            ["process", "RSS start MB", "RSS end MB", "growth MB"],
            rows,
        )
    )
    print(
        f"records: {db_bytes / 1e6:.2f} MB for {hours * 60:.0f} min of session "
        f"= {db_bytes / 1e6 / hours:.2f} MB per hour"
    )
    results["long_session"] = {
        "session_minutes": session_minutes,
        "speedup": speedup,
        "measured_session_s": round(session_t, 1),
        "events": events,
        "decisions": decisions,
        "ws_messages": counts[0],
        "control_rss_mb": [round(control_start, 1), round(control_end, 1)],
        "render_rss_mb": [round(render_start, 1), round(render_end, 1)],
        "db_bytes": db_bytes,
    }
    results["rss_growth_mb"] = round(growth, 2)
    results["db_mb_per_hour"] = round(db_bytes / 1e6 / hours, 2)
