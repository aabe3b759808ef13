"""The figures of one session, computed from its record.

Everything is read through `exposure.core.replay_steps`, so levels, baseline and phases are the
ones the core had at each moment; the decisions the core took live (the recorded effects) are
kept beside the replayed ones so the report can say whether they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from exposure.core import replay_steps
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    AutoOff,
    AutoOn,
    ControlSettings,
    Decision,
    Effect,
    End,
    Event,
    Ladder,
    Note,
    Pause,
    Phase,
    Reading,
    Resume,
    SceneEvent,
    SceneSound,
    SessionStart,
    SessionState,
    Suds,
    SystemEvent,
)

WHO = {"clinician": "therapist", "auto": "automatic", "client": "client", "system": "system"}
"""Who acted, in the report's words: one word for the therapist everywhere."""

SWITCHES = {
    "pause": "paused the session",
    "resume": "resumed",
    "auto_on": "switched automatic mode on",
    "auto_off": "switched automatic mode off (manual)",
}

SCENE_SOUND = {
    True: "muted the scene sound in the headset (not the coach's voice)",
    False: "turned the scene sound back on",
}


def scene_event_label(name: str) -> str:
    """A scene event's name as a person reads it: `spider_drop` -> "Spider drop"."""
    words = " ".join(name.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


@dataclass
class Mark:
    """Something that happened, drawn on the chart and listed in a table."""

    t: float
    kind: str  # "decision", "safe", "note", "scene_event", "system", "alert"
    label: str  # short tag on the chart: D1, N2, E1, ...
    text: str
    who: str = ""


@dataclass
class LevelTime:
    """Time spent at one level (0 = safe scene; baseline counted apart)."""

    key: str
    name: str
    seconds: float = 0.0
    hr: list[float] = field(default_factory=list)
    suds: list[int] = field(default_factory=list)
    expected_suds: int | None = None
    suds_before: int | None = None
    """The last rating given before the client first reached this level."""

    @property
    def suds_peak(self) -> int | None:
        return max(self.suds) if self.suds else None

    @property
    def suds_end(self) -> int | None:
        """The last rating given at this level."""
        return self.suds[-1] if self.suds else None


@dataclass
class AlertEpisode:
    """One alert from its onset to its end, however often its text changed (the latest is kept)."""

    kind: str
    severity: str
    onset: float
    message: str
    end: float | None = None
    """When it cleared; None when it was still active at the end of the record."""
    cleared: str = ""
    """The text it cleared with, when that says more than `message` (the latest text seen)."""
    updates: int = 0


@dataclass
class Break:
    """A move to the safe scene during the session (End is not a break)."""

    t: float
    who: str  # "client", "clinician", "auto"
    reason: str


@dataclass
class Summary:
    """The figures of one session, computed from its record."""

    start: SessionStart
    duration_s: float
    readings: list[tuple[float, float]]  # (t, hr) of readings the controller could use
    bad_readings: int
    levels: list[tuple[float, int, Phase]]  # (t, level, phase) at every change
    baseline_hr: float | None
    baseline_at: float | None
    peak_hr: tuple[float, float] | None  # (t, hr)
    suds: list[tuple[float, int, int]]  # (t, value, level)
    suds_before: tuple[float, int] | None
    suds_peak: tuple[float, int] | None
    suds_end: tuple[float, int] | None
    exposure_at: float | None
    level_times: list[LevelTime]
    decisions: list[Decision]  # as recorded live (the replay's when none were recorded)
    replayed: list[Decision]
    replay_agrees: bool
    decisions_recorded: bool
    alerts: list[AlertEpisode]  # warning and critical episodes, in the order they began
    marks: list[Mark]
    notes: list[Mark]
    switches: list[Mark]  # pauses, resumes and automatic/manual switches, with who
    breaks: list[Break]

    @property
    def ladder(self) -> Ladder:
        return self.start.ladder

    @property
    def settings(self) -> ControlSettings:
        return self.start.settings


def summarize(events: Sequence[Event], effects: Sequence[Effect]) -> Summary:
    """Compute every figure of the report from a session's events and recorded effects."""
    if not events or not isinstance(events[0], SessionStart):
        raise ValueError("a session record begins with its session_start event")
    start = events[0]
    ladder = start.ladder

    readings: list[tuple[float, float]] = []
    bad = 0
    levels: list[tuple[float, int, Phase]] = []
    baseline_hr: float | None = None
    baseline_at: float | None = None
    suds: list[tuple[float, int, int]] = []
    replayed: list[Decision] = []
    exposure_at: float | None = None
    marks: list[Mark] = []
    notes: list[Mark] = []
    switches: list[Mark] = []
    breaks: list[Break] = []
    last_suds: int | None = None
    reached: set[str] = set()
    times: dict[str, LevelTime] = {"baseline": LevelTime("baseline", "Baseline (safe scene)")}
    times["0"] = LevelTime("0", "Safe scene")
    for number, level in enumerate(ladder.levels, start=1):
        times[str(number)] = LevelTime(str(number), level.name, expected_suds=level.suds)

    def bucket(state: SessionState) -> LevelTime:
        return times["baseline"] if state.phase == "baseline" else times[str(state.level)]

    prev_t = start.t
    prev_bucket = times["baseline"]
    t_end = start.t
    for event, state, step_effects in replay_steps(events):
        t = state.t
        if not isinstance(event, SessionStart):
            prev_bucket.seconds += max(0.0, t - prev_t)
        prev_t = t
        t_end = max(t_end, t)
        here = bucket(state)
        if here.key not in reached:
            reached.add(here.key)
            here.suds_before = last_suds
        if not levels or (levels[-1][1], levels[-1][2]) != (state.level, state.phase):
            levels.append((t, state.level, state.phase))
        if baseline_hr is None and state.baseline_hr is not None:
            baseline_hr, baseline_at = state.baseline_hr, t
        if exposure_at is None and state.phase == "exposure":
            exposure_at = t
        if isinstance(event, Reading):
            if event.good and event.hr is not None:
                readings.append((event.t, float(event.hr)))
                here.hr.append(float(event.hr))
            else:
                bad += 1
        elif isinstance(event, Suds):
            suds.append((t, event.value, state.level if state.phase != "baseline" else SAFE_LEVEL))
            here.suds.append(event.value)
            last_suds = event.value
        elif isinstance(event, Note):
            mark = Mark(t, "note", f"N{len(notes) + 1}", event.text, event.by)
            notes.append(mark)
            marks.append(mark)
        elif isinstance(event, SceneEvent):
            count = sum(1 for m in marks if m.kind == "scene_event")
            label = scene_event_label(event.name)
            marks.append(Mark(t, "scene_event", f"E{count + 1}", label, event.by))
        elif isinstance(event, Pause | Resume | AutoOn | AutoOff):
            switches.append(Mark(t, event.type, "", SWITCHES[event.type], event.by))
        elif isinstance(event, SceneSound):
            words = SCENE_SOUND[event.muted]
            switches.append(Mark(t, event.type, "", words, event.by))
        elif isinstance(event, SystemEvent):
            text = event.kind.replace("_", " ") + (f": {event.detail}" if event.detail else "")
            marks.append(Mark(t, "system", "!", text, "system"))
        for d in (e for e in step_effects if isinstance(e, Decision)):
            replayed.append(d)
            if (
                d.to_level == SAFE_LEVEL
                and d.from_level != SAFE_LEVEL
                and not isinstance(event, End)
            ):
                breaks.append(Break(d.t, d.who, d.reason))
        prev_bucket = bucket(state)

    recorded = [e for e in effects if isinstance(e, Decision)]
    decisions = recorded if recorded else replayed
    for number, d in enumerate(decisions, start=1):
        kind = "safe" if d.to_level == SAFE_LEVEL else "decision"
        marks.append(Mark(d.t, kind, f"D{number}", d.reason, d.who))
    marks.sort(key=lambda m: m.t)
    alerts = alert_episodes(e for e in effects if isinstance(e, Alert))

    peak = max(readings, key=lambda r: r[1]) if readings else None
    before = [(t, v) for t, v, _ in suds if exposure_at is None or t <= exposure_at]
    return Summary(
        start=start,
        duration_s=t_end - start.t,
        readings=readings,
        bad_readings=bad,
        levels=levels,
        baseline_hr=baseline_hr,
        baseline_at=baseline_at,
        peak_hr=peak,
        suds=suds,
        suds_before=before[-1] if before else None,
        suds_peak=max(((t, v) for t, v, _ in suds), key=lambda s: s[1]) if suds else None,
        suds_end=(suds[-1][0], suds[-1][1]) if suds else None,
        exposure_at=exposure_at,
        level_times=[lt for lt in times.values()],
        decisions=decisions,
        replayed=replayed,
        replay_agrees=not recorded or recorded == replayed,
        decisions_recorded=bool(recorded),
        alerts=alerts,
        marks=marks,
        notes=notes,
        switches=switches,
        breaks=breaks,
    )


def alert_episodes(alerts: Iterable[Alert]) -> list[AlertEpisode]:
    """Warning and critical alerts as episodes: one per raising, its updates folded, its end.

    An episode is named by `(kind, onset)`; a record made before alerts carried their onset
    (each update then looks like a new alert) is folded the same way, because a kind has at most
    one open episode: an active alert of a kind whose episode is open continues it.
    """
    episodes: list[AlertEpisode] = []
    open_: dict[str, AlertEpisode] = {}
    for alert in alerts:
        if alert.severity == "info" or alert.kind == "command_refused":
            continue
        episode = open_.get(alert.kind)
        if alert.active:
            if episode is None:
                episode = AlertEpisode(alert.kind, alert.severity, alert.onset, alert.message)
                episodes.append(episode)
                open_[alert.kind] = episode
            else:
                episode.message = alert.message
                episode.updates += 1
                if alert.severity == "critical":
                    episode.severity = "critical"
        elif episode is not None:
            episode.end = alert.t
            if alert.message != episode.message:  # the last text, or what cleared it
                episode.cleared = alert.message
            del open_[alert.kind]
    return episodes


def clock(seconds: float) -> str:
    """Session time as m:ss (h:mm:ss past an hour)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
