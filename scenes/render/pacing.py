"""Frame timing in the render loop: the intervals it reports, and the grid it paces frames on.

Both are plain arithmetic with time passed in, so they are tested without Panda3D.
"""

from __future__ import annotations

from array import array

from scenes.render.config import LATE_FACTOR

RING = 512
"""Intervals kept between reports (5.7 s at 90 Hz; reports come every 0.5 s)."""


class FrameTimes:
    """The intervals between frames since the last report, in a preallocated ring."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._ring = array("d", bytes(8 * RING))
        self._n = 0
        self._last: float | None = None
        self.frames = 0
        """Frames seen so far (the frame number of the latest)."""

    def frame(self, now: float) -> float:
        """A frame began at `now`; returns the interval since the previous one (0 for the first)."""
        self.frames += 1
        if self._last is None:
            self._last = now
            return 0.0
        dt = now - self._last
        self._last = now
        self._ring[self._n % RING] = dt
        self._n += 1
        return dt

    def take(self) -> tuple[tuple[float, ...], int, float]:
        """The intervals since the last call (ms, oldest first), how many were late, and the fps."""
        n = min(self._n, RING)
        start = self._n - n
        ring = self._ring
        times = tuple(round(ring[(start + i) % RING] * 1000.0, 3) for i in range(n))
        self._n = 0
        budget_ms = self.budget_s * 1000.0
        late = sum(1 for t in times if budget_ms and t > budget_ms * LATE_FACTOR)
        mean = sum(times) / len(times) if times else 0.0
        return times, late, round(1000.0 / mean, 2) if mean else 0.0


class Pacer:
    """Frame deadlines on a fixed grid of frame budgets, for a loop that sleeps (never spins).

    A frame that ran late is followed by a shorter wait, so the rate holds; after a stall longer
    than a frame the grid restarts from now rather than rushing frames to catch up.
    """

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.deadline = 0.0

    def wait_s(self, now: float) -> float:
        """After a frame is drawn at `now`: seconds to sleep until the next deadline (>= 0)."""
        deadline = self.deadline + self.budget_s
        if deadline < now - self.budget_s:
            deadline = now
        self.deadline = deadline
        return max(0.0, deadline - now)
