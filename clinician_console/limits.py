"""The request body cap: a command is a few hundred bytes, so the console reads at most 64 KiB.

A body over the cap gets 413 without being read further (a `Content-Length` over it is refused
before a byte of it arrives); a body that trickles in slower than `timeout_s` gets 408, so a
stalled upload cannot hold a request open forever. Either way nothing reaches the session.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
BODY_TIMEOUT_S = 10.0

TOO_LARGE = (
    "The request is over {kib} KiB: the console takes one command at a time, and a note holds "
    "at most 2000 characters."
)
TOO_SLOW = "The request body took over {seconds:g} s to arrive: send it again."


class BodyLimit:
    """ASGI middleware: buffers each HTTP request body up to `max_bytes`, within `timeout_s`."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        timeout_s: float = BODY_TIMEOUT_S,
        larger: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.larger = larger
        """(path prefix, cap) for the few routes that take more (a recorded voice line)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        cap = next((n for prefix, n in self.larger if path.startswith(prefix)), self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(send, 413, TOO_LARGE.format(kib=cap // 1024))
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                body, last = await self._read(receive, cap)
        except TimeoutError:
            await _refuse(send, 408, TOO_SLOW.format(seconds=self.timeout_s))
            return
        if body is None:
            await _refuse(send, 413, TOO_LARGE.format(kib=cap // 1024))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only http.disconnect is left to come

        if last.get("type") == "http.disconnect":
            return  # the client went away while sending; nobody to answer
        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, cap: int) -> tuple[bytes | None, Message]:
        """The whole body, or None once it passes the cap; and the last message received."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                return None, message
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), message


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read: this connection is done
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
