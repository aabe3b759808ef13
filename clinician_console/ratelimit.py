"""A token bucket for console commands: a stuck key or a runaway script cannot flood the session."""

from __future__ import annotations

import time
from collections.abc import Callable


class CommandRateLimit:
    """Allows `per_s` commands a second on average and bursts of up to `burst` at once.

    A therapist tapping quickly stays far below the default (5 a second, bursts of 10); the
    clock is injected so tests need not sleep.
    """

    def __init__(
        self, per_s: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_s <= 0:
            raise ValueError("rate_limit_per_s must be above 0")
        self.per_s = per_s
        self.burst = float(burst if burst is not None else max(1, round(per_s * 2)))
        self.clock = clock
        self._tokens = self.burst
        self._at = clock()

    def allow(self) -> bool:
        """Take one command's worth from the bucket; False when it is empty."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_s)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def retry_after_s(self) -> float:
        """Seconds until the next command would be allowed."""
        return max(0.0, (1.0 - self._tokens) / self.per_s)
