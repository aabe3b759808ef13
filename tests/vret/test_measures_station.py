"""Measures in a whole station session: console entries -> core -> records -> replay and report."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from exposure.core import replay
from exposure.models import ControlSettings, Decision, Expectancy, Measure
from tests.vret.test_session import Running
from vret.cli import main as cli_main
from vret.records import Records
from vret.report import build_report

SETTINGS = ControlSettings(
    baseline_s=10,
    min_baseline_readings=6,
    min_dwell_s=10,
    trend_window_s=10,
    arousal_window_s=4,
    stale_after_s=4,
)


def test_a_station_session_records_measures_and_replay_reproduces_sick_not_scared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = Running(tmp_path, render=False, settings=SETTINGS, speedup=8.0)
    live = running.station.live
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{running.plan.port}",
            headers={"Authorization": f"Bearer {running.station.token}"},
            timeout=10,
        )
        pre = {"instrument": "ssq", "phase": "pre", "answers": [0] * 15 + [1]}
        client.post("/api/measures", json=pre).raise_for_status()
        running.wait_for(lambda: live.state.phase == "exposure", 30, "exposure")

        sick = {"instrument": "sickness", "phase": "mid", "answers": [8]}
        answer = client.post("/api/measures", json=sick).json()
        assert [e["kind"] for e in answer["effects"]] == ["sick_not_scared"]
        sick_at, level = live.state.t, live.state.level
        # two dwell periods of a calm client: it would have stepped up by now if well
        running.wait_for(
            lambda: live.state.t >= sick_at + 2 * SETTINGS.min_dwell_s + 2, 20, "dwell"
        )
        assert live.state.level == level
        assert not [d for d in live.decisions if d.t >= sick_at and d.who == "auto"]

        # the expectation about the next step, then the client feels well again: it comes
        nxt = level + 1
        before = {"stage": "before", "level": nxt, "expectation": "It will crawl to me"}
        client.post("/api/expectancy", json=before | {"likelihood": 70}).raise_for_status()
        well = {"instrument": "sickness", "phase": "mid", "answers": [1]}
        client.post("/api/measures", json=well).raise_for_status()
        running.wait_for(lambda: live.state.level == nxt, 30, "an automatic step up when well")
        after = {"stage": "after", "level": nxt, "happened": False, "surprise": 40}
        client.post("/api/expectancy", json=after).raise_for_status()
        post = {"instrument": "ssq", "phase": "post", "answers": [1] * 16}
        client.post("/api/measures", json=post).raise_for_status()
        client.post("/api/commands", json={"type": "end"}).raise_for_status()
        running.runner.thread.join(30)
        assert running.runner.status == "completed"
    finally:
        running.stop()

    records = Records(running.db)
    sid = running.station.session_id
    events = records.events(sid)
    measures = [e for e in events if isinstance(e, Measure | Expectancy)]
    assert [(e.type, getattr(e, "phase", None) or getattr(e, "stage", None)) for e in measures] == [
        ("measure", "pre"),
        ("measure", "mid"),
        ("expectancy", "before"),
        ("measure", "mid"),
        ("expectancy", "after"),
        ("measure", "post"),
    ]
    live_decisions = [e for e in records.effects(sid) if isinstance(e, Decision)]
    assert replay(events) == live_decisions

    assert cli_main(["replay", str(sid), "--db", running.db]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(live_decisions)

    page = build_report(records.get_session(sid), events, records.effects(sid))
    assert "Simulator sickness (SSQ)" in page and "sick, not scared" in page
    assert "It will crawl to me" in page and "+70" in page
