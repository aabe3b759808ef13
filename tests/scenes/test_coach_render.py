"""The coach in the render process (offscreen, p3tinydisplay): captions on the frame, its sound
started, the figure, the voice-only light, and off.

No sound device here: the render process runs with `audio-library-name null`, so the sound is
loaded and started through Panda3D's audio but heard by nobody; the WAV's own data is checked
in tests/vret/test_coach_voice.py."""

from __future__ import annotations

import math
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from scenes.coach_figure import breath_phase, caption_seconds
from scenes.render import start_render
from scenes.render.messages import CoachSay, CoachSpoke, FromRender, Thumbnail
from tests.conftest import wait_for

pytestmark = pytest.mark.render
SIZE = (160, 120)


def tone_file(path: Path, seconds: float = 3.0, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                int(9000 * math.sin(2 * math.pi * 200 * i / rate)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(int(seconds * rate))
            )
        )
    return path


def pictures_after(
    handle, count: int, timeout: float = 20.0
) -> tuple[list[np.ndarray], list[FromRender]]:
    """The `count`-th and later thumbnails from now (the safe scene held as the target)."""
    seen: list[FromRender] = []
    pics: list[np.ndarray] = []
    deadline = time.monotonic() + timeout
    while len(pics) < count:
        handle.send_target("safe_place", 0.0, True)
        time.sleep(0.03)
        for m in handle.poll():
            seen.append(m)
            if isinstance(m, Thumbnail):
                pics.append(
                    np.frombuffer(m.rgb, np.uint8).reshape(m.height, m.width, 3).astype(float)
                )
        assert time.monotonic() < deadline, "no thumbnails from the render process"
    return pics, seen


def region(img: np.ndarray, rows: tuple[float, float], cols: tuple[float, float]) -> np.ndarray:
    h, w = img.shape[:2]
    return img[int(rows[0] * h) : int(rows[1] * h), int(cols[0] * w) : int(cols[1] * w)]


CAPTION = ((0.62, 0.9), (0.3, 0.7))
FIGURE = ((0.2, 0.9), (0.75, 1.0))


@pytest.fixture(scope="module")
def coach_render():
    handle = start_render(
        size=SIZE,
        frame_rate=30.0,
        thumbnail_hz=10.0,
        thumbnail_size=SIZE,
        scenes=["safe_place"],
        coach="person",
    )
    handle.wait_ready(60)
    yield handle
    wait_for(lambda: not handle.poll(), 10, "the pipe read to the end")
    assert handle.stop() == 0


def test_a_line_is_captioned_in_the_frame_and_its_sound_started(
    coach_render, tmp_path: Path
) -> None:
    handle = coach_render
    before, _ = pictures_after(handle, 6)
    wav = tone_file(tmp_path / "line.wav")
    say = CoachSay(
        text="Breathe in slowly, and out.",
        wav=str(wav),
        seconds=3.0,
        envelope=(0.9, 0.1) * 45,
        empathic=True,
        guide=True,
    )
    handle.coach_say(say)
    after, seen = pictures_after(handle, 4)
    spoke = [m for m in seen if isinstance(m, CoachSpoke)]
    assert spoke and spoke[0].text == say.text and spoke[0].wav == str(wav) and spoke[0].sound
    caption_then, caption_now = region(before[-1], *CAPTION), region(after[-1], *CAPTION)
    assert np.abs(caption_now - caption_then).mean() > 8, "no caption on the frame"
    # the caption is light text on a dark card
    assert caption_now.max() > 200 and (caption_now.mean(axis=2) < 40).mean() > 0.3


def test_the_figure_shows_as_a_person_a_light_or_not_at_all(coach_render) -> None:
    handle = coach_render
    handle.coach_form("person")
    person, _ = pictures_after(handle, 4)
    handle.coach_form("off")
    off, _ = pictures_after(handle, 4)
    handle.coach_form("voice")
    voice, _ = pictures_after(handle, 4)
    handle.coach_form("person")
    figure_person = region(person[-1], *FIGURE)
    figure_off = region(off[-1], *FIGURE)
    assert np.abs(figure_person - figure_off).mean() > 3, "the figure is not in the frame"
    assert np.abs(voice[-1] - off[-1]).mean() > 0.2, "the voice-only light is not in the frame"
    # off: no caption either
    assert np.abs(region(off[-1], *CAPTION) - region(off[-2], *CAPTION)).mean() < 8


def test_the_breathing_guide_goes_in_for_4_s_and_out_for_6() -> None:
    assert breath_phase(0.0) == 0.0 and breath_phase(4.0) == pytest.approx(1.0)
    assert breath_phase(2.0) == pytest.approx(0.5) and breath_phase(7.0) == pytest.approx(0.5)
    assert breath_phase(10.0) == pytest.approx(0.0)


def test_a_caption_stays_as_long_as_its_sound_or_its_reading() -> None:
    words = "one two three four five six seven eight nine ten"
    spoken = CoachSay(text=words, wav="x.wav", seconds=6.0, envelope=())
    silent = CoachSay(text=words, wav="", seconds=0.0, envelope=())
    assert caption_seconds(spoken) == pytest.approx(7.5)
    assert caption_seconds(silent) == pytest.approx(10 / 2.5 + 1.5)
