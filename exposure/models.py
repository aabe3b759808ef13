"""The one vocabulary of vret: pydantic models shared by the core, the console API and the records.

Every input to the session core is an *event* carrying its own time `t` (seconds since the
session started): a heart-rate `Reading`, a `Tick`, a clinician's or client's `Command`, a
`SystemEvent` from the runtime, or the `SessionStart` header that opens every record.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from exposure.constants import HR_MAX_BPM, HR_MIN_BPM, SAFE_LEVEL, SAFE_SCENE

NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"
"""A character that is not white space to Python (str.strip) nor to a browser's JavaScript, so
a text matching it somewhere is not blank on either side (the API's schemas use it too)."""


def blank(text: str | None) -> bool:
    """True when `text` has nothing but white space (by either side's reckoning)."""
    return text is None or re.search(NOT_BLANK, text) is None


Quality = Literal["ok", "no-contact", "searching", "artefact", "stale"]
Phase = Literal["baseline", "exposure", "paused", "safe", "ended"]
Who = Literal["auto", "clinician", "client"]
By = Literal["clinician", "client"]

"""Level number of the safe (calm) scene; ladder levels are numbered 1..N."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- ladder


class Level(_Model):
    """One rung of the fear ladder: a named situation and the scene parameters that make it."""

    name: str = Field(min_length=1, max_length=80, description="Short name a therapist reads.")
    description: str = Field(default="", max_length=400)
    params: dict[str, float] = Field(
        default_factory=dict, description="Scene parameters (spider count, distance in m, ...)."
    )
    suds: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Expected distress (0-100) from the client's hierarchy.",
    )


class Ladder(_Model):
    """An ordered fear ladder for one scene, mildest first, plus the calm scene used for breaks."""

    scene: str = Field(min_length=1)
    safe_scene: str = Field(default=SAFE_SCENE, min_length=1)
    levels: list[Level] = Field(min_length=1, max_length=30)
    start_level: int = Field(
        default=1, ge=1, description="Level exposure starts at after baseline."
    )

    @field_validator("levels")
    @classmethod
    def _unique_names(cls, levels: list[Level]) -> list[Level]:
        seen: set[str] = set()
        for level in levels:
            if level.name in seen:
                raise ValueError(f"level names must be unique, and {level.name!r} appears twice")
            seen.add(level.name)
        return levels

    @model_validator(mode="after")
    def _start_inside(self) -> Ladder:
        if self.start_level > len(self.levels):
            raise ValueError(
                f"start_level {self.start_level} is past the top of a {len(self.levels)}-level ladder"
            )
        return self

    @property
    def top(self) -> int:
        """Number of the hardest level."""
        return len(self.levels)

    def level_name(self, number: int) -> str:
        """The name of level `number` (0 is the safe scene)."""
        if number == SAFE_LEVEL:
            return "safe scene"
        return self.levels[number - 1].name


# --------------------------------------------------------------------------- settings


class ControlSettings(_Model):
    """Every threshold of the exposure controller. Arousal is (HR - baseline) / baseline."""

    baseline_s: float = Field(default=60.0, gt=0, description="Length of the resting baseline.")
    min_baseline_readings: int = Field(
        default=10, ge=1, description="Accepted readings needed before a baseline is trusted."
    )
    min_dwell_s: float = Field(
        default=60.0, gt=0, description="Minimum time at a level before an automatic step up."
    )
    window_low: float = Field(default=0.05, description="Bottom of the therapeutic window.")
    window_high: float = Field(default=0.25, description="Top of the therapeutic window.")
    ceiling: float = Field(default=0.35, description="Arousal that, sustained, steps down.")
    ceiling_sustain_s: float = Field(
        default=10.0, gt=0, description="How long arousal must stay above the ceiling to step down."
    )
    hard_ceiling: float = Field(
        default=0.55, description="Arousal that sends the client to the safe scene at once."
    )
    arousal_window_s: float = Field(
        default=10.0, gt=0, description="HR is averaged over this window to smooth single beats."
    )
    trend_window_s: float = Field(default=30.0, gt=0, description="Window for the HR trend.")
    rising_bpm_per_min: float = Field(
        default=2.0, ge=0, description="A trend above this many bpm per minute counts as rising."
    )
    stale_after_s: float = Field(
        default=5.0, gt=0, description="No good reading for this long makes the signal stale."
    )
    suds_recent_s: float = Field(
        default=300.0, gt=0, description="A SUDS rating older than this is not used."
    )
    suds_low: int = Field(
        default=30, ge=0, le=100, description="A recent SUDS below this allows a step up."
    )
    suds_reminder_s: float = Field(
        default=300.0,
        gt=0,
        description="Longest time without a SUDS rating before the console reminds the therapist "
        "to ask; it comes when the dwell is up, too.",
    )
    suds_before_step_up: bool = Field(
        default=True,
        description="An automatic step up waits for a SUDS rating given at the current level.",
    )
    attention_min: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the attention window the client must look at the stimulus for an "
        "automatic step up (head tracking only; 0 turns the rule off).",
    )
    attention_window_s: float = Field(
        default=10.0, gt=0, description="Attention is the share of this window spent looking."
    )
    tracking_lost_s: float = Field(
        default=0.5, gt=0, description="Invalid head pose this long counts as lost tracking."
    )
    fast_head_dps: float = Field(
        default=120.0, gt=0, description="Head speed (degrees a second) that counts as fast."
    )
    fast_head_s: float = Field(
        default=3.0, gt=0, description="Fast head motion this long is flagged as discomfort."
    )
    sickness_threshold: float = Field(
        default=5.0,
        ge=0,
        le=10,
        description="A mid-session sickness rating (0-10) above this raises 'sick, not scared': "
        "the therapist is told to pause and the level does not step down for the raised HR.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ControlSettings:
        if not (self.window_low <= self.window_high <= self.ceiling <= self.hard_ceiling):
            raise ValueError(
                "thresholds must be ordered window_low <= window_high <= ceiling <= hard_ceiling"
            )
        return self


# --------------------------------------------------------------------------- events


class Reading(_Model):
    """One heart-rate reading. `hr` is None when the device reports no pulse."""

    type: Literal["reading"] = "reading"
    t: float = Field(description="Seconds since the session (or the stream) started.")
    hr: float | None = Field(
        default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM, description="Heart rate in bpm."
    )
    rr_ms: tuple[float, ...] = Field(default=(), description="Beat-to-beat intervals in ms.")
    quality: Quality = "ok"
    spo2: float | None = Field(default=None, ge=0, le=100)

    @property
    def good(self) -> bool:
        """True when the reading carries a heart rate the controller may use."""
        return self.quality == "ok" and self.hr is not None


class Tick(_Model):
    """Time passes: lets the core notice a stale signal or a finished baseline with no reading."""

    type: Literal["tick"] = "tick"
    t: float


class SessionStart(_Model):
    """The header of every session record: what was run, with which ladder and settings."""

    type: Literal["session_start"] = "session_start"
    t: float = 0.0
    client: str = Field(default="", max_length=64, description="Pseudonymous client code.")
    ladder: Ladder
    settings: ControlSettings = Field(default_factory=ControlSettings)
    auto: bool = Field(default=True, description="Automatic mode at the start.")

    @model_validator(mode="before")
    @classmethod
    def _rules_of_older_records(cls, data: Any) -> Any:
        # a record made before SUDS gated steps up replays by the rules it ran under
        if isinstance(data, dict) and isinstance(data.get("settings"), dict):
            settings = data["settings"]
            if "suds_before_step_up" not in settings:
                return {**data, "settings": {**settings, "suds_before_step_up": False}}
        return data


class _Command(_Model):
    t: float = Field(default=0.0, description="Stamped by the runtime when the command arrives.")
    by: By = "clinician"


class SetLevel(_Command):
    type: Literal["set_level"] = "set_level"
    level: int = Field(ge=0, le=30, description="Ladder level; 0 is the safe scene.")


class StepUp(_Command):
    type: Literal["step_up"] = "step_up"


class StepDown(_Command):
    type: Literal["step_down"] = "step_down"


class AutoOn(_Command):
    type: Literal["auto_on"] = "auto_on"


class AutoOff(_Command):
    type: Literal["auto_off"] = "auto_off"


class Pause(_Command):
    type: Literal["pause"] = "pause"


class Resume(_Command):
    type: Literal["resume"] = "resume"


class Safe(_Command):
    """Panic: go to the safe scene at once, from any state."""

    type: Literal["safe"] = "safe"


class End(_Command):
    type: Literal["end"] = "end"


class Suds(_Command):
    """A distress rating, 0 (calm) to 100 (worst imaginable)."""

    type: Literal["suds"] = "suds"
    value: int = Field(ge=0, le=100)


class Note(_Command):
    type: Literal["note"] = "note"
    text: str = Field(min_length=1, max_length=2000)


class AskSuds(_Command):
    """Ask the client for a SUDS rating on the panel in the headset."""

    type: Literal["ask_suds"] = "ask_suds"
    question: str = Field(
        default="How anxious do you feel right now, from 0 (calm) to 100 (worst)?", max_length=200
    )


class Recentre(_Command):
    """Make the way the client faces now the scene's forward direction (head tracking)."""

    type: Literal["recentre"] = "recentre"


class SceneEvent(_Command):
    """Something the therapist triggers in the scene (a spider drops, the audience coughs)."""

    type: Literal["scene_event"] = "scene_event"
    name: str = Field(min_length=1, max_length=80)


class SceneSound(_Command):
    """The therapist mutes the scene's sound in the headset (its stimuli and ambience), or turns
    it back on. Not the coach's voice: that is the coach's own mute (`CoachControl`)."""

    type: Literal["scene_sound"] = "scene_sound"
    muted: bool = Field(description="True: the scene is silent; false: its sound is back on.")


Command = Annotated[
    SetLevel
    | StepUp
    | StepDown
    | AutoOn
    | AutoOff
    | Pause
    | Resume
    | Safe
    | End
    | Suds
    | Note
    | SceneEvent
    | AskSuds
    | Recentre
    | SceneSound,
    Field(discriminator="type"),
]
COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)

