"""Alerts as episodes: one onset from raising to clearing, one log entry, two record rows.

Issue 16: a 55 s ceiling warning whose percentage flipped every second made a red wall in the
live log and 66 alert rows in the report.
"""

from __future__ import annotations

from hypothesis import given

from exposure.core import step
from exposure.episodes import episode_key, fold_alerts, worth_recording
from exposure.live import LiveSession
from exposure.models import (
    Alert,
    AutoOff,
    ControlSettings,
    Decision,
    Effect,
    Event,
    Reading,
    SessionStart,
    SetLevel,
)
from tests.exposure.test_core_properties import LADDER, SESSIONS, sessions

SETTINGS = ControlSettings(baseline_s=10, min_baseline_readings=5)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ceiling_episode(live: LiveSession, clock: Clock, start: float, seconds: int) -> None:
    """HR swinging 50-51 % above a 70 bpm baseline for `seconds`, then back to rest for 15 s."""
    for n in range(seconds):
        clock.now = start + n
        live.submit(Reading(t=0, hr=105.0 if n % 2 else 106.0))
    for n in range(15):
        clock.now = start + seconds + n
        live.submit(Reading(t=0, hr=70.0))


def manual_session() -> tuple[LiveSession, Clock, list[Effect]]:
    clock = Clock()
    live = LiveSession(SessionStart(ladder=LADDER, settings=SETTINGS, auto=False), clock=clock)
    effects: list[Effect] = []
    live.add_listener(lambda event, state, out: effects.extend(out))
    for second in range(1, 11):
        clock.now = float(second)
        live.submit(Reading(t=0, hr=70.0))
    live.submit(AutoOff(t=0))
    live.submit(SetLevel(t=0, level=2))
    assert live.state.baseline_hr == 70.0 and live.state.level == 2
    return live, clock, effects


def test_a_ceiling_episode_keeps_its_onset_through_every_update_and_its_end() -> None:
    live, clock, effects = manual_session()
    ceiling_episode(live, clock, 11.0, 55)
    ceiling = [e for e in effects if isinstance(e, Alert) and e.kind == "ceiling"]
    assert len(ceiling) > 20  # the text changes nearly every second
    onset = ceiling[0].onset
    assert ceiling[0].t == onset and ceiling[0].active and not ceiling[0].is_update
    assert {a.onset for a in ceiling} == {onset}
    assert all(a.is_update for a in ceiling[1:-1])
    end = ceiling[-1]
    assert not end.active and not end.is_update and end.t > onset
    assert end.message == ceiling[-2].message  # the end carries the episode's last words


def test_the_live_log_holds_one_entry_per_episode_updated_in_place() -> None:
    live, clock, _ = manual_session()
    ceiling_episode(live, clock, 11.0, 55)
    logged = [a for a in live.alert_log if a.kind == "ceiling"]
    assert len(logged) == 1 and not logged[0].active  # one 55 s episode: one entry, now ended
    ceiling_episode(live, clock, 100.0, 20)
    logged = [a for a in live.alert_log if a.kind == "ceiling"]
    assert len(logged) == 2 and logged[1].onset > logged[0].onset
    # while an episode is on, its entry shows its latest text
    clock.now = 140.0
    live.submit(Reading(t=0, hr=106.0))
    for n in range(1, 20):
        clock.now = 140.0 + n
        live.submit(Reading(t=0, hr=105.0))
    current = next(a for a in live.state.alerts if a.kind == "ceiling")
    assert live.alert_log[-1] == current and current.is_update


def test_a_record_keeps_an_episodes_onset_and_end_only() -> None:
    live, clock, effects = manual_session()
    ceiling_episode(live, clock, 11.0, 55)
    kept = [e for e in worth_recording(effects) if isinstance(e, Alert) and e.kind == "ceiling"]
    assert [a.active for a in kept] == [True, False]
    assert kept[0].onset == kept[1].onset
    # decisions and every other effect are all kept
    assert [e for e in worth_recording(effects) if isinstance(e, Decision)] == [
        e for e in effects if isinstance(e, Decision)
    ]


def test_an_alert_recorded_before_episodes_reads_with_its_onset_at_its_time() -> None:
    old = {
        "type": "alert",
        "t": 12.5,
        "kind": "stale_signal",
        "severity": "critical",
        "message": "No good heart-rate reading for 5 s.",
        "active": True,
        "expires_at": None,
    }
    assert Alert.model_validate(old).onset == 12.5
    assert Alert.model_validate_json(Alert.model_validate(old).model_dump_json()).onset == 12.5
    assert Alert(t=3.0, kind="suds_due", severity="info", message="Ask").onset == 3.0
    cleared = Alert(t=9.0, onset=4.0, kind="ceiling", severity="warning", message="x", active=False)
    assert cleared.onset == 4.0 and not cleared.is_update


@SESSIONS
@given(sessions())
def test_folding_the_recorded_rows_gives_the_same_episodes_as_folding_them_all(
    events: list[Event],
) -> None:
    state = None
    effects: list[Effect] = []
    for event in events:
        state, out = step(state, event)
        for alert in (e for e in out if isinstance(e, Alert)):
            assert alert.onset <= alert.t
            active = [a for a in (state.alerts if alert.active else ()) if a.kind == alert.kind]
            if alert.is_update:  # an update belongs to the episode on screen
                assert active and active[0].onset == alert.onset
        effects.extend(out)
    alerts = [e for e in effects if isinstance(e, Alert)]
    everything, recorded = fold_alerts(alerts), fold_alerts(worth_recording(alerts))  # type: ignore[arg-type]
    assert [episode_key(a) for a in recorded] == [episode_key(a) for a in everything]
    assert [a for a in recorded if not a.active] == [a for a in everything if not a.active]
