"""The records' writer thread against real faults: SQLite locked by another process.

While the store fails nothing is reordered or lost (up to the queue's capacity), the failure is
reported once and the recovery once; past the capacity the gap is named.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exposure.models import Alert, Ladder, Level, Note, Reading, SessionStart
from vret.record_writer import RecordWriter
from vret.records import Records

LADDER = Ladder(scene="spiders", levels=[Level(name="one"), Level(name="two")])

LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


class Lock:
    """Another process holding SQLite's write lock (`BEGIN IMMEDIATE`) until `release()`."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(10)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Records, int, Path]]:
    path = tmp_path / "records.db"
    records = Records(f"sqlite:///{path}")
    start = SessionStart(client="T-1", ladder=LADDER)
    sid = records.open_session(start, "spiders")
    yield records, sid, path
    records.close()


class Reports:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.recovered = 0
        self.gaps: list[str] = []
        self.lock = threading.Lock()

    def writer(self, records: Records, sid: int, capacity: int = 1000) -> RecordWriter:
        return RecordWriter(
            records,
            sid,
            on_failed=self.failed.append,
            on_recovered=self._recovered,
            on_gap=self.gaps.append,
            capacity=capacity,
        ).start()

    def _recovered(self) -> None:
        self.recovered += 1


def test_events_wait_while_another_process_locks_the_database_then_all_are_written_in_order(
    store: tuple[Records, int, Path],
) -> None:
    records, sid, path = store
    reports = Reports()
    writer = reports.writer(records, sid)
    writer.event(Reading(t=1.0, hr=70))
    wait_for(lambda: writer.written == 1, 5, "the first event")
    lock = Lock(path)
    try:
        started = time.monotonic()
        for n in range(20):
            writer.event(Reading(t=2.0 + n, hr=70 + n))  # returns at once, lock or not
        writer.effects([Alert(t=21.0, kind="ceiling", severity="warning", message="high")])
        assert time.monotonic() - started < 0.5
        wait_for(lambda: bool(reports.failed), 5, "the failure report")
        assert writer.pending == 21 and writer.failing
    finally:
        lock.release()
    wait_for(lambda: writer.pending == 0, 10, "the queue to drain")
    assert writer.close()
    assert len(reports.failed) == 1 and "locked" in reports.failed[0]
    assert reports.recovered == 1 and reports.gaps == []
    events = records.events(sid)
    hrs = [e.hr for e in events if isinstance(e, Reading)]
    assert hrs == [70.0, *(70.0 + n for n in range(20))]
    assert [e.kind for e in records.effects(sid)] == ["ceiling"]


def test_an_overflowing_queue_names_the_missing_interval(store: tuple[Records, int, Path]) -> None:
    records, sid, path = store
    reports = Reports()
    writer = reports.writer(records, sid, capacity=5)
    lock = Lock(path)
    try:
        for n in range(12):
            writer.event(Reading(t=10.0 + n, hr=70))
        wait_for(lambda: bool(reports.failed), 5, "the failure report")
    finally:
        lock.release()
    wait_for(lambda: bool(reports.gaps), 10, "the gap report")
    writer.event(Note(t=30.0, text="after the gap"))
    assert writer.close()
    # 5 waited in the queue; the 7 after them (t=15..21) are what the record lacks
    assert reports.gaps == [
        "7 events from t=15.0 s to t=21.0 s were not recorded: the database did not answer "
        "and the waiting queue was full"
    ]
    ts = [e.t for e in records.events(sid)]
    assert ts[1:] == [10.0, 11.0, 12.0, 13.0, 14.0, 30.0]
