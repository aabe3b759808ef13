"""What the console API answers, as pydantic models so the OpenAPI document is real.

Commands themselves are the core's own `exposure.models.Command`; these models describe the
state the API sends back (the session's `snapshot()`, which may grow new fields) and errors.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from exposure.models import Alert, ControlSettings, Decision, Ladder, Phase, SceneTarget

EffectView = Annotated[Decision | Alert | SceneTarget, Field(discriminator="type")]


class SceneSoundView(BaseModel):
    """The scene's sound in the headset: what the therapist chose and what the headset plays."""

    muted: bool = Field(description="The therapist's latest choice in this session.")
    headset_muted: bool | None = Field(
        description="What the headset reports it applies; None with no report (no headset, or "
        "it is starting or has not answered yet)."
    )


class SceneSoundBody(BaseModel):
    """Mute the scene's sound in the headset, or turn it back on."""

    model_config = ConfigDict(extra="forbid")

    muted: bool = Field(description="True: silence the scene; false: its sound back on.")


class StateView(BaseModel):
    """The session as the console sees it: phase, level, heart rate, alerts and the outlook."""

    model_config = ConfigDict(extra="allow")

    session_id: int | str | None = None
    client: str = Field(default="", description="Pseudonymous client code.")
    phase: Phase
    level: int = Field(description="Current level; 0 is the safe scene.")
    level_name: str
    top: int = Field(description="Number of the hardest level of the ladder.")
    resume_level: int = Field(description="Level that Resume goes back to from the safe scene.")
    auto: bool = Field(description="Automatic mode: the system moves the level by itself.")
    t: float = Field(description="Session time of this state, in seconds.")
    dwell_s: float = Field(description="Seconds at the current level.")
    hr: float | None = Field(description="Smoothed heart rate (bpm).")
    last_hr: float | None = None
    baseline_hr: float | None = Field(description="Resting heart rate from the baseline (bpm).")
    arousal: float | None = Field(description="(HR - baseline) / baseline.")
    trend_bpm_per_min: float | None = None
    stale: bool = Field(description="True when no good heart-rate reading came in lately.")
    suds: int | None = None
    suds_t: float | None = None
    alerts: list[Alert] = Field(description="Alerts on screen until their cause clears.")
    next_step: str = Field(description="What the system would do next, and why.")
    ladder: Ladder
    settings: ControlSettings
    scene_sound: SceneSoundView | None = Field(
        default=None, description="The scene's sound in the headset: chosen and reported."
    )


class CommandResult(StateView):
    """The state after a command, and what the command caused (level changes, refusals)."""

    effects: list[EffectView] = Field(default_factory=list)


class Problem(BaseModel):
    """An error, as one sentence a person can act on."""

    detail: str
