"""Spatial sound: numpy-made sounds, attached to the stimuli and the ambience, a volume per
level, one-shot sounds on events, and the whole station muted; tested on null audio."""

from __future__ import annotations

import multiprocessing
import wave

import numpy as np
import pytest
from panda3d.core import NodePath

from scenes.registry import LIBRARY, get
from scenes.sound import RATE, SOUNDS, sound_file, synthesise


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def built(name: str):
    info = get(name)
    scene = info.scene_class(name, NodePath("root"), info.folder)
    scene.build()
    return scene


@pytest.mark.parametrize("name", sorted(SOUNDS))
def test_every_sound_is_made_audible_and_loops_without_a_click(name):
    x = synthesise(name)
    _, seconds, loops = SOUNDS[name]
    assert len(x) == pytest.approx(seconds * RATE, rel=0.01)
    assert np.abs(x).max() == pytest.approx(0.9, abs=0.01)
    assert np.sqrt(np.mean(x**2)) > 0.005  # not silence
    if loops:
        steps = np.abs(np.diff(x))
        assert abs(x[0] - x[-1]) <= max(0.05, 4 * np.percentile(steps, 99))


def test_a_sound_is_cached_as_a_wav_file(monkeypatch, tmp_path):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path))
    path = sound_file("cough")
    assert path.parent == tmp_path / "sounds"
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == len(synthesise("cough"))
    stamp = path.stat().st_mtime_ns
    assert sound_file("cough") == path and path.stat().st_mtime_ns == stamp


def test_each_scene_gives_its_stimulus_and_ambience_a_sound():
    expected = {
        "spiders": {"scuttle"},
        "public_speaking": {"murmur", "cough"},
        "heights": {"wind", "traffic", "birds"},
        "enclosed_space": {"ventilation", "door"},
        "safe_place": {"water", "birds", "wind"},
    }
    for name, sounds in expected.items():
        assert {s.name for s in built(name).spatial_sounds} == sounds, name


def test_the_scuttle_is_silent_in_the_jar_and_loud_when_spiders_run():
    scene = built("spiders")
    for _ in range(60):
        scene.advance(1.0, 1 / 30)
    assert scene.scuttle.volume == 0.0
    loud = []
    for _ in range(300):
        scene.advance(10.0, 1 / 30)
        loud.append(scene.scuttle.volume)
    assert max(loud) > 0.6 and min(loud) == 0.0  # runs, and pauses


def test_an_idle_room_murmurs_and_a_staring_room_is_quiet_and_a_cough_is_heard():
    scene = built("public_speaking")
    scene.advance(1.0, 0.0)
    assert scene.murmur.volume == 0.0  # nobody there
    scene.advance(6.0, 0.0)
    idle = scene.murmur.volume
    scene.advance(10.0, 0.0)
    assert idle > scene.murmur.volume > 0.0
    before = scene.cough_sound.triggers
    scene.on_event("cough")
    assert scene.cough_sound.triggers == before + 1


def test_the_door_is_heard_when_it_shuts_and_the_ventilation_grows_as_the_room_closes():
    scene = built("enclosed_space")
    scene.advance(1.0, 0.0)
    open_room = scene.vent.volume
    before = scene.door_sound.triggers
    level = 1.0
    while level < 10.0:
        level += 0.05
        scene.advance(level, 0.05)
    assert scene.door_sound.triggers == before + 1  # shut once on the way up
    assert scene.vent.volume > open_room + 0.3


def stage_child(conn) -> None:
    """In a fresh process with null audio: build and show scenes on a real Stage."""
    from scenes.registry import discover
    from scenes.stage import Stage, configure, make_base

    found, _ = discover([LIBRARY])
    configure("offscreen", (64, 48), audio=False)
    base = make_base()
    stage = Stage(base)
    out = {"manager": stage.soundscape.manager.getType().getName()}
    scene = stage.build(found["public_speaking"])
    out["loaded"] = [s.handle.getType().getName() for s in scene.spatial_sounds]
    # null audio's sounds all compare equal, so Audio3DManager keeps only the last attachment
    # (it moves "the" sound from node to node); with OpenAL each sound keeps its own node
    out["attached"] = [s.node in stage.soundscape.audio3d.sound_dict for s in scene.spatial_sounds]
    stage.show("public_speaking")
    stage.frame(6.0, 0.1)
    out["volumes"] = dict(stage.soundscape._volumes)
    out["murmur"] = scene.murmur.volume
    stage.set_muted(True)
    stage.frame(6.0, 0.1)
    out["muted"] = dict(stage.soundscape._volumes)
    stage.set_muted(False)
    stage.frame(6.0, 0.1)
    out["unmuted"] = dict(stage.soundscape._volumes)
    conn.send(out)
    conn.close()


def test_the_stage_loads_attaches_and_mutes_the_sounds_on_null_audio():
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=stage_child, args=(theirs,))
    proc.start()
    theirs.close()
    assert ours.poll(120)
    out = ours.recv()
    proc.join(10)
    assert out["manager"] == "NullAudioManager"
    assert out["loaded"] == ["NullAudioSound", "NullAudioSound"]
    assert out["attached"][-1] is True
    assert out["murmur"] in out["volumes"].values() and out["murmur"] > 0
    assert set(out["muted"].values()) == {0.0}  # null audio: the volumes show the mute
    assert out["unmuted"] == out["volumes"]
