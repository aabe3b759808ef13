"""The render process's main: one ShowBase, the built scenes, and the pipe to the control process.

Imported only in the render process (it loads Panda3D). Each frame it reads what the control
process sent (never waiting), steps the pure `Transitions` state machine, applies its output to
the stage, and after the frame is drawn sends reports back through the `Outbox` thread.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from direct.task import Task
from panda3d.core import (
    GraphicsOutput,
    MouseButton,
    NodePath,
    PerspectiveLens,
    Quat,
    Texture,
    Vec3,
)

from scenes.api import EYE_HEIGHT_M
from scenes.client_input import ClientInput
from scenes.coach_figure import CoachPresence
from scenes.geometry import Mesh
from scenes.look import buffer_properties, linear_colour, to_linear_light
from scenes.openvr_display import DisplayUnavailable, OpenVRDisplay, load_openvr
from scenes.pose import PoseScript, WindowLook, recentre_offset
from scenes.registry import SceneInfo, discover
from scenes.render.config import (
    FRAME_REPORT_HZ,
    HORIZON_FADE_S,
    LOOK_ENV,
    TRACKING_LOST_S,
    RenderConfig,
    fade_seconds,
    look_settings_from,
)
from scenes.render.gaze import GazeSummariser
from scenes.render.messages import (
    ClientInput as ClientInputMessage,
)
from scenes.render.messages import (
    CoachForm,
    CoachSay,
    CoachSpoke,
    FrameEffect,
    Frames,
    OpenQuestions,
    OpenSudsPanel,
    PressKey,
    Ready,
    Recentre,
    SceneFailed,
    SceneLevels,
    SceneSoundApplied,
    SetSceneSound,
    StartFailed,
    Stop,
    Target,
    Thumbnail,
    TriggerSceneEvent,
    UnknownScene,
)
from scenes.render.outbox import ControlPipe
from scenes.render.pacing import DetailGovernor, FrameTimes, Pacer
from scenes.render.thumbnail import ShrinkView
from scenes.render.transitions import MAX_STEP_S, Transitions, TransitionSettings
from scenes.stage import FAR_M, NEAR_M, PREVIEW_FOV, Stage, configure, make_base

RENDER_RT_PRIORITY = 10
"""Real-time (SCHED_FIFO) priority asked for the render process, low in the 1-99 range: late
frames make clients sick, so on a busy machine a frame comes before the control process's bulk
work (records, console). The loop sleeps every frame, and the kernel keeps 5% of each second
for other work even if it did not, so the rest of the machine still runs."""
RENDER_NICE = -10
"""Where real-time scheduling is not allowed, a higher ordinary priority."""


def main(conn: Connection, config: RenderConfig) -> None:
    """Entry point of the render process: start, say ready (or why not), run until stopped."""
    priority = raise_priority()
    try:
        loop = RenderLoop(conn, config, priority)
    except (DisplayUnavailable, RuntimeError, KeyError, ValueError) as err:
        message = str(err).strip('"') if not isinstance(err, KeyError) else str(err.args[0])
        _fail(conn, message)
    except Exception as err:  # anything else: still one sentence, never a silent exit
        _fail(conn, f"The render process failed to start ({type(err).__name__}: {err}).")
    loop.run()


def raise_priority() -> str:
    """Ask for SCHED_FIFO, else RENDER_NICE; where neither is allowed keep ours. Says which."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RENDER_RT_PRIORITY))
        return f"SCHED_FIFO {RENDER_RT_PRIORITY}"
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, RENDER_NICE)
        return f"nice {RENDER_NICE}"
    except (AttributeError, OSError):
        return "normal"


def _fail(conn: Connection, message: str) -> NoReturn:
    """Tell the control side why the render process cannot start, then exit (code 2)."""
    try:
        conn.send(StartFailed(message=message))
    finally:
        conn.close()
    sys.exit(2)


