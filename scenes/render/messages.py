"""Every message on the pipe between the control process and the render process.

Small frozen dataclasses with slots: typed, immutable, and cheap to pickle (about 8 us a round
trip for a `Target`, at a few messages a second each way). Times are `time.monotonic()`, one
clock for both processes on one machine.

Control -> render (`ToRender`): `Target` (also the heartbeat), `OpenSudsPanel`,
`TriggerSceneEvent`, `PressKey`, `Recentre`, `SceneLevels`, `CoachSay`, `CoachForm`,
`OpenQuestions`, `SetSceneSound`, `Ping`, `Stop`.
Render -> control (`FromRender`): `Ready` or `StartFailed` once; then `Frames`, `FrameEffect`,
`Thumbnail`, `GazeSummary`, `ClientInput`, `WatchdogTripped`, `WatchdogRecovered`,
`UnknownScene`, `SceneFailed`, `CoachSpoke`, `SceneSoundApplied`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------- control -> render


@dataclass(frozen=True, slots=True)
class Target:
    """The latest scene target; the control process resends it as its heartbeat."""

    seq: int
    """Numbers targets in the order sent; reports name the latest one seen."""
    scene: str
    intensity: float
    """A continuous level: integers are the ladder's levels, the scene eases between them."""
    safe: bool
    """Panic or break: cut to the safe scene in the next frame instead of fading."""
    t_sent: float


@dataclass(frozen=True, slots=True)
class OpenSudsPanel:
    """Open the SUDS rating panel in the headset with the therapist's question."""

    question: str


@dataclass(frozen=True, slots=True)
class PanelItem:
    """One question on the panel in the headset, answered by pointing on a scale."""

    text: str
    low: int
    high: int
    step: int = 1
    labels: tuple[str, ...] = ()
    """A word for each value from `low` (e.g. none, slight, moderate, severe), or none."""


@dataclass(frozen=True, slots=True)
class OpenQuestions:
    """Open the panel with a run of private questions (expectancy, SSQ, sickness); the client
    answers each by pointing and the answers come back in one `ClientInput` of type "panel"."""

    kind: str
    items: tuple[PanelItem, ...]
    level: int = 0
    """The step the questions are about (expectancy)."""


@dataclass(frozen=True, slots=True)
class TriggerSceneEvent:
    """A therapist-triggered scene event (one of the scene's `events`)."""

    name: str


@dataclass(frozen=True, slots=True)
class PressKey:
    """A client key press, as if typed in the render window (tests, demos)."""

    key: str


@dataclass(frozen=True, slots=True)
class Recentre:
    """Make the way the client faces now the scene's forward direction."""


@dataclass(frozen=True, slots=True)
class SceneLevels:
    """Draw `scene` with the session's own levels from now on (a render process that serves
    one session after another: a station's waiting room taken over by the next session)."""

    scene: str
    levels: tuple[tuple[tuple[str, float], ...], ...]
    """Each level's parameters as (name, value) pairs, mildest first; () for the scene's own."""


@dataclass(frozen=True, slots=True)
class CoachSay:
    """A coach line: caption it, play its sound, and move the coach's mouth with its loudness."""

    text: str
    wav: str
    """The line's WAV file (made ahead of time), or "" to show the caption only."""
    seconds: float
    """How long the sound plays (the caption stays a little longer)."""
    envelope: tuple[float, ...]
    """Loudness 0-1 at `ENVELOPE_HZ`, read on the control side so the frame loop only indexes."""
    empathic: bool = False
    """The figure tilts its head for the line."""
    guide: bool = False
    """Draw the paced-breathing guide in the scene (calm words, the safe scene)."""


ENVELOPE_HZ = 30.0
"""Samples a second of a `CoachSay`'s loudness envelope."""


@dataclass(frozen=True, slots=True)
class CoachForm:
    """How the coach appears: "person" (a figure at the client's side), "voice" (a soft light),
    or "off" (nothing, no sound)."""

    mode: str


@dataclass(frozen=True, slots=True)
class SetSceneSound:
    """Mute the scene's sound (every scene's stimuli and ambience, the safe scene's too, and
    scenes built later), or turn it back on; the coach's voice is not scene sound."""

    muted: bool


@dataclass(frozen=True, slots=True)
class Ping:
    """A heartbeat without a target."""


@dataclass(frozen=True, slots=True)
class Stop:
    """End the render loop and exit (code 0)."""


ToRender = (
    Target
    | OpenSudsPanel
    | TriggerSceneEvent
    | PressKey
    | Recentre
    | SceneLevels
    | CoachSay
    | CoachForm
    | OpenQuestions
    | SetSceneSound
    | Ping
    | Stop
)

# --------------------------------------------------------------------------- render -> control


@dataclass(frozen=True, slots=True)
class Ready:
    """Sent once, when the scenes are built and the first frame can be drawn."""

    display: str
    size: tuple[int, int]
    scenes: tuple[str, ...]
    """The scenes built (sorted); the others are built when first targeted, or never."""
    pid: int
    pipe: str
    """The Panda3D graphics pipe: "tiny" (software), "gl" or "egl"."""
    renderer: str
    """What draws the frames, e.g. "TinyPanda" or "llvmpipe (LLVM 15.0.6, 256 bits)"."""
    frame_rate: float
    priority: str
    """The scheduling it got: "SCHED_FIFO 10" where allowed, else "nice -10", else "normal"."""
    pose: str = "none"
    """The head pose source: "headset", "window" (mouse and keys), "script" or "none" (no
    head tracking: no gaze summaries are sent)."""


