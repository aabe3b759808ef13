"""Spatial sound: sounds synthesised with numpy, attached to things in the scene, a volume per
level, heard through Panda3D's 3D audio (OpenAL) from the client's head.

A scene declares its sounds in `build` and sets their volumes in `apply`, without touching
Panda3D's audio itself:

    self.scuttle = self.spatial_sound("scuttle", spider_node, min_distance=0.3)
    ...
    self.scuttle.volume = 0.8 * movement          # in apply, each frame
    self.cough.trigger()                          # a one-shot sound, in on_event

`Stage` (the render process, `vret scenes show`) loads them after `build` with an
`Audio3DManager` whose listener is the camera, loops them while the scene is on show, passes
each volume on when it changes, and mutes everything on request (the console's mute). Where
there is no sound device (`audio-library-name null`: tests, previews, benchmarks) the same
calls run against Panda3D's null audio, so the wiring is tested everywhere and heard only on a
machine with speakers or a headset.

The sounds are made at first use and cached as WAV files next to the textures
(`$XDG_CACHE_HOME/vret/sounds`), keyed by a hash of the version, the name and the length; each
loops without a click (it is made periodic: its end flows into its start).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scenes.textures import cache_dir

SOUND_VERSION = 1
RATE = 22050
Synth = Callable[[np.random.Generator, int], np.ndarray]


# ---------------------------------------------------------------------------- synthesis
def _smooth_noise(rng: np.random.Generator, n: int, per_second: float) -> np.ndarray:
    """Slow periodic random wobble in [0, 1]: `per_second` random points, eased between."""
    points = max(2, int(n / RATE * per_second))
    grid = rng.random(points)
    x = np.arange(n) * points / n
    i0 = np.floor(x).astype(int) % points
    f = x - np.floor(x)
    f = f * f * (3 - 2 * f)
    return grid[i0] * (1 - f) + grid[(i0 + 1) % points] * f


def _filtered(rng: np.random.Generator, n: int, taps: int) -> np.ndarray:
    """Noise low-passed by a circular moving average of `taps` samples (periodic)."""
    white = rng.standard_normal(n)
    kernel = np.zeros(n)
    kernel[:taps] = 1.0 / taps
    return np.real(np.fft.ifft(np.fft.fft(white) * np.fft.fft(kernel)))


def _loop_periodic(x: np.ndarray, fade: int = 2000) -> np.ndarray:
    """Cross-fade the end into the start so a loop has no click."""
    fade = min(fade, len(x) // 4)
    ramp = np.linspace(0.0, 1.0, fade)
    out = x[: len(x) - fade].copy()
    out[:fade] = x[:fade] * ramp + x[len(x) - fade :] * (1 - ramp)
    return out


def scuttle(rng: np.random.Generator, n: int) -> np.ndarray:
    """Eight feet ticking on a table: bursts of tiny clicks, faster and slower."""
    out = np.zeros(n)
    click = np.exp(-np.arange(60) / 8.0) * np.sin(np.arange(60) * 2.1)
    t = 0
    while t < n - 60:
        out[t : t + 60] += click * rng.uniform(0.3, 1.0)
        t += int(rng.uniform(0.012, 0.05) * RATE) if rng.random() < 0.85 else int(0.25 * RATE)
    return out


def murmur(rng: np.random.Generator, n: int) -> np.ndarray:
    """A room of people talking quietly: band-limited noise shaped by many slow syllables."""
    voices = np.zeros(n)
    for _ in range(6):
        carrier = _filtered(rng, n, int(rng.integers(6, 14)))
        syllables = _smooth_noise(rng, n, rng.uniform(3.0, 6.0)) ** 2
        voices += carrier * syllables
    return voices


def cough(rng: np.random.Generator, n: int) -> np.ndarray:
    """One cough: two noisy bursts with a fast attack, the second weaker."""
    out = np.zeros(n)
    for start, gain in ((0.0, 1.0), (0.28, 0.6)):
        s = int(start * RATE)
        length = int(0.22 * RATE)
        env = np.exp(-np.arange(length) / (0.05 * RATE)) * (1 - np.exp(-np.arange(length) / 80))
        burst = _filtered(rng, length, 4) * env * gain
        out[s : s + length] += burst[: max(0, min(length, n - s))]
    return out


def wind(rng: np.random.Generator, n: int) -> np.ndarray:
    """Wind: low rumbling noise in slow gusts."""
    return _filtered(rng, n, 40) * (0.3 + _smooth_noise(rng, n, 0.6) ** 1.5)


def traffic(rng: np.random.Generator, n: int) -> np.ndarray:
    """A street far below: a low rumble and cars swelling past."""
    rumble = _filtered(rng, n, 80)
    passes = sum(
        np.exp(-(((np.arange(n) - rng.uniform(0, n)) / (0.8 * RATE)) ** 2)) for _ in range(4)
    )
    return rumble * (0.4 + passes)


def birds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Birdsong: short rising and falling chirps in phrases."""
    out = np.zeros(n)
    t = int(rng.uniform(0.1, 0.5) * RATE)
    while t < n - RATE // 4:
        for _ in range(rng.integers(2, 6)):
            length = int(rng.uniform(0.04, 0.12) * RATE)
            f0, f1 = rng.uniform(2500, 4200), rng.uniform(2500, 5000)
            freq = np.linspace(f0, f1, length)
            phase = np.cumsum(2 * np.pi * freq / RATE)
            env = np.sin(np.linspace(0, np.pi, length)) ** 2
            end = min(n, t + length)
            out[t:end] += (np.sin(phase) * env)[: end - t] * 0.6
            t += length + int(rng.uniform(0.03, 0.1) * RATE)
        t += int(rng.uniform(0.6, 2.0) * RATE)
    return out


