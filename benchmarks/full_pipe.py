"""A control side that stops reading: the render process's frame rate while its pipe is full.

The render process at 60 Hz sends a 160x120 thumbnail every frame (3.5 MB/s). The control side
stops reading but keeps its heartbeat; once its unread queue is full the pipe fills behind it,
and the render process must drop its bulk reports and draw on. Frames drawn per second in that
time come from the render process's own frame numbers and clock (one `FrameEffect` per
heartbeat), as a fraction of the configured rate. The pass/fail test
(`tests/scenes/test_render_process.py`) checks that the heartbeats are drawn in frames of their
own; this prints the rate.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import table
from scenes.render import start_render
from scenes.render.handle import INBOX_SIZE
from scenes.render.messages import FrameEffect, Frames

FRAME_RATE = 60.0


def measure(seconds: float = 5.0, heartbeat_s: float = 0.05) -> dict[str, Any]:
    """Frames per second while nobody reads the pipe, and the bulk reports dropped."""
    handle = start_render(
        size=(160, 120),
        frame_rate=FRAME_RATE,
        thumbnail_hz=FRAME_RATE,
        thumbnail_size=(160, 120),
        scenes=["spiders"],
    )
    try:
        handle.wait_ready(120)
        deadline = time.monotonic() + 30
        while handle.unread < INBOX_SIZE:  # stop reading; the heartbeat goes on
            handle.send_target("spiders", 3.0, False)
            time.sleep(heartbeat_s)
            if time.monotonic() > deadline:
                raise RuntimeError("the unread queue never filled")
        sent = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sent.append(handle.send_target("spiders", 3.0, False))
            time.sleep(heartbeat_s)
        messages: list[Any] = []
        deadline = time.monotonic() + 30
        while not any(isinstance(m, Frames) and m.target_seq >= sent[-1] for m in messages):
            messages.extend(handle.poll())
            time.sleep(0.02)
            if time.monotonic() > deadline:
                raise RuntimeError("no frame report after the stall")
    finally:
        handle.poll()
        handle.stop()
    effects = {m.target_seq: m for m in messages if isinstance(m, FrameEffect)}
    drawn = [effects[s] for s in sent if s in effects]
    report = next(m for m in messages if isinstance(m, Frames) and m.target_seq >= sent[-1])
    span = drawn[-1].t_drawn - drawn[0].t_drawn
    fps = (drawn[-1].frame - drawn[0].frame) / span if span > 0 else float("nan")
    return {
        "seconds": round(span, 2),
        "fps": round(fps, 1),
        "fps_ratio": round(fps / FRAME_RATE, 3),
        "heartbeats_drawn": f"{len(drawn)}/{len(sent)}",
        "bulk_dropped": report.dropped,
    }


def run(results: dict[str, Any], seconds: float = 5.0) -> None:
    figures = measure(seconds)
    print(
        table(
            "Render loop while the control side reads nothing (60 Hz, a thumbnail a frame)",
            list(figures),
            [list(figures.values())],
        )
    )
    results["full_pipe_fps_ratio"] = figures["fps_ratio"]
    results["full_pipe"] = figures