@dataclass(frozen=True, slots=True)
class StartFailed:
    """The render process could not start (then it exits with code 2)."""

    message: str
    """One sentence with the fix."""


@dataclass(frozen=True, slots=True)
class Frames:
    """Frame timing and what is on show, about twice a second."""

    times_ms: tuple[float, ...]
    """Every frame interval since the last report."""
    late: int
    """Intervals over 1.5 frame budgets (each missed a refresh)."""
    budget_ms: float
    fps: float
    scene: str
    intensity: float
    fade: float
    """Brightness of the view, 0 (black, mid-fade) to 1."""
    target_seq: int
    """The latest target received."""
    head: tuple[float, float, float, float, float, float]
    """x, y, z, h, p, r relative to the client's standing spot."""
    watchdog: bool
    """True while the render process shows the safe scene because the control side is silent."""
    dropped: int
    """Bulk messages (frames, thumbnails) dropped so far because the pipe was full."""
    scene_sound_muted: bool = False
    """The scene sound is muted (the console's mute, `SetSceneSound`)."""
    scene_volume: float = 0.0
    """The loudest volume the sounds of the scene on show play at now (0: silent or muted)."""
    detail: int = 0
    """The detail step the scene on show is drawn at: 0 as authored, higher cheaper, lowered
    by the render process while frames come close to late (`Scene.set_detail`)."""
    detail_steps: int = 0
    """How far the scene on show may be lowered (0: always drawn as authored)."""
    detail_lowered: int = 0
    """Steps down so far in this render process, every scene."""
    work_max_ms: float = 0.0
    """The longest frame's own work since the last report: from waking (the pacer's sleep or
    waitGetPoses ended) to the next wait, after the frame was drawn and submitted."""
    work_over: int = 0
    """Frames since the last report whose own work took longer than a frame budget. A late
    interval without one was woken late: the machine, not the frame."""


@dataclass(frozen=True, slots=True)
class FrameEffect:
    """For each target: the first frame drawn with it begun, and its scene and brightness."""

    target_seq: int
    frame: int
    t_sent: float
    t_received: float
    t_drawn: float
    scene: str
    fade: float


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A small picture of the client's view: raw RGB rows, top row first (encode elsewhere)."""

    width: int
    height: int
    rgb: bytes


@dataclass(frozen=True, slots=True)
class GazeSummary:
    """Where the client looked over the last tenth of a second (see `scenes.render.gaze`)."""

    t: float
    on_stimulus: float
    """Share of the interval with a stimulus anchor within 30 degrees of gaze."""
    distance_m: float | None
    """Smallest distance to a stimulus anchor; None when the scene shown has none."""
    head_speed_dps: float
    valid: bool
    """False when the head pose was invalid (tracking lost) for most of the interval."""


@dataclass(frozen=True, slots=True)
class ClientInput:
    """The client acted in the headset: a break, a SUDS answer, or a run of panel answers.

    `event` is {"type": "safe", "by": "client"} or {"type": "suds", "value": 0-100, "by":
    "client"}; add "t" and `exposure.models.parse_event` accepts (and validates) it. Answers
    to `OpenQuestions` come as {"type": "panel", "kind": ..., "level": n, "answers": [...]},
    which the control side turns into the event of their kind (`vret.headset_questions`).
    """

    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WatchdogTripped:
    """The control process was silent this long: the render process fades to the safe scene."""

    silent_s: float


@dataclass(frozen=True, slots=True)
class WatchdogRecovered:
    """Messages came back after a trip: the latest target is obeyed again."""


@dataclass(frozen=True, slots=True)
class UnknownScene:
    """A target named a scene this station does not have; reported once, never shown."""

    scene: str
    message: str


@dataclass(frozen=True, slots=True)
class SceneFailed:
    """A scene raised (in build, apply or on_event): the client sees the safe scene instead,
    and that scene is not shown again in this render process. Reported once."""

    scene: str
    error: str
    """The exception, e.g. "ZeroDivisionError: division by zero"."""
    message: str


@dataclass(frozen=True, slots=True)
class CoachSpoke:
    """A coach line began in the headset: its caption is up and its sound was started."""

    text: str
    wav: str
    sound: bool
    """A sound was loaded and started (False: caption only, or the coach is off)."""
    t_started: float


@dataclass(frozen=True, slots=True)
class SceneSoundApplied:
    """The scene sound as the render process now plays it, sent after each `SetSceneSound`:
    the console shows what the headset does, not what was asked."""

    muted: bool


Problem = StartFailed | UnknownScene | SceneFailed
"""A message whose `message` is one sentence for a person."""

FromRender = (
    Ready
    | StartFailed
    | Frames
    | FrameEffect
    | Thumbnail
    | GazeSummary
    | ClientInput
    | WatchdogTripped
    | WatchdogRecovered
    | UnknownScene
    | SceneFailed
    | CoachSpoke
    | SceneSoundApplied
)
