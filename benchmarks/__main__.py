"""`python -m benchmarks` (`make bench`): every measured figure, printed and saved to JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import (
    coach_click,
    coach_frames,
    frame_pacing,
    full_pipe,
    latency,
    long_session,
    station,
    throughput,
)
from benchmarks.common import machine

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("throughput", "latency", "long", "frames", "coach", "coach-click", "full-pipe", "station")
TARGETS = {  # key: (limit, "max" means the figure must stay at or under the limit)
    "frame_p99_ratio": 1.02,
    "coach_frame_p99_ratio": 1.1,
    "late_frames_loaded_where_alone_has_none": 0,
    "sensor_to_decision_p99_ms": 5.0,
    "command_to_frame_p99_ms": 16.7,
    "coach_click_max_ms": 1000.0,
    "rss_growth_mb": 10.0,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts")
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="measured seconds per scene and condition for frame pacing (default 20)",
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="the full soak: 300 s per scene and condition (about an hour)",
    )
    parser.add_argument("--size", default="640x360", help="render size, WxH (default 640x360)")
    parser.add_argument(
        "--pipe",
        choices=("tiny", "gl", "egl"),
        help="graphics pipe for the render process (default: software tiny)",
    )
    parser.add_argument(
        "--thumbnails",
        type=float,
        default=4.0,
        metavar="HZ",
        help="client's-view pictures a second for the console (default 4, as sessions)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench-results.json"), help="JSON results file")
    args = parser.parse_args(argv)
    width, height = (int(x) for x in args.size.split("x"))
    size = (width, height)
    parts = args.only or list(PARTS)
    seconds = 300.0 if args.long else args.seconds
    results: dict[str, Any] = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "pipe": args.pipe or "tiny",
        "size": list(size),
        "thumbnail_hz": args.thumbnails,
    }
    began = time.monotonic()
    if "throughput" in parts:
        throughput.run(results)
    if "latency" in parts:
        latency.run(results, seconds=40.0, commands=150, size=size, pipe=args.pipe)
    if "long" in parts:
        long_session.run(results, size=size)
    if "frames" in parts:
        frame_pacing.run(
            results, seconds=seconds, size=size, pipe=args.pipe, thumbnail_hz=args.thumbnails
        )
    if "coach" in parts:
        coach_frames.run(results, seconds=seconds, size=size)
    if "coach-click" in parts:
        coach_click.run(results)
    if "full-pipe" in parts:
        full_pipe.run(results)
    if "station" in parts:
        station.run(results, pipe=args.pipe)
    results["wall_s"] = round(time.monotonic() - began, 1)
    print(f"\nMachine: {results['machine']}")
    for key, limit in TARGETS.items():
        if key in results:
            verdict = "met" if results[key] <= limit else "MISSED"
            print(f"target {key}: {results[key]} (limit {limit}): {verdict}")
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"{len(results)} figures written to {args.out} in {results['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
