"""Latency: a reading written to the serial port -> the Decision it causes; a console command ->
the first frame drawn with its effect begun.

Both run against a whole control process (a `Station` with its render process) in this process;
every clock here and in the render process is CLOCK_MONOTONIC, so times compare directly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import free_port, percentile, table
from exposure.models import (
    ControlSettings,
    Decision,
    Effect,
    Event,
    Reading,
    SceneTarget,
    SessionState,
    SetLevel,
)
from scenes.registry import default_ladder
from scenes.render.messages import FrameEffect, FromRender
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, Station, StationThread

READINGS_PER_S = 20.0
# a quick ladder: 2 s baseline, 0.3 s dwell, short windows, so a reading often completes a dwell;
# no SUDS wait before a step up (no one answers here: every step would wait for a rating)
QUICK = ControlSettings(
    baseline_s=2,
    min_baseline_readings=3,
    min_dwell_s=0.3,
    arousal_window_s=1.0,
    trend_window_s=3.0,
    stale_after_s=3.0,
    suds_before_step_up=False,
)


def _start(
    settings: ControlSettings, sensor: str, tmp: str, size: tuple[int, int], pipe: str | None
) -> tuple[Station, StationThread]:

    plan = SessionPlan(
        client="BENCH",
        ladder=default_ladder("spiders"),
        sensor=sensor,
        protocol="text",
        settings=settings,
        display="offscreen",
        size=size,
        port=free_port(),
        db=f"sqlite:///{Path(tmp) / 'latency.db'}",
        rate_limit_per_s=50,
        render_pipe=pipe,
    )
    runner = StationThread(plan)
    return runner.start(), runner


def sensor_to_decision(seconds: float, size: tuple[int, int], pipe: str | None) -> dict[str, Any]:
    """Write text lines to a pty at 20/s; time each line to the Decision its reading causes.

    Two moments per reading: when the core has stepped it (a listener that runs first), and
    when its effects have been recorded and sent to the headset (a listener that runs last).
    """
    master, slave = os.openpty()
    written: list[float] = []
    stepped: list[float] = []
    settled: list[float] = []
    decided: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        station, runner = _start(QUICK, os.ttyname(slave), tmp, size, pipe)
        top = station.live.state.ladder.top

        def at_decision(event: Event, state: SessionState, effects: list[Effect]) -> None:
            if isinstance(event, Reading):
                stepped.append(time.monotonic())
                if any(isinstance(e, Decision) for e in effects):
                    decided.append(len(stepped) - 1)

        def after_effects(event: Event, state: SessionState, effects: list[Effect]) -> None:
            if isinstance(event, Reading):
                settled.append(time.monotonic())
                if state.level == top:  # start the climb again, as a therapist would
                    asyncio.get_running_loop().call_soon(
                        station.live.submit, SetLevel(t=0.0, level=1)
                    )

        station.live.add_listener(at_decision, first=True)
        station.live.add_listener(after_effects)
        stop = threading.Event()

        def write() -> None:
            period = 1.0 / READINGS_PER_S
            next_t = time.monotonic()
            while not stop.is_set():
                written.append(time.monotonic())
                os.write(master, b"HR:72\n")
                next_t += period
                time.sleep(max(0.0, next_t - time.monotonic()))

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        time.sleep(seconds)
        stop.set()
        writer.join()
        runner.stop(60)
    os.close(master)
    os.close(slave)
    # the k-th line written is the k-th reading stepped (one reading a line, none dropped)
    n = min(len(written), len(stepped), len(settled))
    all_ms = [(stepped[i] - written[i]) * 1000 for i in range(n)]
    decision_ms = [(stepped[i] - written[i]) * 1000 for i in decided if i < n]
    effects_ms = [(settled[i] - written[i]) * 1000 for i in decided if i < n]
    return {
        "lines": len(written),
        "readings": len(stepped),
        "decisions": len(decision_ms),
        "reading_p50_ms": percentile(all_ms, 50),
        "reading_p99_ms": percentile(all_ms, 99),
        "decision_p50_ms": percentile(decision_ms, 50),
        "decision_p99_ms": percentile(decision_ms, 99),
        "decision_recorded_and_sent_p50_ms": percentile(effects_ms, 50),
        "decision_recorded_and_sent_p99_ms": percentile(effects_ms, 99),
    }


def _send_commands(port: int, token: str, commands: int, out: Any) -> None:
    """In a process of its own: POST set_level commands, spread over the frame phase."""
    import httpx

    sends: list[float] = []
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        client.get("/api/state").raise_for_status()  # connect first: time commands, not TCP
        for i in range(commands):
            sends.append(time.monotonic())
            body = {"type": "set_level", "level": 1 + i % 2}
            client.post("/api/commands", json=body).raise_for_status()
            time.sleep(0.15 + (i % 7) * 0.013)
    out.put(sends)


def command_to_frame(commands: int, size: tuple[int, int], pipe: str | None) -> dict[str, Any]:
    """POST set_level to the console; time to the first frame drawn with that target begun."""

    sim = SimulatedClient("text", rate=4.0)
    sim.start()
    seqs: list[int] = []
    drawn: dict[int, float] = {}
    parts: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        station, runner = _start(ControlSettings(), sim.port_path, tmp, size, pipe)
        render = station.render
        assert render is not None

        def on_step(event: Event, state: SessionState, effects: list[Effect]) -> None:
            if isinstance(event, SetLevel) and any(isinstance(e, SceneTarget) for e in effects):
                seqs.append(render.last_seq)

        def on_message(message: FromRender) -> None:
            if isinstance(message, FrameEffect):
                drawn.setdefault(message.target_seq, message.t_drawn)
                parts.setdefault(
                    message.target_seq,
                    (message.t_received - message.t_sent, message.t_drawn - message.t_received),
                )

        station.live.add_listener(on_step)
        render.on_message = on_message
        time.sleep(2.0)
        # the therapist's browser is another process: send from one, so its work is not ours
        ctx = multiprocessing.get_context("spawn")
        times = ctx.Queue()
        client = ctx.Process(
            target=_send_commands, args=(station.plan.port, station.token, commands, times)
        )
        client.start()
        sends: list[float] = times.get(timeout=commands * 0.5 + 60)
        client.join(30)
        time.sleep(1.0)
        runner.stop(60)
    sim.stop()
    sent_at = dict(zip(seqs, sends, strict=False))  # the k-th command sent made the k-th target
    ms = [(drawn[seq] - t0) * 1000 for seq, t0 in sent_at.items() if seq in drawn]
    waits = [parts[seq][0] * 1000 for seq in sent_at if seq in parts]
    draws = [parts[seq][1] * 1000 for seq in sent_at if seq in parts]
    control = [m - w - d for m, w, d in zip(ms, waits, draws, strict=False)]
    return {
        "commands": commands,
        "matched": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
        # where the time goes: HTTP + core + records + pipe send; waiting for the next frame
        # in the render process; drawing that frame
        "control_p50_ms": percentile(control, 50),
        "frame_wait_p50_ms": percentile(waits, 50),
        "draw_p50_ms": percentile(draws, 50),
        "draw_p99_ms": percentile(draws, 99),
    }


def run(
    results: dict[str, Any],
    *,
    seconds: float,
    commands: int,
    size: tuple[int, int],
    pipe: str | None = None,
) -> None:
    sensor = sensor_to_decision(seconds, size, pipe)
    command = command_to_frame(commands, size, pipe)
    print(
        table(
            "Latency (ms), with the render process running",
            ["path", "samples", "p50", "p99"],
            [
                [
                    "serial line -> reading stepped by the core",
                    sensor["readings"],
                    sensor["reading_p50_ms"],
                    sensor["reading_p99_ms"],
                ],
                [
                    "serial line -> the Decision it causes",
                    sensor["decisions"],
                    sensor["decision_p50_ms"],
                    sensor["decision_p99_ms"],
                ],
                [
                    "  ... that Decision recorded and sent to the headset",
                    sensor["decisions"],
                    sensor["decision_recorded_and_sent_p50_ms"],
                    sensor["decision_recorded_and_sent_p99_ms"],
                ],
                [
                    "console command -> first frame drawn with it",
                    command["matched"],
                    command["p50_ms"],
                    command["p99_ms"],
                ],
                [
                    "  of which: HTTP, core, records, pipe (p50)",
                    command["matched"],
                    command["control_p50_ms"],
                    "",
                ],
                [
                    "  of which: waiting for the next frame (p50)",
                    command["matched"],
                    command["frame_wait_p50_ms"],
                    "",
                ],
                [
                    "  of which: drawing that frame",
                    command["matched"],
                    command["draw_p50_ms"],
                    command["draw_p99_ms"],
                ],
            ],
        )
    )
    results["latency"] = {"sensor": sensor, "command": command}
    results["sensor_to_decision_p99_ms"] = round(sensor["decision_p99_ms"], 3)
    results["command_to_frame_p99_ms"] = round(command["p99_ms"], 3)
