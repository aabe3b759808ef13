"""Signal quality: which readings the exposure controller may trust, and when the signal is stale.

Pure: time comes with each reading (or with `tick`), nothing is read from a clock.
Rules, in order:
1. Device flags win: a reading the device marked no-contact, searching or artefact stays so.
2. Beat intervals outside 300-2000 ms are dropped.
3. A beat (as a rate, 60000 / RR) or a device heart rate more than `max_jump` (25%) away from
   the running median of recent accepted beats is an artefact (an ectopic beat, a missed or
   doubled beat, motion). The median is learned from the first three values that agree with
   each other (readings before that are "searching"). If rejected values keep agreeing with
   each other for `relearn_s` (8 s, longer than a burst of motion), the heart really changed
   and the median restarts from them.
4. Accepted heart rates are smoothed (exponential, time constant `smooth_tau_s`).
5. With no good reading for `stale_after_s`, `tick` reports the signal stale (once a second).
"""

from __future__ import annotations

import math
import statistics
from collections import deque

from exposure.constants import HR_MAX_BPM, HR_MIN_BPM
from exposure.models import Reading


class _Median:
    """Running median of recent accepted beat rates (bpm), learned from values that agree.

    It starts empty (learning): the first `learn` values that agree with each other seed it.
    After that a value is accepted when it is within `max_jump` of the median; rejected values
    that keep agreeing with each other for `relearn_s` mean the heart really changed, and they
    become the new median.
    """

    def __init__(
        self, size: int, max_jump: float, learn: int, relearn: int, relearn_s: float
    ) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.max_jump = max_jump
        self.learn = learn
        self.relearn = relearn
        self.relearn_s = relearn_s
        self.rejected: list[tuple[float, float]] = []

    @property
    def learning(self) -> bool:
        return not self.values

    def within(self, value: float) -> bool:
        """True when `value` is close enough to the median (always False while learning)."""
        if not self.values:
            return False
        median = statistics.median(self.values)
        return abs(value - median) <= self.max_jump * median

    def accept(self, value: float, t: float) -> bool:
        if self.within(value):
            self.values.append(value)
            self.rejected.clear()
            return True
        self.rejected.append((t, value))
        # Keep only the latest run of rejected values that agree with each other.
        while True:
            center = statistics.median(v for _, v in self.rejected)
            if all(abs(v - center) <= self.max_jump / 2 * center for _, v in self.rejected):
                break
            self.rejected.pop(0)
        span = self.rejected[-1][0] - self.rejected[0][0]
        if (self.learning and len(self.rejected) >= self.learn) or (
            len(self.rejected) >= self.relearn and span >= self.relearn_s
        ):
            self.values.clear()
            self.values.extend(v for _, v in self.rejected)
            self.rejected.clear()
            return True
        return False

    def reset(self) -> None:
        self.values.clear()
        self.rejected.clear()


class SignalQuality:
    """Labels each reading ok / no-contact / searching / artefact, smooths, and marks stale."""

    def __init__(
        self,
        *,
        rr_min_ms: float = 300.0,
        rr_max_ms: float = 2000.0,
        max_jump: float = 0.25,
        median_size: int = 9,
        relearn: int = 4,
        relearn_s: float = 8.0,
        smooth_tau_s: float = 2.0,
        stale_after_s: float = 5.0,
        gap_reset_s: float = 10.0,
    ) -> None:
        self.rr_min_ms = rr_min_ms  # 200 bpm
        self.rr_max_ms = rr_max_ms  # 30 bpm
        self.max_jump = max_jump
        self.smooth_tau_s = smooth_tau_s
        self.stale_after_s = stale_after_s
        self.gap_reset_s = gap_reset_s  # after this long without good data, forget the history
        self._beats = _Median(median_size, max_jump, 3, relearn, relearn_s)
        self._smooth: float | None = None
        self._last_good_t: float | None = None
        self._start_t: float | None = None
        self._last_stale_t: float | None = None
        self._gap_reset_for: float | None = None  # the last good time a gap reset was made after

    @property
    def last_good_t(self) -> float | None:
        """Time of the latest reading labelled ok."""
        return self._last_good_t

    def process(self, item: Reading) -> Reading:
        """The reading relabelled by the rules above, with a smoothed HR when it is ok."""
        t = item.t
        if self._start_t is None:
            self._start_t = t
        gap = self._last_good_t is not None and t - self._last_good_t > self.gap_reset_s
        if gap and self._gap_reset_for != self._last_good_t:  # once per gap, then learn afresh
            self._gap_reset_for = self._last_good_t
            self._beats.reset()
            self._smooth = None
        if item.quality != "ok":
            hr = item.hr if item.quality == "artefact" else None
            return item.model_copy(update={"hr": hr})
        rejected = "searching" if self._beats.learning else "artefact"
        rr_in = [x for x in item.rr_ms if self.rr_min_ms <= x <= self.rr_max_ms]
        if item.rr_ms and not rr_in:
            return item.model_copy(update={"quality": "artefact", "rr_ms": ()})
        if rr_in:
            rr_ok = tuple(x for x in rr_in if self._beats.accept(60_000.0 / x, t))
            if not rr_ok:
                hr = item.hr if rejected == "artefact" else None
                return item.model_copy(update={"quality": rejected, "hr": hr, "rr_ms": ()})
            hr = item.hr if item.hr is not None else 60_000.0 / (sum(rr_ok) / len(rr_ok))
            if not self._beats.within(hr):  # the device's own rate disagrees with its beats
                return item.model_copy(update={"quality": "artefact", "rr_ms": rr_ok})
        else:
            rr_ok = ()
            hr = item.hr
            if hr is None:
                return item.model_copy(update={"quality": "searching"})
            if not self._beats.accept(hr, t):
                kept = hr if rejected == "artefact" else None
                return item.model_copy(update={"quality": rejected, "hr": kept})
        if self._smooth is None or self._last_good_t is None:
            self._smooth = hr
        else:
            dt = max(t - self._last_good_t, 0.02)
            self._smooth += (1.0 - math.exp(-dt / self.smooth_tau_s)) * (hr - self._smooth)
        self._last_good_t = t
        self._last_stale_t = None
        smooth = min(HR_MAX_BPM, max(HR_MIN_BPM, self._smooth))
        return item.model_copy(update={"hr": round(smooth, 1), "rr_ms": rr_ok})

    def tick(self, t: float) -> Reading | None:
        """A stale reading when no good data came for `stale_after_s` (repeated once a second)."""
        if self._start_t is None:
            self._start_t = t
        since = self._last_good_t if self._last_good_t is not None else self._start_t
        if t - since < self.stale_after_s:
            return None
        if self._last_stale_t is not None and t - self._last_stale_t < 1.0:
            return None
        self._last_stale_t = t
        return Reading(t=t, hr=None, quality="stale")

    @property
    def stale(self) -> bool:
        """True once `tick` has reported the signal stale and no good reading came since."""
        return self._last_stale_t is not None