SystemKind = Literal[
    "sensor_disconnected",
    "sensor_reconnected",
    "sensor_flood",
    "sensor_decoder_error",
    "render_started",
    "render_restarted",
    "render_stopped",
    "render_watchdog",
    "scene_failed",
    "headset_down",
    "records_failing",
    "records_recovered",
    "records_gap",
    "task_failed",
]


class Gaze(_Model):
    """Where the client looked over the last tenth of a second, from the head pose.

    The render process summarises every frame's angle between gaze and the nearest stimulus
    anchor of the scene; these summaries are events like readings, so replay covers attention.
    """

    type: Literal["gaze"] = "gaze"
    t: float
    on_stimulus: float = Field(
        ge=0, le=1, description="Share of the interval with a stimulus within 30 degrees of gaze."
    )
    distance_m: float | None = Field(
        default=None,
        ge=0,
        description="Smallest distance to a stimulus anchor; None when the scene shown has none.",
    )
    head_speed_dps: float = Field(default=0.0, ge=0, description="Mean head turn speed.")
    valid: bool = Field(default=True, description="False while the headset lost tracking.")


MeasurePhase = Literal["pre", "mid", "post"]
"""When a measure was taken: before exposure, during it, or after it."""

SICKNESS_INSTRUMENT = "sickness"
"""The instrument whose mid-session rating (score `sickness`, 0-10) the core checks."""


