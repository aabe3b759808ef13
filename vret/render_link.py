"""The control side of the render process: scene targets out, frames and client input in."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from exposure.live import LiveSession
from exposure.models import (
    AskSuds,
    Effect,
    Event,
    SceneEvent,
    SceneTarget,
    SessionState,
    SystemEvent,
    parse_event,
)
from scenes.render import start_render
from scenes.render.messages import ClientInput, Frames, FromRender, Thumbnail

RENDER_POLL_S = 0.01
HEARTBEAT_S = 0.2


class RenderLink:
    """The control side of the render process: targets out, frames and client input in.

    Re-sends the latest target as a heartbeat (the render process fades to the safe scene by
    itself after 1 s of silence) and restarts the process in the safe scene if it dies.
    """

    def __init__(
        self,
        live: LiveSession,
        display: str,
        size: tuple[int, int],
        pipe: str | None = None,
        thumbnail_hz: float | None = None,
    ) -> None:
        self.live = live
        self.pipe = pipe
        software = display == "offscreen" and pipe in (None, "tiny")
        self.thumbnail_hz = thumbnail_hz if thumbnail_hz is not None else (4.0 if software else 0.0)
        self.display = display
        self.size = size
        self.handle: Any = None
        self.restarts = 0
        self.thumbnail_jpeg: bytes | None = None
        self.frames: dict[str, Any] = {}
        self._target: SceneTarget = live.state.scene_target
        self._last_sent = 0.0
        self.last_seq = 0
        """Sequence number of the latest target sent (the render process reports it back)."""
        self.on_message: Callable[[FromRender], None] | None = None
        """Sees every message from the render process first (benchmarks use it)."""
        live.add_listener(self._on_step)

    def start(self) -> None:
        self.handle = start_render(
            display=self.display,
            size=self.size,
            safe_scene=self.live.state.ladder.safe_scene,
            pipe=self.pipe,
            thumbnail_hz=self.thumbnail_hz,
        )
        self._send(self._target)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()

    def _send(self, target: SceneTarget) -> None:
        self._target = target
        self._last_sent = time.monotonic()
        if self.handle is not None:
            self.last_seq = self.handle.send_target(target.scene, target.intensity, target.safe)

    def _on_step(self, event: Event, state: SessionState, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SceneTarget):
                self._send(effect)  # panic reaches the pipe in the same step
        if self.handle is None:
            return
        if isinstance(event, AskSuds):
            self.handle.ask_suds(event.question)
        elif isinstance(event, SceneEvent) and hasattr(self.handle, "scene_event"):
            self.handle.scene_event(event.name)

    def pump(self) -> None:
        """Read what the render process said, keep it alive, restart it if it died."""
        if self.handle is None:
            return
        if not self.handle.alive():
            self.restarts += 1
            self.handle.stop()
            self.live.submit(
                SystemEvent(t=0.0, kind="render_restarted", detail=f"restart {self.restarts}")
            )
            self.start()  # the core has just moved to the safe scene: that is the new target
            return
        for message in self.handle.poll():
            if self.on_message is not None:
                self.on_message(message)
            if isinstance(message, ClientInput):
                self.live.submit(parse_event({**message.event, "t": 0.0}))
            elif isinstance(message, Frames):
                self.frames = frame_summary(message)
                self.live.publish({"kind": "frames", "data": self.frames})
            elif isinstance(message, Thumbnail):
                self.thumbnail_jpeg = encode_jpeg(message)
        if time.monotonic() - self._last_sent >= HEARTBEAT_S:
            self._send(self._target)


def frame_summary(frames: Frames) -> dict[str, Any]:
    """A frame report for the console: every field but the raw intervals, plus their p99."""
    times = sorted(frames.times_ms or (0.0,))
    summary = {f.name: getattr(frames, f.name) for f in fields(frames) if f.name != "times_ms"}
    summary["p99_ms"] = round(times[min(len(times) - 1, int(len(times) * 0.99))], 2)
    return summary


def encode_jpeg(thumbnail: Thumbnail) -> bytes:
    """Raw RGB rows from the render process to a JPEG, here and never in the render loop."""
    from PIL import Image  # heavy: loaded only when a picture of the client's view arrives

    image = Image.frombytes("RGB", (thumbnail.width, thumbnail.height), thumbnail.rgb)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()
