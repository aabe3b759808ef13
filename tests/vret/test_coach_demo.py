"""The demo's coach: the simulated client answers its questions, and the record replays them."""

from __future__ import annotations

from exposure.coach import Coach, load_script, replay_lines
from exposure.models import CoachLine, Event, Expectancy, Suds
from vret.coach_cli import DEMO_PACE
from vret.simulated_client import demo_session, make_heart


def test_the_simulated_client_answers_the_coachs_questions() -> None:
    now = [0.0]
    recorded: list[Event] = []
    script = load_script("en").paced(DEMO_PACE)
    session, _ = demo_session(clock=lambda: now[0], record=recorded.append, coach=Coach(script))
    client = make_heart(seed=3)
    client.wear(session)  # no loop here: the answers are given below, as `feed` does
    for _ in range(int(150 / 0.5)):
        now[0] += 0.5
        session.submit(client.reading(session))
        rating = client.answer(session)
        if rating is not None:
            session.submit(rating)
        client.answer_expectancy(session)
    lines = [e for e in recorded if isinstance(e, CoachLine)]
    asks = [line.ask for line in lines if line.ask]
    assert lines[0].line == "welcome"
    assert "expectancy_before" in asks and "expectancy_after" in asks
    ratings = [e for e in recorded if isinstance(e, Expectancy)]
    before = {e.level for e in ratings if e.stage == "before"}
    after = {e.level for e in ratings if e.stage == "after"}
    assert after and after <= before  # every answer after a step pairs with one before it
    for line in lines:
        if line.ask == "expectancy_before":
            assert line.level is not None and line.level >= 2
    assert any(isinstance(e, Suds) and e.by == "client" for e in recorded)
    assert session.state.level >= 3
    assert replay_lines(recorded, script) == lines
