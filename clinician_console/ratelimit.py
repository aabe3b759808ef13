"""Token buckets for console commands: a stuck key or a runaway script cannot flood the session.

Safe, Pause and End are never limited: they are how a therapist stops an exposure, and nothing
another page or script sends may stand in their way (design: "the panic path comes first").

Ordinary commands are limited per client address, one bucket per device. Not per connection
(address and port): an HTTP/1.1 browser spreads its requests over up to six pooled keep-alive
connections shared by all its tabs, so a port names neither a person nor a tab, and a script
that opens a new connection for each request would get a fresh bucket every time. One address is
one tablet or computer: a flood from one of them leaves another device's commands alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from exposure.models import Command, End, Pause, Safe

NEVER_LIMITED: tuple[type, ...] = (Safe, Pause, End)
"""Commands that stop or hold an exposure: never refused for coming too fast."""

MAX_BUCKETS = 1024
"""Buckets kept at most; a full bucket is the same as a new one, so those go first."""


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

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_s)
        self._at = now

    def allow(self) -> bool:
        """Take one command's worth from the bucket; False when it is empty."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def retry_after_s(self) -> float:
        """Seconds until the next command would be allowed."""
        return max(0.0, (1.0 - self._tokens) / self.per_s)

    def full(self) -> bool:
        """True when the bucket has refilled completely (it can be forgotten)."""
        self._refill()
        return self._tokens >= self.burst


class ConsoleRateLimits:
    """One `CommandRateLimit` per client address; Safe, Pause and End pass untouched."""

    def __init__(
        self, per_s: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        CommandRateLimit(per_s, burst, clock)  # checks the figures once, at start
        self.per_s = per_s
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, CommandRateLimit] = {}

    def allow(self, peer: str, command: Command) -> tuple[bool, float]:
        """Whether `command` from address `peer` may go on now, and else the seconds to wait."""
        if isinstance(command, NEVER_LIMITED):
            return True, 0.0
        bucket = self._buckets.get(peer)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget_full()
            bucket = self._buckets[peer] = CommandRateLimit(self.per_s, self.burst, self.clock)
        if bucket.allow():
            return True, 0.0
        return False, bucket.retry_after_s()

    def _forget_full(self) -> None:
        for peer in [p for p, b in self._buckets.items() if b.full()]:
            del self._buckets[peer]
        while len(self._buckets) >= MAX_BUCKETS:  # every bucket busy: the oldest goes
            del self._buckets[next(iter(self._buckets))]
