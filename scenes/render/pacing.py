"""Frame timing in the render loop: the intervals it reports, and the grid it paces frames on.

Both are plain arithmetic with time passed in, so they are tested without Panda3D.
"""

from __future__ import annotations

from array import array
from collections import deque

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


BUSY_HIGH = 0.85
"""A frame whose work took more than this share of the budget came close to being late."""
BUSY_LOW = 0.6
"""Detail comes back only where the frames took less than this share at the lower detail."""
WINDOW_S = 0.5
"""The recent frames the governor looks at."""
CLOSE_SHARE = 0.1
"""Detail steps down when more than this share of the recent frames came close to late."""
HOLD_S = 5.0
"""The least time at a lower detail before the full detail is tried again; doubled each time
that detail soon proved too much (up to `HOLD_MAX_S`)."""
HOLD_MAX_S = 160.0
FAILED_WITHIN_S = 10.0
"""A step back up that has to be undone within this time doubles the next hold."""


class DetailGovernor:
    """Lowers a scene's detail before its frames run late, and gives it back when they are cheap.

    Fed each frame's busy time (the work between waking and the next wait, not the wait), it
    answers the detail step the scene should draw at: 0 is the scene as authored, each higher
    step (up to the scene's `steps`) cheaper. Down a step when more than `CLOSE_SHARE` of the
    last `WINDOW_S` of frames used more than `BUSY_HIGH` of the budget, which is before frames
    are late; back up a step after `HOLD_S` (or longer) where every frame of the last window
    used under `BUSY_LOW` of it. A step up that is undone within `FAILED_WITHIN_S` doubles the
    hold, so a scene that only just fits does not flicker between two details.

    Plain arithmetic with time passed in, like the pacer: tested without Panda3D.
    """

    def __init__(self, budget_s: float, steps: int) -> None:
        self.budget_s = budget_s
        self.steps = max(0, steps)
        self.step = 0
        self.hold_s = HOLD_S
        self._high, self._low = budget_s * BUSY_HIGH, budget_s * BUSY_LOW
        self._window = max(2, round(WINDOW_S / budget_s))
        self._recent: deque[float] = deque(maxlen=self._window)
        self._close = 0
        """Frames in `_recent` over the high mark."""
        self._changed_at: float | None = None
        self._raised_at: float | None = None
        self.lowered = 0
        """Steps down so far (the bench counts them)."""

    def frame(self, now: float, busy_s: float) -> int:
        """One frame's work took `busy_s`, ending at `now`: the step to draw the next frame at."""
        recent = self._recent
        if len(recent) == recent.maxlen and recent[0] > self._high:
            self._close -= 1  # it leaves the window
        recent.append(busy_s)
        self._close += busy_s > self._high
        if self._raised_at is not None and now - self._raised_at >= FAILED_WITHIN_S:
            self._raised_at = None  # the step up held: the next hold starts short again
            self.hold_s = HOLD_S
        if len(recent) < self._window:
            return self.step  # a fresh window (a start, a change of step): wait until it is full
        if self._close > CLOSE_SHARE * self._window and self.step < self.steps:
            if self._raised_at is not None and now - self._raised_at < FAILED_WITHIN_S:
                self.hold_s = min(HOLD_MAX_S, self.hold_s * 2.0)
            self._raised_at = None
            self.lowered += 1
            self._change(now, self.step + 1)
        elif (
            self.step > 0
            and self._changed_at is not None
            and now - self._changed_at >= self.hold_s
            and max(recent) < self._low
        ):
            self._raised_at = now
            self._change(now, self.step - 1)
        return self.step

    def _change(self, now: float, step: int) -> None:
        self.step = step
        self._changed_at = now
        self._recent.clear()
        self._close = 0
