"""The coach's voice: TTS of the whole shipped script (espeak-ng always, piper when installed),
the cache, and the therapist's recordings."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import pytest

from exposure.coach import load_script
from vret.coach_voice import (
    CoachVoice,
    VoiceError,
    espeak_path,
    loudness_envelope,
    piper_available,
    wav_rms,
    wav_seconds,
)

SCRIPT = load_script("en")
needs_espeak = pytest.mark.skipif(
    espeak_path() is None, reason="espeak-ng is missing: `make test` installs it"
)


def tone(seconds: float, amplitude: float = 0.3, rate: int = 16000) -> bytes:
    """A 16-bit mono WAV of a 220 Hz tone (a stand-in for a voice through a microphone)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(
            b"".join(
                int(amplitude * 32767 * math.sin(2 * math.pi * 220 * i / rate)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(n)
            )
        )
    return buffer.getvalue()


def assert_plausible_speech(path: Path, text: str) -> None:
    words = len(text.split())
    seconds = wav_seconds(path)
    # speech runs at 2-4 words a second; pauses at commas and full stops add a little
    assert words / 5.0 <= seconds <= words / 1.2 + 1.5, (text, seconds)
    assert wav_rms(path) > 0.02, f"silent speech for {text!r}"


@needs_espeak
def test_espeak_speaks_the_whole_script_and_caches_it(tmp_path: Path) -> None:
    voice = CoachVoice(tmp_path / "cache", engine="espeak-ng")
    texts = [line.text for line in SCRIPT.lines]
    assert voice.prepare(texts) == len(set(texts))
    for line in SCRIPT.lines:
        speech = voice.ready(line.id, line.text)
        assert speech is not None and speech.source == "espeak-ng"
        assert_plausible_speech(speech.path, line.text)
    assert voice.prepare(texts) == 0  # all cached
    envelope = loudness_envelope(voice.cache_path(texts[0]))
    assert len(envelope) > 30 and max(envelope) > 0.2 and min(envelope) < 0.05


@pytest.mark.skipif(not piper_available(), reason="the [voice] extra (piper-tts) is not installed")
def test_piper_speaks_the_whole_script_in_one_separate_process(tmp_path: Path) -> None:
    voice = CoachVoice(tmp_path / "cache", engine="piper")
    texts = [line.text for line in SCRIPT.lines]
    assert voice.prepare(texts) == len(set(texts))
    for line in SCRIPT.lines:
        speech = voice.ready(line.id, line.text)
        assert speech is not None and speech.source == "piper"
        assert_plausible_speech(speech.path, line.text)


@needs_espeak
def test_the_cache_is_keyed_by_voice_and_text(tmp_path: Path) -> None:
    voice = CoachVoice(tmp_path, engine="espeak-ng")
    assert voice.cache_path("Hello.") != voice.cache_path("Hello!")
    other = CoachVoice(tmp_path, language="de", engine="espeak-ng")
    assert other.cache_path("Hello.") != voice.cache_path("Hello.")
    assert voice.speech("typed", "Well done.") is not None  # a typed line is made on demand
    assert voice.ready("typed", "Well done.") is not None


def test_a_recording_comes_before_tts_and_only_for_its_text(tmp_path: Path) -> None:
    voice = CoachVoice(tmp_path / "cache", tmp_path / "rec", engine="none")
    line = SCRIPT.of("welcome")[0]
    assert voice.ready(line.id, line.text) is None
    kept = voice.store_recording(line.id, line.text, tone(2.0))
    assert kept.source == "recorded" and kept.seconds == pytest.approx(2.0)
    found = voice.ready(line.id, line.text)
    assert found is not None and found.source == "recorded"
    assert voice.ready(line.id, line.text + " Changed.") is None  # a new text needs a new take
    assert voice.delete_recording(line.id, line.text)
    assert voice.ready(line.id, line.text) is None


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"RIFF nonsense", "not a WAV file"),
        (tone(0.1), "0.1 s long"),
        (tone(1.0, amplitude=0.0), "silent"),
    ],
)
def test_a_bad_recording_is_one_sentence_and_keeps_the_old_one(
    tmp_path: Path, data: bytes, says: str
) -> None:
    voice = CoachVoice(tmp_path / "cache", tmp_path / "rec", engine="none")
    voice.store_recording("end", "Bye.", tone(1.0))
    with pytest.raises(VoiceError, match=says):
        voice.store_recording("end", "Bye.", data)
    kept = voice.ready("end", "Bye.")
    assert kept is not None and kept.seconds == pytest.approx(1.0)


def test_a_line_id_that_is_no_file_name_is_never_a_path(tmp_path: Path) -> None:
    voice = CoachVoice(tmp_path / "cache", tmp_path / "rec", engine="none")
    assert voice.recording_path("../../etc", "x") is None
    with pytest.raises(VoiceError, match="No place"):
        voice.store_recording("../x", "x", tone(1.0))


def test_each_client_keeps_the_coachs_form(tmp_path: Path) -> None:
    import argparse

    from vret.coach_cli import add_coach_arguments, coach_plan_from_args
    from vret.coach_voice import CoachForms

    parser = argparse.ArgumentParser()
    add_coach_arguments(parser)

    def plan(*argv: str):  # type: ignore[no-untyped-def]
        args = parser.parse_args([*argv, "--coach-folder", str(tmp_path)])
        return coach_plan_from_args(args, "C-1")

    first = plan()
    assert first is not None and first.mode == "person"  # nothing kept yet
    assert plan("--coach", "voice").mode == "voice"  # type: ignore[union-attr]
    again = plan()
    assert again is not None and again.mode == "voice"  # kept for C-1
    assert plan("--coach", "off") is None and plan() is None
    CoachForms(tmp_path).set("C-1", "person")
    assert plan().mode == "person"  # type: ignore[union-attr]
    (tmp_path / "clients.json").write_text("{not json")
    assert plan().mode == "person"  # type: ignore[union-attr]  # a broken file is no form
