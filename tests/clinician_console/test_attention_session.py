"""A whole session with head tracking: render process (offscreen, a pose script) -> gaze events
-> core -> records and console, and the recentre command back down to the headset."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from exposure.core import replay
from exposure.models import ControlSettings, Decision, Gaze, Recentre
from scenes.pose import PoseScript, from_hpr, pose_line
from scenes.registry import default_ladder
from sensors.simulator import SimulatedHeart
from tests.conftest import wait_for
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread

pytestmark = pytest.mark.render

FAST = ControlSettings(
    baseline_s=4, min_baseline_readings=3, min_dwell_s=30, trend_window_s=8, attention_window_s=5
)
EYE = (0.0, 0.0, 1.6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gaze_from_the_render_process_is_recorded_shown_and_replayed(tmp_path: Path) -> None:
    # at the stimulus 1 s, turned away 1 s, again and again (relative to the scene's view)
    at, away = from_hpr(0.0, 0.0), from_hpr(-120.0, 25.0)
    lines = [(0.0, at), (0.9, at), (1.0, away), (1.9, away), (2.0, at)]
    script = PoseScript.parse(
        "\n".join(pose_line(t, EYE, q) for t, q in lines), "test", relative=True
    )
    heart = SimulatedHeart(resting_hr=70, reactivity_bpm=1.0, variability_bpm=0.5, seed=3)
    client = SimulatedClient("text", heart, rate=4.0)
    db = f"sqlite:///{tmp_path / 'records.db'}"
    plan = SessionPlan(
        client="T-2",
        ladder=default_ladder("spiders"),
        sensor=client.start(),
        protocol="text",
        settings=FAST,
        display="offscreen",
        size=(96, 72),
        port=free_port(),
        db=db,
        pose_script=script,
        thumbnail_hz=2.0,
    )
    runner = StationThread(plan)
    station = runner.start(timeout=60)
    try:
        live = station.live
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{plan.port}",
            headers={"Authorization": f"Bearer {station.token}"},
        )
        # past the baseline, in exposure, with a whole attention window (5 s) of gaze
        wait_for(
            lambda: live.state.phase == "exposure" and live.now() > 10, 60, "exposure with gaze"
        )
        state = http.get("/api/state").json()
        assert state["tracking"] == "ok"
        assert 0.3 <= state["attention"] <= 0.7  # half the time on the spider
        assert state["gaze"]["valid"] and state["gaze"]["distance_m"] > 1.0
        assert state["level"] == 1  # the dwell is 30 s: nothing else has moved it
        assert http.post("/api/recentre").status_code == 200
        http.post("/api/commands", json={"type": "end"}).raise_for_status()
        runner.thread.join(30)
    finally:
        runner.stop()
        client.stop()
    assert runner.status == "completed"
    records = Records(db)
    events = records.events(station.session_id)
    gaze = [e for e in events if isinstance(e, Gaze)]
    assert len(gaze) >= 50  # ten a second, from when the render process was ready
    on = [g.on_stimulus for g in gaze if g.distance_m is not None]
    assert 1.0 in on and 0.0 in on
    assert any(isinstance(e, Recentre) and e.by == "clinician" for e in events)
    recorded = [e for e in records.effects(station.session_id) if isinstance(e, Decision)]
    assert replay(events) == recorded
