"""The sensor thread's bridge into the control loop: readings and connection changes as events."""

from __future__ import annotations

import asyncio

from exposure.live import LiveSession
from exposure.models import Reading, SystemEvent
from sensors.source import SerialSource


class SensorLink:
    """The sensor thread's bridge into the loop: readings and connection changes become events."""

    def __init__(
        self,
        live: LiveSession,
        loop: asyncio.AbstractEventLoop,
        url: str,
        protocol: str,
        *,
        baudrate: int | None = None,
        sample_rate: float | None = None,
    ) -> None:
        self.live = live
        self.loop = loop
        self.connected = False
        self.ever_connected = False
        self.last_error = ""
        self.source = SerialSource(
            url,
            protocol,
            baudrate=baudrate,
            sample_rate=sample_rate,
            on_reading=self._reading_from_thread,
            on_status=self._status_from_thread,
        )

    def start(self) -> None:
        self.source.start()

    def stop(self) -> None:
        self.source.stop()

    def _reading_from_thread(self, reading: Reading) -> None:
        self.loop.call_soon_threadsafe(self._reading, reading)

    def _reading(self, reading: Reading) -> None:
        if self.live.state.phase != "ended":  # the record closes with the session's end
            self.live.submit(reading)

    def _status_from_thread(self, kind: str, sentence: str) -> None:
        self.loop.call_soon_threadsafe(self._status, kind, sentence)

    def _status(self, kind: str, sentence: str) -> None:
        if kind == "connected":
            if self.ever_connected and not self.connected:
                self.live.submit(SystemEvent(t=0.0, kind="sensor_reconnected", detail=sentence))
            self.connected = self.ever_connected = True
        elif kind in ("disconnected", "error"):
            self.last_error = sentence
            if self.connected or not self.ever_connected:
                self.live.submit(SystemEvent(t=0.0, kind="sensor_disconnected", detail=sentence))
            self.connected = False
            self.ever_connected = True  # so the first connection after an error is a reconnect
