"""`vret scenes show`: an author's look around one scene, in a window, in this process.

Keys: Page Up / + / n next level, Page Down / - / p previous level, 1-9 and 0 (10) jump to a
level, arrows turn the head, r resets the view, e triggers the scene's first event, Escape quits.
Levels ease into each other exactly as in a session (smoothstep over the transition).
"""

from __future__ import annotations

import time
from typing import Any

from scenes.api import smoothstep
from scenes.registry import SceneInfo
from scenes.render import RenderError, start_render
from scenes.render.messages import ClientInput

TRANSITION_S = 2.0


def show(
    info: SceneInfo,
    level: float,
    display: str,
    size: tuple[int, int],
    frames: int = 0,
    frame_rate: float = 60.0,
) -> int:
    """Open scene `info` at `level`; returns 0 when the window is closed (or after `frames`)."""
    from scenes.stage import Stage, configure, make_base  # Panda3D: only when a window opens

    configure(display, size, frame_rate, title=f"vret - {info.name}")
    base = make_base()
    stage = Stage(base)
    stage.build(info)
    scene = stage.show(info.name)
    top = info.ladder.top
    state: dict[str, Any] = {
        "from": level,
        "to": level,
        "t0": time.monotonic(),
        "value": level,
        "h": 0.0,
        "p": 0.0,
        "frames": 0,
    }
    title = base.win.getProperties().getTitle() if display == "window" else ""

    def go(n: float) -> None:
        n = max(1.0, min(float(top), n))
        state["from"], state["to"], state["t0"] = state["value"], n, time.monotonic()
        name = info.ladder.level_name(int(round(n)))
        print(f"level {int(round(n))}/{top}: {name}")
        if title:
            from panda3d.core import WindowProperties  # Panda3D: only here

            props = WindowProperties()
            props.setTitle(f"{title} - level {int(round(n))}: {name}")
            base.win.requestProperties(props)

    def turn(dh: float, dp: float) -> None:
        state["h"] += dh
        state["p"] += dp

    def reset() -> None:
        state["h"] = state["p"] = 0.0

    for key in ("page_up", "+", "=", "n"):
        base.accept(key, lambda: go(round(state["to"]) + 1))
    for key in ("page_down", "-", "p"):
        base.accept(key, lambda: go(round(state["to"]) - 1))
    for digit in range(10):
        base.accept(str(digit), go, [float(digit or 10)])
    for key, dh, dp in (
        ("arrow_left", 15, 0),
        ("arrow_right", -15, 0),
        ("arrow_up", 0, 10),
        ("arrow_down", 0, -10),
    ):
        base.accept(key, turn, [dh, dp])
        base.accept(key + "-repeat", turn, [dh, dp])
    base.accept("r", reset)
    if scene.events:
        base.accept("e", scene.on_event, [scene.events[0]])
    base.accept("escape", base.taskMgr.stop)
    last = [time.monotonic()]

    def frame(task: Any) -> int:
        now = time.monotonic()
        dt, last[0] = now - last[0], now
        f = (now - state["t0"]) / TRANSITION_S
        state["value"] = state["from"] + (state["to"] - state["from"]) * smoothstep(f)
        stage.frame(state["value"], min(dt, 0.1))
        stage.head.setHpr(state["h"], scene.gaze_pitch + state["p"], 0)
        state["frames"] += 1
        if frames and state["frames"] >= frames:
            base.taskMgr.stop()
        return task.cont

    base.taskMgr.add(frame, "vret-show")
    go(level)
    base.run()
    return 0


def show_in_headset(info: SceneInfo, level: float, openvr_module: str = "openvr") -> int:
    """Show `info` at `level` in SteamVR through the render process until Ctrl-C."""
    handle = start_render(
        display="openvr", scenes=[info.name], thumbnail_hz=0, openvr_module=openvr_module
    )
    try:
        try:
            handle.wait_ready()
        except RenderError as err:
            raise RuntimeError(str(err)) from err
        print(f"showing {info.name} level {level:g} in the headset; Ctrl-C to stop")
        while handle.alive():
            handle.send_target(info.name, level, False)
            for msg in handle.poll():
                if isinstance(msg, ClientInput):
                    print(f"client: {msg.event}")
            time.sleep(0.2)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        handle.stop()
