"""A client's progress across a course of sessions: figures per session, small charts, one page.

Per session, from its record (replayed through `exposure.core`, as the session report is): the
highest step reached during exposure, the time the client spent inside the therapeutic window
(arousal between `window_low` and `window_high` while exposed), SUDS peak and last rating,
expectancy violations (steps after which the client said the feared outcome did not happen,
with how surprised they were) and the change of the Simulator Sickness Questionnaire total
from before to after. Beside them, the measures taken outside sessions (Behavioural Approach
Test, questionnaires) by date.

The page is self-contained (inline CSS and SVG, no script) and opens with four small charts,
each titled with its first and latest value, so a therapist sees the course in ten seconds.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from exposure import __version__
from exposure.core import replay_steps
from exposure.models import Event
from vret.clients import Client, ClientMeasure, get, measures
from vret.records import Records, SessionRow
from vret.report.measures import ExpectancyStep, session_measures
from vret.report.page import CSS as SESSION_CSS

SSQ = "ssq"
"""The instrument whose before/after change each session shows (score `total`)."""


@dataclass
class SessionProgress:
    """The figures of one session in a course."""

    id: int
    started: str
    scene: str
    status: str
    hierarchy_version: int | None
    steps: int
    start_step: int
    highest_step: int
    highest_name: str
    exposure_s: float
    window_s: float
    suds_peak: int | None
    suds_end: int | None
    expectancies: list[ExpectancyStep] = field(default_factory=list)
    ssq_pre: float | None = None
    ssq_post: float | None = None

    @property
    def violations(self) -> int:
        """Steps after which the client said the feared outcome did not happen."""
        return sum(1 for e in self.expectancies if e.happened is False)

    @property
    def ssq_change(self) -> float | None:
        if self.ssq_pre is None or self.ssq_post is None:
            return None
        return self.ssq_post - self.ssq_pre


@dataclass
class Progress:
    """A client's course: the client, each session's figures, and the measures between them."""

    client: Client
    sessions: list[SessionProgress]
    measures: list[ClientMeasure]


def session_progress(row: SessionRow, events: Sequence[Event]) -> SessionProgress:
    """The figures of one recorded session (see the module docstring)."""
    start = row.start
    ladder, cfg = start.ladder, start.settings
    highest = 0
    exposure_s = window_s = 0.0
    suds: list[int] = []
    prev = None
    for event, state, _effects in replay_steps(events):
        if prev is not None and prev.phase == "exposure":
            dt = max(0.0, state.t - prev.t)
            exposure_s += dt
            if prev.arousal is not None and cfg.window_low <= prev.arousal <= cfg.window_high:
                window_s += dt
        if state.phase == "exposure":
            highest = max(highest, state.level)
        prev = state
        kind = event.type
        if kind == "suds":
            suds.append(int(event.model_dump()["value"]))
    measured = session_measures(events)  # SSQ and expectancy, paired as the session report does
    ssq_pre, ssq_post = (
        None if m is None else m.scores.get("total") for m in (measured.ssq_pre, measured.ssq_post)
    )
    return SessionProgress(
        id=row.id,
        started=row.started,
        scene=row.scene,
        status=row.status,
        hierarchy_version=row.hierarchy_version,
        steps=ladder.top,
        start_step=ladder.start_level,
        highest_step=highest,
        highest_name=ladder.level_name(highest) if highest else "—",
        exposure_s=exposure_s,
        window_s=window_s,
        suds_peak=max(suds) if suds else None,
        suds_end=suds[-1] if suds else None,
        expectancies=measured.steps,
        ssq_pre=ssq_pre,
        ssq_post=ssq_post,
    )


ProgressCache = dict[tuple[int, int], SessionProgress]
"""Figures of completed sessions by (session id, event count): a completed record never changes."""


def client_progress(records: Records, code: str, cache: ProgressCache | None = None) -> Progress:
    """The client's course as recorded: every session of theirs, oldest first, and measures.

    Replaying a record costs about 56 µs an event (measured on the 2-core development
    machine), about a second per hour of session; `cache` keeps the figures of completed
    sessions, so a console that shows the page again replays only what is new.
    """
    client = get(records, code)
    sessions = []
    for row in records.list_sessions():
        if row.client != code:
            continue
        key = (row.id, row.event_count)
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = session_progress(row, records.events(row.id))
            if cache is not None and row.status == "completed":
                cache[key] = found
        sessions.append(found)
    return Progress(client=client, sessions=sessions, measures=measures(records, code))


# --------------------------------------------------------------------------- the page

CHART_W, CHART_H = 320, 150
PAD_L, PAD_R, PAD_T, PAD_B = 34, 10, 12, 26

CSS = (
    SESSION_CSS
    + """
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 10px; }
.card { border: 1px solid #d6dbe3; border-radius: 6px; padding: 6px 8px; break-inside: avoid; }
.card h3 { font-size: 13px; margin: 0 0 2px; color: #1b1b1b; }
.card .trend { font-size: 12px; color: #555; margin-bottom: 2px; }
.mini { width: 100%; height: auto; }
"""
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}"


def _date(moment: str) -> str:
    try:
        return datetime.fromisoformat(moment).strftime("%Y-%m-%d")
    except ValueError:
        return moment[:10]


def mini_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    *,
    top: float,
    bars: bool = False,
) -> str:
    """A small inline SVG: one bar or line series per (name, colour, values), x = `labels`."""
    n = max(1, len(labels))
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    top = top if top > 0 else 1.0
    slot = plot_w / n

    def x(i: int) -> float:
        return PAD_L + slot * (i + 0.5)

    def y(v: float) -> float:
        return PAD_T + plot_h - min(max(v, 0.0), top) / top * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
        f'class="mini"><title>{_e(title)}</title>',
        "<style>text{font:10px system-ui,sans-serif;fill:#444}</style>",
        f'<line x1="{PAD_L}" y1="{y(0):.1f}" x2="{CHART_W - PAD_R}" y2="{y(0):.1f}" stroke="#999"/>',
        f'<text x="{PAD_L - 4}" y="{y(top) + 4:.1f}" text-anchor="end">{top:g}</text>',
        f'<text x="{PAD_L - 4}" y="{y(0) + 3:.1f}" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(labels):
        out.append(
            f'<text x="{x(i):.1f}" y="{CHART_H - 8}" text-anchor="middle">{_e(label)}</text>'
        )
    width = slot * 0.7 / max(1, len(series))
    for k, (name, colour, values) in enumerate(series):
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        if bars:
            for i, v in points:
                left = x(i) - slot * 0.35 + k * width
                out.append(
                    f'<rect x="{left:.1f}" y="{y(v):.1f}" width="{width:.1f}" '
                    f'height="{y(0) - y(v):.1f}" fill="{colour}"><title>{_e(name)}: {v:g}</title></rect>'
                    f'<text x="{left + width / 2:.1f}" y="{y(v) - 3:.1f}" text-anchor="middle">'
                    f"{round(v, 1):g}</text>"
                )
        else:
            if len(points) > 1:
                path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in points)
                out.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
            for i, v in points:
                out.append(
                    f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                    f"<title>{_e(name)}: {v:g}</title></circle>"
                    f'<text x="{x(i) + 6:.1f}" y="{y(v) - 5:.1f}">{round(v, 1):g}</text>'
                )
    out.append("</svg>")
    return "".join(out)


def _trend(values: Sequence[float | None], unit: str = "", digits: int = 0) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "not recorded yet"
    if len(known) == 1:
        return f"{known[0]:.{digits}f}{unit}"
    return f"{known[0]:.{digits}f}{unit} → {known[-1]:.{digits}f}{unit} (first → latest)"


def _change_trend(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "not recorded yet"
    if len(known) == 1:
        return f"{known[0]:+.1f}"
    return f"{known[0]:+.1f} → {known[-1]:+.1f} (first → latest)"


def _card(title: str, trend: str, svg: str, legend: str = "") -> str:
    return (
        f'<div class="card"><h3>{_e(title)}</h3><div class="trend">{_e(trend)}</div>{svg}'
        f"{'<div class=legend>' + legend + '</div>' if legend else ''}</div>"
    )


def _swatch(colour: str, name: str) -> str:
    return f'<span><i class="sw" style="background:{colour}"></i>{_e(name)}</span>'


def progress_page(progress: Progress, *, generated_at: datetime | None = None) -> str:
    """The progress report: charts across sessions, a table per session, the measures."""
    c = progress.client
    sessions = progress.sessions
    labels = [f"#{i}" for i in range(1, len(sessions) + 1)]
    top_steps = max((s.steps for s in sessions), default=1)
    highest = [float(s.highest_step) for s in sessions]
    window = [s.window_s / 60 for s in sessions]
    peak = [None if s.suds_peak is None else float(s.suds_peak) for s in sessions]
    end = [None if s.suds_end is None else float(s.suds_end) for s in sessions]
    ssq_pre = [s.ssq_pre for s in sessions]
    ssq_post = [s.ssq_post for s in sessions]
    ssq_top = max([v for v in ssq_pre + ssq_post if v is not None] + [10.0])
    cards = [
        _card(
            "Highest step reached",
            _trend(highest),
            mini_chart(
                "Highest step", labels, [("step", "#1d4f91", highest)], top=top_steps, bars=True
            ),
        ),
        _card(
            "SUDS peak and last rating",
            "peak " + _trend(peak) + "; last " + _trend(end),
            mini_chart(
                "SUDS", labels, [("peak", "#b3261e", peak), ("last", "#d9730d", end)], top=100
            ),
            _swatch("#b3261e", "peak") + _swatch("#d9730d", "last"),
        ),
        _card(
            "Minutes in the therapeutic window",
            _trend(window, " min", 1),
            mini_chart(
                "Minutes in the window",
                labels,
                [("minutes", "#2e7d32", window)],
                top=max(window + [1.0]),
                bars=True,
            ),
        ),
        _card(
            "Simulator sickness (SSQ total) before and after",
            "after − before: " + _change_trend([s.ssq_change for s in sessions]),
            mini_chart(
                "SSQ",
                labels,
                [("before", "#8a6d00", ssq_pre), ("after", "#6a3d9a", ssq_post)],
                top=ssq_top,
                bars=True,
            ),
            _swatch("#8a6d00", "before") + _swatch("#6a3d9a", "after"),
        ),
    ]
    by_instrument: dict[str, list[ClientMeasure]] = {}
    for m in progress.measures:
        by_instrument.setdefault(m.instrument, []).append(m)
    for name, taken in by_instrument.items():
        key = next(iter(taken[0].scores), None)
        if key is None:
            continue
        values = [m.scores.get(key) for m in taken]
        cards.append(
            _card(
                f"{name.upper()}: {key.replace('_', ' ')}",
                _trend(values, "", 1),
                mini_chart(
                    name,
                    [m.taken[5:] for m in taken],
                    [(key, "#555555", values)],
                    top=max([v for v in values if v is not None] + [1.0]),
                ),
            )
        )

    rows = []
    for number, s in enumerate(sessions, start=1):
        rated = len(s.expectancies)
        viol = f"{s.violations} of {rated}" if rated else "—"
        rows.append(
            "<tr>"
            f'<td class="num">{number}</td><td class="t">{_e(_date(s.started))}</td>'
            f"<td>#{s.id} {_e(s.scene)}{' · v' + str(s.hierarchy_version) if s.hierarchy_version else ''}"
            f"{'' if s.status == 'completed' else ' <span class=warn>' + _e(s.status) + '</span>'}</td>"
            f'<td class="num">{s.start_step}</td>'
            f'<td class="num">{s.highest_step} / {s.steps}</td><td>{_e(s.highest_name)}</td>'
            f'<td class="num">{s.window_s / 60:.1f} of {s.exposure_s / 60:.1f}</td>'
            f'<td class="num">{_num(s.suds_peak)}</td><td class="num">{_num(s.suds_end)}</td>'
            f'<td class="num">{viol}</td>'
            f'<td class="num">{_num(s.ssq_pre, 1)} → {_num(s.ssq_post, 1)}</td>'
            "</tr>"
        )
    expectancy_rows = [
        "<tr>"
        f'<td class="num">{number}</td><td class="num">{r.level}</td><td>{_e(r.expectation or "—")}</td>'
        f'<td class="num">{_num(r.likelihood)}</td>'
        f"<td>{'—' if r.happened is None else ('yes' if r.happened else 'no: violated')}</td>"
        f'<td class="num">{_num(r.surprise)}</td></tr>'
        for number, s in enumerate(sessions, start=1)
        for r in s.expectancies
    ]
    measure_rows = [
        f'<tr><td class="t">{_e(m.taken)}</td><td>{_e(m.instrument)}</td>'
        f"<td>{_e(', '.join(f'{k.replace(chr(95), chr(32))} {v:g}' for k, v in m.scores.items()))}</td>"
        f"<td>{_e(m.note)}</td></tr>"
        for m in progress.measures
    ]
    when = generated_at.strftime("%Y-%m-%d %H:%M UTC") if generated_at else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Progress · client {_e(c.code)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><div><h1>Treatment progress</h1>",
        f'<div class="sub">{_e(c.phobia)} · {len(sessions)} session'
        f"{'' if len(sessions) == 1 else 's'} since {_e(c.start_date)}</div></div>",
        f'<div class="ident">Client <b id="client-code">{_e(c.code)}</b><br>'
        f"Therapist {_e(c.therapist or '—')}{' · archived' if c.archived else ''}</div></header>",
    ]
    if not sessions:
        parts.append('<p class="muted">No sessions recorded for this client yet.</p>')
    parts += [
        '<section class="charts">',
        *cards,
        "</section>",
        "<h2>Sessions</h2>",
        '<table id="sessions"><thead><tr><th class="num">#</th><th>Date</th><th>Session</th>'
        '<th class="num">Started at</th><th class="num">Highest step</th><th>Situation</th>'
        '<th class="num">Window min</th><th class="num">SUDS peak</th><th class="num">SUDS last</th>'
        '<th class="num">Violations</th><th class="num">SSQ before → after</th></tr></thead>',
        f"<tbody>{''.join(rows)}</tbody></table>",
    ]
    if expectancy_rows:
        parts += [
            "<h2>Expectancies</h2>",
            '<table id="expectancies"><thead><tr><th class="num">Session</th><th class="num">Step</th>'
            '<th>Expected</th><th class="num">Likelihood %</th><th>Happened?</th>'
            '<th class="num">Surprise</th></tr></thead>',
            f"<tbody>{''.join(expectancy_rows)}</tbody></table>",
        ]
    parts += [
        "<h2>Measures between sessions</h2>",
        '<table id="measures"><thead><tr><th>Date</th><th>Instrument</th><th>Scores</th>'
        "<th>Note</th></tr></thead>"
        f"<tbody>{''.join(measure_rows) or '<tr><td colspan=4 class=muted>None recorded.</td></tr>'}"
        "</tbody></table>",
        f"<footer>vret {_e(__version__)} · window: arousal between the session's window_low and "
        f"window_high while exposed · violation: the client said the expected outcome did not "
        f"happen{' · generated ' + _e(when) if when else ''}</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)
