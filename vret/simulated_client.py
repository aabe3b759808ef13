"""The one simulated client: a heart that feels the exposure level, worn on a simulated sensor.

`vret demo`, `vret console --simulate`, the tests and the benchmarks all use `SimulatedClient`:
the sensors package's `SimulatedHeart` (it rises with the exposure level after a lag,
habituates while the level holds, calms in the safe scene and sways with breathing) speaking a
real device protocol on a pseudo-terminal (`PtySimulator`), so a simulated session goes through
the code path of hardware: pyserial, the decoder, signal quality, the records. `wear(live)`
makes the heart follow the scene targets the session sends to the headset.

`reading(live)` reads the same heart directly as a `Reading`, without the device, for tests
that fast-forward a console session faster than a pty could carry it.

The client also answers SUDS, as a client does on the panel in the headset: a few seconds after
the therapist asks (`ask_suds`) or the console's reminder comes due, which is before each
automatic step up, so a demo climbs the ladder with no one at the console. It answers the
coach's questions the same way: SUDS, and its expectancy before a step and after it.
"""

from __future__ import annotations

import asyncio

from exposure.constants import HR_MAX_BPM, HR_MIN_BPM
from exposure.live import LiveSession
from exposure.models import (
    SAFE_LEVEL,
    AskSuds,
    CoachLine,
    ControlSettings,
    Effect,
    Event,
    Expectancy,
    Ladder,
    Reading,
    SceneTarget,
    SessionStart,
    SessionState,
    Suds,
)
from scenes.registry import get, scene_events
from sensors.simulator import PtySimulator, SimulatedHeart

DEMO_SCENE = "spiders"

ANSWER_AFTER_S = 3.0
"""How long the simulated client takes to give a SUDS rating once it is asked or due."""

DEMO_SETTINGS = ControlSettings(
    baseline_s=15.0,
    min_baseline_readings=10,
    min_dwell_s=20.0,
    arousal_window_s=5.0,
    trend_window_s=15.0,
    ceiling_sustain_s=6.0,
    suds_reminder_s=120.0,  # the reminder comes at the dwell (20 s) anyway, before a step up
)
"""Thresholds as in a clinic, times shortened so a demo shows every rule within minutes."""

DEMO_NOTICE = (
    "Simulated session: a generated heart signal and shortened times (15 s baseline, 20 s at "
    "a level before stepping up) so you can watch the controller work. Not a client session."
)


def demo_heart(seed: int = 0, *, artefacts_per_min: float = 0.0) -> SimulatedHeart:
    """The demo's heart, tuned to the demo times: rest near 68 bpm, a clear reaction per level."""
    return SimulatedHeart(
        68.0,
        reactivity_bpm=3.3,
        lag_s=5.0,
        habituation_s=45.0,
        variability_bpm=1.5,
        artefacts_per_min=artefacts_per_min,
        seed=seed,
    )


def demo_ladder() -> tuple[Ladder, tuple[str, ...]]:
    """The demo scene's default ladder and its scene events."""
    return get(DEMO_SCENE).ladder, scene_events(DEMO_SCENE)


def demo_session(client: str = "DEMO-01", **kwargs: object) -> tuple[LiveSession, tuple[str, ...]]:
    """A LiveSession on the demo ladder with the demo settings; returns it and its scene events."""
    ladder, events = demo_ladder()
    start = SessionStart(client=client, ladder=ladder, settings=DEMO_SETTINGS)
    return LiveSession(start, **kwargs), events  # type: ignore[arg-type]


