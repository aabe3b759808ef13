"""Shared test settings: hypothesis profiles, paths, and `wait_for`.

Profiles: `dev` (the default: 300 examples, a new random draw each run), `ci` (the same examples,
derandomized, so that CI fails only on a change, never on a lucky draw) and `deep` (1,000
examples, and 5,000 per decoder fuzz test: `make fuzz`, about a quarter of an hour).
"""

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
settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True, print_blob=True)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
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
