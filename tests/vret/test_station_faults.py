"""A whole station under real faults: the records' database locked by another process, and a
station task that raises. Safe still works within a second, the console answers, the console is
told, and the record ends up holding every event the store accepted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exposure.models import Reading, Safe, SystemEvent
from tests.vret.test_record_writer import Lock, wait_for
from tests.vret.test_session import Running
from vret.records import Records


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    run = Running(tmp_path, render=False)
    yield run
    run.stop()


def test_safe_and_the_console_work_while_the_records_are_locked(
    running: Running, tmp_path: Path
) -> None:
    live = running.station.live
    running.wait_for(lambda: live.state.phase == "exposure", 30, "exposure")
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{running.station.port}",
        headers={"Authorization": f"Bearer {running.station.token}"},
        timeout=5,
    )
    lock = Lock(tmp_path / "records.db")
    try:
        running.wait_for(lambda: live.records_failing, 10, "the records to fail")
        assert any(a.kind == "records_failing" for a in live.state.alerts)
        started = time.monotonic()
        assert client.post("/api/commands", json={"type": "safe"}).status_code == 200
        state = client.get("/api/state").json()
        assert time.monotonic() - started < 1.0
        assert state["phase"] == "safe"
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
