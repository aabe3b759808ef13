"""pytest plugin for the mutation run: a small, deterministic hypothesis profile.

Loaded with `-p tools.mutation.pytest_plugin` (see `[tool.mutmut]` in pyproject.toml). It must
register the profile before `tests/conftest.py` calls `settings.load_profile(HYPOTHESIS_PROFILE)`,
which is why it is a plugin and not a conftest. Every mutant runs the property tests again, so:
few examples (a mutant that survives 40 derandomized examples is rarely killed by 300), a fixed
seed (a mutant's verdict must not depend on luck) and no example database (forked workers).
Tests that pin their own `max_examples` (the decoders' fuzz tests) are capped to the same size.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from hypothesis import HealthCheck, settings

PROFILE = "mutation"
MAX_EXAMPLES = int(os.environ.get("VRET_MUTATION_EXAMPLES", "40"))

settings.register_profile(
    PROFILE,
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
os.environ.setdefault("HYPOTHESIS_PROFILE", PROFILE)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Cap the examples of tests that set their own `max_examples` above the profile's."""
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None and own.max_examples > MAX_EXAMPLES:
            test._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
                own, max_examples=MAX_EXAMPLES, derandomize=True, database=None
            )


def pytest_configure(config: Any) -> None:
    """Freeze what is already in memory: every mutant runs pytest again in a forked worker whose
    heap holds the mutated modules, and pytest's collections at exit scanned all of it (a
    quarter of a second per mutant)."""
    gc.freeze()
