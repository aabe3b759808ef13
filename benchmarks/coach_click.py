"""`python -m benchmarks --only coach-click`: from the therapist's click on a coach line to the
line starting in the headset.

A real session (simulated client on a pty, console, render process at 320x180 offscreen, coach
with espeak-ng when it is installed, else captions only) runs; once the script's speech is made,
the bench posts `/api/coach {"action": "trigger"}` a number of times, two seconds apart, and
times each click to the render process's report that the line's caption is up and its sound
started (`CoachSpoke.t_started`; both processes read one monotonic clock). The target is one
second. About 40 s.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import free_port, percentile, table
from exposure.models import ControlSettings
from scenes.registry import default_ladder
from sensors.simulator import SimulatedHeart
from vret.coach_voice import CoachPlan, espeak_path
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread

CLICKS = 12
EVERY_S = 2.0


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


def run(
    results: dict[str, Any], *, clicks: int = CLICKS, size: tuple[int, int] = (320, 180)
) -> None:
    heart = SimulatedHeart(resting_hr=70, reactivity_bpm=1.0, variability_bpm=0.5, lag_s=3, seed=3)
    client = SimulatedClient("text", heart, rate=4.0)
    engine = "espeak-ng" if espeak_path() else "none"
    with tempfile.TemporaryDirectory(prefix="vret-bench-coach-") as folder:
        plan = SessionPlan(
            client="B-COACH",
            ladder=default_ladder("spiders"),
            sensor=client.start(),
            protocol="text",
            settings=ControlSettings(),
            display="offscreen",
            size=size,
            port=free_port(),
            db=f"sqlite:///{Path(folder) / 'v.db'}",
            coach=CoachPlan(folder=Path(folder) / "coach", engine=engine),  # type: ignore[arg-type]
            on_ready=lambda station: client.wear(station.live),
        )
        runner = StationThread(plan)
        station = runner.start(timeout=120)
        latencies: list[float] = []
        sounded = 0
        try:
            render, speaker = station.render, station.speaker
            assert render is not None and speaker is not None
            _wait(lambda: render.coach_spoke is not None, 120, "the welcome in the headset")
            _wait(lambda: speaker.prepared, 120, "the script's speech")
            with httpx.Client(
                base_url=station.url.split("/?")[0],
                headers={"Authorization": f"Bearer {station.token}"},
                timeout=30,
            ) as http:
                for _ in range(clicks):
                    time.sleep(EVERY_S)
                    before = render.coach_spoke
                    clicked = time.monotonic()
                    http.post("/api/coach", json={"action": "trigger"}).raise_for_status()
                    _wait(
                        lambda b=before: render.coach_spoke is not b, 30, "the line in the headset"
                    )
                    spoke = render.coach_spoke
                    assert spoke is not None
                    latencies.append((spoke.t_started - clicked) * 1000.0)
                    sounded += spoke.sound
        finally:
            runner.stop()
            client.stop()
    row = {
        "clicks": len(latencies),
        "with_sound": sounded,
        "engine": engine,
        "p50_ms": round(percentile(latencies, 50), 1),
        "max_ms": round(max(latencies), 1),
    }
    print(
        table(
            f"Coach click to the line starting in the headset, {size[0]}x{size[1]} offscreen",
            ["clicks", "with sound", "engine", "p50 ms", "max ms"],
            [[row["clicks"], row["with_sound"], engine, row["p50_ms"], row["max_ms"]]],
        )
    )
    results["coach_click"] = row
    results["coach_click_max_ms"] = row["max_ms"]


if __name__ == "__main__":
    out: dict[str, Any] = {}
    run(out)
