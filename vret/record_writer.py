"""The records' writer thread: the control loop hands events over and never waits for a disk.

`LiveSession` calls `event(e)` before it steps `e` (write-ahead: the record's order is the
order the core saw), and the station hands over each step's Decisions and Alerts with
`effects(...)`. Both return at once; one thread commits them in that order. While the store
fails (disk full, SQLite locked by another process, PostgreSQL restarting) the thread retries
the same item with a growing pause, nothing is reordered, and `on_failed(reason)` is called
once; `on_recovered()` when a write succeeds again. Items wait in a bounded queue
(`capacity`); if it overflows, newer items are dropped and, once the queue has drained,
`on_gap(detail)` names the interval that is missing, so the record says so itself.

Why a thread and not a commit on the loop: an SQLite commit took 0.23 ms at the median but a
locked database or a PostgreSQL server restarting holds a commit for seconds, and the loop
also carries Safe, the console and the headset's heartbeat.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence

from exposure.models import Effect, Event
from vret.records import Records

log = logging.getLogger(__name__)

RETRY_S = (0.05, 0.2, 0.5, 1.0, 2.0)
"""Pauses between tries of a write that failed; the last one repeats."""


class RecordWriter:
    """Commits one session's events and effects, in order, from a thread of its own."""

    def __init__(
        self,
        records: Records,
        session_id: int,
        *,
        on_failed: Callable[[str], None],
        on_recovered: Callable[[], None],
        on_gap: Callable[[str], None],
        capacity: int = 100_000,
    ) -> None:
        self.records = records
        self.session_id = session_id
        self.on_failed = on_failed
        self.on_recovered = on_recovered
        self.on_gap = on_gap
        self.capacity = capacity
        self.written = 0
        """Items committed so far (an event, or one step's effects)."""
        self.failing = False
        self._queue: deque[tuple[str, Event | Sequence[Effect]]] = deque()
        self._lost = 0
        self._lost_from: float | None = None
        self._lost_to = 0.0
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="vret-records", daemon=True)

    def start(self) -> RecordWriter:
        self._thread.start()
        return self

    # ------------------------------------------------------------------ the loop's side

    def event(self, event: Event) -> None:
        """Queue one event (returns at once)."""
        self._put("event", event, event.t)

    def effects(self, effects: Sequence[Effect]) -> None:
        """Queue the Decisions and Alerts of the step just taken (returns at once)."""
        if effects:
            self._put("effects", effects, effects[0].t)

    def _put(self, kind: str, item: Event | Sequence[Effect], t: float) -> None:
        with self._cond:
            if len(self._queue) >= self.capacity or self._lost:
                # full, or still catching up after a loss: keep the order, count what is lost
                if kind == "event":
                    self._lost += 1
                    self._lost_from = t if self._lost_from is None else self._lost_from
                    self._lost_to = t
                return
            self._queue.append((kind, item))
            self._cond.notify()

    @property
    def pending(self) -> int:
        """Items waiting to be written."""
        with self._cond:
            return len(self._queue)

    def close(self, timeout: float = 5.0) -> bool:
        """Write what waits (for up to `timeout` s) and stop; True when nothing was left."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        return not self._queue

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                kind, item = self._queue[0]
            if not self._write(kind, item):
                return  # closing while the store still fails: what waits is lost with it
            with self._cond:
                self._queue.popleft()
                drained = not self._queue and self._lost
                if drained:
                    lost, start, end = self._lost, self._lost_from, self._lost_to
                    self._lost, self._lost_from = 0, None
            if drained:
                self.on_gap(
                    f"{lost} events from t={start:.1f} s to t={end:.1f} s were not recorded: "
                    "the database did not answer and the waiting queue was full"
                )

    def _write(self, kind: str, item: Event | Sequence[Effect]) -> bool:
        tries = 0
        while True:
            try:
                if kind == "event":
                    self.records.append(self.session_id, item)  # type: ignore[arg-type]
                else:
                    self.records.append_effects(self.session_id, item)  # type: ignore[arg-type]
            except Exception as err:
                if not self.failing:
                    self.failing = True
                    log.warning("the records cannot be written: %s", err)
                    self.on_failed(_first_line(err))
                with self._cond:
                    if self._closing and tries >= 2:
                        return False
                    self._cond.wait(RETRY_S[min(tries, len(RETRY_S) - 1)])
                tries += 1
                continue
            self.written += 1
            if self.failing:
                self.failing = False
                log.warning("the records are written again")
                self.on_recovered()
            return True


def _first_line(err: BaseException) -> str:
    """The error's first line for the console (its type when it has no message)."""
    lines = str(err).splitlines()
    return (lines[0] if lines else "")[:200] or type(err).__name__
