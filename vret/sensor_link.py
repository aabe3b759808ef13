"""The sensor thread's bridge into the control loop: readings and connection changes as events.

The hand-off is bounded. A device gone wrong (a wrong protocol setting, a firmware in debug mode,
a bridge replaying its buffer) can send thousands of lines a second; one loop callback per
reading, as this link once scheduled, let such a flood starve the console and the ticks. So the
sensor thread thins readings to at most `max_readings_per_s` (50 by default: real heart sensors
send one to a few a second), dropping the rest evenly, and puts what passes in a short queue that
ONE scheduled drain empties in batches. The first second of each flood is measured and recorded
once, as a `sensor_flood` system event, so the record says why readings were thinned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from dataclasses import dataclass

from exposure.live import LiveSession
from exposure.models import Reading, SystemEvent
from sensors.source import SerialSource

log = logging.getLogger(__name__)

MAX_READINGS_PER_S = 50.0
"""Readings a second the core takes from the sensor: ten times any real heart sensor's rate."""
FLOOD_QUIET_S = 10.0
"""A flood ends after this long with nothing thinned; the next one is recorded anew."""
DRAIN_BATCH = 16
"""Events one drain callback steps before it yields the loop to other callbacks."""


class FloodGate:
    """Thins a stream of readings to at most `max_per_s` in any second, evenly, and notices floods.

    Pure: time (the sensor's arrival time of each reading) is passed in. A token bucket that holds
    `burst` readings (a tenth of a second's worth, at least one, so the two or three readings one
    serial read can complete all pass) and refills at `max_per_s - burst` a second: no window of
    one second lets more than `max_per_s` through, and a steady flood passes one reading every
    1 / (max_per_s - burst) seconds, the rest dropped between them.
    """

    def __init__(self, max_per_s: float = MAX_READINGS_PER_S, quiet_s: float = FLOOD_QUIET_S):
        if not max_per_s > 1.0:
            raise ValueError(f"The reading cap must be above 1 a second, not {max_per_s}.")
        self.max_per_s = max_per_s
        self.quiet_s = quiet_s  # no drop for this long ends a flood episode
        self.burst = max(1.0, max_per_s / 10.0)
        self.refill_per_s = max_per_s - self.burst
        self.passed = 0
        self.dropped = 0
        self.floods = 0
        """Flood episodes seen (each reported once by `take_flood`)."""
        self._tokens = self.burst
        self._last_t: float | None = None
        self._window_start: float | None = None
        self._window_arrivals = 0
        self._window_dropped = 0
        self._flooding = False
        self._last_drop_t: float | None = None
        self._flood_rate: float | None = None

    def admit(self, t: float) -> bool:
        """True when the reading that arrived at `t` (seconds) goes on to the core."""
        if self._last_t is not None and t > self._last_t:
            elapsed = t - self._last_t
            self._tokens = min(self.burst, self._tokens + elapsed * self.refill_per_s)
        if self._last_t is None or t > self._last_t:
            self._last_t = t
        self._measure(t)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.passed += 1
            return True
        self.dropped += 1
        self._window_dropped += 1
        self._last_drop_t = t
        return False

    def _measure(self, t: float) -> None:
        """Count arrivals in one-second windows; one with drops that came faster than the steady
        pass rate starts a flood."""
        if (
            self._flooding
            and self._last_drop_t is not None
            and t - self._last_drop_t >= self.quiet_s
        ):
            self._flooding = False
        if self._window_start is None or t < self._window_start:
            self._window_start, self._window_arrivals, self._window_dropped = t, 0, 0
        elapsed = t - self._window_start
        if elapsed >= 1.0:
            rate = self._window_arrivals / elapsed
            # A backlog read at once after a stall (a busy CPU, a paused process) can overrun the
            # bucket for an instant; only a second that came in faster than the steady pass rate
            # is a flood.
            if self._window_dropped and rate > self.refill_per_s and not self._flooding:
                self._flooding = True
                self.floods += 1
                self._flood_rate = rate
            self._window_start, self._window_arrivals, self._window_dropped = t, 0, 0
        self._window_arrivals += 1

    def take_flood(self) -> float | None:
        """The arrival rate (readings/s) of a flood that began since the last call, else None.

        Each flood episode gives one rate: it is measured over the flood's first full second.
        """
        rate, self._flood_rate = self._flood_rate, None
        return rate


@dataclass(frozen=True)
class _Status:
    kind: str
    sentence: str


@dataclass(frozen=True)
class _Flood:
    readings_per_s: float


