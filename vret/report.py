"""The session report: one self-contained HTML page a therapist can print or attach to a file.

Everything on it is computed from the record: the events are replayed through `exposure.core`
(so levels, baseline and phases are the ones the core had at each moment), and the decisions
the core took live (the recorded effects) are listed with their reasons and checked against
that replay. The page has no scripts and loads nothing: inline CSS and one inline SVG chart.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from exposure import __version__
from exposure.core import step
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    ControlSettings,
    Decision,
    Effect,
    Event,
    Ladder,
    Note,
    Phase,
    Reading,
    SceneEvent,
    SessionStart,
    SessionState,
    Suds,
    SystemEvent,
)
from vret.records import SessionRow


def replay_states(events: Sequence[Event]) -> Iterator[tuple[Event, SessionState, list[Effect]]]:
    """Step the recorded events through the core: each event with the state and effects after it."""
    state: SessionState | None = None
    for event in events:
        state, effects = step(state, event)
        yield event, state, effects


# --------------------------------------------------------------------------- figures


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
    alerts: list[Alert]  # raised warnings and critical alerts
    marks: list[Mark]
    notes: list[Mark]

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
    times: dict[str, LevelTime] = {"baseline": LevelTime("baseline", "Baseline (safe scene)")}
    times["0"] = LevelTime("0", "Safe scene")
    for number, level in enumerate(ladder.levels, start=1):
        times[str(number)] = LevelTime(str(number), level.name, expected_suds=level.suds)

    def bucket(state: SessionState) -> LevelTime:
        return times["baseline"] if state.phase == "baseline" else times[str(state.level)]

    prev_t = start.t
    prev_bucket = times["baseline"]
    t_end = start.t
    for event, state, step_effects in replay_states(events):
        t = state.t
        if not isinstance(event, SessionStart):
            prev_bucket.seconds += max(0.0, t - prev_t)
        prev_t = t
        t_end = max(t_end, t)
        here = bucket(state)
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
        elif isinstance(event, Note):
            mark = Mark(t, "note", f"N{len(notes) + 1}", event.text, event.by)
            notes.append(mark)
            marks.append(mark)
        elif isinstance(event, SceneEvent):
            count = sum(1 for m in marks if m.kind == "scene_event")
            marks.append(Mark(t, "scene_event", f"E{count + 1}", event.name, event.by))
        elif isinstance(event, SystemEvent):
            text = event.kind.replace("_", " ") + (f": {event.detail}" if event.detail else "")
            marks.append(Mark(t, "system", "!", text, "system"))
        replayed.extend(e for e in step_effects if isinstance(e, Decision))
        prev_bucket = bucket(state)

    recorded = [e for e in effects if isinstance(e, Decision)]
    decisions = recorded if recorded else replayed
    for number, d in enumerate(decisions, start=1):
        kind = "safe" if d.to_level == SAFE_LEVEL else "decision"
        marks.append(Mark(d.t, kind, f"D{number}", d.reason, d.who))
    marks.sort(key=lambda m: m.t)
    alerts = [e for e in effects if isinstance(e, Alert) and e.active and e.severity != "info"]

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
    )


# --------------------------------------------------------------------------- formatting


def clock(seconds: float) -> str:
    """Session time as m:ss (h:mm:ss past an hour)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _duration(seconds: float) -> str:
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _level_name(ladder: Ladder, level: int) -> str:
    if level == SAFE_LEVEL:
        return "safe scene"
    if 1 <= level <= ladder.top:
        return f"{level} · {ladder.level_name(level)}"
    return str(level)


def _when(moment: str | None) -> str:
    if not moment:
        return "—"
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------- chart

WIDTH, HEIGHT = 1000, 430
LEFT, RIGHT = 58, 58
HR_TOP, HR_BOTTOM = 46, 272
LV_TOP, LV_BOTTOM = 292, 392
AXIS_Y = LV_BOTTOM