def ventilation(rng: np.random.Generator, n: int) -> np.ndarray:
    """A ventilation duct: mains hum with its harmonics over soft air noise."""
    t = np.arange(n) / RATE
    hum = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((100.0, 200.0, 300.0), 1))
    return 0.5 * hum + _filtered(rng, n, 10) * 0.6


def water(rng: np.random.Generator, n: int) -> np.ndarray:
    """Small waves lapping on a shore: filtered noise in slow swells."""
    return _filtered(rng, n, 25) * (0.2 + _smooth_noise(rng, n, 0.35) ** 2)


def door(rng: np.random.Generator, n: int) -> np.ndarray:
    """A door shutting: a low thump and a short latch click."""
    t = np.arange(n) / RATE
    thump = np.sin(2 * np.pi * 70 * t) * np.exp(-t / 0.08)
    click = np.zeros(n)
    s = int(0.03 * RATE)
    click[s : s + 200] = _filtered(rng, 200, 2) * np.exp(-np.arange(200) / 40)
    return thump + 0.5 * click


SOUNDS: dict[str, tuple[Synth, float, bool]] = {
    "scuttle": (scuttle, 4.0, True),
    "murmur": (murmur, 8.0, True),
    "cough": (cough, 0.7, False),
    "wind": (wind, 8.0, True),
    "traffic": (traffic, 10.0, True),
    "birds": (birds, 8.0, True),
    "ventilation": (ventilation, 4.0, True),
    "water": (water, 8.0, True),
    "door": (door, 0.6, False),
}
"""name: (synthesiser, seconds, loops)."""


def synthesise(name: str, seed: int = 1) -> np.ndarray:
    """Sound `name` as float samples in [-1, 1] at RATE (a loop when it loops)."""
    if name not in SOUNDS:
        raise KeyError(f"no sound {name!r}: use one of {', '.join(SOUNDS)}")
    synth, seconds, loops = SOUNDS[name]
    rng = np.random.default_rng([seed, *name.encode()])
    fade = 2000 if loops else 0
    x = synth(rng, int(seconds * RATE) + fade)
    x = x - x.mean()
    if loops:
        x = _loop_periodic(x, fade)
    peak = float(np.abs(x).max()) or 1.0
    return x / peak * 0.9


