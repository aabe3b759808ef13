"""The demo's scripted head against the demo's heart and settings: the attention rule shows
(a step up held while the client looks away), and the session still climbs the ladder.

Six minutes of session time, fast-forwarded: the demo heart read every half second, and a gaze
summary every tenth of a second from the demo's pose script (on the stimulus when the head
faces the scene's resting view, as the render process measures it for every built-in scene).
"""

from __future__ import annotations

from exposure.live import LiveSession
from exposure.models import Decision, Gaze, SessionStart
from scenes.pose import heading_of
from vret.session_cli import DEMO_LOOK_AWAY, demo_pose_script
from vret.simulated_client import DEMO_SETTINGS, demo_ladder, make_heart


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_demo_script_looks_away_twelve_seconds_a_minute():
    script = demo_pose_script()
    assert script.relative and script.duration_s == 60.0
    away = [t / 10 for t in range(600) if abs(heading_of(script.at(t / 10).orientation)) > 30]
    assert 11.0 <= len(away) / 10 <= 13.0
    start, end = DEMO_LOOK_AWAY
    assert start <= min(away) and max(away) <= end + 1.0  # a second to turn each way


def test_the_demo_holds_while_the_client_looks_away_and_still_steps_up():
    ladder, _ = demo_ladder()
    clock = Clock()
    live = LiveSession(SessionStart(ladder=ladder, settings=DEMO_SETTINGS), clock=clock)
    heart = make_heart(seed=3)
    script = demo_pose_script()
    held: list[str] = []
    decisions: list[Decision] = []
    hints = 0
    for tenth in range(1, 3601):
        clock.t = tenth / 10
        if tenth % 5 == 0:
            _, effects = live.submit(heart.reading(live))
            decisions += [e for e in effects if isinstance(e, Decision)]
            rating = heart.answer(live)  # the client answers SUDS when due, as in the demo
            if rating is not None:
                _, effects = live.submit(rating)
                decisions += [e for e in effects if isinstance(e, Decision)]
        pose = script.at(clock.t)
        on = 1.0 if abs(heading_of(pose.orientation)) <= 30 else 0.0
        state, effects = live.submit(Gaze(t=0.0, on_stimulus=on, distance_m=1.5))
        decisions += [e for e in effects if isinstance(e, Decision)]
        hints += sum(1 for e in effects if e.type == "alert" and e.kind == "looking_away")
        if "client looked away" in state.next_step:
            held.append(state.next_step)
    ups = [d for d in decisions if d.who == "auto" and d.to_level > d.from_level >= 1]
    assert len(ups) >= 3, [d.reason for d in decisions]  # the demo still climbs
    assert held, "the attention rule never held a step up in the demo"
    assert hints >= 1
    assert live.state.level >= 4
