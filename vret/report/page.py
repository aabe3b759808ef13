"""The session report: one self-contained HTML page a therapist can print or attach to a file.

The figures come from `summary` (the record replayed through `exposure.core`), the chart from
`chart`. The page has no scripts and loads nothing: inline CSS and one inline SVG chart. It
prints on one or two A4 pages. Times of day are the station's local time with its zone; times in
the tables are minutes:seconds from the start of the session.

The therapist's summary is a box on the page that can be written in (`contenteditable`, no
script), then printed or saved with the browser; `build_report(summary=...)` fills it beforehand.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from exposure import __version__
from exposure.models import SAFE_LEVEL, Effect, Event, Ladder
from vret.records import Records, SessionRow
from vret.report.attention import attention_section
from vret.report.chart import COLORS, chart_svg
from vret.report.coach import coach_section
from vret.report.measures import measures_section
from vret.report.summary import WHO, clock, summarize


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


def _level_cell(ladder: Ladder, level: int) -> str:
    """A level for a table cell: its number and name; the name is left out in print, where the
    reason beside it names the level and a shorter row keeps the report on two pages."""
    if level == SAFE_LEVEL:
        return "safe scene"
    if 1 <= level <= ladder.top:
        return f'{level}<span class="lname"> · {_e(ladder.level_name(level))}</span>'
    return str(level)


def local_time(moment: datetime | str | None, tz: tzinfo | None = None, day: bool = True) -> str:
    """A moment as the station's local time with its zone ("2026-11-29 14:30 CET").

    `tz` is the zone to show (None: this computer's); a moment without a zone is taken as UTC,
    as the records store it.
    """
    if not moment:
        return "—"
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    else:
        parsed = moment
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    here = parsed.astimezone(tz)
    zone = here.tzname() or here.strftime("UTC%z")
    return here.strftime("%Y-%m-%d %H:%M" if day else "%H:%M") + f" {zone}"


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
td.num { white-space: nowrap; }
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
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
.muted { color: #5f5f5f; }  /* 6.4:1 on white: readable when printed grey */
footer { margin-top: 18px; padding-top: 6px; border-top: 1px solid #d6dbe3; font-size: 11px; color: #666; }
.summary-box { border: 1.5px solid #9aa5b5; border-radius: 6px; padding: 8px 10px; min-height: 64px;
               white-space: pre-wrap; break-inside: avoid; }
.summary-box:empty::before { content: "Click here to write your summary, then print or save the page."; color: #666; }
.summary-box:focus { outline: 3px solid #1d4f91; outline-offset: 2px; }
.hint, .explain { font-size: 11px; color: #555; margin: 2px 0 0; }
@media print {
  body { padding: 0; max-width: none; font-size: 10.5px; line-height: 1.3; }
  header { margin-bottom: 8px; padding-bottom: 4px; }
  h1 { font-size: 17px; }
  h2 { font-size: 12.5px; margin: 10px 0 3px; }
  .figures { gap: 5px; margin: 6px 0; }
  .figure { padding: 3px 8px; }
  .figure .v { font-size: 15px; }
  th, td { padding: 2px 6px; }
  .chart { border: none; max-height: 80mm; }
  .legend { font-size: 9.5px; }
  .summary-box { min-height: 22mm; }
  .summary-box:empty::before { content: ""; }
  .hint, .lname { display: none; }
  table { font-size: 9.5px; }
  .changes td:nth-child(3), .changes td:nth-child(4) { white-space: nowrap; }
  footer { margin-top: 8px; }
}
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
    tz: tzinfo | None = None,
    summary: str = "",
) -> str:
    """One self-contained HTML page: chart, figures, decisions with reasons, notes.

    Times of day are shown in `tz` (None: this computer's zone); `summary` is the therapist's
    own text for the summary box (it stays editable on the page).
    """
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
        f"Session #{row.id} · {_e(local_time(row.started, tz))}"
        f"{' to ' + _e(local_time(row.ended, tz, day=False)) if row.ended else ''}<br>"
        f"Status: {_e(row.status)}{' · station ' + _e(row.host) if row.host else ''}</div>",
        "</header>",
        "<main>",
    ]
    if row.status != "completed":
        parts.append(
            f'<p class="warn">This session did not end normally ({_e(row.status)}): '
            "the record stops at the last event written before it stopped.</p>"
        )

    # headline figures
    time_at = [lt for lt in s.level_times if lt.key not in ("baseline", "0") and lt.seconds > 0]
    highest = max((int(lt.key) for lt in time_at), default=None)
    by_whom = {
        who: sum(1 for b in s.breaks if b.who == who) for who in ("client", "clinician", "auto")
    }
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
            "Breaks",
            str(len(s.breaks)),
            f"to the safe scene: {by_whom['client']} client, {by_whom['clinician']} therapist, "
            f"{by_whom['auto']} automatic (the end not counted)",
        )
    )
    parts.append("</div>")

    # the therapist's own words, written on the page before printing
    parts.append('<h2 id="summary-title">Therapist\'s summary</h2>')
    parts.append(
        '<div class="summary-box" id="summary" contenteditable="true" role="textbox" '
        'aria-multiline="true" aria-labelledby="summary-title">'
        f"{_e(summary.strip())}</div>"
    )
    parts.append(
        '<p class="hint">Written here, it prints with the report; save the page (or print it to '
        "PDF) to keep it.</p>"
    )

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

    # time at each level, with SUDS before, at the peak and at the end of each level
    parts.append("<h2>Time and SUDS at each level</h2>")
    parts.append(
        '<table><thead><tr><th>Level</th><th>Situation</th><th class="num">Expected SUDS</th>'
        '<th class="num">Time</th><th class="num">Mean HR</th><th class="num">Peak HR</th>'
        '<th class="num">SUDS before</th><th class="num">SUDS peak</th>'
        '<th class="num">SUDS end</th></tr></thead><tbody>'
    )

    def num(value: object) -> str:
        return "" if value is None else str(value)

    for lt in s.level_times:
        if lt.seconds <= 0 and not lt.hr and not lt.suds and lt.key in ("baseline", "0"):
            continue
        label = "—" if lt.key == "baseline" else ("safe" if lt.key == "0" else lt.key)
        cls = "" if lt.seconds > 0 else ' class="muted"'
        reached = lt.seconds > 0
        parts.append(
            f"<tr{cls}><td>{label}</td><td>{_e(lt.name)}</td>"
            f'<td class="num">{num(lt.expected_suds)}</td>'
            f'<td class="num">{_duration(lt.seconds) if reached else "—"}</td>'
            f'<td class="num">{f"{statistics.fmean(lt.hr):.0f}" if lt.hr else ""}</td>'
            f'<td class="num">{f"{max(lt.hr):.0f}" if lt.hr else ""}</td>'
            f'<td class="num">{num(lt.suds_before) if reached and lt.key != "baseline" else ""}</td>'
            f'<td class="num">{num(lt.suds_peak)}</td><td class="num">{num(lt.suds_end)}</td></tr>'
        )
    parts.append("</tbody></table>")
    parts.append(
        '<p class="explain">SUDS before: the last rating given before the client first reached the '
        "level; peak and end: the highest and the last rating given at the level.</p>"
    )
    parts.append(attention_section(events, ladder))

    # decisions
    automatic = sum(1 for d in s.decisions if d.who == "auto")
    parts.append(
        f"<h2>Level changes and their reasons ({len(s.decisions)}, {automatic} automatic)</h2>"
    )
    if s.decisions:
        parts.append(
            '<table class="changes"><thead><tr><th><span class="sr">Mark</span></th><th>Time</th>'
            "<th>From</th><th>To</th><th>By</th>"
            "<th>Reason</th></tr></thead><tbody>"
        )
        for number, d in enumerate(s.decisions, start=1):
            kind = "safe" if d.to_level == SAFE_LEVEL else "decision"
            who = WHO.get(d.who, d.who)
            parts.append(
                f'<tr><td><span class="tag {kind}">D{number}</span></td>'
                f'<td class="t">{clock(d.t)}</td><td>{_level_cell(ladder, d.from_level)}</td>'
                f"<td>{_level_cell(ladder, d.to_level)}</td><td>{who}</td>"
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

    # notes, pauses, mode switches, scene events and system events, in time order
    parts.append("<h2>Notes, pauses, mode switches and events</h2>")
    others = [m for m in s.marks if m.kind in ("note", "scene_event", "system")]
    others = sorted([*others, *s.switches], key=lambda m: m.t)
    if others:
        parts.append(
            '<table><thead><tr><th><span class="sr">Mark</span></th><th>Time</th><th>By</th><th>What</th></tr></thead><tbody>'
        )
        for m in others:
            tag = f'<span class="tag {m.kind}">{_e(m.label)}</span>' if m.label else ""
            text = f"Scene event: {m.text}" if m.kind == "scene_event" else m.text
            parts.append(
                f'<tr><td>{tag}</td><td class="t">{clock(m.t)}</td>'
                f"<td>{_e(WHO.get(m.who, m.who))}</td><td>{_e(text)}</td></tr>"
            )
        parts.append("</tbody></table>")
    else:
        parts.append('<p class="muted">No notes, pauses, mode switches or events.</p>')

    if s.alerts:
        parts.append(
            "<h2>Alerts shown to the therapist</h2><table><thead><tr><th>From</th><th>To</th>"
            '<th class="num">For</th><th>Severity</th><th>Message</th></tr></thead><tbody>'
        )
        for a in s.alerts:
            end = clock(a.end) if a.end is not None else "the end"
            lasted = (a.end if a.end is not None else s.duration_s) - a.onset
            parts.append(
                f'<tr><td class="t">{clock(a.onset)}</td><td class="t">{end}</td>'
                f'<td class="num">{_duration(lasted)}</td><td>{_e(a.severity)}</td>'
                f"<td>{_e(a.message)}{' → ' + _e(a.cleared) if a.cleared else ''}</td></tr>"
            )
        parts.append("</tbody></table>")

    parts.append(measures_section(events))  # SSQ change, sickness, expectancy violations
    parts.append(coach_section(events))  # what the client heard from the coach
    parts.append(
        "<h2>Protocol</h2><p>"
        f"Baseline {cfg.baseline_s:.0f} s · minimum dwell {cfg.min_dwell_s:.0f} s · "
        f"window {cfg.window_low:+.0%} to {cfg.window_high:+.0%} · ceiling {cfg.ceiling:+.0%} "
        f"held {cfg.ceiling_sustain_s:.0f} s · hard ceiling {cfg.hard_ceiling:+.0%} · "
        f"signal stale after {cfg.stale_after_s:.0f} s · "
        f"{s.bad_readings} readings without a usable heart rate.</p>"
    )
    stamp = f" on {local_time(generated_at, tz)}" if generated_at else ""
    parts.append(
        f"</main><footer>vret {__version__} · report of recorded session #{row.id}{stamp}. "
        "Times in the tables are minutes:seconds from the start of the session "
        f"({_e(local_time(row.started, tz))}). The client is identified by a pseudonymous code "
        "only.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def report_of(records: Records, session_id: int, *, generated_at: datetime | None = None) -> str:
    """The report of session `session_id`, read from `records` (the station's end, the CLI)."""
    return build_report(
        records.get_session(session_id),
        records.events(session_id),
        records.effects(session_id),
        generated_at=generated_at,
    )
