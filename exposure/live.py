"""A running session on the control process's asyncio loop: the one writer of session state.

Everything that happens (a reading from the sensor thread, a command from the console, a button
in the headset, a tick of the clock) enters through `submit`, which records the event first
(write-ahead), then steps the pure core, then publishes the event and its effects to whoever
listens (the console's WebSockets, the render link, the records).

The panic invariant: a failure around the core never stops a step. If recording raises, the
event is still stepped (a Safe still reaches the headset) and the core is told the records are
failing, which puts a critical alert on the console until a later record succeeds. A listener
that raises is logged and the listeners after it still run, so the headset hears its target
even when, say, the console's publisher fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from exposure.coach import Coach
from exposure.core import baseline_text, step
from exposure.episodes import EpisodeKey, episode_key
from exposure.models import (
    Alert,
    Decision,
    Effect,
    Event,
    Expectancy,
    Measure,
    Reading,
    SessionStart,
    SessionState,
    SystemEvent,
    Tick,
)

log = logging.getLogger(__name__)

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
        coach: Coach | None = None,
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
        """One entry per alert episode, in the order they began; an update replaces its entry."""
        self._episode_index: dict[EpisodeKey, int] = {}
        self.levels: list[tuple[float, int]] = []
        self.measures: list[Measure | Expectancy] = []
        """The session's questionnaires, sickness and expectancy ratings (the console's panel)."""
        self.records_failing = False
        """True from a failed record until one succeeds again (the console's alert says so)."""
        self.listener_failures = 0
        self._record_raised = False
        self._system: deque[SystemEvent] = deque()
        self._applying = False
        self.coach = coach
        """The coach in the headset, when the session has one: answers each step with a line."""
        self.state: SessionState
        self._apply(start)

    # ------------------------------------------------------------------ time and input

    def now(self) -> float:
        """Seconds since the session started."""
        return self.clock() - self.t0

    def submit(self, event: Event, *, at: float | None = None) -> tuple[SessionState, list[Effect]]:
        """Record then step one event; its `t` is set by the session clock.

        `at` is when the event really happened, read on this session's `clock` (a reading's
        arrival on the sensor thread, before the hand-off to the loop): the event keeps that
        time, never earlier than the last event stepped and never later than now, so the core's
        time only moves forward. Without `at` the event happens now.
        """
        now = self.now()
        t = now if at is None else min(max(at - self.t0, self.state.t), now)
        return self._apply(event.model_copy(update={"t": round(t, 4)}))

    def _apply(self, event: Event) -> tuple[SessionState, list[Effect]]:
        self._record(event)  # write-ahead: the record has the event before the core acts on it
        previous = getattr(self, "state", None)
        self.state, effects = step(previous, event)
        self._remember(event, effects)
        for listener in self._listeners:
            try:
                listener(event, self.state, effects)
            except Exception:  # one listener's failure must not keep the others from the step
                self.listener_failures += 1
                log.exception("listener %r failed on a %s event", listener, event.type)
        if self._subscribers:
            self._publish_event(event, effects)
        if self.coach is not None:
            self._coach_after(event, effects)
        if self._system and not self._applying:
            self._applying = True  # what happened to the records is stepped after this event
            try:
                while self._system:
                    self._apply(self._system.popleft().model_copy(update={"t": event.t}))
            finally:
                self._applying = False
        return self.state, effects

    def _coach_after(self, event: Event, effects: list[Effect]) -> None:
        """Step the coach's line for this event at the event's time, after everything else."""
        assert self.coach is not None
        try:
            line = self.coach.respond(event, self.state, effects)
        except Exception:  # the coach only talks: a fault in it must not touch the session
            self.listener_failures += 1
            log.exception("the coach failed on a %s event", event.type)
            return
        if line is not None:
            self._apply(line.model_copy(update={"t": event.t}))

    def _record(self, event: Event) -> None:
        if self.record is None:
            return
        try:
            self.record(event)
        except Exception as err:
            log.warning("recording a %s event failed: %s", event.type, err)
            self._record_raised = True
            self.record_failed(f"{type(err).__name__}: {err}".splitlines()[0][:200])
        else:
            if self._record_raised and not isinstance(event, SystemEvent):
                self._record_raised = False  # the recorder that raised took an event again
                self.record_recovered()

    def record_failed(self, reason: str) -> None:
        """The records could not be written: tell the core once (a critical console alert)."""
        if not self.records_failing:
            self.records_failing = True
            self._system.append(SystemEvent(t=0.0, kind="records_failing", detail=reason))

    def record_recovered(self) -> None:
        """The records are written again: clear the alert."""
        if self.records_failing:
            self.records_failing = False
            self._system.append(SystemEvent(t=0.0, kind="records_recovered"))

    def record_gap(self, detail: str) -> None:
        """Events were lost before they could be written: the record says which interval."""
        self._system.append(SystemEvent(t=0.0, kind="records_gap", detail=detail))

    def flush_system(self) -> None:
        """Step the system events waiting (called by a thread-safe hand-off between events)."""
        if self._system and not self._applying:
            self.submit(self._system.popleft())
            # the rest follow in _apply

    def _remember(self, event: Event, effects: list[Effect]) -> None:
        if isinstance(event, Reading):
            self.readings.append(event)
            while self.readings and self.readings[0].t < event.t - HISTORY_S:
                self.readings.popleft()
        elif isinstance(event, Measure | Expectancy):
            self.measures.append(event)
        if not self.levels or self.levels[-1][1] != self.state.level:
            self.levels.append((event.t, self.state.level))
        for effect in effects:
            if isinstance(effect, Decision):
                self.decisions.append(effect)
            elif isinstance(effect, Alert):
                self._log_alert(effect)

    def _log_alert(self, alert: Alert) -> None:
        key = episode_key(alert)
        index = self._episode_index.get(key)
        if index is None:
            self._episode_index[key] = len(self.alert_log)
            self.alert_log.append(alert)
        else:  # the same episode: its text changed or it cleared
            self.alert_log[index] = alert

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
        while True:
            await asyncio.sleep(period_s)
            if self.state.phase == "ended":  # the session ended while this tick slept
                return
            self.submit(Tick(t=0.0))


def state_summary(state: SessionState, session_id: int | str | None = None) -> dict[str, Any]:
    """The session state for the console and the API: everything but the raw signal buffers."""
    data = state.model_dump(mode="json", exclude={"recent", "baseline_samples"})
    data["session_id"] = session_id
    data["level_name"] = state.ladder.level_name(state.level)
    data["top"] = state.ladder.top
    data["dwell_s"] = round(state.t - state.level_since, 1)
    data["baseline_text"] = baseline_text(state)
    return data