class Thumbnails:
    """A small camera on the client's head, rendered into a texture a few times a second.

    With `copy_view` (software rendering) no second camera: the frame the client saw is copied
    to memory and shrunk (`ShrinkView`), which costs 0.5 ms where drawing the scene again cost
    3.5-4 ms (heights, public speaking at 640x360).
    """

    def __init__(
        self, base: Any, stage: Stage, hz: float, size: tuple[int, int], copy_view: bool = False
    ) -> None:
        self.buffer: Any = None
        self.pending = False
        self.due = 0.0
        self.period = 1.0 / hz if hz > 0 else 0.0
        self.shrink: ShrinkView | None = None
        if hz <= 0:
            return
        w, h = size
        if copy_view:
            self.texture = Texture("client-view")
            base.win.addRenderTexture(self.texture, GraphicsOutput.RTMTriggeredCopyRam)
            self.buffer = base.win
            self.shrink = ShrinkView((base.win.getXSize(), base.win.getYSize()), size)
            return
        self.texture = Texture("thumbnail")
        buf = base.win.makeTextureBuffer("thumbnail", w, h, self.texture, True, buffer_properties())
        if buf is None:
            return
        lens = PerspectiveLens()
        lens.setFov(PREVIEW_FOV)
        lens.setAspectRatio(w / h)
        lens.setNearFar(NEAR_M, FAR_M)
        cam = base.makeCamera(buf, lens=lens)
        cam.reparentTo(stage.head)
        buf.setActive(False)
        self.buffer = buf
        stage.outputs.append(buf)

    def frame(self, now: float) -> None:
        """Before the frame: draw the thumbnail camera too in this frame, when one is due."""
        if self.buffer is not None and now >= self.due:
            if self.shrink is not None:
                self.buffer.triggerCopy()  # the window's frame, copied when it is drawn
            else:
                self.buffer.setActive(True)
            self.pending = True
            self.due = now + self.period

    def take(self) -> Thumbnail | None:
        """After the frame: the picture drawn in it, if one was due (raw RGB, top row first)."""
        if not self.pending:
            return None
        self.pending = False
        tex = self.texture
        if self.shrink is not None:
            if not tex.hasRamImage():
                return None
            source = (tex.getXSize(), tex.getYSize())
            if source != self.shrink.source:  # a window the client resized
                self.shrink = ShrinkView(source, self.shrink.size)
            if tex.getNumComponents() == 4 and tex.getComponentWidth() == 1:
                pixels = tex.getRamImage()  # BGRA already: no conversion
            else:
                pixels = tex.getRamImageAs("BGRA")
            w, h = self.shrink.size
            return Thumbnail(width=w, height=h, rgb=self.shrink(pixels))
        self.buffer.setActive(False)
        if not tex.hasRamImage():
            return None
        w, h = tex.getXSize(), tex.getYSize()
        pixels = np.frombuffer(bytes(tex.getRamImageAs("RGB")), np.uint8).reshape(h, w, 3)
        return Thumbnail(width=w, height=h, rgb=pixels[::-1].tobytes())


SKY = (0.62, 0.72, 0.82)
GROUND = (0.42, 0.45, 0.4)