COLORS = {
    "hr": "#b3261e",
    "level": "#1d4f91",
    "suds": "#d9730d",
    "decision": "#1d4f91",
    "safe": "#b3261e",
    "note": "#555555",
    "scene_event": "#6a3d9a",
    "system": "#8a6d00",
}


def _nice_step(span: float, target: int) -> float:
    raw = span / max(1, target)
    for step_s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if step_s >= raw:
            return float(step_s)
    return 7200.0


def chart_svg(s: Summary) -> str:
    """The session on one figure: HR with its bands (top), level and SUDS (bottom), events."""
    cfg = s.settings
    span = max(s.duration_s, 1.0)
    t0 = s.start.t
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + (t - t0) / span * plot_w

    hr_values = [hr for _, hr in s.readings]
    lo = min(hr_values, default=60.0)
    hi = max(hr_values, default=100.0)
    if s.baseline_hr is not None:
        lo = min(lo, s.baseline_hr)
        hi = max(hi, s.baseline_hr * (1 + cfg.ceiling))
    lo = 10 * ((lo - 5) // 10)
    hi = 10 * ((hi + 14) // 10)

    def y(hr: float) -> float:
        hr = min(max(hr, lo), hi)
        return HR_BOTTOM - (hr - lo) / (hi - lo) * (HR_BOTTOM - HR_TOP)

    top = s.ladder.top

    def yl(level: float) -> float:
        return LV_BOTTOM - level / max(top, 1) * (LV_BOTTOM - LV_TOP)

    def ys(value: float) -> float:
        return LV_BOTTOM - value / 100 * (LV_BOTTOM - LV_TOP)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title" class="chart">',
        '<title id="chart-title">Heart rate, exposure level, SUDS ratings and events over the session</title>',
        "<style>text{font:11px system-ui,sans-serif;fill:#333}.ax{stroke:#999;stroke-width:1}"
        ".grid{stroke:#e4e4e4;stroke-width:1}.tag{font-size:9px;font-weight:600;fill:#fff}"
        ".lab{font-size:11px;fill:#444;paint-order:stroke;stroke:#fff;stroke-width:3px;"
        "stroke-linejoin:round}</style>",
    ]
    # baseline period, then the bands relative to the baseline HR
    end_baseline = s.exposure_at if s.exposure_at is not None else s.baseline_at
    if end_baseline is not None and end_baseline > t0:
        out.append(
            f'<rect x="{LEFT}" y="{HR_TOP}" width="{x(end_baseline) - LEFT:.1f}" '
            f'height="{LV_BOTTOM - HR_TOP}" fill="#000" fill-opacity="0.045"/>'
            f'<text x="{LEFT + 4}" y="{HR_TOP + 12}" class="lab">baseline</text>'
        )
    labels: list[str] = []  # drawn over the HR line so it never hides them
    if s.baseline_hr is not None:
        b = s.baseline_hr
        x_from = x(s.baseline_at if s.baseline_at is not None else t0)
        bands = [
            (b * (1 + cfg.window_low), b * (1 + cfg.window_high), "#2e7d32", 0.13, "window"),
            (b * (1 + cfg.ceiling), b * (1 + cfg.hard_ceiling), "#f9a825", 0.2, "ceiling"),
            (b * (1 + cfg.hard_ceiling), hi, "#c62828", 0.1, "hard ceiling"),
        ]
        for low, high, color, opacity, name in bands:
            if low >= hi:
                continue
            y_hi, y_lo = y(high), y(low)
            out.append(
                f'<rect x="{x_from:.1f}" y="{y_hi:.1f}" width="{LEFT + plot_w - x_from:.1f}" '
                f'height="{max(0.0, y_lo - y_hi):.1f}" fill="{color}" fill-opacity="{opacity}"/>'
            )
            labels.append(
                f'<text x="{LEFT + plot_w - 4}" y="{y_lo - 3:.1f}" text-anchor="end" class="lab">{name}</text>'
            )
        out.append(
            f'<line x1="{x_from:.1f}" x2="{LEFT + plot_w}" y1="{y(b):.1f}" y2="{y(b):.1f}" '
            f'stroke="#444" stroke-dasharray="5 4"/>'
        )
        labels.append(
            f'<text x="{LEFT + plot_w - 4}" y="{y(b) - 3:.1f}" text-anchor="end" class="lab">'
            f"baseline {b:.0f} bpm</text>"
        )
    # HR grid and axis
    hr_step = 10 if hi - lo <= 80 else 20
    tick = lo
    while tick <= hi:
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.0f}</text>'
        )
        tick += hr_step
    out.append(
        f'<text x="14" y="{(HR_TOP + HR_BOTTOM) / 2:.0f}" transform="rotate(-90 14 {(HR_TOP + HR_BOTTOM) / 2:.0f})" '
        'text-anchor="middle">heart rate (bpm)</text>'
    )
    # HR line, broken where the signal was lost
    gap = max(cfg.stale_after_s, 3.0)
    for run in _runs(s.readings, gap, plot_w / span):
        points = " ".join(f"{x(t):.1f},{y(hr):.1f}" for t, hr in run)
        if len(run) == 1:
            t, hr = run[0]
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(hr):.1f}" r="1.6" fill="{COLORS["hr"]}"/>')
        else:
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{COLORS["hr"]}" '
                'stroke-width="1.4" stroke-linejoin="round"/>'
            )
    if s.peak_hr is not None:
        pt, phr = s.peak_hr
        out.append(
            f'<circle cx="{x(pt):.1f}" cy="{y(phr):.1f}" r="3.2" fill="none" stroke="{COLORS["hr"]}" stroke-width="1.4"/>'
            f'<text x="{x(pt) + 5:.1f}" y="{y(phr) - 4:.1f}" class="lab">peak {phr:.0f}</text>'
        )
    out.extend(labels)
    # level panel
    for level in range(0, top + 1):
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yl(level):.1f}" y2="{yl(level):.1f}" class="grid"/>'
        )
        if top <= 12 or level % 2 == 0:
            label = "safe" if level == SAFE_LEVEL else str(level)
            out.append(
                f'<text x="{LEFT - 6}" y="{yl(level) + 4:.1f}" text-anchor="end" fill="{COLORS["level"]}">{label}</text>'
            )
    for value in (0, 50, 100):
        out.append(
            f'<text x="{LEFT + plot_w + 6}" y="{ys(value) + 4:.1f}" fill="{COLORS["suds"]}">{value}</text>'
        )
    out.append(
        f'<text x="14" y="{(LV_TOP + LV_BOTTOM) / 2:.0f}" transform="rotate(-90 14 {(LV_TOP + LV_BOTTOM) / 2:.0f})" '
        f'text-anchor="middle" fill="{COLORS["level"]}">level</text>'
        f'<text x="{WIDTH - 14}" y="{(LV_TOP + LV_BOTTOM) / 2:.0f}" '
        f'transform="rotate(90 {WIDTH - 14} {(LV_TOP + LV_BOTTOM) / 2:.0f})" '
        f'text-anchor="middle" fill="{COLORS["suds"]}">SUDS</text>'
    )
    path: list[str] = []
    t_last = t0 + s.duration_s
    for i, (t, level, _) in enumerate(s.levels):
        t_next = s.levels[i + 1][0] if i + 1 < len(s.levels) else t_last
        path.append(
            f"{'M' if i == 0 else 'L'}{x(t):.1f},{yl(level):.1f} L{x(t_next):.1f},{yl(level):.1f}"
        )
    if path:
        out.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{COLORS["level"]}" stroke-width="2.2"/>'
        )
    for t, value, _ in s.suds:
        cx, cy = x(t), ys(value)
        out.append(
            f'<path d="M{cx:.1f},{cy - 5:.1f} L{cx + 5:.1f},{cy:.1f} L{cx:.1f},{cy + 5:.1f} L{cx - 5:.1f},{cy:.1f} Z" '
            f'fill="{COLORS["suds"]}" stroke="#fff" stroke-width="0.8"/>'
            f'<text x="{cx + 7:.1f}" y="{cy + 4:.1f}" fill="{COLORS["suds"]}" font-weight="600">{value}</text>'
        )
    # events: a dashed line through both panels and a tag on top, staggered when crowded
    row_end = [-1e9, -1e9, -1e9]
    for mark in s.marks:
        color = COLORS.get(mark.kind, "#333")
        cx = x(mark.t)
        width = 8 + 6 * len(mark.label)
        row = next(
            (r for r, end in enumerate(row_end) if cx - width / 2 > end + 2), len(row_end) - 1
        )
        row_end[row] = cx + width / 2
        ty = 8 + row * 12
        out.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{ty + 10}" y2="{LV_BOTTOM}" stroke="{color}" '
            'stroke-width="0.8" stroke-dasharray="2 3" stroke-opacity="0.8"/>'
            f'<rect x="{cx - width / 2:.1f}" y="{ty}" width="{width}" height="11" rx="3" fill="{color}"/>'
            f'<text x="{cx:.1f}" y="{ty + 8.5}" text-anchor="middle" class="tag">{_e(mark.label)}</text>'
        )
    # time axis
    out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{AXIS_Y}" y2="{AXIS_Y}" class="ax"/>')
    step_s = _nice_step(span, 10)
    tick_t = 0.0
    while tick_t <= span + 1e-9:
        tx = x(t0 + tick_t)
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{AXIS_Y}" y2="{AXIS_Y + 4}" class="ax"/>'
            f'<text x="{tx:.1f}" y="{AXIS_Y + 16}" text-anchor="middle">{clock(tick_t)}</text>'
        )
        tick_t += step_s
    out.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">session time (min:s)</text>'
    )
    out.append(
        f'<rect x="{LEFT}" y="{HR_TOP}" width="{plot_w}" height="{HR_BOTTOM - HR_TOP}" fill="none" class="ax"/>'
    )
    out.append(
        f'<rect x="{LEFT}" y="{LV_TOP}" width="{plot_w}" height="{LV_BOTTOM - LV_TOP}" fill="none" class="ax"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _runs(
    readings: list[tuple[float, float]], gap_s: float, px_per_s: float
) -> list[list[tuple[float, float]]]:
    """Split readings where the signal was lost; average points that share a pixel column."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    column: list[tuple[float, float]] = []

    def flush_column() -> None:
        if column:
            current.append(
                (statistics.fmean(t for t, _ in column), statistics.fmean(h for _, h in column))
            )
            column.clear()

    last_t: float | None = None
    for t, hr in readings:
        if last_t is not None and t - last_t > gap_s:
            flush_column()
            runs.append(current)
            current = []
        if column and int(t * px_per_s) != int(column[0][0] * px_per_s):
            flush_column()
        column.append((t, hr))
        last_t = t
    flush_column()
    if current:
        runs.append(current)
    return [r for r in runs if r]


# --------------------------------------------------------------------------- page

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       margin: 0 auto; max-width: 1040px; padding: 20px 24px; background: #fff; }
header { display: flex; justify-content: space-between; align-items: flex-end;
         border-bottom: 2px solid #1d4f91; padding-bottom: 8px; margin-bottom: 14px; }
h1 { font-size: 21px; margin: 0; color: #1d4f91; }
h2 { font-size: 15px; margin: 20px 0 6px; color: #1d4f91; break-after: avoid; }
.sub { color: #555; }
.ident { text-align: right; font-size: 12px; color: #333; }
.ident b { font-size: 15px; }
.figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 10px 0; }
.figure { border: 1px solid #d6dbe3; border-radius: 6px; padding: 6px 10px; break-inside: avoid; }
.figure .k { font-size: 11px; color: #555; text-transform: uppercase; letter-spacing: .03em; }
.figure .v { font-size: 19px; font-weight: 600; }
.figure .n { font-size: 11px; color: #666; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e2e5ea; vertical-align: top; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .03em; color: #555;
     border-bottom: 1.5px solid #9aa5b5; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; color: #444; }
.tag { display: inline-block; min-width: 26px; padding: 0 5px; border-radius: 3px; color: #fff;
       font-size: 11px; font-weight: 600; text-align: center; }
.decision { background: #1d4f91; } .safe { background: #b3261e; } .note { background: #555; }
.scene_event { background: #6a3d9a; } .system { background: #8a6d00; }
.chart { width: 100%; height: auto; border: 1px solid #e2e5ea; border-radius: 6px; }
.legend { font-size: 11.5px; color: #444; margin: 4px 0 0; }
.legend span { margin-right: 14px; white-space: nowrap; }
.sw { display: inline-block; width: 14px; height: 9px; margin-right: 4px; vertical-align: middle; }
.ok { color: #2e7d32; } .warn { color: #b3261e; font-weight: 600; }
.muted { color: #777; }
footer { margin-top: 18px; padding-top: 6px; border-top: 1px solid #d6dbe3; font-size: 11px; color: #666; }
@media print { body { padding: 0; max-width: none; } .chart { border: none; } }
"""


