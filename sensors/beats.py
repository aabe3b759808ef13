"""Finding heartbeats in a raw pulse wave (PPG) when the device only sends the waveform.

The detector follows the slope-sum idea used for arterial pulses: low-pass the wave, sum its
rising increments over a short window (the systolic upstroke makes a tall, narrow hump that baseline
drift and small noise do not), and call a beat when that sum crosses half of its recent peak.
Time is passed in with every sample, so a declared sample rate or arrival times both work.
"""

from __future__ import annotations

import math
from collections import deque

MIN_RR_MS = 240.0
"""Shortest beat interval accepted (250 bpm)."""
MAX_RR_MS = 2400.0
"""Longest beat interval that still links two beats (25 bpm); a longer gap starts afresh."""


class BeatDetector:
    """Online beat detector: `add(value, t)` returns the beat interval in ms when a beat starts."""

    def __init__(
        self,
        *,
        smooth_tau_s: float = 0.05,
        slope_window_s: float = 0.12,
        envelope_tau_s: float = 3.0,
        threshold: float = 0.6,
        release: float = 0.3,
    ) -> None:
        self.smooth_tau_s = smooth_tau_s  # low-pass time constant against sample noise
        self.slope_window_s = slope_window_s  # about the length of a systolic upstroke
        self.envelope_tau_s = envelope_tau_s  # how fast the detector forgets a big pulse
        self.threshold = threshold  # fraction of the recent slope-sum peak that marks a beat
        self.release = release  # fraction the slope sum must fall to before the next beat
        self._t: float | None = None
        self._smooth = 0.0
        self._rises: deque[tuple[float, float]] = deque()
        self._rise_sum = 0.0
        self._envelope = 0.0
        self._armed = True
        self._last_beat: float | None = None
        self._last_rr: float | None = None

    def add(self, value: float, t: float) -> float | None:
        """Feed one sample taken at `t` seconds; the RR interval (ms) if a beat starts here."""
        if not math.isfinite(value) or not math.isfinite(t):
            return None
        if self._t is None:
            self._t, self._smooth = t, value
            return None
        dt = t - self._t
        if dt <= 0:
            dt = 1e-4  # samples stamped with the same time: treat as nearly simultaneous
        self._t = t
        previous = self._smooth
        self._smooth += (1.0 - math.exp(-dt / self.smooth_tau_s)) * (value - self._smooth)
        rise = max(0.0, self._smooth - previous)
        self._rises.append((t, rise))
        self._rise_sum += rise
        while self._rises and self._rises[0][0] < t - self.slope_window_s:
            self._rise_sum -= self._rises.popleft()[1]
        self._rise_sum = max(self._rise_sum, 0.0)
        self._envelope = max(self._rise_sum, self._envelope * math.exp(-dt / self.envelope_tau_s))
        if self._envelope <= 0:
            return None
        level = self._rise_sum / self._envelope
        if not self._armed:
            if level < self.release:
                self._armed = True
            return None
        if level < self.threshold:
            return None
        refractory = MIN_RR_MS if self._last_rr is None else max(MIN_RR_MS, 0.5 * self._last_rr)
        if self._last_beat is not None and (t - self._last_beat) * 1000.0 < refractory:
            return None
        self._armed = False
        previous_beat, self._last_beat = self._last_beat, t
        if previous_beat is None:
            return None
        rr = (t - previous_beat) * 1000.0
        if rr > MAX_RR_MS:
            self._last_rr = None
            return None
        self._last_rr = rr
        return rr

    @property
    def last_beat_t(self) -> float | None:
        """Time of the latest beat found, if any."""
        return self._last_beat
