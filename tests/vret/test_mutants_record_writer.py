"""The records' writer thread: its retry schedule, its counters, closing, and the queue's bound.

Written to kill mutants that survived `make mutation` (tools/mutation/). A store stand-in whose
every write the test lets through, fails or holds makes the thread's rules visible without
waiting on a real database; tests/vret/test_record_writer.py does the same against SQLite locked
by another process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import vret.record_writer as record_writer
from exposure.models import Alert, Note, Reading
from vret.record_writer import RecordWriter


class Store:
    """Stands in for `Records`: `fail` writes fail, then each waits for `gate` if it is set."""

    def __init__(self, fail: int = 0, error: Exception | None = None) -> None:
        self.fail = fail
        self.error = error or OSError("disk full")
        self.gate: threading.Semaphore | None = None
        self.attempts = 0
        self.items: list[object] = []
        self.lock = threading.Lock()

    def _write(self, item: object) -> None:
        with self.lock:
            self.attempts += 1
            if self.fail:
                self.fail -= 1
                raise self.error
        if self.gate is not None:
            self.gate.acquire()
        self.items.append(item)

    def append(self, session_id: int, event: object) -> int:
        self._write(event)
        return len(self.items)

    def append_effects(self, session_id: int, effects: Any) -> int:
        self._write(list(effects))
        return len(effects)


class Pauses(tuple):  # type: ignore[type-arg]
    """RETRY_S that records which pause the writer takes, and pauses for 1 ms instead."""

    taken: list[float]

    def __getitem__(self, index: Any) -> Any:
        self.taken.append(super().__getitem__(index))
        return 0.001


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    schedule = Pauses(record_writer.RETRY_S)
    schedule.taken = []
    monkeypatch.setattr(record_writer, "RETRY_S", schedule)
    return schedule.taken


class Reports:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.recovered = 0
        self.gaps: list[str] = []

    def writer(self, store: Store, **kwargs: Any) -> RecordWriter:
        return RecordWriter(
            store,  # type: ignore[arg-type]
            1,
            on_failed=self.failed.append,
            on_recovered=self._recovered,
            on_gap=self.gaps.append,
            **kwargs,
        )

    def _recovered(self) -> None:
        self.recovered += 1


def wait_for(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.002)
    raise AssertionError(f"timed out waiting for {what}")


def reading(t: float) -> Reading:
    return Reading(t=t, hr=70)


def test_a_failing_write_is_retried_with_growing_pauses_the_last_repeating(
    pauses: list[float],
) -> None:
    store = Store(fail=8)
    reports = Reports()
    writer = reports.writer(store).start()
    writer.event(reading(1.0))
    wait_for(lambda: writer.written == 1, "the write after eight failures")
    assert pauses == [0.05, 0.2, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
    assert store.attempts == 9 and store.items == [reading(1.0)]
    assert len(reports.failed) == 1 and reports.recovered == 1
    assert writer.close()


def test_nothing_is_lost_however_long_the_store_fails_while_the_session_runs(
    pauses: list[float],
) -> None:
    store = Store(fail=5)
    writer = Reports().writer(store).start()
    for t in range(4):
        writer.event(reading(float(t)))
    wait_for(lambda: writer.written == 4, "every event")
    assert [item.t for item in store.items] == [0.0, 1.0, 2.0, 3.0]  # type: ignore[attr-defined]
    assert writer.close()


def test_closing_while_the_store_fails_gives_up_after_three_tries(pauses: list[float]) -> None:
    store = Store(fail=100)
    writer = Reports().writer(store).start()
    writer.event(reading(1.0))
    wait_for(lambda: store.attempts >= 1, "the first try")
    assert writer.close(timeout=5.0) is False
    assert store.attempts == 3
    assert writer.pending == 1 and store.items == []


def test_the_failure_reason_is_the_first_line_of_the_error_cut_to_200_characters(
    pauses: list[float],
) -> None:
    reports = Reports()
    writer = reports.writer(Store(fail=1, error=OSError("x" * 300 + "\nsecond line"))).start()
    writer.event(reading(1.0))
    wait_for(lambda: writer.written == 1, "the write")
    assert reports.failed == ["x" * 200]
    writer.close()


def test_an_error_without_a_message_is_reported_by_its_type(pauses: list[float]) -> None:
    reports = Reports()
    writer = reports.writer(Store(fail=1, error=TimeoutError())).start()
    writer.event(reading(1.0))
    wait_for(lambda: writer.written == 1, "the write", timeout=1.0)
    assert reports.failed == ["TimeoutError"]
    writer.close()


def test_written_counts_each_event_and_each_steps_effects() -> None:
    store = Store()
    writer = Reports().writer(store)
    assert writer.written == 0 and not writer.failing
    writer.start()
    writer.event(reading(1.0))
    writer.effects([Alert(t=1.0, kind="ceiling", severity="warning", message="high")] * 2)
    writer.effects([])  # a step without effects is nothing to write
    writer.event(Note(t=2.0, text="calm"))
    assert writer.close()
    assert writer.written == 3
    assert len(store.items) == 3 and len(store.items[1]) == 2  # type: ignore[arg-type]


def test_close_returns_at_once_when_nothing_waits() -> None:
    writer = Reports().writer(Store()).start()
    started = time.monotonic()
    assert writer.close()
    assert time.monotonic() - started < 1.0


def test_close_gives_up_after_its_timeout_when_the_store_hangs() -> None:
    store = Store()
    store.gate = threading.Semaphore(0)
    writer = Reports().writer(store).start()
    writer.event(reading(1.0))
    wait_for(lambda: store.attempts == 1, "the hanging write")
    started = time.monotonic()
    assert writer.close(timeout=0.2) is False
    assert time.monotonic() - started < 2.0
    store.gate.release()


def test_the_gap_is_named_only_once_the_queue_has_drained() -> None:
    store = Store()
    store.gate = threading.Semaphore(0)
    reports = Reports()
    writer = reports.writer(store, capacity=3).start()
    for t in range(8):
        writer.event(reading(float(t)))  # 0 is being written and 1-2 wait (3 in all); 3-7 lost
    store.gate.release()
    wait_for(lambda: len(store.items) == 1, "the first write")
    time.sleep(0.05)
    assert reports.gaps == []  # two still wait: the record is not yet whole up to the gap
    writer.event(reading(8.0))  # still catching up: lost too
    for _ in range(2):
        store.gate.release()
    wait_for(lambda: bool(reports.gaps), "the gap report")
    assert reports.gaps == [
        "6 events from t=3.0 s to t=8.0 s were not recorded: the database did not answer "
        "and the waiting queue was full"
    ]
    store.gate.release()
    writer.event(reading(9.0))
    assert writer.close()
    assert [item.t for item in store.items] == [0.0, 1.0, 2.0, 9.0]  # type: ignore[attr-defined]


def test_a_stalled_store_holds_100_000_items_before_any_is_lost() -> None:
    store = Store()
    gate = store.gate = threading.Semaphore(0)
    reports = Reports()
    writer = reports.writer(store).start()
    event = reading(1.0)
    writer.event(event)
    wait_for(lambda: store.attempts == 1, "the stalled write")
    for _ in range(99_999):
        writer.event(event)
    assert writer.pending == 100_000  # the one being written counts until it is done
    writer.event(reading(2.0))  # the 100,001st: lost
    store.gate = None
    gate.release()  # the store answers again: the rest is written without waiting
    wait_for(lambda: bool(reports.gaps), "the gap report", timeout=10.0)
    assert reports.gaps[0].startswith("1 events from t=2.0 s to t=2.0 s")
    assert writer.close()
    assert len(store.items) == 100_000


def test_a_writer_stuck_on_a_hung_store_does_not_keep_the_process_alive() -> None:
    store = Store()
    gate = store.gate = threading.Semaphore(0)
    before = set(threading.enumerate())
    writer = Reports().writer(store).start()
    writer.event(reading(1.0))
    wait_for(lambda: store.attempts == 1, "the hung write")
    started = [t for t in threading.enumerate() if t not in before]
    assert started and all(t.daemon for t in started)  # the interpreter may exit past them
    gate.release()
    assert writer.close()
