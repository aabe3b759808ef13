"""Frame pacing: the render process at 90 Hz, each scene at its top level, alone and under load.

(a) alone: the render process fed by a bare heartbeat from this process.
(b) loaded: a whole control process (a `Station`) drives the same render process while a
    simulated sensor writes 500 lines/s, three WebSocket clients watch the console, 20 commands
    a second arrive, and every event is written to the records.
(c) gaze on: as (a), with head tracking: the demo's pose script moves the head each frame, and
    the render process finds the nearest stimulus anchor and sends gaze summaries at 10 Hz.
In (a), the frames before the measured seconds are the switch from the safe scene into this one:
their longest (`switch max`) says whether a scene's first frame on show is late.
Frame times are the intervals between frames, as the render process measures them. The render
process's CPU time per frame (`cpu_ms_per_frame`, from /proc over the measured seconds: drawing,
the scene's Python, thumbnails, the pipe) is what a scene costs; it moves far less than the
intervals with what else runs on a shared machine. `lower%` is the share of measured frames the
render process drew a step plainer to keep them on time (`Scene.set_detail`, the detail
governor; `VRET_LOOK=detail=full` turns it off for a run with every frame as authored).
`work>f` counts the frames whose own work (waking to the next wait) took longer than a frame
budget: a late interval without one is a frame woken late, by the machine, not the frame's cost.
`steal%` is the share of the machine's CPU time the hypervisor gave to others while measuring
(/proc/stat): on a shared virtual machine, a run with steal is not a fair comparison, so a
scene's pair of runs is measured again, up to three pairs (`pairs`), while either stole more
than 0.1 %, and the least disturbed pair is kept.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import free_port, percentile, rss_mb, table
from exposure.models import ControlSettings, SetLevel
from scenes.pose import PoseScript
from scenes.registry import default_ladder, discover
from scenes.render import start_render
from scenes.render.messages import Frames, FromRender, GazeSummary
from vret.session_cli import demo_pose_script
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, Station, StationThread

LATE_MS = 12.0
WARMUP_S = 4.0  # the 3 s ease to the top level, then steady


def cpu_s(pid: int | None) -> float:
    """CPU seconds (user and system, every thread) a process has used so far (Linux)."""
    if not pid:
        return float("nan")
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


STEAL_LIMIT_PCT = 0.1
"""A pair of runs (alone, loaded) with more of the machine's time stolen than this in either is
measured again (the disturbed runs stole 1-3.6 %; one 5 ms preemption is a late frame)."""
STEAL_TRIES = 3


def steal_s() -> float:
    """Seconds the hypervisor has run something else while this machine's CPUs wanted to run,
    summed over the CPUs ("steal" in /proc/stat; 0 on bare metal or where it is not counted)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return float("nan")
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else float("nan")


def steal_pct(stolen: float, seconds: float) -> float:
    """Stolen time as a share of the machine's CPU time over `seconds` (every CPU)."""
    return round(100.0 * stolen / (seconds * (os.cpu_count() or 1)), 2)


def cpu_per_frame(cpu: float, frames: int) -> float:
    return round(cpu / frames * 1000.0, 2) if frames else float("nan")


def frame_stats(times: list[float]) -> dict[str, float]:
    return {
        "frames": len(times),
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "max_ms": max(times) if times else float("nan"),
        "late": sum(1 for t in times if t > LATE_MS),
    }


class FrameTally:
    """The render process's frame reports over the measured seconds, and their figures."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lowered = 0  # frames drawn at a lower detail (the render process's governor)
        self.work_over = 0  # frames whose own work took longer than the budget

    def add(self, message: Frames) -> None:
        self.times.extend(message.times_ms)
        self.lowered += len(message.times_ms) if message.detail else 0
        self.work_over += message.work_over

    def figures(self, cpu: float) -> dict[str, Any]:
        """Frame statistics, the render process's `cpu` seconds a frame, the lowered share."""
        n = len(self.times)
        return {
            **frame_stats(self.times),
            "cpu_ms_per_frame": cpu_per_frame(cpu, n),
            "lower_detail_pct": round(100.0 * self.lowered / n, 1) if n else float("nan"),
            "work_over": self.work_over,
        }


