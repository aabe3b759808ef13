"""Frame pacing with the coach on: the render process at 90 Hz on the spiders scene's top level,
with the coach off, as a figure standing by, as a figure speaking (a line every 2 s: its sound
loaded and started, captions, mouth, breathing guide), and as a speaking voice-only light.

The figure's per-frame work is a handful of transforms; loading a line's WAV happens when the
line starts (a file read of about 100-300 KB). The ratio p99(speaking) / p99(off) is the figure.
"""

from __future__ import annotations

import math
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from benchmarks.common import table
from benchmarks.frame_pacing import WARMUP_S, frame_stats
from scenes.render import start_render
from scenes.render.messages import ENVELOPE_HZ, CoachSay, Frames

SCENE, TOP = "spiders", 8
LINE_EVERY_S = 2.0
CONDITIONS = (
    ("off", "off", False),
    ("person", "person", False),
    ("speaking", "person", True),
    ("voice", "voice", True),
)


def _line(folder: Path) -> CoachSay:
    """A 4 s line at 22 kHz, like the TTS makes, with its loudness envelope."""
    path = folder / "line.wav"
    rate, seconds = 22050, 4.0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                int(
                    8000 * math.sin(2 * math.pi * 180 * i / rate) * (0.5 + 0.5 * math.sin(i / 3000))
                ).to_bytes(2, "little", signed=True)
                for i in range(int(rate * seconds))
            )
        )
    envelope = tuple(
        round(0.5 + 0.5 * math.sin(k / 3), 3) for k in range(int(seconds * ENVELOPE_HZ))
    )
    return CoachSay(
        text="Breathe in slowly through your nose, and let the breath out a little longer.",
        wav=str(path),
        seconds=seconds,
        envelope=envelope,
        empathic=True,
        guide=True,
    )


def measure(
    mode: str, speaking: bool, seconds: float, size: tuple[int, int], say: CoachSay
) -> dict[str, Any]:
    handle = start_render(
        display="offscreen", size=size, scenes=[SCENE, "safe_place"], thumbnail_hz=4.0, coach=mode
    )
    handle.wait_ready(120)
    times: list[float] = []
    lines = 0
    try:
        handle.send_target(SCENE, float(TOP))
        start = last_line = time.monotonic()
        while time.monotonic() - start < WARMUP_S + seconds:
            now = time.monotonic()
            for message in handle.poll():
                if isinstance(message, Frames) and now - start > WARMUP_S:
                    times.extend(message.times_ms)
            if speaking and now - last_line >= LINE_EVERY_S:
                handle.coach_say(say)
                last_line = now
                lines += 1
            handle.send_target(SCENE, float(TOP))
            time.sleep(0.1)
    finally:
        handle.stop()
    return {**frame_stats(times), "lines": lines}


def run(results: dict[str, Any], *, seconds: float, size: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        say = _line(Path(folder))
        rows = {
            name: measure(mode, speaking, seconds, size, say) for name, mode, speaking in CONDITIONS
        }
    base = rows["off"]["p99_ms"]
    print(
        table(
            f"Frame pacing with the coach, {SCENE} level {TOP}, {size[0]}x{size[1]} offscreen, "
            f"{seconds:g} s each",
            ["coach", "p50 ms", "p99 ms", "max ms", ">12ms", "lines", "p99 / off"],
            [
                [
                    name,
                    r["p50_ms"],
                    r["p99_ms"],
                    r["max_ms"],
                    r["late"],
                    r["lines"],
                    r["p99_ms"] / base if base else float("nan"),
                ]
                for name, r in rows.items()
            ],
        )
    )
    results["coach_frames"] = {"seconds": seconds, "size": list(size), "conditions": rows}
    results["coach_frame_p99_ratio"] = round(rows["speaking"]["p99_ms"] / base, 3) if base else None


if __name__ == "__main__":
    import sys

    out: dict[str, Any] = {}
    run(out, seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 10.0, size=(640, 360))