class SimulatedClient:
    """A simulated client wearing a simulated sensor that speaks `protocol` on a pty.

    `heart` defaults to the demo's heart; `rate` is the device's output rate (None: the
    protocol's own). `start()` opens the device and returns its port path; `wear(live)` makes
    the heart follow the session's scene targets; `stop()` closes the device.
    """

    def __init__(
        self,
        protocol: str = "cms50-v7",
        heart: SimulatedHeart | None = None,
        *,
        rate: float | None = None,
        seed: int = 0,
    ) -> None:
        self.heart = heart if heart is not None else demo_heart(seed)
        self.protocol = protocol
        self.rate = rate
        self.seed = seed
        self.device: PtySimulator | None = None
        self.answer_after_s = ANSWER_AFTER_S
        """How long the client takes to give a SUDS rating once it is wanted."""
        self._asked_at: float | None = None
        self._answering = False
        self._expectancy_due: list[Expectancy] = []
        """The coach's expectancy questions not answered yet."""

    @property
    def port_path(self) -> str:
        """Where the sensor is plugged in (a stable path to the pty); set by `start()`."""
        if self.device is None:
            raise RuntimeError("the simulated sensor is not plugged in: call start() first")
        return self.device.port_path

    def start(self) -> str:
        """Open the device and start it speaking; returns its port path."""
        if self.device is None:
            self.device = PtySimulator(self.protocol, self.heart, rate=self.rate, seed=self.seed)
        self.device.start()
        return self.device.port_path

    def stop(self) -> None:
        if self.device is not None:
            self.device.stop()

    def wear(self, live: LiveSession) -> None:
        """From now on the heart feels every scene target the session sends to the headset, and
        the client answers SUDS when asked (on the session's loop, `answer_after_s` later)."""
        live.add_listener(self._follow)
        live.add_listener(self._listen)

        def answer_later(event: Event, state: SessionState, effects: list[Effect]) -> None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # stepped outside the session's loop: nothing to answer on
                return
            if isinstance(event, CoachLine) and event.ask in (
                "expectancy_before",
                "expectancy_after",
            ):
                loop.call_later(self.answer_after_s, self.answer_expectancy, live)
            if self._answering or self.suds_wanted_at(state) is None:
                return
            self._answering = True
            loop.call_later(self.answer_after_s, self._answer_now, live)

        live.add_listener(answer_later)

    def _answer_now(self, live: LiveSession) -> None:
        self._answering = False
        if live.state.phase != "ended" and self.suds_wanted_at(live.state) is not None:
            live.submit(self.suds(live.state))

    def _follow(self, event: Event, state: SessionState, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SceneTarget) and self.device is not None:
                self.device.set_level(0.0 if effect.safe else effect.intensity)

    def _listen(self, event: Event, state: SessionState, effects: list[Effect]) -> None:
        if isinstance(event, AskSuds) or (isinstance(event, CoachLine) and event.ask == "suds"):
            self._asked_at = event.t
        elif isinstance(event, CoachLine) and event.ask in (
            "expectancy_before",
            "expectancy_after",
        ):
            self._expectancy_due.append(self.expectancy(event))

    def expectancy(self, line: CoachLine) -> Expectancy:
        """The client's answer to the coach's expectancy question: before a step it fears a
        little less each step; after it, what it feared did not happen, to its surprise."""
        level = line.level if line.level is not None else 1
        if line.ask == "expectancy_before":
            return Expectancy(
                level=level,
                stage="before",
                expectation="I will panic and have to stop",
                likelihood=max(10, 80 - 10 * level),
            )
        return Expectancy(
            level=level, stage="after", happened=False, surprise=min(90, 40 + 10 * level)
        )

    def answer_expectancy(self, live: LiveSession) -> None:
        """Answer the coach's expectancy questions asked so far (on the panel in the headset)."""
        while self._expectancy_due and live.state.phase != "ended":
            live.submit(self._expectancy_due.pop(0))

    def suds_wanted_at(self, state: SessionState) -> float | None:
        """Since when a SUDS rating is wanted (asked, or the reminder is due), or None."""
        if state.phase not in ("exposure", "paused"):
            return None
        due = next((a.onset for a in state.alerts if a.kind == "suds_due"), None)
        asked = self._asked_at
        if asked is not None and state.suds_t is not None and state.suds_t >= asked:
            asked = None  # answered
        times = [t for t in (due, asked) if t is not None]
        return min(times) if times else None

    def suds(self, state: SessionState) -> Suds:
        """The client's rating: how far the heart is above its rest, as a person would feel it."""
        hr = state.hr if state.hr is not None else state.last_hr
        above = 0.0 if hr is None else max(0.0, hr / self.heart.resting_hr - 1.0)
        return Suds(t=0.0, by="client", value=min(100, round(5 + 200 * above)))

    def answer(self, live: LiveSession) -> Suds | None:
        """The client's SUDS rating when one is wanted and `answer_after_s` has passed, else None
        (for sessions driven by direct readings, without a loop's timers)."""
        since = self.suds_wanted_at(live.state)
        if since is None or live.now() - since < self.answer_after_s:
            return None
        return self.suds(live.state)

    def reading(self, live: LiveSession) -> Reading:
        """The heart now, told the session's level, read directly as a reading (no device)."""
        state = live.state
        now = live.now()
        level = state.level if state.phase in ("exposure", "paused") else SAFE_LEVEL
        if self.heart.level != level:
            self.heart.set_level(level, now)
        sample = self.heart.tick(now)
        if not sample.contact:
            return Reading(t=0.0, hr=None, quality="no-contact")
        rr = tuple(round(b, 1) for b in sample.beats if 300.0 <= b <= 2000.0)
        return Reading(
            t=0.0,
            hr=round(min(HR_MAX_BPM, max(HR_MIN_BPM, sample.hr)), 1),
            rr_ms=rr,
            quality="artefact" if sample.artefact else "ok",
        )

    async def feed(self, live: LiveSession, period_s: float = 0.5) -> None:
        """Submit `reading(live)` every `period_s` until the session ends, and a SUDS rating
        when one is wanted."""
        live.add_listener(self._listen)
        while live.state.phase != "ended":
            live.submit(self.reading(live))
            rating = self.answer(live)
            if rating is not None and live.state.phase != "ended":
                live.submit(rating)
            self.answer_expectancy(live)
            await asyncio.sleep(period_s)


def make_heart(seed: int | None = None) -> SimulatedClient:
    """The demo's simulated client, not plugged in (for direct readings)."""
    return SimulatedClient(seed=seed or 0)


async def feed_heart(session: LiveSession, client: SimulatedClient, period_s: float = 0.5) -> None:
    """Submit the client's readings every `period_s` until the session ends (no device)."""
    await client.feed(session, period_s)