def alone(
    scene: str,
    top: int,
    seconds: float,
    size: tuple[int, int],
    pipe: str | None,
    thumbnail_hz: float = 4.0,
    pose_script: PoseScript | None = None,
) -> dict[str, Any]:
    """The render process with nothing but a heartbeat from the control side (and, with a
    `pose_script`, head tracking: counts the gaze summaries it sends)."""
    handle = start_render(
        display="offscreen",
        size=size,
        scenes=[scene, "safe_place"],
        pipe=pipe,
        thumbnail_hz=thumbnail_hz,
        pose_script=pose_script,
    )
    ready = handle.wait_ready(120)
    tally = FrameTally()
    switching: list[float] = []  # the warm-up: the fade from the safe scene into this one
    summaries = 0
    cpu0: float | None = None
    steal0, t_steal = float("nan"), time.monotonic()
    try:
        handle.send_target(scene, float(top))
        start = time.monotonic()
        while time.monotonic() - start < WARMUP_S + seconds:
            if cpu0 is None and time.monotonic() - start > WARMUP_S:
                cpu0 = cpu_s(handle.pid)
                steal0, t_steal = steal_s(), time.monotonic()
            for message in handle.poll():
                if isinstance(message, Frames):
                    if time.monotonic() - start > WARMUP_S:
                        tally.add(message)
                    else:
                        switching.extend(message.times_ms)
                elif isinstance(message, GazeSummary) and time.monotonic() - start > WARMUP_S:
                    summaries += 1
            handle.send_target(scene, float(top))
            time.sleep(0.2)
        rss = rss_mb(handle.pid) if handle.pid else float("nan")
        cpu = cpu_s(handle.pid) - (cpu0 if cpu0 is not None else float("nan"))
        stolen = steal_pct(steal_s() - steal0, time.monotonic() - t_steal)
    finally:
        handle.stop()
    return {
        **tally.figures(cpu),
        # the longest frame while the scene first came on show (it was 13-24 ms in spiders
        # before the render process drew every scene once at start)
        "switch_max_ms": max(switching) if switching else float("nan"),
        "pipe": ready.pipe or pipe or "tiny",
        "render_rss_mb": rss,
        "gaze_per_s": round(summaries / seconds, 1),
        "steal_pct": stolen,
    }


def _load_generator(
    port: int, token: str, seconds: float, commands_per_s: float, done: Any
) -> None:
    """Three WebSocket watchers and a stream of commands, from another process (as browsers are)."""
    import httpx
    import websockets

    async def watch() -> int:
        url = f"ws://127.0.0.1:{port}/api/live?token={token}"
        received = 0
        async with websockets.connect(url, origin=f"http://127.0.0.1:{port}") as ws:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    await asyncio.wait_for(ws.recv(), timeout=1.0)
                    received += 1
                except TimeoutError:
                    pass
        return received

    async def command() -> int:
        sent = 0
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            end = time.monotonic() + seconds
            period = 1.0 / commands_per_s
            next_t = time.monotonic()
            while time.monotonic() < end:
                body = (
                    {"type": "note", "text": f"benchmark note {sent}"}
                    if sent % 2
                    else {"type": "suds", "value": sent % 100}
                )
                response = await client.post("/api/commands", json=body)
                sent += response.status_code == 200
                next_t += period
                await asyncio.sleep(max(0.0, next_t - time.monotonic()))
        return sent

    async def main() -> list[int]:
        return list(await asyncio.gather(watch(), watch(), watch(), command()))

    done.put(asyncio.run(main()))