class Measure(_Model):
    """A questionnaire or rating taken during the session, with the scores its instrument gave.

    Scored when it is taken (`exposure.measures.score`), so the record holds the answers and
    the scores together and replay needs no instrument file.
    """

    type: Literal["measure"] = "measure"
    t: float = Field(default=0.0, description="Stamped by the runtime when it is recorded.")
    instrument: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    phase: MeasurePhase
    answers: list[int | float] = Field(max_length=200)
    scores: dict[str, float]


ExpectancyStage = Literal["before", "after"]


class Expectancy(_Model):
    """An expectancy rating around one step: before it what the client expects and how likely
    it is (0-100 %); after it whether it happened and how surprised the client is (0-100)."""

    type: Literal["expectancy"] = "expectancy"
    t: float = Field(default=0.0, description="Stamped by the runtime when it is recorded.")
    level: int = Field(ge=0, le=30, description="The ladder level (step) it is about.")
    stage: ExpectancyStage
    expectation: str | None = Field(default=None, max_length=500)
    likelihood: int | None = Field(default=None, ge=0, le=100)
    happened: bool | None = None
    surprise: int | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _fields_of_its_stage(self) -> Expectancy:
        if self.stage == "before":
            if blank(self.expectation) or self.likelihood is None:
                raise ValueError(
                    "before a step give the expectation (what the client expects will happen) "
                    "and its likelihood (0-100)"
                )
            if self.happened is not None or self.surprise is not None:
                raise ValueError("happened and surprise belong to the rating after the step")
        else:
            if self.happened is None or self.surprise is None:
                raise ValueError("after a step give happened (true or false) and surprise (0-100)")
            if self.expectation is not None or self.likelihood is not None:
                raise ValueError("expectation and likelihood belong to the rating before the step")
        return self


