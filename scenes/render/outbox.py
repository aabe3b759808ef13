"""The render process's end of the pipe: read without blocking, send from a small thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection

from scenes.render.messages import FromRender, ToRender

_NOTHING: tuple[ToRender, ...] = ()


class Outbox:
    """Sends render -> control messages from a small thread, so the frame loop never blocks.

    If the control process stops reading, the pipe fills; then bulk messages (frame times,
    thumbnails) beyond `bulk_limit` waiting are dropped and counted, while client input,
    watchdog, problem and frame-effect messages (small, one per event) still queue.
    """

    def __init__(self, conn: Connection, bulk_limit: int = 8) -> None:
        self.conn = conn
        self.bulk_limit = bulk_limit
        self.bulk_waiting = 0
        self.dropped = 0
        self.broken = False
        self._queue: queue.SimpleQueue[tuple[FromRender | None, bool]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="vret-outbox", daemon=True)
        self._thread.start()

    def send(self, msg: FromRender, bulk: bool = False) -> None:
        if self.broken:
            return
        if bulk:
            with self._lock:
                if self.bulk_waiting >= self.bulk_limit:
                    self.dropped += 1
                    return
                self.bulk_waiting += 1
        self._queue.put((msg, bulk))

    def _run(self) -> None:
        while True:
            msg, bulk = self._queue.get()
            if msg is None:
                return
            try:
                if not self.broken:
                    self.conn.send(msg)
            except (OSError, EOFError, ValueError):
                self.broken = True
            finally:
                if bulk:
                    with self._lock:
                        self.bulk_waiting -= 1

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (up to `timeout`), then stop the thread."""
        self._queue.put((None, False))
        self._thread.join(timeout)


class ControlPipe:
    """The pipe to the control process, as the frame loop sees it: never waits on it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.outbox = Outbox(conn)
        self.closed_at: float | None = None
        """When the control process's end was found closed (then nothing more is sent)."""

    def receive(self, now: float) -> Sequence[ToRender]:
        """Every message waiting, oldest first; an empty tuple (no allocation) when none."""
        if self.closed_at is not None:
            return _NOTHING
        conn = self.conn
        out: list[ToRender] | None = None
        try:
            while conn.poll():
                if out is None:
                    out = []
                out.append(conn.recv())
        except (EOFError, OSError):
            self.closed_at = now
        return out if out is not None else _NOTHING

    def send(self, msg: FromRender, bulk: bool = False) -> None:
        """Queue `msg` for the control process; `bulk` ones are dropped when the pipe is full."""
        if self.closed_at is None:
            self.outbox.send(msg, bulk)

    @property
    def dropped(self) -> int:
        return self.outbox.dropped

    def close(self) -> None:
        self.outbox.close()
