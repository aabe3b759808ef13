"""The simulated session behind `vret console --simulate`: a heart that answers the level."""

from __future__ import annotations

from statistics import mean

from exposure.models import SAFE_LEVEL, Decision
from vret.simulated_client import (
    DEMO_SETTINGS,
    demo_session,
    make_heart,
)


def test_the_heart_rises_with_the_level_and_calms_in_the_safe_scene() -> None:
    heart = make_heart(seed=1)

    class Stub:  # just enough of a LiveSession for `reading`
        def __init__(self) -> None:
            self.t = 0.0
            self.state = demo_session()[0].state.model_copy(
                update={"phase": "exposure", "level": 0}
            )

        def now(self) -> float:
            return self.t

    session = Stub()

    def run(level: int, seconds: float) -> list[float]:
        session.state = session.state.model_copy(
            update={"level": level, "phase": "safe" if level == SAFE_LEVEL else "exposure"}
        )
        out = []
        for _ in range(int(seconds * 2)):
            session.t += 0.5
            reading = heart.reading(session)  # type: ignore[arg-type]
            if reading.hr is not None:
                out.append(reading.hr)
        return out

    rest = mean(run(SAFE_LEVEL, 30)[-20:])
    exposed = mean(run(8, 20)[-10:])
    calm = mean(run(SAFE_LEVEL, 40)[-10:])
    assert exposed > rest * 1.2
    assert calm < rest * 1.08


def test_a_demo_session_shows_the_controller_working_within_a_minute() -> None:
    now = [0.0]
    session, _events = demo_session(clock=lambda: now[0])
    heart = make_heart(seed=3)
    assert session.state.settings == DEMO_SETTINGS
    for _ in range(int(60 / 0.5)):
        now[0] += 0.5
        session.submit(heart.reading(session))
        rating = heart.answer(session)  # the client answers the reminder before a step up
        if rating is not None:
            session.submit(rating)
    decisions = [d for d in session.decisions if isinstance(d, Decision) and d.who == "auto"]
    assert decisions[0].to_level == 1 and "Baseline" in decisions[0].reason
    assert decisions[0].t <= DEMO_SETTINGS.baseline_s + 1
    assert session.state.level >= 2  # it has stepped up by itself at least once