def loaded(
    scene: str,
    top: int,
    seconds: float,
    size: tuple[int, int],
    pipe: str | None,
    thumbnail_hz: float = 4.0,
    sensor_lines_per_s: float = 500.0,
    commands_per_s: float = 20.0,
) -> dict[str, Any]:
    """The render process driven by a full control process under load."""

    sim = SimulatedClient("text", rate=sensor_lines_per_s)
    sim.start()
    tally = FrameTally()
    measuring = threading.Event()
    info: dict[str, Any] = {}
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Queue()

    def on_message(message: FromRender) -> None:
        if isinstance(message, Frames) and measuring.is_set():
            tally.add(message)

    def on_ready(station: Station) -> None:
        assert station.render is not None
        station.render.on_message = on_message
        station.live.submit(SetLevel(t=0.0, level=top))
        info["station"] = station

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        plan = SessionPlan(
            client="BENCH",
            ladder=default_ladder(scene),
            sensor=sim.port_path,
            protocol="text",
            settings=ControlSettings(),
            display="offscreen",
            size=size,
            port=port,
            db=f"sqlite:///{Path(tmp) / 'bench.db'}",
            auto=False,
            rate_limit_per_s=commands_per_s * 2,
            render_pipe=pipe,
            thumbnail_hz=thumbnail_hz,
            on_ready=on_ready,
        )
        runner = StationThread(plan)
        station = runner.start()
        try:
            time.sleep(WARMUP_S)
            load = ctx.Process(
                target=_load_generator, args=(port, station.token, seconds, commands_per_s, done)
            )
            load.start()
            time.sleep(1.0)  # the load generator's own start-up
            pid = station.render.handle.pid if station.render else None
            measuring.set()
            rss_start = rss_mb(pid) if pid else float("nan")
            cpu0 = cpu_s(pid)
            steal0, t_steal = steal_s(), time.monotonic()
            time.sleep(seconds - 1.0)
            measuring.clear()
            cpu = cpu_s(pid) - cpu0
            stolen = steal_pct(steal_s() - steal0, time.monotonic() - t_steal)
            load.join(30)
            counts = done.get(timeout=30) if load.exitcode == 0 else [0, 0, 0, 0]
            events = sum(1 for _ in station.records.events(station.session_id))
        finally:
            runner.stop(60)
            sim.stop()
    return {
        **tally.figures(cpu),
        "ws_messages": sum(counts[:3]),
        "commands_ok": counts[3],
        "events_recorded": events,
        "render_rss_start_mb": rss_start,
        "steal_pct": stolen,
    }


