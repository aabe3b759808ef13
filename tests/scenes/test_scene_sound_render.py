"""The console's scene-sound mute in a real render process on null audio: the pipe message, the
render process's answer, and the mute holding across scene changes and scenes built later.

Null audio plays nothing, but the volumes the stage passes to every sound are real; the frame
reports carry the loudest of the scene on show (`Frames.scene_volume`), so these tests see what
a headset with speakers would play.
"""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scenes.registry import LIBRARY
from scenes.render import RenderHandle, start_render
from scenes.render.messages import Frames, FromRender, SceneSoundApplied, SetSceneSound
from scenes.stage import AMBIENT_VOLUME
from tests.conftest import wait_for

pytestmark = pytest.mark.render


def test_the_scene_sound_messages_survive_the_pipe() -> None:
    for message in (SetSceneSound(muted=True), SetSceneSound(muted=False)):
        assert pickle.loads(pickle.dumps(message)) == message
    answer = SceneSoundApplied(muted=True)
    assert pickle.loads(pickle.dumps(answer)) == answer
    frames = Frames(
        times_ms=(16.7,),
        late=0,
        budget_ms=16.7,
        fps=60.0,
        scene="safe_place",
        intensity=0.0,
        fade=1.0,
        target_seq=1,
        head=(0.0, 0.0, 1.6, 0.0, 0.0, 0.0),
        watchdog=False,
        dropped=0,
        scene_sound_muted=True,
        scene_volume=0.0,
    )
    assert pickle.loads(pickle.dumps(frames)) == frames


class Headset:
    """A render process with a control side that heartbeats its latest target while it waits."""

    def __init__(self, handle: RenderHandle) -> None:
        self.handle = handle
        self.target: tuple[str, float] = ("safe_place", 0.0)
        self.seq = 0
        self.heard: list[FromRender] = []

    def show(self, scene: str, level: float) -> None:
        self.target = (scene, level)
        self.seq = self.handle.send_target(scene, level)

    def wait(self, check: Callable[[FromRender], bool], what: str) -> FromRender:
        def step() -> FromRender | None:
            self.handle.send_target(*self.target)  # the heartbeat keeps the watchdog calm
            for message in self.handle.poll():
                self.heard.append(message)
                if check(message):
                    return message
            return None

        return wait_for(step, 60, what)

    def frames(self, check: Callable[[Frames], bool], what: str) -> Frames:
        """The next frame report with the target on show at full brightness that passes."""

        def settled(m: FromRender) -> bool:
            return (
                isinstance(m, Frames)
                and m.target_seq >= self.seq
                and m.scene == self.target[0]
                and m.fade == 1.0
                and check(m)
            )

        found = self.wait(settled, what)
        assert isinstance(found, Frames)
        return found


@pytest.fixture
def headset() -> Iterator[Headset]:
    handle = start_render(
        size=(64, 48),
        frame_rate=30.0,
        thumbnail_hz=0,
        transition_s=0.4,
        scenes=["public_speaking"],  # heights is built later, when first targeted
    )
    handle.wait_ready(60)
    yield Headset(handle)
    handle.stop()


def test_a_mute_reaches_every_scene_and_the_headset_says_what_it_plays(headset: Headset) -> None:
    # the safe place is heard (water, birds, wind) until the therapist mutes it
    on = headset.frames(lambda f: f.scene_volume > 0, "the safe place heard")
    assert on.scene_sound_muted is False

    headset.handle.set_scene_sound(True)
    answer = headset.wait(lambda m: isinstance(m, SceneSoundApplied), "the headset's answer")
    assert answer == SceneSoundApplied(muted=True)
    silent = headset.frames(lambda f: f.scene_sound_muted, "a muted frame report")
    assert silent.scene_volume == 0.0

    # a scene change: the murmuring room stays silent while muted...
    headset.show("public_speaking", 6.0)
    room = headset.frames(lambda f: abs(f.intensity - 6.0) < 0.01, "the room at level 6")
    assert room.scene_sound_muted and room.scene_volume == 0.0
    # ...and a scene built after the mute (heights was not built up front) starts silent
    headset.show("heights", 5.0)
    high = headset.frames(lambda f: abs(f.intensity - 5.0) < 0.01, "the heights at level 5")
    assert high.scene_sound_muted and high.scene_volume == 0.0

    # sound back on: the scene on show is heard again, and so is the next one
    headset.handle.set_scene_sound(False)
    answer = headset.wait(lambda m: isinstance(m, SceneSoundApplied), "the headset's answer")
    assert answer == SceneSoundApplied(muted=False)
    headset.frames(lambda f: not f.scene_sound_muted and f.scene_volume > 0, "the wind heard")
    headset.show("public_speaking", 6.0)
    headset.frames(lambda f: not f.scene_sound_muted and f.scene_volume > 0, "the room heard")


HUM_SCENE = """
from scenes.api import Scene, level


class Hum(Scene):
    phobia = "test"
    description = "A room with an ambient loop."
    sound = "hum.wav"
    levels = [level("one", size=1.0)]

    def build(self):
        pass

    def apply(self, intensity, dt):
        pass
"""


def ambient_child(conn, library: str) -> None:
    """In a fresh process with null audio: a real Stage whose audio manager and ambient loops
    report what the stage asks of them (null audio keeps no volume of its own)."""
    from scenes.registry import LIBRARY, discover
    from scenes.stage import Stage, configure, make_base

    found, _ = discover([LIBRARY, Path(library)])
    configure("offscreen", (64, 48), audio=False)
    base = make_base()
    asked: list[tuple[str, object]] = []

    class Reporting:
        """Passes every call on to the real Panda3D object, noting the ones under test."""

        def __init__(self, real: object, name: str) -> None:
            self._real, self._name = real, name

        def setActive(self, flag: bool) -> None:  # noqa: N802 (Panda3D's name)
            asked.append((f"{self._name}.setActive", flag))
            self._real.setActive(flag)

        def setVolume(self, volume: float) -> None:  # noqa: N802
            asked.append((f"{self._name}.setVolume", volume))
            self._real.setVolume(volume)

        def __getattr__(self, attr: str) -> object:
            return getattr(self._real, attr)

    base.sfxManagerList[0] = Reporting(base.sfxManagerList[0], "manager")
    load = base.loader.loadSfx
    base.loader.loadSfx = lambda path, *a, **k: Reporting(load(path, *a, **k), Path(str(path)).name)
    stage = Stage(base)
    stage.build(found["safe_place"])
    stage.set_muted(True)
    stage.build(found["hum"])  # built while muted
    stage.set_muted(False)
    conn.send(asked)
    conn.close()


def test_the_mute_silences_ambient_loops_and_leaves_the_audio_manager_to_the_coach(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "hum"
    folder.mkdir()
    (folder / "scene.py").write_text(HUM_SCENE)
    shutil.copy(LIBRARY / "safe_place" / "lake.wav", folder / "hum.wav")
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=ambient_child, args=(theirs, str(tmp_path)))
    proc.start()
    theirs.close()
    assert ours.poll(120)
    asked = ours.recv()
    proc.join(10)
    assert asked == [
        ("lake.wav.setVolume", AMBIENT_VOLUME),  # built, sound on
        ("lake.wav.setVolume", 0.0),  # muted
        ("hum.wav.setVolume", 0.0),  # built while muted: silent from the start
        ("lake.wav.setVolume", AMBIENT_VOLUME),  # sound back on
        ("hum.wav.setVolume", AMBIENT_VOLUME),
    ]
    # the coach's voice plays through the same manager: the mute never deactivates it
    assert not any(name == "manager.setActive" for name, _ in asked)
