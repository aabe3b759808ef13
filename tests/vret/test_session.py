"""Whole sessions end to end: simulated sensor on a pty -> core -> records, console, render process.

Safety and faults first: render process killed, sensor unplugged, control process killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from exposure.core import replay
from exposure.models import ControlSettings, Decision, SystemEvent
from scenes.registry import default_ladder
from sensors.simulator import PtySimulator, SimulatedHeart
from tests.conftest import wait_for
from vret.cli import main as cli_main
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread

FAST = ControlSettings(
    baseline_s=6,
    min_baseline_readings=4,
    min_dwell_s=8,
    stale_after_s=3,
    trend_window_s=8,
    arousal_window_s=4,
)
VRET = [sys.executable, "-m", "vret"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Running:
    """A Station running in a thread (`StationThread`), worn by the simulated client."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        render: bool = True,
        protocol: str = "text",
        settings: ControlSettings = FAST,
        speedup: float = 1.0,
    ) -> None:
        heart = SimulatedHeart(
            resting_hr=70, reactivity_bpm=1.0, variability_bpm=0.5, lag_s=3, seed=3
        )
        # with `speedup`, session time runs faster than the wall clock, and the sensor and the
        # ticks with it, so the core sees what it would in a session that long
        self.client = SimulatedClient(protocol, heart, rate=4.0 * speedup)
        t0 = time.monotonic()
        self.db = f"sqlite:///{tmp_path / 'records.db'}"
        self.plan = SessionPlan(
            client="T-1",
            ladder=default_ladder("spiders"),
            sensor=self.client.start(),
            protocol=protocol,
            settings=settings,
            display="offscreen",
            size=(160, 120),
            port=free_port(),
            db=self.db,
            render=render,
            clock=lambda: (time.monotonic() - t0) * speedup,
            tick_s=0.25 / speedup,
            on_ready=lambda station: self.client.wear(station.live),
        )
        self.runner = StationThread(self.plan)
        self.station = self.runner.start(timeout=30)

    @property
    def sim(self) -> PtySimulator:
        assert self.client.device is not None
        return self.client.device

    def wait_for(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(
            f"timed out waiting for {what}; state: {self.station.live.state.next_step}"
        )

    def stop(self) -> None:
        self.runner.stop()
        self.client.stop()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    # session time runs four times the wall clock: baseline, stale time and dwell come sooner
    run = Running(tmp_path, speedup=4.0)
    yield run
    run.stop()


def test_killed_render_process_restarts_in_the_safe_scene_with_an_alert(running: Running) -> None:
    live = running.station.live
    running.wait_for(lambda: live.state.phase == "exposure", 30, "exposure")
    render = running.station.render
    assert render is not None
    old_pid = render.handle.pid
    os.kill(old_pid, signal.SIGKILL)
    running.wait_for(
        lambda: any(a.kind == "render_restarted" for a in live.state.alerts), 10, "alert"
    )
    assert live.state.phase == "safe"
    running.wait_for(lambda: render.handle.alive() and render.handle.pid != old_pid, 20, "restart")
    running.wait_for(lambda: bool(render.frames), 20, "frames from the new render process")
    running.stop()
    events = Records(running.db).events(running.station.session_id)
    assert any(isinstance(e, SystemEvent) and e.kind == "render_restarted" for e in events)


def test_unplugged_sensor_holds_alerts_and_resumes_on_reconnect(running: Running) -> None:
    live = running.station.live
    running.wait_for(lambda: live.state.phase == "exposure", 30, "exposure")
    level = live.state.level
    running.sim.unplug()
    running.wait_for(lambda: live.state.stale, 10, "a stale signal")
    running.wait_for(
        lambda: any(a.kind == "sensor_disconnected" for a in live.state.alerts),
        10,
        "the disconnected alert",
    )
    held_from = live.state.t
    # the core has stepped a whole dwell period past the loss: a fresh signal would have
    # stepped up by now (the simulated heart barely reacts)
    running.wait_for(
        lambda: live.state.t >= held_from + FAST.min_dwell_s + 1, 15, "a dwell period stepped"
    )
    assert live.state.level == level  # held: no automatic change without a signal
    assert not [d for d in live.decisions if d.t >= held_from and d.who == "auto"]
    running.sim.replug()
    running.wait_for(lambda: not live.state.stale, 15, "the signal back")
    running.wait_for(
        lambda: not any(a.kind == "sensor_disconnected" for a in live.state.alerts),
        10,
        "the reconnect",
    )
    running.stop()
    kinds = [
        e.kind
        for e in Records(running.db).events(running.station.session_id)
        if isinstance(e, SystemEvent)
    ]
    assert "sensor_disconnected" in kinds and "sensor_reconnected" in kinds


MINUTE = ControlSettings(
    baseline_s=20, min_baseline_readings=10, min_dwell_s=15, trend_window_s=15, arousal_window_s=6
)


def test_whole_simulated_session_is_recorded_and_replays_identically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a session of over a minute of session time, its clock eight times the wall clock
    running = Running(tmp_path, settings=MINUTE, speedup=8.0)
    live = running.station.live
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{running.plan.port}",
        headers={"Authorization": f"Bearer {running.station.token}"},
    )
    running.wait_for(lambda: live.now() >= 75, 60, "75 s of session")
    running.wait_for(
        lambda: any(d.who == "auto" and d.to_level > d.from_level > 0 for d in live.decisions),
        60,
        "an automatic step up",
    )
    state = client.get("/api/state").json()
    assert state["phase"] == "exposure" and state["baseline_hr"] > 50
    client.post("/api/commands", json={"type": "suds", "value": 20}).raise_for_status()
    client.post("/api/commands", json={"type": "safe"}).raise_for_status()
    assert client.get("/api/state").json()["phase"] == "safe"
    running.wait_for(
        lambda: running.sim.heart.level == 0.0, 5, "the simulated heart in the safe scene"
    )
    client.post("/api/commands", json={"type": "end"}).raise_for_status()
    running.runner.thread.join(30)
    assert running.runner.status == "completed"

    records = Records(running.db)
    sid = running.station.session_id
    row = records.get_session(sid)
    assert row.status == "completed" and row.client == "T-1" and row.scene == "spiders"
    events = records.events(sid)
    recorded = [e for e in records.effects(sid) if isinstance(e, Decision)]
    assert replay(events) == recorded == live.decisions
    assert recorded[0].reason.startswith("Baseline ")
    assert any(d.who == "clinician" and d.to_level == 0 for d in recorded)
    assert events[-1].type == "end" and events[-1].t >= 75
    # `vret replay ID` recomputes the same decisions from the record
    assert cli_main(["replay", str(sid), "--db", running.db, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [Decision.model_validate_json(line) for line in lines] == recorded
    assert cli_main(["replay", "999", "--db", running.db]) == 2
    assert "No session 999" in capsys.readouterr().err


def start_demo(db: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`vret demo` in a process of its own, read up to its console line."""
    args = ["demo", "--display", "offscreen", "--size", "160x120", "--protocol", "text"]
    proc = subprocess.Popen(
        [*VRET, *args, "--port", str(free_port()), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Console: "):
            break
    return proc, lines


def test_ctrl_c_ends_the_session_with_its_record_closed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    proc, lines = start_demo(db)
    assert lines[-1].startswith("Console: http://127.0.0.1:") and "token=" in lines[-1], lines
    records = Records(db)
    sid = records.list_sessions()[-1].id
    wait_for(  # under way: the sensor's readings are being recorded
        lambda: any(e.type == "reading" for e in records.events(sid)), 30, "a reading recorded"
    )
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out
    assert "completed" in out
    row = records.get_session(sid)
    assert row.status == "completed" and row.client == "DEMO"


def test_sigkill_of_the_control_process_leaves_an_interrupted_record(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    proc, _ = start_demo(db)
    records = Records(db)
    sid = records.list_sessions()[-1].id

    def ticks() -> list[float]:
        return [e.t for e in records.events(sid) if e.type == "tick"]

    def under_way() -> bool:  # readings (the demo's sensor sends one a second) and ticks
        events = records.events(sid)
        readings = sum(e.type == "reading" for e in events)
        return readings >= 2 and sum(e.type == "tick" for e in events) >= 4

    wait_for(under_way, 30, "two readings and four ticks recorded")
    committed = ticks()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    row = records.get_session(sid)
    assert row.status == "interrupted"
    after = ticks()
    # what was committed before the kill is all there, and the ticks (4 a second) have no gap
    assert after[: len(committed)] == committed and len(after) >= len(committed)
    assert all(0 < b - a < 1.0 for a, b in zip(after, after[1:], strict=False))


def test_a_second_session_on_a_port_in_use_fails_with_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        out = subprocess.run(
            [
                *VRET,
                "demo",
                "--display",
                "offscreen",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{tmp_path / 'p.db'}",
                "--duration",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    err = out.stderr.strip().splitlines()
    assert err[-1].startswith("vret: Port ") and "already in use" in err[-1] and "--port" in err[-1]
    assert "Traceback" not in out.stderr


def test_session_arguments_get_one_sentence_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "session",
        "--scene",
        "spiders",
        "--sensor",
        "/dev/nonexistent",
        "--protocol",
        "text",
        "--display",
        "offscreen",
        "--db",
        f"sqlite:///{tmp_path / 'a.db'}",
    ]
    cases = [
        (["--client", "Jane Doe"], "pseudonymous"),
        (["--client", "C-1", "--protocol", "morse"], "protocol"),
        (["--client", "C-1", "--ladder", str(tmp_path / "none.json")], "No ladder file"),
        (["--client", "C-1", "--size", "big"], "WIDTHxHEIGHT"),
    ]
    for extra, words in cases:
        try:
            code = cli_main([*base, *extra])
        except SystemExit as exit:  # argparse's own usage errors
            code = exit.code
        err = capsys.readouterr().err
        assert code == 2, err
        assert words in err
