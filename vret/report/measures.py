"""The session report's measures: the SSQ's change over the session, the sickness ratings, and
the expectancy violation of each step, read from the session's `measure` and `expectancy` events.

`session_measures` is pure (events in, figures out) so the progress report across sessions can
use the same figures; `measures_section` renders them as the report page's HTML section.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from exposure.models import (
    SAFE_LEVEL,
    SICKNESS_INSTRUMENT,
    ControlSettings,
    Event,
    Expectancy,
    Ladder,
    Measure,
    SessionStart,
)
from vret.report.summary import clock

SSQ_SCORES = ("nausea", "oculomotor", "disorientation", "total")


@dataclass(frozen=True)
class ExpectancyStep:
    """One step's expectancy: before it (expectation, likelihood), after it (happened, surprise).

    `violation` = likelihood - 100 x happened (the `expectancy` instrument's definition):
    above 0 the feared outcome was expected more than it happened (disconfirmed), below 0 it
    happened although it was thought unlikely. None until both ratings are in.
    """

    level: int
    t: float
    expectation: str | None = None
    likelihood: int | None = None
    happened: bool | None = None
    surprise: int | None = None

    @property
    def violation(self) -> int | None:
        if self.likelihood is None or self.happened is None:
            return None
        return self.likelihood - (100 if self.happened else 0)


@dataclass
class SessionMeasures:
    """What a session recorded besides heart rate and SUDS."""

    ssq_pre: Measure | None = None
    ssq_post: Measure | None = None
    ssq_mid: list[Measure] = field(default_factory=list)
    sickness: list[Measure] = field(default_factory=list)
    steps: list[ExpectancyStep] = field(default_factory=list)
    others: list[Measure] = field(default_factory=list)

    @property
    def ssq_change(self) -> dict[str, float] | None:
        """Post minus pre, per SSQ score; None unless both were taken."""
        if self.ssq_pre is None or self.ssq_post is None:
            return None
        pre, post = self.ssq_pre.scores, self.ssq_post.scores
        return {k: round(post[k] - pre[k], 2) for k in SSQ_SCORES if k in pre and k in post}

    @property
    def empty(self) -> bool:
        return (
            not (self.ssq_pre or self.ssq_post or self.ssq_mid or self.sickness or self.steps)
            and not self.others
        )


def session_measures(events: Sequence[Event]) -> SessionMeasures:
    """The session's measures: the first SSQ before and the last after, every rating in order,
    and each `after` expectancy paired with the latest unpaired `before` of the same level."""
    out = SessionMeasures()
    open_steps: dict[int, int] = {}  # level -> index in out.steps of its unpaired "before"
    for event in events:
        if isinstance(event, Measure):
            if event.instrument == "ssq":
                if event.phase == "pre":
                    out.ssq_pre = out.ssq_pre or event
                elif event.phase == "post":
                    out.ssq_post = event
                else:
                    out.ssq_mid.append(event)
            elif event.instrument == SICKNESS_INSTRUMENT:
                out.sickness.append(event)
            else:
                out.others.append(event)
        elif isinstance(event, Expectancy):
            if event.stage == "before":
                open_steps[event.level] = len(out.steps)
                out.steps.append(
                    ExpectancyStep(
                        level=event.level,
                        t=event.t,
                        expectation=event.expectation,
                        likelihood=event.likelihood,
                    )
                )
            else:
                index = open_steps.pop(event.level, None)
                if index is None:
                    out.steps.append(
                        ExpectancyStep(
                            level=event.level,
                            t=event.t,
                            happened=event.happened,
                            surprise=event.surprise,
                        )
                    )
                else:
                    before = out.steps[index]
                    out.steps[index] = ExpectancyStep(
                        level=before.level,
                        t=before.t,
                        expectation=before.expectation,
                        likelihood=before.likelihood,
                        happened=event.happened,
                        surprise=event.surprise,
                    )
    return out


# --------------------------------------------------------------------------- HTML


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def _step_name(ladder: Ladder, level: int) -> str:
    if level == SAFE_LEVEL:
        return "safe scene"
    if 1 <= level <= ladder.top:
        return f"{level} · {ladder.level_name(level)}"
    return str(level)


def measures_section(events: Sequence[Event]) -> str:
    """The report's HTML for the session's measures; "" when it recorded none."""
    m = session_measures(events)
    if m.empty:
        return ""
    start = next((e for e in events if isinstance(e, SessionStart)), None)
    ladder = start.ladder if start else None
    threshold = (start.settings if start else ControlSettings()).sickness_threshold
    parts = ["<h2>Simulator sickness (SSQ)</h2>"]
    rows: list[tuple[str, dict[str, float] | None, str]] = [
        (
            "Before",
            m.ssq_pre.scores if m.ssq_pre else None,
            clock(m.ssq_pre.t) if m.ssq_pre else "",
        ),
        *[("During", s.scores, clock(s.t)) for s in m.ssq_mid],
        (
            "After",
            m.ssq_post.scores if m.ssq_post else None,
            clock(m.ssq_post.t) if m.ssq_post else "",
        ),
    ]
    parts.append(
        '<table class="ssq"><thead><tr><th></th><th>Time</th><th class="num">Nausea</th>'
        '<th class="num">Oculomotor</th><th class="num">Disorientation</th>'
        '<th class="num">Total</th></tr></thead><tbody>'
    )
    for label, scores, when in rows:
        cells = "".join(
            f'<td class="num">{_num(scores.get(k) if scores else None)}</td>' for k in SSQ_SCORES
        )
        parts.append(f'<tr><td>{label}</td><td class="t">{when}</td>{cells}</tr>')
    change = m.ssq_change
    cells = "".join(
        f'<td class="num"><b>{_signed(change.get(k) if change else None)}</b></td>'
        for k in SSQ_SCORES
    )
    parts.append(f'<tr class="change"><td><b>Change</b></td><td></td>{cells}</tr>')
    parts.append("</tbody></table>")
    if change is None:
        missing = "before" if m.ssq_pre is None else "after"
        parts.append(
            f'<p class="muted">No SSQ was taken {missing} the session: no change to show.</p>'
        )
    elif change.get("total", 0) >= 20:
        parts.append(
            f'<p class="warn">The SSQ total rose by {change["total"]:.1f} over the session: '
            "check how the client feels before they leave, and consider shorter exposures.</p>"
        )

    if m.sickness:
        parts.append("<h2>Sickness during the session</h2><p>")
        marks = []
        for s in m.sickness:
            rating = s.scores.get(SICKNESS_INSTRUMENT, 0.0)
            over = rating > threshold
            text = f"{clock(s.t)} {rating:g}/10" + (" · sick, not scared" if over else "")
            marks.append(f'<span class="{"warn" if over else ""}">{_e(text)}</span>')
        parts.append(" · ".join(marks))
        parts.append(
            f'</p><p class="muted">A rating above {threshold:g} raised "sick, not scared": '
            "the level did not step down for the raised heart rate.</p>"
        )

    if m.steps:
        parts.append("<h2>Expectancy, step by step</h2>")
        parts.append(
            '<table class="expectancy"><thead><tr><th>Time</th><th>Step</th><th>Expected</th>'
            '<th class="num">Likelihood</th><th>Happened?</th><th class="num">Surprise</th>'
            '<th class="num">Violation</th></tr></thead><tbody>'
        )
        for step in m.steps:
            name = _step_name(ladder, step.level) if ladder else str(step.level)
            happened = "—" if step.happened is None else ("yes" if step.happened else "no")
            violation = step.violation
            parts.append(
                f'<tr><td class="t">{clock(step.t)}</td><td>{_e(name)}</td>'
                f"<td>{_e(step.expectation or '—')}</td>"
                f'<td class="num">{"—" if step.likelihood is None else f"{step.likelihood} %"}</td>'
                f"<td>{happened}</td>"
                f'<td class="num">{"—" if step.surprise is None else step.surprise}</td>'
                f'<td class="num">{"—" if violation is None else f"{violation:+d}"}</td></tr>'
            )
        parts.append("</tbody></table>")
        parts.append(
            '<p class="muted">Violation = likelihood − 100 × happened: above 0 the feared outcome '
            "was expected more than it happened (the expectation was disconfirmed); below 0 it "
            "happened although it seemed unlikely.</p>"
        )

    if m.others:
        parts.append("<h2>Other measures</h2><ul>")
        for o in m.others:
            listed = ", ".join(f"{k} {v:g}" for k, v in o.scores.items())
            parts.append(f"<li>{clock(o.t)} {_e(o.instrument)} ({_e(o.phase)}): {_e(listed)}</li>")
        parts.append("</ul>")
    return "\n".join(parts)
