"""Regenerate lake.wav, the safe place's ambient loop: soft water lapping on a shore.

Procedural (filtered noise with slow swells), so the repository needs no recorded audio:
    python scenes/library/safe_place/make_sound.py
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 8000
SECONDS = 8.0


def lake(seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(RATE * SECONDS)
    white = rng.standard_normal(n)
    # brown-ish noise: a leaky integrator, then remove the drift
    brown = np.zeros(n)
    acc = 0.0
    for i, x in enumerate(white):
        acc = 0.985 * acc + x
        brown[i] = acc
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")
    t = np.arange(n) / RATE
    # two wave trains that fit the loop exactly (periods divide 8 s), so it loops seamlessly
    swell = (
        0.35
        + 0.4 * np.clip(np.sin(2 * np.pi * t / 4.0), 0, None) ** 2
        + 0.25 * np.clip(np.sin(2 * np.pi * t / 8.0 + 1.0), 0, None) ** 3
    )
    sound = brown * swell
    fade = int(0.5 * RATE)  # cross-fade the ends so the loop has no click
    ramp = np.linspace(0.0, 1.0, fade)
    sound[:fade] = sound[:fade] * ramp + sound[-fade:] * (1 - ramp)
    sound = sound[:-fade]
    return (sound / np.abs(sound).max() * 0.5 * 32767).astype(np.int16)


def main() -> None:
    path = Path(__file__).with_name("lake.wav")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(lake().tobytes())
    print(path)


if __name__ == "__main__":
    main()