CoachAsk = Literal["suds", "expectancy_before", "expectancy_after", "sickness", "ssq"]
"""A private question the coach hands to the panel in the headset with its line."""


class CoachLine(_Model):
    """A line the coach spoke in the headset: recorded, so replay, the console and the report
    show it. The coach never decides exposure: the core records this and changes nothing."""

    type: Literal["coach"] = "coach"
    t: float = Field(default=0.0, description="Stamped by the runtime when it is spoken.")
    line: str = Field(
        min_length=1, max_length=40, description="The script line's id ('typed' for a typed one)."
    )
    text: str = Field(min_length=1, max_length=400)
    why: str = Field(default="", max_length=300, description="Why the coach said it now.")
    by: Who = "auto"
    ask: CoachAsk | None = None
    level: int | None = Field(
        default=None, ge=0, le=30, description="The step an expectancy question is about."
    )
    empathic: bool = Field(default=False, description="The figure tilts its head for it.")


CoachAction = Literal["mute", "unmute", "skip", "trigger", "say", "mode", "ask"]
CoachMode = Literal["person", "voice", "off"]


class CoachControl(_Command):
    """The therapist's hand on the coach: mute it, skip or trigger its next line, type a line,
    or show it as a person, a voice only, or not at all."""

    type: Literal["coach_control"] = "coach_control"
    action: CoachAction
    text: str | None = Field(default=None, max_length=400, description="The typed line (say).")
    mode: CoachMode | None = Field(default=None, description="The coach's form (mode).")
    ask: CoachAsk | None = Field(default=None, description="The question to ask (ask).")

    @model_validator(mode="after")
    def _fields_of_its_action(self) -> CoachControl:
        if self.action == "ask" and self.ask is None:
            raise ValueError(
                "give the question to ask: suds, expectancy_before, "
                "expectancy_after, sickness or ssq"
            )
        if self.action == "say" and blank(self.text):
            raise ValueError("type the line the coach should say")
        if self.action == "mode" and self.mode is None:
            raise ValueError("give the coach's mode: person, voice or off")
        return self


class SystemEvent(_Model):
    """Something the runtime saw happen to its parts (a sensor unplugged, a renderer restarted)."""

    type: Literal["system"] = "system"
    t: float
    kind: SystemKind
    detail: str = ""