def _figure(key: str, value: str, note: str = "") -> str:
    note_html = f'<div class="n">{_e(note)}</div>' if note else ""
    return f'<div class="figure"><div class="k">{_e(key)}</div><div class="v">{_e(value)}</div>{note_html}</div>'


def _suds_figure(key: str, item: tuple[float, int] | None, missing: str) -> str:
    if item is None:
        return _figure(key, "—", missing)
    return _figure(key, str(item[1]), f"at {clock(item[0])}")


def build_report(
    session_row: SessionRow,
    events: Sequence[Event],
    effects: Sequence[Effect],
    *,
    generated_at: datetime | None = None,
) -> str:
    """One self-contained HTML page: chart, figures, decisions with reasons, notes."""
    s = summarize(events, effects)
    ladder, cfg = s.ladder, s.settings
    row = session_row
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Session {row.id} · client {_e(row.client or '—')} · {_e(row.scene)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><div>",
        "<h1>Exposure session report</h1>",
        f'<div class="sub">Scene <b>{_e(row.scene)}</b> · {ladder.top}-level ladder · '
        f"{'automatic' if s.start.auto else 'manual'} mode at the start</div>",
        "</div>",
        f'<div class="ident">Client <b>{_e(row.client or "—")}</b><br>'
        f"Session #{row.id} · {_e(_when(row.started))}<br>"
        f"Status: {_e(row.status)}{' · station ' + _e(row.host) if row.host else ''}</div>",
        "</header>",
    ]
    if row.status != "completed":
        parts.append(
            f'<p class="warn">This session did not end normally ({_e(row.status)}): '
            "the record stops at the last event written before it stopped.</p>"
        )

    # headline figures
    time_at = [lt for lt in s.level_times if lt.key not in ("baseline", "0") and lt.seconds > 0]
    highest = max((int(lt.key) for lt in time_at), default=None)
    safe_entries = sum(
        1 for d in s.decisions if d.to_level == SAFE_LEVEL and d.from_level != SAFE_LEVEL
    )
    parts.append('<div class="figures">')
    parts.append(
        _figure("Duration", _duration(s.duration_s), f"{len(s.readings)} heart-rate readings")
    )
    parts.append(
        _figure(
            "Baseline HR",
            f"{s.baseline_hr:.0f} bpm" if s.baseline_hr is not None else "—",
            f"set at {clock(s.baseline_at)}"
            if s.baseline_at is not None
            else "no baseline was set",
        )
    )
    parts.append(
        _figure(
            "Peak HR",
            f"{s.peak_hr[1]:.0f} bpm" if s.peak_hr else "—",
            (
                f"at {clock(s.peak_hr[0])}"
                + (
                    f", {(s.peak_hr[1] - s.baseline_hr) / s.baseline_hr:+.0%} on baseline"
                    if s.baseline_hr
                    else ""
                )
            )
            if s.peak_hr
            else "no usable reading",
        )
    )
    parts.append(
        _figure(
            "Highest level",
            str(highest) if highest is not None else "—",
            ladder.level_name(highest) if highest is not None else "exposure did not start",
        )
    )
    parts.append(_suds_figure("SUDS before", s.suds_before, "not rated before exposure"))
    parts.append(_suds_figure("SUDS peak", s.suds_peak, "no rating"))
    parts.append(_suds_figure("SUDS end", s.suds_end, "no rating"))
    parts.append(
        _figure(
            "Level changes",
            str(len(s.decisions)),
            f"{sum(1 for d in s.decisions if d.who == 'auto')} automatic, "
            f"{safe_entries} to the safe scene",
        )
    )
    parts.append("</div>")

    # chart
    parts.append("<h2>Session at a glance</h2>")
    parts.append(chart_svg(s))
    parts.append(
        '<div class="legend">'
        f'<span><i class="sw" style="background:{COLORS["hr"]}"></i>heart rate</span>'
        '<span><i class="sw" style="background:#444;height:2px"></i>baseline</span>'
        '<span><i class="sw" style="background:#2e7d32;opacity:.35"></i>therapeutic window '
        f"({cfg.window_low:+.0%} to {cfg.window_high:+.0%})</span>"
        '<span><i class="sw" style="background:#f9a825;opacity:.5"></i>ceiling '
        f"({cfg.ceiling:+.0%})</span>"
        '<span><i class="sw" style="background:#c62828;opacity:.3"></i>hard ceiling '
        f"({cfg.hard_ceiling:+.0%})</span>"
        f'<span><i class="sw" style="background:{COLORS["level"]}"></i>level</span>'
        f'<span><i class="sw" style="background:{COLORS["suds"]}"></i>SUDS (0–100)</span>'
        '<span><i class="tag decision">D</i> level change</span>'
        '<span><i class="tag safe">D</i> to the safe scene</span>'
        '<span><i class="tag note">N</i> note</span>'
        '<span><i class="tag scene_event">E</i> scene event</span>'
        "</div>"
    )

    # time at each level
    parts.append("<h2>Time at each level</h2>")
    parts.append(
        '<table><thead><tr><th>Level</th><th>Situation</th><th class="num">Expected SUDS</th>'
        '<th class="num">Time</th><th class="num">Mean HR</th><th class="num">Peak HR</th>'
        "<th>SUDS ratings</th></tr></thead><tbody>"
    )
    for lt in s.level_times:
        if lt.seconds <= 0 and not lt.hr and not lt.suds and lt.key in ("baseline", "0"):
            continue
        label = "—" if lt.key == "baseline" else ("safe" if lt.key == "0" else lt.key)
        cls = "" if lt.seconds > 0 else ' class="muted"'
        parts.append(
            f"<tr{cls}><td>{label}</td><td>{_e(lt.name)}</td>"
            f'<td class="num">{lt.expected_suds if lt.expected_suds is not None else ""}</td>'
            f'<td class="num">{_duration(lt.seconds) if lt.seconds > 0 else "—"}</td>'
            f'<td class="num">{f"{statistics.fmean(lt.hr):.0f}" if lt.hr else ""}</td>'
            f'<td class="num">{f"{max(lt.hr):.0f}" if lt.hr else ""}</td>'
            f"<td>{', '.join(str(v) for v in lt.suds)}</td></tr>"
        )
    parts.append("</tbody></table>")

    # decisions
    parts.append("<h2>Level changes and their reasons</h2>")
    if s.decisions:
        parts.append(
            "<table><thead><tr><th></th><th>Time</th><th>From</th><th>To</th><th>By</th>"
            "<th>Reason</th></tr></thead><tbody>"
        )
        for number, d in enumerate(s.decisions, start=1):
            kind = "safe" if d.to_level == SAFE_LEVEL else "decision"
            who = {"auto": "automatic", "clinician": "therapist", "client": "client"}[d.who]
            parts.append(
                f'<tr><td><span class="tag {kind}">D{number}</span></td>'
                f'<td class="t">{clock(d.t)}</td><td>{_e(_level_name(ladder, d.from_level))}</td>'
                f"<td>{_e(_level_name(ladder, d.to_level))}</td><td>{who}</td>"
                f"<td>{_e(d.reason)}</td></tr>"
            )
        parts.append("</tbody></table>")
    else:
        parts.append('<p class="muted">No level changes.</p>')
    if not s.decisions_recorded and s.decisions:
        parts.append(
            '<p class="muted">No decisions were recorded live; these are recomputed from the events.</p>'
        )
    elif s.replay_agrees:
        parts.append(
            f'<p class="ok">✓ Replaying the {sum(1 for _ in events)} recorded events through the '
            f"exposure core reproduces these {len(s.decisions)} decisions exactly.</p>"
        )
    else:
        parts.append(
            f'<p class="warn">Replaying the recorded events gives {len(s.replayed)} decisions where '
            f"{len(s.decisions)} were recorded live: the record may be incomplete or was made by "
            "another version of vret.</p>"
        )

    # notes, scene events and system events
    parts.append("<h2>Notes and events</h2>")
    others = [m for m in s.marks if m.kind in ("note", "scene_event", "system")]
    if others:
        parts.append(
            "<table><thead><tr><th></th><th>Time</th><th>By</th><th>What</th></tr></thead><tbody>"
        )
        for m in others:
            parts.append(
                f'<tr><td><span class="tag {m.kind}">{_e(m.label)}</span></td>'
                f'<td class="t">{clock(m.t)}</td><td>{_e(m.who)}</td><td>{_e(m.text)}</td></tr>'
            )
        parts.append("</tbody></table>")
    else:
        parts.append('<p class="muted">No notes.</p>')

    if s.alerts:
        parts.append(
            "<h2>Alerts shown to the therapist</h2><table><thead><tr><th>Time</th>"
            "<th>Severity</th><th>Message</th></tr></thead><tbody>"
        )
        for a in s.alerts:
            parts.append(
                f'<tr><td class="t">{clock(a.t)}</td><td>{_e(a.severity)}</td><td>{_e(a.message)}</td></tr>'
            )
        parts.append("</tbody></table>")

    parts.append(
        "<h2>Protocol</h2><p>"
        f"Baseline {cfg.baseline_s:.0f} s · minimum dwell {cfg.min_dwell_s:.0f} s · "
        f"window {cfg.window_low:+.0%} to {cfg.window_high:+.0%} · ceiling {cfg.ceiling:+.0%} "
        f"held {cfg.ceiling_sustain_s:.0f} s · hard ceiling {cfg.hard_ceiling:+.0%} · "
        f"signal stale after {cfg.stale_after_s:.0f} s · "
        f"{s.bad_readings} readings without a usable heart rate.</p>"
    )
    stamp = f" on {generated_at.strftime('%Y-%m-%d %H:%M UTC')}" if generated_at else ""
    parts.append(
        f"<footer>vret {__version__} · report of recorded session #{row.id}{stamp}. "
        "Session times are minutes:seconds from the start of the session. The client is "
        "identified by a pseudonymous code only.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