class SensorLink:
    """The sensor thread's bridge into the loop: readings and connection changes become events.

    `max_readings_per_s` caps the readings the core gets (see `FloodGate`); a status never
    waits behind the cap or gets dropped, and everything reaches the loop in the order the
    thread saw it. Counters for the console and tests: `gate.passed`, `gate.dropped`,
    `dropped_behind` (readings dropped because the loop fell more than `pending_max` behind),
    and `handoff_delay_max_s` (sensor arrival to the core, the worst seen).
    """

    def __init__(
        self,
        live: LiveSession,
        loop: asyncio.AbstractEventLoop,
        url: str,
        protocol: str,
        *,
        baudrate: int | None = None,
        sample_rate: float | None = None,
        max_readings_per_s: float = MAX_READINGS_PER_S,
        flood_quiet_s: float = FLOOD_QUIET_S,
    ) -> None:
        self.live = live
        self.loop = loop
        self.connected = False
        self.ever_connected = False
        self.last_error = ""
        self.last_decoder_error = ""
        self.handoff_failures = 0
        """Events the hand-off could not pass to the core (the first, and every 100th, alert)."""
        self.gate = FloodGate(max_readings_per_s, flood_quiet_s)
        self.pending_max = max(16, int(2 * max_readings_per_s))
        """Readings waiting for the loop, at most (two seconds' worth at the cap)."""
        self.dropped_behind = 0
        self.handoff_delay_max_s = 0.0
        self._pending: deque[Reading | _Status | _Flood] = deque()
        self._pending_readings = 0
        self._lock = threading.Lock()
        self._drain_scheduled = False
        self.source = SerialSource(
            url,
            protocol,
            baudrate=baudrate,
            sample_rate=sample_rate,
            on_reading=self._reading_from_thread,
            on_status=self._status_from_thread,
            clock=live.clock,  # readings carry their arrival time on the session's clock
        )

    def start(self) -> None:
        self.source.start()

    def stop(self) -> None:
        self.source.stop()

    # ------------------------------------------------------------------ the sensor thread

    def _reading_from_thread(self, reading: Reading) -> None:
        admitted = self.gate.admit(reading.t)
        rate = self.gate.take_flood()
        if rate is not None:
            self._put(_Flood(rate))
        if admitted:
            self._put(reading)

    def _status_from_thread(self, kind: str, sentence: str) -> None:
        self._put(_Status(kind, sentence))

    def _put(self, item: Reading | _Status | _Flood) -> None:
        with self._lock:
            if isinstance(item, Reading):
                if self._pending_readings >= self.pending_max:
                    self.dropped_behind += 1  # the loop is stuck: old readings are of no use
                    return
                self._pending_readings += 1
            self._pending.append(item)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop has closed: the session is over
            self.loop.call_soon_threadsafe(self._drain)

    # ------------------------------------------------------------------ the loop

    def _drain(self) -> None:
        with self._lock:
            batch = [self._pending.popleft() for _ in range(min(DRAIN_BATCH, len(self._pending)))]
            self._pending_readings -= sum(isinstance(item, Reading) for item in batch)
            more = bool(self._pending)
            self._drain_scheduled = more
        if more:  # the rest in a later callback, so a backlog never holds the loop
            self.loop.call_soon(self._drain)
        for item in batch:
            try:
                if isinstance(item, Reading):
                    self._reading(item)
                elif isinstance(item, _Status):
                    self._status(item.kind, item.sentence)
                else:
                    self._flood(item.readings_per_s)
            except Exception as err:  # one failed event must not lose the rest of the batch
                log.exception("The sensor link could not hand on %r", item)
                self.handoff_failures += 1
                if self.handoff_failures == 1 or self.handoff_failures % 100 == 0:
                    why = f"sensor hand-off: {type(err).__name__}: {err}".splitlines()[0][:200]
                    with contextlib.suppress(Exception):  # the alert itself may be what fails
                        self.live.submit(SystemEvent(t=0.0, kind="task_failed", detail=why))

    def _reading(self, reading: Reading) -> None:
        self.handoff_delay_max_s = max(self.handoff_delay_max_s, self.live.clock() - reading.t)
        if self.live.state.phase != "ended":  # the record closes with the session's end
            self.live.submit(reading, at=reading.t)  # the time the sensor's reading arrived

    def _flood(self, readings_per_s: float) -> None:
        detail = (
            f"{readings_per_s:,.0f} readings/s from the sensor, thinned to "
            f"at most {self.gate.max_per_s:g}/s: check the sensor's protocol and output rate."
        )
        log.warning("Sensor flood: %s", detail)
        if self.live.state.phase != "ended":
            self.live.submit(SystemEvent(t=0.0, kind="sensor_flood", detail=detail))

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
        elif kind == "decoder_error":  # the decoder was replaced and readings go on
            self.last_decoder_error = sentence
            self.live.submit(SystemEvent(t=0.0, kind="sensor_decoder_error", detail=sentence))
            log.warning("%s", sentence)
