"""Numbers and names the whole product agrees on, in one home."""

from __future__ import annotations

HR_MIN_BPM = 25.0
"""Lowest plausible heart rate: a decoder or simulator never reports less."""

HR_MAX_BPM = 250.0
"""Highest plausible heart rate: a decoder or simulator never reports more."""

SAFE_SCENE = "safe_place"
"""The calm scene every ladder falls back to (baseline, breaks, panic, watchdog)."""

SAFE_LEVEL = 0
"""The safe scene's level: ladder levels are 1..N."""
