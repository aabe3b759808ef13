"""What the headset's faults do to the session: the core follows the headset to the safe scene."""

from __future__ import annotations

import pytest

from exposure.core import RENDER_ALERT_S, step
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    Decision,
    Ladder,
    Level,
    Reading,
    SessionStart,
    SessionState,
    SetLevel,
    SystemEvent,
    Tick,
)

LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {i}") for i in range(1, 6)])


def at_level_3() -> SessionState:
    state, _ = step(None, SessionStart(ladder=LADDER, auto=False))
    for t in range(1, 62):
        state, _ = step(state, Reading(t=float(t), hr=70))
    state, _ = step(state, SetLevel(t=62.0, level=3))
    assert state.phase == "exposure" and state.level == 3
    return state


def alert(state: SessionState, kind: str) -> Alert | None:
    return next((a for a in state.alerts if a.kind == kind), None)


@pytest.mark.parametrize("kind", ["scene_failed", "headset_down", "render_restarted"])
def test_a_headset_fault_moves_the_session_to_the_safe_scene(kind: str) -> None:
    state = at_level_3()
    state, effects = step(state, SystemEvent(t=63.0, kind=kind, detail="spiders: KeyError"))
    assert state.level == SAFE_LEVEL and state.phase == "safe" and state.resume_level == 3
    assert state.scene_target.safe and state.scene_target.scene == LADDER.safe_scene
    decision = next(e for e in effects if isinstance(e, Decision))
    assert decision.who == "auto" and decision.from_level == 3 and decision.to_level == SAFE_LEVEL
    raised = alert(state, kind)
    assert raised is not None and "spiders: KeyError" in raised.message


def test_a_failed_scene_is_a_warning_that_passes() -> None:
    state, _ = step(at_level_3(), SystemEvent(t=63.0, kind="scene_failed", detail="spiders"))
    raised = alert(state, "scene_failed")
    assert raised is not None and raised.severity == "warning"
    state, _ = step(state, Tick(t=63.0 + RENDER_ALERT_S + 1))
    assert alert(state, "scene_failed") is None


def test_headset_down_is_a_critical_alert_that_stays_active() -> None:
    state, _ = step(at_level_3(), SystemEvent(t=63.0, kind="headset_down", detail="5 restarts"))
    raised = alert(state, "headset_down")
    assert raised is not None and raised.severity == "critical" and raised.active
    assert raised.expires_at is None
    state, _ = step(state, Tick(t=63.0 + 10 * RENDER_ALERT_S))
    assert alert(state, "headset_down") == raised


def test_the_render_watchdog_alerts_but_leaves_the_level_alone() -> None:
    state = at_level_3()
    state, effects = step(state, SystemEvent(t=63.0, kind="render_watchdog", detail="1.2 s"))
    assert state.level == 3 and state.phase == "exposure"
    assert not any(isinstance(e, Decision) for e in effects)
    raised = alert(state, "render_watchdog")
    assert raised is not None and raised.severity == "warning" and "1.2 s" in raised.message


def test_a_headset_fault_outside_exposure_raises_its_alert_without_a_move() -> None:
    state, _ = step(None, SessionStart(ladder=LADDER, auto=False))
    assert state.phase == "baseline"
    state, effects = step(state, SystemEvent(t=1.0, kind="scene_failed", detail="spiders"))
    assert state.phase == "baseline" and not any(isinstance(e, Decision) for e in effects)
    assert alert(state, "scene_failed") is not None
