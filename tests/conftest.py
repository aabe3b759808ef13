"""Shared test settings: hypothesis profiles (CI runs the long one), paths, and `wait_for`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"

settings.register_profile("dev", max_examples=300, deadline=None)
settings.register_profile(
    "ci", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "it") -> Any:
    """Poll `check` every 20 ms until it returns something true (returned), or fail after `timeout`.

    Tests wait for a condition, never for a fixed time: a fixed sleep is too short on a loaded
    machine and too long everywhere else. A plain function (import it), not a fixture.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.02)
