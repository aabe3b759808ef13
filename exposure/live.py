"""A running session on the control process's asyncio loop: the one writer of session state.

Everything that happens (a reading from the sensor thread, a command from the console, a button
in the headset, a tick of the clock) enters through `submit`, which records the event first
(write-ahead), then steps the pure core, then publishes the event and its effects to whoever
listens (the console's WebSockets, the render link, the records).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from exposure.core import step
from exposure.models import (
    Alert,
    Decision,
    Effect,
    Event,
    Reading,
    SessionStart,
    SessionState,
    Tick,
)

Recorder = Callable[[Event], object]
Message = dict[str, Any]

HISTORY_S = 3600.0
"""How much of the session the console's chart can fetch when it (re)connects."""


class LiveSession:
    """The session core on a loop, with write-ahead recording and publish/subscribe.

    `clock` returns seconds (monotonic); session time is `clock() - clock()` at start, so the
    first event of the record is at t = 0.
    """

    def __init__(
        self,
        start: SessionStart,
        *,
        clock: Callable[[], float] = time.monotonic,
        record: Recorder | None = None,
        session_id: int | str | None = None,
    ) -> None:
        self.clock = clock
        self.t0 = clock() - start.t
        self.record = record
        self.session_id = session_id
        self._subscribers: set[asyncio.Queue[Message]] = set()
        self._listeners: list[Callable[[Event, SessionState, list[Effect]], None]] = []
        self.readings: deque[Reading] = deque()
        self.decisions: list[Decision] = []
        self.alert_log: list[Alert] = []
        self.levels: list[tuple[float, int]] = []
        self.state: SessionState
        self._apply(start)

    # ------------------------------------------------------------------ time and input

    def now(self) -> float:
        """Seconds since the session started."""
        return self.clock() - self.t0

    def submit(self, event: Event) -> tuple[SessionState, list[Effect]]:
        """Record then step one event; its `t` is replaced by the session clock's now."""
        event = event.model_copy(update={"t": round(self.now(), 4)})
        return self._apply(event)

    def _apply(self, event: Event) -> tuple[SessionState, list[Effect]]:
        if self.record is not None:
            self.record(event)  # write-ahead: a crash after this line loses no decision
        previous = getattr(self, "state", None)
        self.state, effects = step(previous, event)
        self._remember(event, effects)
        for listener in self._listeners:
            listener(event, self.state, effects)
        if self._subscribers:
            self._publish_event(event, effects)
        return self.state, effects

    def _remember(self, event: Event, effects: list[Effect]) -> None:
        if isinstance(event, Reading):
            self.readings.append(event)
            while self.readings and self.readings[0].t < event.t - HISTORY_S:
                self.readings.popleft()
        if not self.levels or self.levels[-1][1] != self.state.level:
            self.levels.append((event.t, self.state.level))
        for effect in effects:
            if isinstance(effect, Decision):
                self.decisions.append(effect)
            elif isinstance(effect, Alert):
                self.alert_log.append(effect)

    # ------------------------------------------------------------------ listening

    def add_listener(
        self, listener: Callable[[Event, SessionState, list[Effect]], None], *, first: bool = False
    ) -> None:
        """Call `listener(event, state, effects)` synchronously after every step (render link).

        Listeners run in the order added; `first` puts this one before the others (a
        measurement that must see the step before its effects are recorded and sent).
        """
        if first:
            self._listeners.insert(0, listener)
        else:
            self._listeners.append(listener)

    def subscribe(self, maxsize: int = 2000) -> asyncio.Queue[Message]:
        """A queue of messages: every event and effect, plus whatever `publish` sends."""
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=maxsize)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message]) -> None:
        self._subscribers.discard(queue)

    def publish(self, message: Message) -> None:
        """Send a message to every subscriber; a subscriber that falls behind loses its oldest."""
        for queue in self._subscribers:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    def _publish_event(self, event: Event, effects: list[Effect]) -> None:
        if not isinstance(event, Tick):
            self.publish({"kind": "event", "data": event.model_dump(mode="json")})
        for effect in effects:
            self.publish({"kind": effect.type, "data": effect.model_dump(mode="json")})

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-ready data, with the console's headline figures."""
        return state_summary(self.state, session_id=self.session_id)

    async def tick_forever(self, period_s: float = 0.25) -> None:
        """Tick the core so a stale signal or an expired alert is noticed without readings."""
        while self.state.phase != "ended":
            await asyncio.sleep(period_s)
            self.submit(Tick(t=0.0))


def state_summary(state: SessionState, session_id: int | str | None = None) -> dict[str, Any]:
    """The session state for the console and the API: everything but the raw signal buffers."""
    data = state.model_dump(mode="json", exclude={"recent", "baseline_samples"})
    data["session_id"] = session_id
    data["level_name"] = state.ladder.level_name(state.level)
    data["top"] = state.ladder.top
    data["dwell_s"] = round(state.t - state.level_since, 1)
    return data