Event = Annotated[
    Reading
    | Gaze
    | Tick
    | SessionStart
    | SystemEvent
    | SetLevel
    | StepUp
    | StepDown
    | AutoOn
    | AutoOff
    | Pause
    | Resume
    | Safe
    | End
    | Suds
    | Note
    | SceneEvent
    | AskSuds
    | Recentre
    | SceneSound
    | Measure
    | Expectancy
    | CoachLine
    | CoachControl,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(obj: dict[str, Any] | str | bytes) -> Event:
    """Validate one event from a dict or a JSON line; raises pydantic.ValidationError."""
    if isinstance(obj, str | bytes):
        return EVENT_ADAPTER.validate_json(obj)
    return EVENT_ADAPTER.validate_python(obj)


# --------------------------------------------------------------------------- outputs


class Decision(_Model):
    """A change of level, with who made it and the reason in a therapist's words."""

    type: Literal["decision"] = "decision"
    t: float
    from_level: int
    to_level: int
    who: Who
    reason: str


AlertKind = Literal[
    "stale_signal",
    "no_baseline",
    "ceiling",
    "hard_ceiling",
    "sensor_disconnected",
    "render_restarted",
    "render_watchdog",
    "scene_failed",
    "headset_down",
    "command_refused",
    "suds_due",
    "records_failing",
    "records_gap",
    "task_failed",
    "sensor_flood",
    "sensor_decoder_error",
    "looking_away",
    "tracking_lost",
    "fast_head_motion",
    "sick_not_scared",
]
Severity = Literal["info", "warning", "critical"]


class Alert(_Model):
    """Something the therapist must see. `active` alerts stay on screen until their cause clears.

    One alert *episode* is everything from its raising to its clearing, `(kind, onset)` names
    it: an update of its text (the ceiling's percentage moving) keeps the onset, and so does
    the clearing effect (`active=False`). `t` is when this effect happened.
    """

    type: Literal["alert"] = "alert"
    t: float
    onset: float = Field(
        default=-1.0, description="When the episode began (= t for a new alert); filled from t."
    )
    kind: AlertKind
    severity: Severity
    message: str
    active: bool = True
    expires_at: float | None = Field(
        default=None, description="A transient alert clears itself at this time."
    )

    @model_validator(mode="before")
    @classmethod
    def _onset_from_t(cls, data: Any) -> Any:
        # a new alert begins its episode; records written before episodes had no onset
        if isinstance(data, dict) and data.get("onset") is None and "t" in data:
            return {**data, "onset": data["t"]}
        return data

    @property
    def is_update(self) -> bool:
        """True for a change of an active episode's text after its onset (not its start or end)."""
        return self.active and self.t > self.onset


class SceneTarget(_Model):
    """What the render process should show: a scene at a (possibly fractional) intensity."""

    type: Literal["scene_target"] = "scene_target"
    t: float
    scene: str
    intensity: float = Field(ge=0)
    safe: bool = False


Effect = Decision | Alert | SceneTarget


class SessionState(_Model):
    """Everything the core knows about a running session. Only `exposure.core.step` makes new ones."""

    ladder: Ladder
    settings: ControlSettings = Field(default_factory=ControlSettings)
    client: str = ""
    phase: Phase = "baseline"
    level: int = SAFE_LEVEL
    auto: bool = True
    t: float = 0.0
    started_at: float | None = None
    level_since: float = 0.0
    resume_level: int = 1
    baseline_hr: float | None = None
    baseline_samples: tuple[float, ...] = ()
    baseline_note: str = Field(
        default="", description="How the baseline was measured, once it is fixed."
    )
    recent: tuple[tuple[int, float, int], ...] = Field(
        default=(),
        description="Accepted HR in one-second bins (second, sum of HR, count) over the longest window.",
    )
    last_good_t: float | None = None
    stale: bool = False
    hr: float | None = Field(default=None, description="Smoothed HR over the arousal window.")
    last_hr: float | None = Field(default=None, description="The latest accepted reading.")
    arousal: float | None = None
    trend_bpm_per_min: float | None = None
    above_ceiling_since: float | None = None
    suds: int | None = None
    suds_t: float | None = None
    suds_peak: int | None = Field(default=None, description="Highest SUDS at the current level.")
    sickness: float | None = Field(
        default=None, description="The latest mid-session sickness rating (0-10)."
    )
    sick: bool = Field(
        default=False,
        description="That rating is above the threshold: sick, not scared (no step down for HR).",
    )
    alerts: tuple[Alert, ...] = ()
    next_step: str = Field(default="", description="What the system would do next, and why.")
    decisions: int = 0
    gaze_bins: tuple[tuple[int, float, int], ...] = Field(
        default=(),
        description="Valid gaze summaries with a stimulus in one-second bins (second, sum of "
        "on_stimulus, count) over the attention window.",
    )
    gaze_t: float | None = Field(default=None, description="Latest gaze summary with a stimulus.")
    attention: float | None = Field(
        default=None, description="Share of the attention window looking at the stimulus."
    )
    gaze_distance_m: float | None = None
    head_speed_dps: float | None = None
    tracking: Literal["none", "ok", "lost"] = Field(
        default="none",
        description="Head tracking: none (no pose source, the attention rule is off), ok, or "
        "lost (invalid pose: automatic step ups hold).",
    )
    tracking_lost_since: float | None = None
    fast_head_since: float | None = None

    @property
    def scene_target(self) -> SceneTarget:
        """The scene the client should see now."""
        if self.level == SAFE_LEVEL or self.phase in ("baseline", "safe", "ended"):
            return SceneTarget(t=self.t, scene=self.ladder.safe_scene, intensity=0.0, safe=True)
        return SceneTarget(t=self.t, scene=self.ladder.scene, intensity=float(self.level))
