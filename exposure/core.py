"""The therapy core: a pure fold `state, effects = step(state, event)`.

No I/O, no clocks, no threads: time arrives inside each event. Replaying a session's recorded
events through `step` reproduces every decision it took live.

The rules, in a therapist's words:
- Baseline: the session opens in the safe scene; resting HR is the median of the good readings
  over the baseline period. Arousal is how far HR is above that, as a fraction of it.
- Step up (automatic mode): the client has dwelt at the level long enough, the signal is fresh,
  arousal is inside or below the therapeutic window and not rising, and a recent SUDS rating (if
  any) is low or has halved from its peak at this level.
- Step down: arousal above the ceiling for a sustained time steps down one level; above the hard
  ceiling goes to the safe scene. In manual mode the core alerts instead of moving.
- Pause: nothing moves by itself, but arousal above the hard ceiling still alerts the therapist.
- Hold: a stale or lost signal freezes automatic changes and alerts the therapist.
- Panic: `safe` from the therapist or the client's break button goes to the safe scene at once.
- Clinician commands always win: they act at once and restart the dwell timer.
- Attention (head tracking): no automatic step up while the client looked at the stimulus for
  less than `attention_min` of the last `attention_window_s`; a sustained look-away, lost
  tracking and fast head motion alert the therapist. Without head tracking the rule is off.
- Sick, not scared: a mid-session sickness rating above the threshold alerts the therapist to
  pause. Cybersickness raises HR too, so while it lasts automatic changes hold: the level does
  not step down (nor up) for the raised HR, exposure does not start after the baseline, and
  the hard ceiling still goes to the safe scene.
- Measures and expectancy ratings are recorded events; only the sickness rating moves a rule.
- The coach's lines and the therapist's controls of it are recorded events that move nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator
from typing import Any

from exposure.models import (
    SAFE_LEVEL,
    SICKNESS_INSTRUMENT,
    Alert,
    AlertKind,
    AskSuds,
    AutoOff,
    AutoOn,
    CoachControl,
    CoachLine,
    Decision,
    Effect,
    End,
    Event,
    Expectancy,
    Gaze,
    Measure,
    Note,
    Pause,
    Reading,
    Recentre,
    Resume,
    Safe,
    SceneEvent,
    SceneSound,
    SessionStart,
    SessionState,
    SetLevel,
    Severity,
    StepDown,
    StepUp,
    Suds,
    SystemEvent,
    Tick,
    Who,
)

RENDER_ALERT_S = 60.0
"""How long a 'render process restarted' alert stays on the console."""


def new_session(start: SessionStart) -> SessionState:
    """The state of a session that has just opened, in baseline, in the safe scene."""
    state = SessionState(
        ladder=start.ladder,
        settings=start.settings,
        client=start.client,
        auto=start.auto,
        t=start.t,
        started_at=start.t,
        level_since=start.t,
        resume_level=start.ladder.start_level,
    )
    return state.model_copy(update={"next_step": _outlook(state)})


def step(state: SessionState | None, event: Event) -> tuple[SessionState, list[Effect]]:
    """Apply one event; return the new state and what the world must do about it.

    Effects are Decisions (level changes with their reasons), Alerts (raised or cleared) and
    SceneTargets (the scene the client must see, whenever it changes).
    """
    if isinstance(event, SessionStart):
        fresh = new_session(event)
        return fresh, [fresh.scene_target]
    if state is None:
        raise ValueError("a session record must begin with a session_start event")

    now = max(state.t, event.t)  # out-of-order stamps never move time backwards
    if isinstance(event, CoachLine | CoachControl):
        # the coach only talks: its events are recorded, and no rule looks at the state for them
        return state.model_copy(update={"t": now}), []
    before = state.scene_target
    effects: list[Effect] = []
    s = state.model_copy(update={"t": now})

    if s.phase == "ended":
        # a post-session questionnaire may still come in after End
        if not isinstance(
            event, Reading | Gaze | Tick | Note | SystemEvent | Recentre | Measure | Expectancy
        ):
            effects.append(_refused(now, "The session has ended: start a new session to continue."))
        return s, effects

    if isinstance(event, Reading):
        s = _take_reading(s, event)
    elif isinstance(event, Gaze):
        s = _take_gaze(s, event)
    elif isinstance(event, SystemEvent):
        s = _on_system(s, event, effects)
    elif isinstance(event, Measure):
        s = _on_measure(s, event, effects)
    elif not isinstance(event, Tick | Expectancy):  # expectancy ratings are recorded only
        s = _on_command(s, event, effects)

    # a therapist's level change stands for this step: automatic rules look again at the next one
    moved_by_person = any(isinstance(e, Decision) for e in effects)
    s = _evaluate(s, effects, may_move=not moved_by_person)
    s = s.model_copy(update={"next_step": _outlook(s)})
    after = s.scene_target
    if (after.scene, after.intensity, after.safe) != (before.scene, before.intensity, before.safe):
        effects.append(after)
    return s, effects


def replay_steps(events: Iterable[Event]) -> Iterator[tuple[Event, SessionState, list[Effect]]]:
    """Fold recorded events through the core: each event with the state and effects after it.

    The one fold over a record: `replay`, the report and the export all read a session
    through it, so they see exactly the states the core had live.
    """
    state: SessionState | None = None
    for event in events:
        state, effects = step(state, event)
        yield event, state, effects


def replay(events: Iterable[Event]) -> list[Decision]:
    """Fold recorded events through the core and return the decisions; deterministic."""
    return [e for _, _, effects in replay_steps(events) for e in effects if isinstance(e, Decision)]


# --------------------------------------------------------------------------- signal


def _window_s(s: SessionState) -> float:
    return max(s.settings.arousal_window_s, s.settings.trend_window_s)


def _take_reading(s: SessionState, r: Reading) -> SessionState:
    if not r.good or r.hr is None:
        return s
    now, hr = s.t, float(r.hr)
    second = int(now // 1)
    bins = list(s.recent)
    if bins and bins[-1][0] == second:
        sec, total, count = bins[-1]
        bins[-1] = (sec, total + hr, count + 1)
    else:
        bins.append((second, hr, 1))
    oldest = now - _window_s(s) - 1.0
    while bins and bins[0][0] < oldest:
        bins.pop(0)
    update: dict[str, Any] = {"recent": tuple(bins), "last_good_t": now, "last_hr": hr}
    if s.baseline_hr is None:  # measuring goes on in any phase until the baseline is fixed
        update["baseline_samples"] = (*s.baseline_samples, hr)
    return s.model_copy(update=update)  # _evaluate recomputes HR, arousal and trend next


def _with_signal(s: SessionState) -> SessionState:
    """Recompute smoothed HR, arousal and trend from the one-second bins."""
    cfg = s.settings
    now = s.t
    inside = [(sec, total, n) for sec, total, n in s.recent if sec >= now - cfg.arousal_window_s]
    count = sum(n for _, _, n in inside)
    hr = sum(total for _, total, _ in inside) / count if count else None
    arousal = (hr - s.baseline_hr) / s.baseline_hr if hr is not None and s.baseline_hr else None
    trend = _slope_per_min(
        [(sec + 0.5, total / n) for sec, total, n in s.recent if sec >= now - cfg.trend_window_s],
        cfg.trend_window_s,
    )
    return s.model_copy(update={"hr": hr, "arousal": arousal, "trend_bpm_per_min": trend})


def _slope_per_min(points: list[tuple[float, float]], window_s: float) -> float | None:
    """Least-squares slope in bpm per minute, or None when the points span under a third of the window."""
    if len(points) < 3 or points[-1][0] - points[0][0] < window_s / 3:
        return None
    n = len(points)
    mean_t = sum(p[0] for p in points) / n
    mean_h = sum(p[1] for p in points) / n
    var = sum((p[0] - mean_t) ** 2 for p in points)
    if var == 0:
        return None
    cov = sum((p[0] - mean_t) * (p[1] - mean_h) for p in points)
    return cov / var * 60.0


# --------------------------------------------------------------------------- alerts


def _raise(
    s: SessionState,
    effects: list[Effect],
    kind: AlertKind,
    severity: Severity,
    message: str,
    expires_at: float | None = None,
) -> SessionState:
    current = next((a for a in s.alerts if a.kind == kind), None)
    if current is not None and current.message == message:
        return s
    # a new text for an active alert updates its episode, which keeps its onset
    onset = s.t if current is None else current.onset
    alert = Alert(
        t=s.t,
        onset=onset,
        kind=kind,
        severity=severity,
        message=message,
        expires_at=expires_at,
    )
    effects.append(alert)
    return s.model_copy(update={"alerts": (*[a for a in s.alerts if a.kind != kind], alert)})


def _clear(
    s: SessionState, effects: list[Effect], kind: AlertKind, message: str = ""
) -> SessionState:
    current = next((a for a in s.alerts if a.kind == kind), None)
    if current is None:
        return s
    effects.append(
        current.model_copy(
            update={"t": s.t, "active": False, "message": message or current.message}
        )
    )
    return s.model_copy(update={"alerts": tuple(a for a in s.alerts if a.kind != kind)})


def _refused(t: float, message: str) -> Alert:
    return Alert(t=t, kind="command_refused", severity="info", message=message, active=False)


def _on_system(s: SessionState, e: SystemEvent, effects: list[Effect]) -> SessionState:
    if e.kind in _HEADSET_TO_SAFE and s.phase in ("exposure", "paused"):
        s = _move(s, effects, SAFE_LEVEL, "auto", _HEADSET_TO_SAFE[e.kind])
    if e.kind in _SYSTEM_CLEARS:
        kind, message = _SYSTEM_CLEARS[e.kind]
        return _clear(s, effects, kind, message)
    if e.kind not in _SYSTEM_ALERTS:
        return s
    kind, severity, template, transient = _SYSTEM_ALERTS[e.kind]
    detail = f" ({e.detail})" if e.detail else ""
    expires_at = s.t + RENDER_ALERT_S if transient else None
    return _raise(s, effects, kind, severity, template.format(detail=detail), expires_at)


_SYSTEM_ALERTS: dict[str, tuple[AlertKind, Severity, str, bool]] = {
    "records_failing": (
        "records_failing",
        "critical",
        "The records cannot be written{detail}: the session goes on and its events wait in "
        "memory until the database answers; check the disk or the database server.",
        False,
    ),
    "records_gap": (
        "records_gap",
        "critical",
        "Part of this session is missing from its record{detail}.",
        False,
    ),
    "sensor_flood": (
        "sensor_flood",
        "warning",
        "The heart-rate sensor sends far more than a heart can beat{detail}.",
        True,
    ),
    "sensor_decoder_error": (
        "sensor_decoder_error",
        "warning",
        "The heart-rate sensor sent data vret could not read{detail}: reading goes on; check "
        "that --protocol matches the device.",
        True,
    ),
    "task_failed": (
        "task_failed",
        "warning",
        "A part of the station failed and was restarted{detail}.",
        True,
    ),
    "sensor_disconnected": (
        "sensor_disconnected",
        "critical",
        "Heart-rate sensor disconnected{detail}: automatic changes on hold; check the cable.",
        False,
    ),
    "render_restarted": (
        "render_restarted",
        "warning",
        "The headset display stopped and was restarted in the safe scene{detail}.",
        True,
    ),
    "scene_failed": (
        "scene_failed",
        "warning",
        "A scene failed in the headset{detail}: the client sees the safe scene; run `vret "
        "scenes check` on it before the next session.",
        True,
    ),
    "headset_down": (  # stays until the session ends: nothing restarts the display now
        "headset_down",
        "critical",
        "The headset display keeps failing and is no longer restarted{detail}: take the "
        "headset off the client, then restart vret.",
        False,
    ),
    "render_watchdog": (
        "render_watchdog",
        "warning",
        "The headset heard nothing from this station and faded to the safe scene by "
        "itself{detail}.",
        True,
    ),
}
"""System events the therapist must see: (alert kind, severity, message with `{detail}`,
transient: clears itself after `RENDER_ALERT_S`)."""

_SYSTEM_CLEARS: dict[str, tuple[AlertKind, str]] = {
    "records_recovered": ("records_failing", "The records are written again."),
    "sensor_reconnected": ("sensor_disconnected", "Heart-rate sensor reconnected."),
}
"""System events that clear an alert: (its kind, the message it clears with)."""

_HEADSET_TO_SAFE = {
    "render_restarted": "The headset display restarted: safe scene; press Resume when the "
    "client is ready.",
    "scene_failed": "The scene failed in the headset, which now shows the safe scene: safe "
    "scene; check the scene before you resume.",
    "headset_down": "The headset display is down: safe scene.",
}
"""System events after which the headset shows the safe scene: the core follows, so the
console, the record and the headset agree."""


# --------------------------------------------------------------------------- measures


def _on_measure(s: SessionState, m: Measure, effects: list[Effect]) -> SessionState:
    """A mid-session sickness rating sets or clears "sick, not scared"; other measures are recorded only."""
    rating = m.scores.get(SICKNESS_INSTRUMENT)
    if m.instrument != SICKNESS_INSTRUMENT or m.phase != "mid" or rating is None:
        return s
    limit = s.settings.sickness_threshold
    sick = rating > limit
    s = s.model_copy(update={"sickness": rating, "sick": sick, "above_ceiling_since": None})
    if sick:
        return _raise(
            s,
            effects,
            "sick_not_scared",
            "warning",
            f"Sick, not scared: the client rates sickness {rating:g}/10 (above {limit:g}). "
            "Pause the session and let the client recover; the level does not step down for "
            "the raised heart rate. Ask again before you resume.",
        )
    return _clear(
        s,
        effects,
        "sick_not_scared",
        f"Sickness {rating:g}/10 (not above {limit:g}): the usual rules apply again.",
    )


# --------------------------------------------------------------------------- commands


def _move(
    s: SessionState, effects: list[Effect], to: int, who: Who, reason: str, **update: Any
) -> SessionState:
    """Change level (0 = safe scene) and record why; restarts the dwell timer."""
    phase = update.pop("phase", None)
    if phase is None:
        phase = "safe" if to == SAFE_LEVEL else ("paused" if s.phase == "paused" else "exposure")
    resume_level = s.level if to == SAFE_LEVEL and s.level != SAFE_LEVEL else s.resume_level
    effects.append(Decision(t=s.t, from_level=s.level, to_level=to, who=who, reason=reason))
    s = s.model_copy(
        update={
            "level": to,
            "phase": phase,
            "level_since": s.t,
            "resume_level": resume_level,
            "above_ceiling_since": None,
            "suds_peak": None,
            "decisions": s.decisions + 1,
            **update,
        }
    )
    # a move out of the baseline cuts it short, to the safe scene too (End leaves it unmeasured)
    if s.phase != "ended" and s.baseline_hr is None:
        s = _close_baseline(s, effects)
    return s


def _close_baseline(s: SessionState, effects: list[Effect], late: bool = False) -> SessionState:
    """Fix the resting HR from the good readings so far when there are enough of them.

    The therapist moved on before the baseline period ended (or `late`: readings went on being
    measured after that). With fewer than `min_baseline_readings` the measuring goes on in
    whatever scene the client is in, and `_evaluate_late_baseline` fixes it once they are in.
    """
    samples = s.baseline_samples
    if len(samples) < s.settings.min_baseline_readings:
        return s
    assert s.started_at is not None
    median = statistics.median(samples)
    over = s.t - s.started_at
    if late:
        note = (
            f"median of {len(samples)} good readings up to {over:.0f} s, some taken after the "
            "baseline was cut short, so arousal may read lower than it is"
        )
    elif over < s.settings.baseline_s:
        note = (
            f"median of {len(samples)} good readings over {over:.0f} s, taken early "
            f"(the baseline period is {s.settings.baseline_s:.0f} s)"
        )
    else:  # the baseline went on past its period (the client felt sick, readings were few)
        note = (
            f"median of {len(samples)} good readings over {over:.0f} s "
            f"(the baseline period is {s.settings.baseline_s:.0f} s)"
        )
    s = s.model_copy(update={"baseline_hr": median, "baseline_samples": (), "baseline_note": note})
    return _with_signal(_clear(s, effects, "no_baseline"))


def _evaluate_late_baseline(s: SessionState, effects: list[Effect]) -> SessionState:
    """Out of the baseline phase with no baseline: fix it once enough good readings are in.

    The sensor is blamed only when readings are really missing: the whole baseline period has
    passed since the session began and the good readings are still too few.
    """
    cfg = s.settings
    s = _close_baseline(s, effects, late=True)
    if s.baseline_hr is not None:
        return s
    assert s.started_at is not None
    n = len(s.baseline_samples)
    if s.t - s.started_at < cfg.baseline_s:
        return s
    return _raise(
        s,
        effects,
        "no_baseline",
        "warning",
        f"Baseline needs {cfg.min_baseline_readings} good heart-rate readings and has {n} "
        f"after {cfg.baseline_s:.0f} s: automatic changes and ceiling alerts wait for it; "
        "check the sensor.",
    )


def _name(s: SessionState, level: int) -> str:
    if level == SAFE_LEVEL:
        return "the safe scene"
    return f"level {level} ({s.ladder.level_name(level)})"


def _by(cmd: Any) -> tuple[Who, str]:
    return ("client", "Client") if cmd.by == "client" else ("clinician", "Therapist")


def _on_command(s: SessionState, cmd: Any, effects: list[Effect]) -> SessionState:
    who, actor = _by(cmd)
    top = s.ladder.top
    match cmd:
        case Safe():
            if s.phase == "safe":
                return s
            why = (
                "pressed the break button"
                if who == "client"
                else "sent the client to the safe scene"
            )
            return _move(s, effects, SAFE_LEVEL, who, f"{actor} {why}: safe scene.")
        case End():
            return _move(s, effects, SAFE_LEVEL, who, f"{actor} ended the session.", phase="ended")
        case SetLevel(level=level):
            if level > top:
                effects.append(
                    _refused(s.t, f"Level {level} is past the top of this {top}-level ladder.")
                )
                return s
            if level == SAFE_LEVEL:
                return _on_command(s, Safe(t=cmd.t, by=cmd.by), effects)
            if level == s.level and s.phase in ("exposure", "paused"):
                return s
            return _move(s, effects, level, who, f"{actor} set {_name(s, level)}.")
        case StepUp():
            if s.phase == "baseline":
                to = s.ladder.start_level
                return _move(
                    s, effects, to, who, f"{actor} ended the baseline early: {_name(s, to)}."
                )
            if s.phase == "safe":
                to = s.resume_level
                return _move(
                    s,
                    effects,
                    to,
                    who,
                    f"{actor} stepped up out of the safe scene to {_name(s, to)}.",
                )
            if s.level >= top:
                effects.append(_refused(s.t, f"Already at the top of the ladder (level {top})."))
                return s
            return _move(
                s, effects, s.level + 1, who, f"{actor} stepped up to {_name(s, s.level + 1)}."
            )
        case StepDown():
            if s.phase in ("baseline", "safe"):
                effects.append(_refused(s.t, "Already in the safe scene: nothing to step down to."))
                return s
            return _move(
                s, effects, s.level - 1, who, f"{actor} stepped down to {_name(s, s.level - 1)}."
            )
        case Pause():
            if s.phase != "exposure":
                effects.append(
                    _refused(s.t, f"Cannot pause during {s.phase}: pause holds a running exposure.")
                )
                return s
            return s.model_copy(update={"phase": "paused"})
        case Resume():
            if s.phase == "paused":
                # the dwell restarts so nothing moves by itself the moment the therapist resumes
                return s.model_copy(update={"phase": "exposure", "level_since": s.t})
            if s.phase == "safe":
                to = s.resume_level
                return _move(s, effects, to, who, f"{actor} resumed: back to {_name(s, to)}.")
            effects.append(
                _refused(s.t, "Nothing to resume: the session is not paused or in the safe scene.")
            )
            return s
        case AutoOn():
            return s.model_copy(update={"auto": True})
        case AutoOff():
            return s.model_copy(update={"auto": False, "above_ceiling_since": None})
        case Suds(value=value):
            peak = s.suds_peak if s.phase == "exposure" or s.phase == "paused" else None
            peak = value if peak is None else max(peak, value)
            s = s.model_copy(update={"suds": value, "suds_t": s.t, "suds_peak": peak})
            return _clear(s, effects, "suds_due")
        case Note() | SceneEvent() | AskSuds() | Recentre() | SceneSound():
            return s  # recorded by the runtime; nothing in the controller changes
    raise TypeError(f"unknown command {cmd!r}")


# --------------------------------------------------------------------------- automatic control


def _stale(s: SessionState) -> bool:
    """No good reading for `stale_after_s` (at the limit included, as the sensor's gate has it)."""
    since = s.last_good_t if s.last_good_t is not None else s.started_at
    return since is None or s.t - since >= s.settings.stale_after_s


def _pct(arousal: float) -> str:
    pct = round(arousal * 100)
    return f"{pct}% above baseline" if pct >= 0 else f"{-pct}% below baseline"


def _trend_word(s: SessionState) -> str:
    trend = s.trend_bpm_per_min
    if trend is None:
        return "trend unknown"
    if trend > s.settings.rising_bpm_per_min:
        return "rising"
    if trend < -s.settings.rising_bpm_per_min:
        return "falling"
    return "steady"


def _evaluate(s: SessionState, effects: list[Effect], may_move: bool = True) -> SessionState:
    cfg = s.settings
    for alert in s.alerts:
        if alert.expires_at is not None and s.t >= alert.expires_at:
            s = _clear(s, effects, alert.kind)
    s = _with_signal(s)
    s = _with_attention(s)
    s = _evaluate_tracking(s, effects)

    stale = _stale(s)
    if stale and not s.stale:
        s = _raise(
            s,
            effects,
            "stale_signal",
            "critical",
            f"No good heart-rate reading for {cfg.stale_after_s:.0f} s: "
            "automatic changes on hold; check the sensor and the client's finger or strap.",
        )
    elif not stale and s.stale:
        s = _clear(s, effects, "stale_signal", "Heart-rate signal is back.")
    s = s.model_copy(update={"stale": stale})
    if s.baseline_hr is None and s.phase in ("exposure", "paused", "safe"):
        s = _evaluate_late_baseline(s, effects)

    if not may_move:
        return s
    if s.phase == "baseline":
        return _evaluate_baseline(s, effects)
    if s.phase == "exposure":
        s = _evaluate_suds_due(s, effects)
        return _evaluate_exposure(s, effects)
    if s.phase == "paused":
        return _evaluate_paused(s, effects)
    return s


def _evaluate_baseline(s: SessionState, effects: list[Effect]) -> SessionState:
    cfg = s.settings
    assert s.started_at is not None
    if s.baseline_hr is not None or s.t - s.started_at < cfg.baseline_s:
        return s
    if s.sick:  # sick, not scared: exposure does not start; the baseline goes on
        return s
    n = len(s.baseline_samples)
    if n < cfg.min_baseline_readings:
        return _raise(
            s,
            effects,
            "no_baseline",
            "warning",
            f"Baseline needs {cfg.min_baseline_readings} good heart-rate readings and has "
            f"{n}: it goes on until they are in; check the sensor.",
        )
    median = statistics.median(s.baseline_samples)
    measured = s.t - (s.started_at or 0.0)
    note = f"median of {n} good readings over {measured:.0f} s"
    s = s.model_copy(update={"baseline_hr": median, "baseline_samples": (), "baseline_note": note})
    s = _with_signal(_clear(s, effects, "no_baseline"))
    if not s.auto:
        return s  # manual mode: the therapist chooses when exposure starts
    to = s.ladder.start_level
    return _move(
        s,
        effects,
        to,
        "auto",
        f"Baseline {median:.0f} bpm (median of {n} readings over {measured:.0f} s): "
        f"start exposure at {_name(s, to)}.",
    )


def _suds_at_level(s: SessionState) -> bool:
    """A SUDS rating was given since the last change of level (a move resets its peak)."""
    return s.suds_peak is not None and s.suds_t is not None


def _evaluate_suds_due(s: SessionState, effects: list[Effect]) -> SessionState:
    """Remind the therapist to ask SUDS: at the latest when the dwell is up, so a rating comes
    before each automatic step up, and then again every interval without one."""
    cfg = s.settings
    every = min(cfg.suds_reminder_s, cfg.min_dwell_s)
    last = s.suds_t if _suds_at_level(s) and s.suds_t is not None else s.level_since
    if s.t - last < every:
        return s
    waits = ""
    if s.auto and cfg.suds_before_step_up and not _suds_at_level(s):
        waits = " The automatic step up waits for it."
    since = f"{every / 60:.0f} min" if every >= 120 else f"{every:.0f} s"
    return _raise(
        s,
        effects,
        "suds_due",
        "info",
        f"No SUDS rating for {since}: ask the client how anxious they feel.{waits}",
    )


def _evaluate_exposure(s: SessionState, effects: list[Effect]) -> SessionState:
    cfg = s.settings
    if s.stale or s.baseline_hr is None or s.arousal is None:
        return s.model_copy(update={"above_ceiling_since": None})
    arousal = s.arousal

    if arousal > cfg.hard_ceiling:
        msg = f"HR {s.hr:.0f} bpm, {_pct(arousal)} (hard ceiling {cfg.hard_ceiling:.0%})"
        if s.auto:
            return _move(s, effects, SAFE_LEVEL, "auto", f"{msg}: safe scene.")
        return _raise(
            s, effects, "hard_ceiling", "critical", f"{msg}: consider the safe scene now."
        )
    s = _clear(s, effects, "hard_ceiling")

    if s.sick:
        return _evaluate_sick(s, effects, arousal)

    if arousal > cfg.ceiling:
        since = s.above_ceiling_since if s.above_ceiling_since is not None else s.t
        s = s.model_copy(update={"above_ceiling_since": since})
        held = s.t - max(since, s.level_since)
        if held >= cfg.ceiling_sustain_s:
            msg = f"HR {_pct(arousal)} for {held:.0f} s (ceiling {cfg.ceiling:.0%})"
            if s.auto:
                return _move(
                    s, effects, s.level - 1, "auto", f"{msg}: step down to {_name(s, s.level - 1)}."
                )
            return _raise(s, effects, "ceiling", "warning", f"{msg}: consider stepping down.")
        return s
    s = _clear(s, effects, "ceiling")
    s = s.model_copy(update={"above_ceiling_since": None})

    if s.auto and _step_up_blocker(s) is None:
        dwell = s.t - s.level_since
        suds = f", SUDS {s.suds}" if _recent_suds(s) is not None else ""
        return _move(
            s,
            effects,
            s.level + 1,
            "auto",
            f"HR {_pct(arousal)} for {dwell:.0f} s and {_trend_word(s)}{suds}: "
            f"step up to {_name(s, s.level + 1)}.",
        )
    return s


def _evaluate_sick(s: SessionState, effects: list[Effect], arousal: float) -> SessionState:
    """Sick, not scared: HR above the ceiling only alerts, and nothing steps up.

    Cybersickness raises heart rate as fear does; stepping down would teach the client that the
    feared situation was the danger, so the therapist is told instead and decides.
    """
    cfg = s.settings
    if arousal > cfg.ceiling:
        return _raise(
            s,
            effects,
            "ceiling",
            "warning",
            f"HR {_pct(arousal)} (ceiling {cfg.ceiling:.0%}) while the client reports "
            f"sickness {s.sickness:g}/10: not stepping down for it; pause the session.",
        )
    return _clear(s, effects, "ceiling")


def _evaluate_paused(s: SessionState, effects: list[Effect]) -> SessionState:
    """Pause holds every automatic change, but a hard-ceiling arousal still alerts the therapist.

    The client is still in the scene while paused, so the one alarm that says "take them out
    now" must not wait for Resume; the level stays where the therapist left it.
    """
    cfg = s.settings
    if s.stale or s.baseline_hr is None or s.arousal is None:
        return s
    if s.arousal > cfg.hard_ceiling:
        return _raise(
            s,
            effects,
            "hard_ceiling",
            "critical",
            f"HR {s.hr:.0f} bpm, {_pct(s.arousal)} (hard ceiling {cfg.hard_ceiling:.0%}) "
            "while paused: consider the safe scene now.",
        )
    return _clear(s, effects, "hard_ceiling")


def _recent_suds(s: SessionState) -> int | None:
    if s.suds is None or s.suds_t is None or s.t - s.suds_t > s.settings.suds_recent_s:
        return None
    return s.suds


def _step_up_blocker(s: SessionState) -> str | None:
    """Why an automatic step up cannot happen now, or None when it may."""
    cfg = s.settings
    if s.level >= s.ladder.top:
        return "at the top of the ladder"
    if s.sick:
        return f"the client reports sickness {s.sickness:g}/10 (sick, not scared)"
    attention = _attention_blocker(s)  # looking away is what the therapist can act on
    if attention is not None:
        return attention
    if s.arousal is None:
        return "no arousal figure yet"
    if s.arousal > cfg.window_high:
        return f"HR {_pct(s.arousal)} is above the therapeutic window ({cfg.window_high:.0%})"
    if s.trend_bpm_per_min is None:
        return "not enough readings yet to see the HR trend"
    if s.trend_bpm_per_min > cfg.rising_bpm_per_min:
        return f"HR is rising ({s.trend_bpm_per_min:+.1f} bpm/min)"
    suds = _recent_suds(s)
    if suds is not None and suds >= cfg.suds_low:
        peak = s.suds_peak
        if peak is None or suds > peak / 2:
            return f"SUDS {suds} is not below {cfg.suds_low} nor half its peak at this level"
    dwell = s.t - s.level_since
    if dwell < cfg.min_dwell_s:
        return f"{dwell:.0f} of {cfg.min_dwell_s:.0f} s at this level"
    if cfg.suds_before_step_up and not _suds_at_level(s):
        return "waiting for a SUDS rating before stepping up"
    return None


def baseline_text(s: SessionState) -> str:
    """The resting HR for the console, with how it was measured or how far measuring has got."""
    cfg = s.settings
    if s.baseline_hr is not None:
        how = f" ({s.baseline_note})" if s.baseline_note else ""
        return f"{s.baseline_hr:.0f} bpm{how}"
    n, needed = len(s.baseline_samples), cfg.min_baseline_readings
    if s.phase == "baseline":
        assert s.started_at is not None
        left = cfg.baseline_s - (s.t - s.started_at)
        if left > 0:
            return f"measuring: {left:.0f} s left, {n} good readings so far"
        return f"measuring: {n} of {needed} good readings"
    if s.phase == "ended":
        if n >= needed:  # ended during the baseline period: End fixes no baseline
            return f"not measured: the session ended during the baseline ({n} good readings)"
        return f"not measured: {n} of {needed} good readings"
    where = "during exposure" if s.phase in ("exposure", "paused") else "in the safe scene"
    return f"measuring {where}: {n} of {needed} good readings"


def _outlook(s: SessionState) -> str:
    """What the system will do next and why, for the console."""
    cfg = s.settings
    if s.phase == "ended":
        return "Session ended."
    if s.phase == "baseline":
        assert s.started_at is not None
        if s.baseline_hr is not None:
            return f"Baseline {s.baseline_hr:.0f} bpm: set a level to start exposure (manual mode)."
        left = cfg.baseline_s - (s.t - s.started_at)
        if s.sick:
            return (
                f"Baseline goes on: the client reports sickness {s.sickness:g}/10 (sick, not "
                "scared); exposure starts after a rating at or under the threshold."
            )
        if left > 0:
            return f"Measuring resting HR: {left:.0f} s of baseline left, then {_name(s, s.ladder.start_level)}."
        return "Waiting for enough good heart-rate readings to set the baseline."
    measuring = ""
    if s.baseline_hr is None:
        measuring = (
            f"; measuring resting HR ({len(s.baseline_samples)} of "
            f"{cfg.min_baseline_readings} good readings)"
        )
    if s.phase == "safe":
        return f"In the safe scene: Resume goes back to {_name(s, s.resume_level)}{measuring}."
    if s.phase == "paused":
        return f"Paused at {_name(s, s.level)}: automatic changes wait for Resume{measuring}."
    if s.sick:  # the therapist's next move, before what the signal says
        return (
            f"At {_name(s, s.level)} the client reports sickness {s.sickness:g}/10 (sick, "
            "not scared): pause, and ask again before you resume."
        )
    if s.stale:
        return f"Holding: no fresh heart-rate signal{measuring}."
    if s.baseline_hr is None:
        return (
            f"Measuring resting HR during exposure ({len(s.baseline_samples)} of "
            f"{cfg.min_baseline_readings} good readings): automatic changes and ceiling alerts "
            "start once it is set."
        )
    if not s.auto:
        return f"Manual mode at {_name(s, s.level)}: the therapist moves the level."
    if s.arousal is not None and s.arousal > cfg.ceiling:
        return f"HR {_pct(s.arousal)}, over the ceiling ({cfg.ceiling:.0%}): steps down if it stays there."
    blocker = _step_up_blocker(s)
    if blocker is None:
        return f"Ready to step up to {_name(s, s.level + 1)}."
    if s.level >= s.ladder.top:
        return "Holding at the top of the ladder."
    return f"Holding at level {s.level}: {blocker}."


# --------------------------------------------------------------------------- attention
# The attention rule, kept apart: gaze summaries in, one step-up blocker and three alerts out.

GAZE_STALE_S = 2.0
"""No gaze summary for this long: there is no head tracking (no pose source) and the rule is off."""
FAST_HEAD_ALERT_S = 30.0
"""How long a fast-head-motion alert stays on the console (it is raised again if it goes on)."""


def _take_gaze(s: SessionState, g: Gaze) -> SessionState:
    """Keep a gaze summary: valid ones with a stimulus go into the one-second attention bins."""
    cfg = s.settings
    now = s.t
    if not g.valid:
        since = s.tracking_lost_since if s.tracking_lost_since is not None else now
        return s.model_copy(
            update={"tracking_lost_since": since, "gaze_t": now, "fast_head_since": None}
        )
    update: dict[str, Any] = {"tracking_lost_since": None, "head_speed_dps": g.head_speed_dps}
    if g.head_speed_dps > cfg.fast_head_dps:
        update["fast_head_since"] = s.fast_head_since if s.fast_head_since is not None else now
    else:
        update["fast_head_since"] = None
    if g.distance_m is None:  # a scene with no stimulus (the safe scene): nothing to attend to
        return s.model_copy(update=update)
    second = int(now // 1)
    bins = list(s.gaze_bins)
    if bins and bins[-1][0] == second:
        sec, total, count = bins[-1]
        bins[-1] = (sec, total + g.on_stimulus, count + 1)
    else:
        bins.append((second, g.on_stimulus, 1))
    oldest = now - cfg.attention_window_s - 1.0
    while bins and bins[0][0] < oldest:
        bins.pop(0)
    update.update(gaze_bins=tuple(bins), gaze_t=now, gaze_distance_m=g.distance_m)
    return s.model_copy(update=update)


def _with_attention(s: SessionState) -> SessionState:
    """Recompute attention and the tracking status from the gaze bins, at the state's time."""
    cfg = s.settings
    now = s.t
    if s.gaze_t is None or now - s.gaze_t > GAZE_STALE_S:
        tracking = "none"
    elif s.tracking_lost_since is not None and now - s.tracking_lost_since >= cfg.tracking_lost_s:
        tracking = "lost"
    else:
        tracking = "ok"
    inside = [(total, n) for sec, total, n in s.gaze_bins if sec >= now - cfg.attention_window_s]
    count = sum(n for _, n in inside)
    attention = sum(total for total, _ in inside) / count if count and tracking != "none" else None
    if attention is not None:
        attention = round(attention, 4)
    if tracking == s.tracking and attention == s.attention:
        return s
    return s.model_copy(update={"tracking": tracking, "attention": attention})


def _attention_blocker(s: SessionState) -> str | None:
    """Why the attention rule holds an automatic step up now, or None (also when it is off)."""
    cfg = s.settings
    if cfg.attention_min <= 0 or s.tracking == "none":
        return None
    if s.tracking == "lost":
        return "head tracking lost, so attention is unknown"
    if s.attention is not None and s.attention < cfg.attention_min:
        return _looked_away(s)
    return None


def _looked_away(s: SessionState) -> str:
    away = 1.0 - (s.attention or 0.0)
    return f"client looked away {away:.0%} of the last {s.settings.attention_window_s:.0f} s"


def _evaluate_tracking(s: SessionState, effects: list[Effect]) -> SessionState:
    """Alerts from head tracking: lost tracking, a sustained look-away, fast head motion."""
    cfg = s.settings
    if s.phase == "ended":
        return s
    if s.tracking == "lost":
        if not _has_alert(s, "tracking_lost"):
            s = _raise(
                s,
                effects,
                "tracking_lost",
                "warning",
                f"Head tracking lost for over {cfg.tracking_lost_s:g} s: the headset shows a "
                "steady horizon and automatic step ups hold; check the headset's view of its "
                "sensors.",
            )
    elif _has_alert(s, "tracking_lost"):
        s = _clear(s, effects, "tracking_lost", "Head tracking is back.")

    window_full = bool(s.gaze_bins) and s.gaze_bins[0][0] <= s.t - cfg.attention_window_s + 1
    low = (
        s.phase == "exposure"
        and s.tracking == "ok"
        and cfg.attention_min > 0
        and s.attention is not None
        and window_full
    )
    if low and s.attention is not None and s.attention < cfg.attention_min:
        if not _has_alert(s, "looking_away"):
            hold = f": holding at level {s.level}" if s.auto else f" at level {s.level}"
            s = _raise(
                s,
                effects,
                "looking_away",
                "info",
                f"{_looked_away(s).capitalize()}{hold}; encourage them to look at what they fear.",
            )
    elif _has_alert(s, "looking_away"):  # the hold ends with the hint (or the exposure does)
        s = _clear(s, effects, "looking_away")

    fast = s.fast_head_since is not None and s.t - s.fast_head_since >= cfg.fast_head_s
    if fast and not _has_alert(s, "fast_head_motion"):
        s = _raise(
            s,
            effects,
            "fast_head_motion",
            "warning",
            f"Fast head movement for {cfg.fast_head_s:g} s (over {cfg.fast_head_dps:.0f} "
            "degrees a second): possible discomfort or cybersickness; ask how the client feels.",
            expires_at=s.t + FAST_HEAD_ALERT_S,
        )
    return s


def _has_alert(s: SessionState, kind: AlertKind) -> bool:
    return any(a.kind == kind for a in s.alerts)