class Horizon:
    """A steady sky and ground around the client's standing spot, shown when tracking is lost.

    A headset that loses its tracking shows a world that no longer follows the head, which
    makes clients sick; a plain horizon fixed in the room is the usual comfort fallback. It
    fades in over `HORIZON_FADE_S` once the pose has been invalid for `TRACKING_LOST_S`, and
    the scene fades out under it; it fades back when tracking returns.
    """

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.level = 0.0
        """0: not shown; 1: all the client sees."""
        self.invalid_since: float | None = None
        mesh = Mesh()
        mesh.sphere((0.0, 0.0, EYE_HEIGHT_M), 300.0, SKY, segs=16, rings=8)
        sky = mesh.node("horizon-sky")
        ground = Mesh().disc((0.0, 0.0, 0.0), 280.0, GROUND, sides=32).node("horizon-ground")
        self.node = NodePath("horizon")
        self.node.reparentTo(stage.rig)  # under the scene's root: not faded with the scene
        self.node.setColorScaleOff(1)
        self.parts = (sky, ground)
        for sort, part in ((90, sky), (91, ground)):
            part.reparentTo(self.node)
            part.setBin("fixed", sort)
            part.setTwoSided(True)
        self.node.setLightOff(1)
        self.node.setFogOff(1)
        self.node.setDepthTest(False)
        self.node.setDepthWrite(False)
        self.node.setTransparency(True)
        self.node.hide()

    def step(self, now: float, dt: float, valid: bool) -> None:
        """The pose was `valid` this frame: ease the horizon in or out."""
        if valid:
            self.invalid_since = None
        elif self.invalid_since is None:
            self.invalid_since = now
        lost = self.invalid_since is not None and now - self.invalid_since > TRACKING_LOST_S
        rate = dt / HORIZON_FADE_S
        level = min(1.0, self.level + rate) if lost else max(0.0, self.level - rate)
        if level == self.level:
            return
        self.level = level
        if level <= 0.0:
            self.node.hide()
        else:
            self.node.show()
            for part in self.parts:
                part.setAlphaScale(level)

    def clear_colour(self) -> None:
        """Blend the outputs' clear colour toward the sky (after the stage set its own)."""
        if self.level <= 0.0 or self.stage.current is None:
            return
        f, k = self.stage.fade, self.level
        bg = self.stage.current.background
        color = linear_colour(tuple(bg[i] * f * (1.0 - k) + SKY[i] * k for i in range(3)))
        for output in self.stage.outputs:
            output.setClearColor((color[0], color[1], color[2], 1.0))