def run(
    results: dict[str, Any],
    *,
    seconds: float,
    size: tuple[int, int],
    pipe: str | None = None,
    thumbnail_hz: float = 4.0,
    key_prefix: str = "",
) -> None:

    infos, _ = discover()
    rows = []
    for name, info in sorted(infos.items()):
        top = info.ladder.top
        # alone and loaded side by side; measured again (up to STEAL_TRIES pairs) while the
        # hypervisor took more than STEAL_LIMIT_PCT of the machine in either, keeping the pair
        # it disturbed least: a comparison of two runs where only one lost time to other
        # tenants says nothing about the load. Every pair's steal is kept in the results.
        pairs = []
        for _ in range(STEAL_TRIES):
            a = alone(name, top, seconds, size, pipe, thumbnail_hz)
            b = loaded(name, top, seconds, size, pipe, thumbnail_hz)
            pairs.append((max(a["steal_pct"], b["steal_pct"]), a, b))
            if pairs[-1][0] <= STEAL_LIMIT_PCT:
                break
        _, a, b = min(pairs, key=lambda p: p[0] if p[0] == p[0] else math.inf)
        c = alone(name, top, seconds, size, pipe, thumbnail_hz, demo_pose_script())
        ratio = b["p99_ms"] / a["p99_ms"] if a["p99_ms"] else float("nan")
        gaze_ratio = c["p99_ms"] / a["p99_ms"] if a["p99_ms"] else float("nan")
        rows.append(
            {
                "scene": name,
                "level": top,
                "alone": a,
                "loaded": b,
                "gaze": c,
                "pairs_steal_pct": [p[0] for p in pairs],
                "p99_ratio": ratio,
                "gaze_p99_ratio": gaze_ratio,
            }
        )
    print(
        table(
            f"Frame pacing at 90 Hz, {size[0]}x{size[1]} offscreen ({rows[0]['alone']['pipe']}), "
            f"{seconds:g} s each; frame time = interval between frames",
            [
                "scene",
                "lvl",
                "p50 a",
                "p99 a",
                "max a",
                ">12ms a",
                "p50 b",
                "p99 b",
                "max b",
                ">12ms b",
                "p99 b/a",
                "cpu/f a",
                "cpu/f b",
                "cmds",
                "ws msgs",
                "p99 c",
                ">12ms c",
                "p99 c/a",
                "gaze/s c",
                "switch max a",
                "lower% a",
                "lower% b",
                "work>f a",
                "work>f b",
                "steal% a",
                "steal% b",
                "pairs",
            ],
            [
                [
                    r["scene"],
                    r["level"],
                    r["alone"]["p50_ms"],
                    r["alone"]["p99_ms"],
                    r["alone"]["max_ms"],
                    r["alone"]["late"],
                    r["loaded"]["p50_ms"],
                    r["loaded"]["p99_ms"],
                    r["loaded"]["max_ms"],
                    r["loaded"]["late"],
                    r["p99_ratio"],
                    r["alone"]["cpu_ms_per_frame"],
                    r["loaded"]["cpu_ms_per_frame"],
                    r["loaded"]["commands_ok"],
                    r["loaded"]["ws_messages"],
                    r["gaze"]["p99_ms"],
                    r["gaze"]["late"],
                    r["gaze_p99_ratio"],
                    r["gaze"]["gaze_per_s"],
                    r["alone"]["switch_max_ms"],
                    r["alone"]["lower_detail_pct"],
                    r["loaded"]["lower_detail_pct"],
                    r["alone"]["work_over"],
                    r["loaded"]["work_over"],
                    r["alone"]["steal_pct"],
                    r["loaded"]["steal_pct"],
                    len(r["pairs_steal_pct"]),
                ]
                for r in rows
            ],
        )
    )
    results[f"{key_prefix}frame_pacing"] = {"seconds": seconds, "size": list(size), "scenes": rows}
    results[f"{key_prefix}frame_p99_ratio"] = round(max(r["p99_ratio"] for r in rows), 3)
    results[f"{key_prefix}late_frames_loaded"] = sum(r["loaded"]["late"] for r in rows)
    results[f"{key_prefix}late_frames_alone"] = sum(r["alone"]["late"] for r in rows)
    # what the costliest scene's frame takes of the render process's CPU, alone (ms)
    results[f"{key_prefix}frame_cpu_ms_max"] = max(r["alone"]["cpu_ms_per_frame"] for r in rows)
    # the longest frame of a scene's first seconds on show, over the scenes (alone)
    results[f"{key_prefix}frame_switch_max_ms"] = max(r["alone"]["switch_max_ms"] for r in rows)
    # head tracking on (c) against off (a): the per-frame gaze work must not cost frames
    results[f"{key_prefix}frame_p99_ratio_gaze_on"] = round(
        max(r["gaze_p99_ratio"] for r in rows), 3
    )
    results[f"{key_prefix}late_frames_gaze_on"] = sum(r["gaze"]["late"] for r in rows)
    # the share of frames the render process drew a step plainer to keep them on time
    # (`Scene.set_detail`), in the scene that needed it most, alone and loaded
    results[f"{key_prefix}lower_detail_pct_alone"] = max(
        r["alone"]["lower_detail_pct"] for r in rows
    )
    results[f"{key_prefix}lower_detail_pct_loaded"] = max(
        r["loaded"]["lower_detail_pct"] for r in rows
    )
    # the most of the machine's time the hypervisor took while a condition was measured
    results[f"{key_prefix}frame_steal_pct_max"] = max(
        max(r["alone"]["steal_pct"], r["loaded"]["steal_pct"]) for r in rows
    )
    # pairs measured again because the hypervisor took time from one of them
    results[f"{key_prefix}frame_pairs_remeasured"] = sum(
        len(r["pairs_steal_pct"]) - 1 for r in rows
    )
    # the target: no late frame under load in a scene that has none alone
    results[f"{key_prefix}late_frames_loaded_where_alone_has_none"] = sum(
        r["loaded"]["late"] for r in rows if r["alone"]["late"] == 0
    )