def sound_file(name: str, seed: int = 1) -> Path:
    """A WAV file of sound `name`: from the cache, or made and cached now."""
    key = hashlib.sha256(f"{SOUND_VERSION}:{name}:{seed}:{SOUNDS[name][1]}".encode()).hexdigest()
    folder = cache_dir().parent / "sounds"
    path = folder / f"{name}-{key[:16]}.wav"
    if path.is_file() and path.stat().st_size > 44:
        return path
    samples = (synthesise(name, seed) * 32767).astype("<i2")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".wav")
        os.close(fd)
    except OSError:  # no cache: a file in the temporary folder, made each run
        fd, tmp = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        path = Path(tmp)
    with wave.open(tmp, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    if Path(tmp) != path:
        os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------- scene side
@dataclass
class SpatialSound:
    """A sound a scene attached to a node; the scene sets `volume` and may `trigger` it."""

    name: str
    node: Any
    volume: float = 1.0
    min_distance: float = 1.0
    loop: bool = True
    triggers: int = 0
    """How many times `trigger` was called (the stage plays once per new trigger)."""
    handle: Any = field(default=None, repr=False)
    """The loaded AudioSound (set by the stage)."""
    path: Path | None = None
    """A sound file of the scene's own (a 360 scene's recorded audio) instead of `name`'s."""

    def trigger(self) -> None:
        """Play a one-shot sound (a cough, a door) once more from the start."""
        self.triggers += 1


# ---------------------------------------------------------------------------- stage side
class Soundscape:
    """The 3D audio of one ShowBase: loads scenes' sounds, follows their volumes, mutes."""

    def __init__(self, base: Any) -> None:
        # Panda3D's audio: only in a process that renders
        from direct.showbase.Audio3DManager import Audio3DManager

        self.manager = base.sfxManagerList[0] if base.sfxManagerList else None
        self.audio3d = (
            Audio3DManager(self.manager, base.camera, root=base.render)
            if self.manager is not None
            else None
        )
        if self.audio3d is not None:
            # the stage updates it after each scene step (`update`), not a task of its own
            base.taskMgr.remove("Audio3DManager-updateTask")
        if self.audio3d is not None:
            self.audio3d.setDropOffFactor(0.6)  # rooms: gentler than the inverse-square law
        self.muted = False
        self._played: dict[int, int] = {}
        self._volumes: dict[int, float] = {}

    def load(self, sounds: list[SpatialSound]) -> None:
        """Load and attach a scene's sounds (build time, never during a level change)."""
        if self.audio3d is None:
            return
        from panda3d.core import Filename  # Panda3D: only in a process that renders

        for sound in sounds:
            path = sound.path if sound.path is not None else sound_file(sound.name)
            sfx = self.audio3d.loadSfx(Filename.fromOsSpecific(str(path)))
            sfx.setLoop(sound.loop)
            self.audio3d.attachSoundToObject(sfx, sound.node)
            self.audio3d.setSoundMinDistance(sfx, sound.min_distance)
            sound.handle = sfx
            self._played[id(sound)] = sound.triggers

    def settle(self, sounds: list[SpatialSound]) -> None:
        """Count one-shot sounds triggered so far as played: they were not for the client."""
        for sound in sounds:
            self._played[id(sound)] = sound.triggers

    def start(self, sounds: list[SpatialSound]) -> None:
        """The scene comes on show: its loops start (silent until `update` gives volumes)."""
        for sound in sounds:
            if sound.handle is not None and sound.loop:
                sound.handle.setVolume(0.0)
                self._volumes[id(sound)] = 0.0
                sound.handle.play()

    def stop(self, sounds: list[SpatialSound]) -> None:
        for sound in sounds:
            if sound.handle is not None:
                sound.handle.stop()

    def update(self, sounds: list[SpatialSound]) -> None:
        """Pass volumes and triggers on (each frame), and move the sounds with their nodes."""
        for sound in sounds:
            sfx = sound.handle
            if sfx is None:
                continue
            key = id(sound)
            volume = 0.0 if self.muted else max(0.0, min(1.0, sound.volume))
            if self._volumes.get(key) != volume:
                self._volumes[key] = volume
                sfx.setVolume(volume)
            if sound.triggers != self._played.get(key, 0):
                self._played[key] = sound.triggers
                sfx.stop()
                sfx.play()
        if self.audio3d is not None:
            self.audio3d.update()

    def loudest(self, sounds: list[SpatialSound]) -> float:
        """The loudest volume these sounds were given at the last `update` (0 while muted)."""
        return max((self._volumes.get(id(sound), 0.0) for sound in sounds), default=0.0)

    def set_muted(self, muted: bool) -> None:
        """Silence (or give back) the scenes' spatial sounds: the console's scene-sound mute.

        The audio manager itself stays active: the coach's voice plays through it, and an
        inactive OpenAL manager holds back every sound loaded through it (then plays the held
        loops when it is active again)."""
        self.muted = muted
        self._volumes.clear()  # every sound takes its (muted or own) volume at the next update