class RenderLoop:
    """One ShowBase, the built scenes, the client's view and the pipe; runs until `Stop`."""

    def __init__(self, conn: Connection, config: RenderConfig, priority: str = "normal") -> None:
        self.config = config
        self.pipe = ControlPipe(conn)
        vr = config.display == "openvr"
        ovr = load_openvr(config.openvr_module) if vr else None  # fails before a window opens

        # Panda3D and the scenes. Frames are paced here, after each frame is drawn (`Pacer`),
        # not by Panda3D's limited clock, which sleeps inside renderFrame before the frame's
        # end can be timed.
        pipe_name = configure(
            config.display,
            config.size,
            None,
            pipe=config.pipe if config.pipe else ("gl" if vr else None),
            audio=config.audio,
            title="vret - client view",
        )
        dirs = [Path(d) for d in config.scene_dirs] if config.scene_dirs is not None else None
        self.infos, problems = discover(dirs)
        if config.safe_scene not in self.infos:
            reason = next((str(p) for p in problems if p.name == config.safe_scene), "not found")
            raise RuntimeError(f"The safe scene {config.safe_scene!r} cannot be loaded ({reason}).")
        self.base = make_base(config.look)
        self.stage = Stage(self.base)
        self.failures: dict[str, str] = {}
        """The scenes that raised (building, drawing or in an event), with the error."""
        self._asked: tuple[str, bool] | None = None
        """The scene the latest target asked for, and whether it was a safe target."""
        self._asked_failed: str | None = None
        """The failed scene the latest target asked for (reported once a run of targets)."""
        self.levels_override: dict[str, list[dict[str, float]]] = {}
        """Levels a `SceneLevels` message set for a scene (a station's next session)."""
        startup_failures = self._build_scenes()
        self.display: OpenVRDisplay | None = None
        if vr:
            self.stage.head.setPosHpr(0, 0, 0, 0, 0, 0)  # the headset reports its own height
            self.stage.track_gaze = False
            self.display = OpenVRDisplay(self.base, self.stage.head, ovr, NEAR_M, FAR_M)
            self.stage.outputs.extend(self.display.outputs)
        self.client = ClientInput(
            self.base, self.stage.head, self._client_event, self._client_break, vr=vr
        )
        self.coach = CoachPresence(self.base, self.stage.rig, self.stage.head, config.coach)
        self.thumbnails = Thumbnails(
            self.base,
            self.stage,
            config.thumbnail_hz,
            config.thumbnail_size,
            copy_view=pipe_name == "tiny",  # software: a second camera would draw it all again
        )
        self._unknown_reported: set[str] = set()

        # head tracking: where the pose comes from, the gaze summaries, the comfort horizon
        self.script: PoseScript | None = None if vr else config.pose_script
        self.look: WindowLook | None = None
        self.pose = "headset" if vr else "script" if self.script is not None else "none"
        if self.pose == "none" and config.display == "window":
            self.pose = "window"
            self.look = WindowLook()
            for key in "wasd":
                self.base.accept(key, self.look.key, [key])
        if self.pose != "none":
            self.stage.track_gaze = False
            self.client.point_with_gaze(self.stage.rig)  # answers by looking, too
            for key in ("r", "vr-menu"):
                self.base.accept(key, self._client_recentre)
        self.gaze = GazeSummariser() if self.pose != "none" else None
        self.horizon = Horizon(self.stage)
        to_linear_light(self.stage.rig)  # OpenGL: the coach, panels and horizon, as the scenes
        self.pose_valid = True
        self._script_t0: float | None = None
        self._mouse: tuple[float, float] | None = None

        startup_failures += self._warm_scenes()

        # the client's view: what is on show and how it moves (pure; see transitions.py)
        now = time.monotonic()
        self.view = Transitions(
            TransitionSettings(
                safe_scene=config.safe_scene,
                transition_s=config.transition_s,
                fade_s=fade_seconds(config.transition_s),
                watchdog_s=config.watchdog_s,
            ),
            now,
        )
        self.stage.show(config.safe_scene)
        self.stage.set_fade(1.0)

        # frame timing and the reports back
        rate = config.frame_rate
        if rate <= 0 and not vr:  # 0: the display's own refresh rate, where it reports one
            rate = _refresh_rate(self.base) or 60.0
        rate = rate if rate > 0 else 90.0
        self.times = FrameTimes(1.0 / rate)
        self.pacer = Pacer(1.0 / rate) if not vr else None  # in VR, waitGetPoses paces frames
        # a station's VRET_LOOK wins over the config, as for the rest of the look (`make_base`)
        look = look_settings_from(os.environ.get(LOOK_ENV), config.look)
        self.adaptive = look.detail == "adaptive"
        self.governors: dict[str, DetailGovernor] = {}
        """Each scene's detail governor (`Scene.detail_steps`), made when it is first shown."""
        self._woke = now
        """When this frame's work began: the end of the pacer's sleep, or of waitGetPoses."""
        self._work_max = 0.0
        self._work_over = 0
        """The longest frame's work since the last report, and how many frames' own work took
        longer than a frame budget (a late frame whose work did not was woken late)."""
        self.next_report = now + 1.0 / FRAME_REPORT_HZ
        self.seq = 0
        """The latest target received."""
        self.effect: tuple[int, float, float] | None = None
        """(seq, t_sent, t_received) of a target whose first frame is being drawn."""
        self.stopping = False

        tm = self.base.taskMgr
        if self.display is not None:
            tm.add(self._poses_task, "vret-poses", sort=-100)
        tm.add(self._frame_task, "vret-frame", sort=0)
        tm.add(self._after_task, "vret-after-render", sort=60)
        self.pipe.send(
            Ready(
                display=config.display,
                size=(self.base.win.getXSize(), self.base.win.getYSize()),
                scenes=tuple(sorted(self.stage.scenes)),
                pid=os.getpid(),
                pipe=pipe_name,
                renderer=_renderer(self.base),
                frame_rate=round(rate, 3),
                priority=priority,
                pose=self.pose,
            )
        )
        for name, failure in startup_failures:
            self._scene_failed(name, failure)

    # ------------------------------------------------------------------ setup

    def _build_scenes(self) -> list[tuple[str, Exception]]:
        """Build the safe scene (or fail) and the scenes asked for; returns those that raised."""
        safe = self.config.safe_scene
        try:
            self.stage.build(self.infos[safe])
        except Exception as err:  # without a safe scene there is nothing safe to show
            raise RuntimeError(
                f"The safe scene {safe!r} failed to build ({type(err).__name__}: "
                f"{err}): run `vret scenes check {safe}`."
            ) from err
        failures: list[tuple[str, Exception]] = []
        wanted = self.config.scenes if self.config.scenes is not None else tuple(self.infos)
        for name in wanted:
            if name in self.infos and name not in self.stage.scenes:
                try:
                    self.stage.build(self.infos[name], self._levels_of(name))
                except Exception as err:  # one broken scene must not keep the others off
                    failures.append((name, err))
        return failures

    def _warm_scenes(self) -> list[tuple[str, Exception]]:
        """Draw each built scene at each of its levels, unseen (`Stage.warm`): no late frame
        where a scene or a level first appears. Returns the scenes that raised (they will not
        be shown); the safe scene raising stops the start, as a safe scene that cannot build."""
        failures: list[tuple[str, Exception]] = []
        safe = self.config.safe_scene
        for name in sorted(self.stage.scenes, key=lambda n: n != safe):  # the safe scene first
            try:
                self.stage.warm(name)
            except Exception as err:  # one broken level must not keep the other scenes off
                if name == safe:
                    raise RuntimeError(
                        f"The safe scene {safe!r} failed to draw ({type(err).__name__}: "
                        f"{err}): run `vret scenes check {safe}`."
                    ) from err
                failures.append((name, err))
        return failures

    def run(self) -> None:
        gc.collect()
        gc.freeze()  # what was built before the first frame is never scanned again by the GC
        try:
            self.base.run()
        except SystemExit:
            pass
        finally:
            if self.display is not None:
                self.display.close()
            self.pipe.close()

    # ------------------------------------------------------------------ from the control side

    def _receive(self, now: float) -> None:
        messages = self.pipe.receive(now)
        if self.pipe.closed_at is not None:
            self.view.pipe_closed(self.pipe.closed_at)
        if not messages:
            return
        self.view.heard(now)  # any message counts as alive
        for msg in messages:
            if isinstance(msg, Target):
                self._target(msg, now)
            elif isinstance(msg, OpenSudsPanel):
                self.client.ask(msg.question)
            elif isinstance(msg, TriggerSceneEvent):
                self._scene_event(msg.name)
            elif isinstance(msg, PressKey):
                self.base.messenger.send(msg.key)
            elif isinstance(msg, Recentre):
                self._recentre()
            elif isinstance(msg, SceneLevels):
                self._scene_levels(msg)
            elif isinstance(msg, CoachSay):
                sound = self.coach.speak(msg, now)
                self.pipe.send(CoachSpoke(text=msg.text, wav=msg.wav, sound=sound, t_started=now))
            elif isinstance(msg, CoachForm):
                self.coach.set_mode(msg.mode)
            elif isinstance(msg, OpenQuestions):
                self.client.ask_items(msg.kind, msg.items, msg.level)
            elif isinstance(msg, SetSceneSound):
                self._scene_sound(msg.muted)
            elif isinstance(msg, Stop):
                self.stopping = True

    def _scene_sound(self, muted: bool) -> None:
        """The console's mute: the stage's one soundscape holds it for every scene, those built
        later included; report what is applied now."""
        self.stage.set_muted(muted)
        self.pipe.send(SceneSoundApplied(muted=self.stage.soundscape.muted))

    def _scene_levels(self, msg: SceneLevels) -> None:
        """The next session's own levels: for the scene built already, and for a late build."""
        levels = [dict(pairs) for pairs in msg.levels]
        self.levels_override[msg.scene] = levels
        scene = self.stage.scenes.get(msg.scene)
        if scene is not None:
            try:
                scene.use_levels(levels)
            except Exception as err:  # a scene's own fault: reported, never shown
                self._scene_failed(msg.scene, err)

    def _levels_of(self, name: str) -> list[dict[str, float]] | None:
        if name in self.levels_override:
            return self.levels_override[name]
        return self.config.levels_of(name)

    def _target(self, msg: Target, now: float) -> None:
        self.seq = msg.seq
        self.effect = (msg.seq, msg.t_sent, now)
        scene = msg.scene
        self._asked_for(scene, msg.safe)
        if scene not in self.stage.scenes and scene not in self.view.failed:
            info = self.infos.get(scene)
            if info is None:
                self._unknown(scene)
                return  # not shown: the client keeps seeing the previous target
            self._build_late(info)
        self.view.target(scene, msg.intensity, msg.safe)

    def _build_late(self, info: SceneInfo) -> None:
        """A scene that was not built up front: build it now (a hitch); report it if it raises."""
        try:
            self.stage.build(info, self._levels_of(info.name))
        except Exception as err:  # a scene that cannot build is reported, never shown
            self._scene_failed(info.name, err)

    def _unknown(self, scene: str) -> None:
        if scene in self._unknown_reported:
            return
        self._unknown_reported.add(scene)
        self.pipe.send(
            UnknownScene(
                scene=scene,
                message=f"Unknown scene {scene!r}: run `vret scenes list` to see the scenes "
                "this station has.",
            )
        )

    def _scene_event(self, name: str) -> None:
        scene = self.stage.current
        if scene is None:
            return
        try:
            scene.on_event(name)
        except Exception as err:  # a faulty scene must not take the client's view down
            self._scene_failed(scene.name, err)

    def _scene_failed(self, scene: str, err: Exception) -> None:
        """A scene raised: the view drops it for the safe scene; tell the control side."""
        self.view.scene_failed(scene)
        self.failures[scene] = f"{type(err).__name__}: {err}".splitlines()[0][:200]
        self._report_failed(scene)
        if self._asked is not None and self._asked[0] == scene and not self._asked[1]:
            self._asked_failed = scene  # the targets asking for it now were just told

    def _report_failed(self, scene: str) -> None:
        error = self.failures[scene]
        self.pipe.send(
            SceneFailed(
                scene=scene,
                error=error,
                message=f"Scene {scene!r} failed ({error}); the client sees the safe scene: "
                f"run `vret scenes check {scene}`.",
            )
        )

    def _asked_for(self, scene: str, safe: bool) -> None:
        """A target for a scene that failed (at start, say, before any session) is told again
        when a session first asks for it, so the core follows the headset to the safe scene
        instead of believing the client sees it; heartbeats repeating the target are not."""
        self._asked = (scene, safe)
        asked = scene if scene in self.failures and not safe else None
        if asked is not None and asked != self._asked_failed:
            self._report_failed(asked)
        self._asked_failed = asked

    # ------------------------------------------------------------------ from the client

    def _client_event(self, event: dict[str, Any]) -> None:
        self.pipe.send(ClientInputMessage(event=event))
        self.coach.nod(time.monotonic())  # the coach acknowledges an answer

    def _client_break(self) -> None:
        self.view.client_break(time.monotonic())

    def _client_recentre(self) -> None:
        """The client (R, or the controller's menu button) faces forward: recentre, record it."""
        self._recentre()
        self.pipe.send(ClientInputMessage(event={"type": "recentre", "by": "client"}))

    # ------------------------------------------------------------------ head tracking

    def _recentre(self) -> None:
        """Make the way the client faces now the scene's forward direction."""
        if self.look is not None:
            self.look.recentre()
            return
        head = self.stage.head
        p, q = head.getPos(), head.getQuat()
        x, y, h = recentre_offset((p[0], p[1], p[2]), (q[0], q[1], q[2], q[3]))
        self.stage.rig.setPosHpr(x, y, 0.0, h, 0.0, 0.0)

    def _place_head(self, now: float) -> None:
        """Put the head where the pose source says, this frame (the headset did it already)."""
        head = self.stage.head
        if self.script is not None:
            if self._script_t0 is None:
                self._script_t0 = now
            pose = self.script.at(now - self._script_t0)
            self.pose_valid = pose.valid
            if pose.valid:  # a lost pose keeps the last good one, as a headset does
                head.setPos(*pose.position)
                q = Quat(*pose.orientation)
                if self.script.relative and self.stage.current is not None:
                    rest = Quat()
                    rest.setHpr((0.0, self.stage.current.gaze_pitch, 0.0))
                    q = rest * q  # Panda composes left to right: the rest pitch, then the turn
                head.setQuat(q)
        elif self.look is not None:
            self._mouse_look()
            pitch = self.stage.current.gaze_pitch if self.stage.current is not None else 0.0
            head.setPosHpr(0.0, 0.0, EYE_HEIGHT_M, self.look.heading, pitch + self.look.pitch, 0)
        elif self.display is not None:
            self.pose_valid = self.display.pose_valid

    def _mouse_look(self) -> None:
        """Drag with the left button held turns the head (window display)."""
        assert self.look is not None
        watcher = self.base.mouseWatcherNode
        if watcher is None or not watcher.hasMouse() or not watcher.isButtonDown(MouseButton.one()):
            self._mouse = None
            return
        m = watcher.getMouse()
        w, h = self.base.win.getXSize() / 2.0, self.base.win.getYSize() / 2.0
        at = (m.getX() * w, m.getY() * h)
        if self._mouse is not None:
            self.look.drag(at[0] - self._mouse[0], at[1] - self._mouse[1])
        self._mouse = at

    def _sample_gaze(self, now: float, dt: float) -> None:
        """Where the client looked this frame, relative to the stimulus of the scene on show."""
        scene = self.stage.current
        if self.gaze is None or scene is None:
            return
        anchors: Any = ()
        if self.stage.fade >= 0.5:  # a scene faded to near black shows no stimulus
            try:
                anchors = scene.stimulus_anchors(self.view.intensity)
            except Exception as err:  # a faulty scene must not take the client's view down
                if scene.name != self.config.safe_scene:
                    self._scene_failed(scene.name, err)
                anchors = ()
        head = self.stage.head
        eye = head.getPos(scene.root)
        look = scene.root.getRelativeVector(head, Vec3(0.0, 1.0, 0.0))
        summary = self.gaze.frame(
            now,
            dt,
            (eye[0], eye[1], eye[2]),
            (look[0], look[1], look[2]),
            anchors,
            self.pose_valid,
        )
        if summary is not None:
            self.pipe.send(summary, bulk=True)

    # ------------------------------------------------------------------ per frame

    def _poses_task(self, task: Any) -> int:
        assert self.display is not None
        self.display.wait_poses()
        self._woke = time.monotonic()
        return Task.cont

    def _frame_task(self, task: Any) -> int:
        now = time.monotonic()
        dt = min(self.times.frame(now), MAX_STEP_S)
        self._receive(now)
        if self.stopping or self.view.orphan_expired(now):
            self.base.taskMgr.stop()
            return Task.done
        notice = self.view.step(now)
        if notice is not None:
            self.pipe.send(notice)
        self._draw(dt)
        self.coach.frame(now, self.stage.fade)
        if self.pose != "none":
            self._place_head(now)
            self.horizon.step(now, dt, self.pose_valid)
            self._apply_view()
            self._sample_gaze(now, dt)
            self.client.point(now)
        self.thumbnails.frame(now)
        return Task.cont

    def _draw(self, dt: float) -> None:
        """Apply the view to the stage and advance the scene on show."""
        view = self.view
        self._apply_view()
        try:
            self.stage.frame(view.intensity, dt)
        except Exception as err:  # a faulty scene must not take the client's view down
            if view.scene == self.config.safe_scene:
                raise
            self._scene_failed(view.scene, err)
            self._apply_view()
            self.stage.frame(view.intensity, dt)

    def _apply_view(self) -> None:
        view, stage = self.view, self.stage
        if stage.current is None or stage.current.name != view.scene:
            stage.show(view.scene)
        fade = view.fade * (1.0 - self.horizon.level)  # the scene fades out under the horizon
        if stage.fade != fade:
            stage.set_fade(fade)
            self.horizon.clear_colour()

    def _after_task(self, task: Any) -> int:
        """After the frame is drawn: VR submit, frame-effect report, thumbnail, frame times."""
        now = time.monotonic()
        if self.display is not None:
            self.display.submit()
        if self.effect is not None:
            seq, t_sent, t_received = self.effect
            self.effect = None
            self.pipe.send(
                FrameEffect(
                    target_seq=seq,
                    frame=self.times.frames,
                    t_sent=t_sent,
                    t_received=t_received,
                    t_drawn=now,
                    scene=self.view.scene,
                    fade=round(self.view.fade, 3),
                )
            )
        thumbnail = self.thumbnails.take()
        if thumbnail is not None:
            self.pipe.send(thumbnail, bulk=True)
        if now >= self.next_report:
            self.next_report = now + 1.0 / FRAME_REPORT_HZ
            self._report_frames()
        end = time.monotonic()
        work = end - self._woke
        self._work_max = max(self._work_max, work)
        self._work_over += work > self.times.budget_s
        self._govern_detail(end, work)
        if self.pacer is not None:
            time.sleep(self.pacer.wait_s(time.monotonic()))
            self._woke = time.monotonic()
        return Task.cont

    def _govern_detail(self, now: float, busy_s: float) -> None:
        """Give the scene on show the detail its frames can afford (`DetailGovernor`)."""
        scene = self.stage.current
        if scene is None or not self.adaptive or not scene.detail_steps:
            return
        governor = self.governors.get(scene.name)
        if governor is None:
            governor = self.governors[scene.name] = DetailGovernor(
                self.times.budget_s, scene.detail_steps
            )
        step = governor.frame(now, busy_s)
        if step == scene.detail:
            return
        try:
            scene.set_detail(step)
        except Exception as err:  # a faulty scene must not take the client's view down
            governor.steps = 0  # never asked again: it stays at the detail it could draw
            if scene.name != self.config.safe_scene:
                self._scene_failed(scene.name, err)

    def _report_frames(self) -> None:
        times, late, fps = self.times.take()
        work_max, work_over = self._work_max, self._work_over
        self._work_max, self._work_over = 0.0, 0
        pos, hpr = self.stage.head.getPos(), self.stage.head.getHpr()
        view = self.view
        current = self.stage.current
        self.pipe.send(
            Frames(
                times_ms=times,
                late=late,
                budget_ms=round(self.times.budget_s * 1000.0, 3),
                fps=fps,
                scene=view.scene,
                intensity=round(view.intensity, 4),
                fade=round(view.fade, 3),
                target_seq=self.seq,
                head=(
                    round(pos[0], 4),
                    round(pos[1], 4),
                    round(pos[2], 4),
                    round(hpr[0], 4),
                    round(hpr[1], 4),
                    round(hpr[2], 4),
                ),
                watchdog=view.watchdog,
                dropped=self.pipe.dropped,
                scene_sound_muted=self.stage.soundscape.muted,
                scene_volume=round(self._scene_volume(), 3),
                detail=current.detail if current is not None else 0,
                detail_steps=current.detail_steps if current is not None and self.adaptive else 0,
                detail_lowered=sum(g.lowered for g in self.governors.values()),
                work_max_ms=round(work_max * 1000.0, 3),
                work_over=work_over,
            ),
            bulk=True,
        )

    def _scene_volume(self) -> float:
        """What the client hears of the scene on show now: its loudest sound's volume."""
        scene = self.stage.current
        return self.stage.soundscape.loudest(scene.spatial_sounds) if scene is not None else 0.0


def _refresh_rate(base: Any) -> float | None:
    """The refresh rate the display reports for its current mode, if it reports one."""
    info = base.pipe.getDisplayInformation() if base.pipe is not None else None
    if info is None:
        return None
    index = info.getCurrentDisplayModeIndex()
    if index < 0:
        return None
    rate = float(info.getDisplayModeRefreshRate(index))
    return rate if rate > 0 else None


def _renderer(base: Any) -> str:
    """What draws the frames, e.g. "TinyPanda" or "llvmpipe (LLVM 15.0.6, 256 bits)"."""
    gsg = base.win.getGsg()
    name = gsg.getDriverRenderer() if gsg is not None else ""
    return str(name or base.pipe.getInterfaceName())
