"""A whole station under real faults: the records' database locked by another process, and a
station task that raises. Safe still works within a second, the console answers, the console is
told, and the record ends up holding every event the store accepted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from exposure.constants import SAFE_SCENE
from exposure.models import ControlSettings, Reading, Safe, SystemEvent
from scenes.registry import default_ladder
from scenes.render.messages import FrameEffect, Frames, FromRender
from tests.vret.conftest import PgCluster, pg_database
from tests.vret.test_record_writer import Lock, wait_for
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, Station, StationThread

FAST = ControlSettings(
    baseline_s=6, min_baseline_readings=4, min_dwell_s=8, trend_window_s=8, arousal_window_s=4
)


class Running:
    """A whole station in a thread (`StationThread`), worn by the simulated client, recording
    into `db`; with `render`, a real render process whose frame reports are kept."""

    def __init__(self, db: str, *, render: bool) -> None:
        self.db = db
        self.client = SimulatedClient("text", rate=4.0)
        self.shown: list[tuple[float, str]] = []
        """(when, scene) of every frame report from the render process."""

        def ready(station: Station) -> None:
            self.client.wear(station.live)
            if station.render is not None:
                station.render.on_message = self._frames

        plan = SessionPlan(
            client="T-1",
            ladder=default_ladder("spiders"),
            sensor=self.client.start(),
            protocol="text",
            settings=FAST,
            display="offscreen",
            size=(160, 120),
            port=0,
            db=db,
            render=render,
            on_ready=ready,
        )
        self.runner = StationThread(plan)
        self.station = self.runner.start(timeout=60)
        self.live = self.station.live
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.station.port}",
            headers={"Authorization": f"Bearer {self.station.token}"},
            timeout=5,
        )

    def _frames(self, message: FromRender) -> None:
        if isinstance(message, Frames | FrameEffect):
            self.shown.append((time.monotonic(), message.scene))

    def wait_for(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        wait_for(check, timeout, f"{what}; state: {self.live.state.next_step}")

    def safe_within_a_second(self) -> None:
        """Press Safe on the console: the state, the console and the headset agree within 1 s."""
        started = time.monotonic()
        assert self.http.post("/api/commands", json={"type": "safe"}).status_code == 200
        state = self.http.get("/api/state").json()
        assert time.monotonic() - started < 1.0
        assert state["phase"] == "safe"
        if self.station.render is not None:
            self.wait_for(
                lambda: any(t >= started and scene == SAFE_SCENE for t, scene in self.shown),
                5,
                "a frame of the safe scene",
            )
            first = min(t for t, scene in self.shown if t >= started and scene == SAFE_SCENE)
            assert first - started < 1.0

    def stop(self) -> None:
        self.http.close()
        self.runner.stop()
        self.client.stop()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    run = Running(f"sqlite:///{tmp_path / 'records.db'}", render=True)
    yield run
    run.stop()


def test_safe_and_the_console_work_while_the_records_are_locked(
    running: Running, tmp_path: Path
) -> None:
    live = running.station.live
    running.wait_for(lambda: live.state.phase == "exposure", 30, "exposure")
    lock = Lock(tmp_path / "records.db")
    try:
        running.wait_for(lambda: live.records_failing, 10, "the records to fail")
        assert any(a.kind == "records_failing" for a in live.state.alerts)
        running.safe_within_a_second()
        state = running.http.get("/api/state").json()
        assert any(a["kind"] == "records_failing" for a in state["alerts"])
        readings_while_locked = sum(1 for r in live.readings if r.t > 0)
    finally:
        lock.release()
    running.wait_for(lambda: not live.records_failing, 10, "the records to recover")
    writer = running.station.writer
    wait_for(lambda: writer.pending == 0, 10, "the queue to drain")
    events = Records(running.db).events(running.station.session_id)
    assert any(isinstance(e, Safe) for e in events)
    kinds = [e.kind for e in events if isinstance(e, SystemEvent)]
    assert "records_failing" in kinds and "records_recovered" in kinds
    recorded_readings = sum(1 for e in events if isinstance(e, Reading))
    assert recorded_readings >= readings_while_locked
    assert running.station.writer.written >= len(events) - 1  # the header was written at open


def test_a_station_task_that_raises_is_alerted_and_restarted(running: Running) -> None:
    live = running.station.live
    runs: list[int] = []

    async def flaky() -> None:  # fails on its first run, then does its work and ends
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("tick broke")

    loop = running.runner.loop
    assert loop is not None
    future = asyncio.run_coroutine_threadsafe(running.station._supervise("ticks", flaky), loop)
    future.result(timeout=10)
    assert runs == [0, 1]
    assert running.station.task_failures == {"ticks": 1}
    alert = next(a for a in live.alert_log if a.kind == "task_failed")
    assert "ticks: RuntimeError: tick broke" in alert.message and alert.severity == "warning"
    assert live.state.phase != "ended"  # the session went on


@pytest.mark.postgres
def test_safe_works_while_postgresql_is_down_and_the_record_catches_up_when_it_returns(
    pg_cluster: PgCluster,
) -> None:
    with pg_database(pg_cluster.server) as url:
        running = Running(url, render=True)
        try:
            live = running.live
            running.wait_for(lambda: live.state.phase == "exposure", 30, "exposure")
            pg_cluster.stop()  # as a crash of the database server would
            running.wait_for(lambda: live.records_failing, 15, "the records to fail")
            running.safe_within_a_second()
            stepped_while_down = [e.t for e in live.readings if e.t > 0]
            pg_cluster.start()
            running.wait_for(lambda: not live.records_failing, 30, "the records to recover")
            wait_for(lambda: running.station.writer.pending == 0, 15, "the queue to drain")
        finally:
            running.stop()
        events = Records(url).events(running.station.session_id)
    assert any(isinstance(e, Safe) for e in events)
    kinds = [e.kind for e in events if isinstance(e, SystemEvent)]
    assert "records_failing" in kinds and "records_recovered" in kinds
    recorded = {e.t for e in events if isinstance(e, Reading)}
    assert set(stepped_while_down) <= recorded  # every reading the core stepped is in the record
