"""A simulated client and sensor: a heart that reacts to exposure, spoken over a pseudo-terminal.

`SimulatedHeart` is pure (time is passed in): its rate rises with the exposure level after a lag,
habituates while the level holds, carries breathing-linked variability, and can add artefacts
(motion) and dropouts (finger out, strap off) from a seeded random generator.
`PtySimulator` makes it a device: it opens a pseudo-terminal, publishes a stable path to it, and
a writer thread speaks a real protocol there at the device's own rate, so a demo and the tests
read it through exactly the code (pyserial, decoder, signal quality) that reads hardware.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import shutil
import tempfile
import threading
import time
import tty
from pathlib import Path

from sensors.base import Encoder, HeartSample
from sensors.protocols import get_protocol


class SimulatedHeart:
    """A heart whose rate follows the exposure level. Call with non-decreasing times."""

    def __init__(
        self,
        resting_hr: float = 72.0,
        *,
        reactivity_bpm: float = 8.0,
        lag_s: float = 8.0,
        habituation_s: float = 180.0,
        habituation_floor: float = 0.35,
        variability_bpm: float = 2.0,
        artefacts_per_min: float = 0.0,
        dropouts_per_min: float = 0.0,
        artefact_s: float = 1.5,
        dropout_s: float = 4.0,
        spo2: float = 97.0,
        seed: int = 0,
    ) -> None:
        self.resting_hr = resting_hr
        self.reactivity_bpm = reactivity_bpm  # bpm added per ladder level before habituation
        self.lag_s = lag_s  # time constant of the rise and fall after a level change
        self.habituation_s = habituation_s  # time constant of habituation at one level
        self.habituation_floor = habituation_floor  # share of the response that never fades
        self.variability_bpm = variability_bpm  # breathing-linked swing (sinus arrhythmia)
        self.artefacts_per_min = artefacts_per_min
        self.dropouts_per_min = dropouts_per_min
        self.artefact_s = artefact_s
        self.dropout_s = dropout_s
        self.spo2 = spo2
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._t = 0.0
        self._level = 0.0
        self._level_since = 0.0
        self._pending_level: float | None = None
        self._base = resting_hr  # the lagged rate, without breathing variability
        self._drift = 0.0
        self._phase = 0.0
        self._last_beat: float | None = None
        self._artefact_until = -1.0
        self._dropout_until = -1.0

    @property
    def level(self) -> float:
        """The exposure intensity the heart is responding to (0 = safe scene)."""
        with self._lock:
            return self._pending_level if self._pending_level is not None else self._level

    def set_level(self, intensity: float, t: float | None = None) -> None:
        """Expose the heart to `intensity` (0 calm, 1..N ladder levels) from time `t` on.

        Without `t` the change applies at the next time the heart is advanced to.
        """
        intensity = max(0.0, float(intensity))
        with self._lock:
            if t is None:
                self._pending_level = intensity
            else:
                self._advance(t)
                self._level, self._level_since = intensity, max(t, self._t)

    def target_hr(self, t: float) -> float:
        """The rate the heart is heading for at `t`: rest plus a habituating response."""
        held = max(0.0, t - self._level_since)
        fading = self.habituation_floor + (1 - self.habituation_floor) * math.exp(
            -held / self.habituation_s
        )
        return self.resting_hr + self.reactivity_bpm * self._level * fading

    def hr_at(self, t: float) -> float:
        """The instantaneous heart rate (bpm) at `t`, advancing the heart to `t`."""
        with self._lock:
            self._advance(t)
            return self._instant_hr()

    def tick(self, t: float) -> HeartSample:
        """Advance to `t` and describe the heart there, with every beat since the last tick."""
        with self._lock:
            beats = self._advance(t)
            phase = self._phase % 1.0
            wave = math.exp(-(((phase - 0.2) / 0.08) ** 2) / 2) + 0.4 * math.exp(
                -(((phase - 0.55) / 0.1) ** 2) / 2
            )
            breathing = math.sin(2 * math.pi * 0.25 * t)
            return HeartSample(
                t=t,
                hr=self._instant_hr(),
                pleth=min(1.0, max(0.0, 0.1 + 0.75 * wave + 0.08 * breathing)),
                beats=tuple(beats),
                contact=t >= self._dropout_until,
                artefact=t < self._artefact_until,
                spo2=self.spo2,
            )

    def _instant_hr(self) -> float:
        breathing = self.variability_bpm * math.sin(2 * math.pi * 0.25 * self._t)
        return min(220.0, max(30.0, self._base + breathing + self._drift))

    def _advance(self, t: float) -> list[float]:
        if self._pending_level is not None:
            self._level, self._level_since = self._pending_level, self._t
            self._pending_level = None
        beats: list[float] = []
        while self._t < t:
            dt = min(0.05, t - self._t)
            self._t += dt
            self._base += (1 - math.exp(-dt / self.lag_s)) * (self.target_hr(self._t) - self._base)
            # A slow random walk keeps consecutive minutes from looking identical.
            self._drift += self._rng.gauss(0, 0.15 * math.sqrt(dt)) - 0.05 * self._drift * dt
            if self._rng.random() < self.artefacts_per_min / 60 * dt:
                self._artefact_until = self._t + self.artefact_s
            if self._rng.random() < self.dropouts_per_min / 60 * dt:
                self._dropout_until = self._t + self.dropout_s
            before = self._phase
            self._phase += dt * self._instant_hr() / 60.0
            if math.floor(self._phase) > math.floor(before):
                # Place the beat inside the step where the phase crossed a whole number.
                frac = (math.floor(self._phase) - before) / (self._phase - before)
                beat_t = self._t - dt + frac * dt
                if self._last_beat is not None:
                    beats.append((beat_t - self._last_beat) * 1000.0)
                self._last_beat = beat_t
        return beats


class PtySimulator:
    """A simulated device on a pseudo-terminal, reachable at the stable path `port_path`.

    `rate` overrides the protocol's own output rate (ticks per second); `unplug()` removes the
    port and breaks any open connection, as pulling a USB cable does, and `replug()` brings it
    back at the same path.
    """

    def __init__(
        self,
        protocol: str,
        heart: SimulatedHeart | None = None,
        *,
        rate: float | None = None,
        seed: int = 0,
        encoder: Encoder | None = None,
    ) -> None:
        self.protocol = get_protocol(protocol)
        self.heart = heart if heart is not None else SimulatedHeart(seed=seed)
        self.encoder: Encoder = encoder or self.protocol.make_encoder(rate, seed)
        self.rate = self.encoder.rate
        self._dir = Path(tempfile.mkdtemp(prefix="vret-sim-"))
        self.port_path = str(self._dir / f"tty{self.protocol.name.replace('-', '_')}")
        self._master: int | None = None
        self._slave: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bytes_written = 0
        self.bytes_dropped = 0
        self._open_pty()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> PtySimulator:
        """Start speaking; returns self so `with PtySimulator(...).start() as sim:` reads well."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"vret-sim-{self.protocol.name}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the writer thread, close the pseudo-terminal and remove the port path."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            self._close_pty()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PtySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ controls

    def set_level(self, intensity: float) -> None:
        """Set the exposure level the simulated client is at (0 = safe scene)."""
        self.heart.set_level(intensity)

    @property
    def plugged(self) -> bool:
        """True while the simulated device is connected."""
        return self._master is not None

    def unplug(self) -> None:
        """Pull the cable: the port path disappears and open connections fail."""
        with self._lock:
            self._close_pty()

    def replug(self) -> None:
        """Plug the cable back in: the port path comes back and the device speaks again."""
        with self._lock:
            if self._master is None:
                self._open_pty()

    # ------------------------------------------------------------------ internals

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or newline translation: a serial line carries bytes as-is
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        link = Path(self.port_path)
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(os.ttyname(slave))

    def _close_pty(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            Path(self.port_path).unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def _run(self) -> None:
        period = 1.0 / self.rate
        started = time.monotonic()
        ticks = 0
        while not self._stop.is_set():
            now = time.monotonic() - started
            due = int(now * self.rate) - ticks
            if due > self.rate * 2:  # the machine stalled: skip ahead rather than flood
                ticks += due - 1
                due = 1
            chunks = []
            for _ in range(max(0, due)):
                ticks += 1
                chunks.append(self.encoder.encode(self.heart.tick(ticks * period)))
            with self._lock:
                self._exchange(b"".join(chunks))
            wait = (ticks + 1) * period - (time.monotonic() - started)
            self._stop.wait(min(max(wait, 0.001), 0.02))

    def _exchange(self, data: bytes) -> None:
        master = self._master
        if master is None:
            self.bytes_dropped += len(data)
            return
        with contextlib.suppress(OSError):
            while select.select([master], [], [], 0)[0]:
                incoming = os.read(master, 4096)
                if not incoming:
                    break
                self.encoder.receive(incoming)
        if not data:
            return
        try:
            written = os.write(master, data)
        except OSError:  # nobody reading and the buffer is full: a UART just sends into the air
            written = 0
        self.bytes_written += written
        self.bytes_dropped += len(data) - written
