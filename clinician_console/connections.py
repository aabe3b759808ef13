"""Connections the console holds: a cap, a deadline for headers and handshakes, TLS after accept.

The console shares its process with the serial port, the records database and the session loop,
so idle sockets must not pile up: each holds a file descriptor, and when a process runs out of
them it can accept nothing and open nothing (not the serial port after a replug, not the
database). Three rules keep them bounded, on top of uvicorn's h11 protocol:

- At most `max_connections` HTTP connections are open. A new one past the cap closes the
  connection that has been idle longest (no request running: never one that is answering), as
  nginx drains its idle keep-alive connections; a new connection is refused only when every
  other one is busy. A thousand sockets that connect and say nothing therefore cost at most
  `max_connections` descriptors and never lock out the therapist's next request.
- A connection must finish its TLS handshake and each request's headers within
  `header_timeout_s` (a slow-header "slowloris" client gets closed); between requests uvicorn's
  keep-alive timeout closes it sooner.
- TLS is started by the protocol after accept (`loop.start_tls`) instead of by the listening
  socket, so a socket stuck in its handshake counts against the cap and the deadline too.

WebSocket connections leave this count once upgraded; the app limits them on its own.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class ConnectionLimits:
    """The figures of the three rules above."""

    max_connections: int = 100
    header_timeout_s: float = 10.0


class ConnectionTable:
    """The open HTTP connections of one server, least recently active first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._open: dict[GuardedHTTP, None] = {}
        self.evicted = 0
        """Idle connections closed to make room (for tests and the curious)."""

    def __len__(self) -> int:
        return len(self._open)

    def add(self, conn: GuardedHTTP) -> bool:
        """Register a new connection; False when it must be refused (all others are busy)."""
        self._open[conn] = None
        while len(self._open) > self.limits.max_connections:
            victim = next((c for c in self._open if c is not conn and c.idle), None)
            if victim is None:
                self.discard(conn)
                return False
            self.evicted += 1
            victim.close()
        return True

    def touch(self, conn: GuardedHTTP) -> None:
        """Mark `conn` as the most recently active (a request has started on it)."""
        if conn in self._open:
            del self._open[conn]
            self._open[conn] = None

    def discard(self, conn: GuardedHTTP) -> None:
        self._open.pop(conn, None)

    def close_handshaking(self) -> None:
        """Close connections still in their TLS handshake (at shutdown: uvicorn cannot see them)."""
        for conn in [c for c in self._open if not c.ready]:
            conn.close()


class GuardedHTTP(H11Protocol):
    """uvicorn's h11 protocol under the console's connection rules. Made by `guarded_http`."""

    table: ConnectionTable
    tls: ssl.SSLContext | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._raw: asyncio.Transport | None = None
        self._ready = False  # uvicorn's connection_made has run (after the handshake with TLS)
        self._early = bytearray()  # bytes that came before that
        self._deadline: asyncio.TimerHandle | None = None
        self._handshake: asyncio.Task[None] | None = None
        self._closed = False

    # ------------------------------------------------------------------ state

    @property
    def ready(self) -> bool:
        """True once the connection speaks HTTP (after its TLS handshake, if any)."""
        return self._ready

    @property
    def idle(self) -> bool:
        """True when no request is being answered (waiting for one, or still handshaking)."""
        return not self._ready or self.cycle is None or self.cycle.response_complete

    def close(self) -> None:
        """Close this connection now, whatever its state."""
        self._closed = True
        self._cancel_deadline()
        self.table.discard(self)
        if self._handshake is not None:
            self._handshake.cancel()
        transport = self.transport if self._ready else self._raw
        if transport is not None and not transport.is_closing():
            transport.close()

    def _arm_deadline(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self.table.limits.header_timeout_s, self._expire)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.idle:
            self.close()

    # ------------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._raw = transport
        if not self.table.add(self):
            self._closed = True
            transport.close()
            return
        self._arm_deadline()
        if self.tls is None:
            self._begin(transport)
            return
        transport.pause_reading()  # no byte reaches h11 before the handshake is done
        self._handshake = self.loop.create_task(self._start_tls(transport, self.tls))

    async def _start_tls(self, raw: asyncio.Transport, context: ssl.SSLContext) -> None:
        try:
            transport = await self.loop.start_tls(
                raw,
                self,
                context,
                server_side=True,
                ssl_handshake_timeout=self.table.limits.header_timeout_s,
            )
        except (OSError, ssl.SSLError, TimeoutError, asyncio.CancelledError, ConnectionError):
            self._handshake = None  # done: close() must not cancel the task it runs in
            self.close()  # a failed, evicted or timed-out handshake: nothing to answer
            return
        self._handshake = None
        if transport is None or self._closed:
            self.close()
            return
        self._begin(transport)

    def _begin(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._ready = True
        if self._early:
            early, self._early = bytes(self._early), bytearray()
            self.data_received(early)

    def data_received(self, data: bytes) -> None:
        if not self._ready:
            self._early += data  # decrypted bytes delivered before start_tls returned
            return
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before:  # a request's headers are in: the deadline is met
            self._cancel_deadline()
            self.table.touch(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_deadline()  # the next request's headers get the same deadline

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._cancel_deadline()
        self.table.discard(self)  # a live stream now; the app counts those
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self.table.discard(self)
        if self._ready:  # else it never got past the handshake: uvicorn knows nothing of it
            super().connection_lost(exc)


def guarded_http(limits: ConnectionLimits, tls: ssl.SSLContext | None) -> type[GuardedHTTP]:
    """A protocol class for one server (uvicorn's `http=`): its own table, its TLS context."""
    table = ConnectionTable(limits)
    return type("ConsoleHTTP", (GuardedHTTP,), {"table": table, "tls": tls})
