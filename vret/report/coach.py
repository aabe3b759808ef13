"""The session report's coach section: every line the coach said in the headset, when, and why.

Read from the session's `coach` events (the lines are recorded as they are spoken), so the
report shows exactly what the client heard, including the lines the therapist typed or
triggered and when the therapist muted or skipped the coach.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from exposure.models import CoachControl, CoachLine, Event
from vret.report.summary import clock

_CONTROLS = {
    "mute": "muted the coach",
    "unmute": "unmuted the coach",
    "skip": "skipped the coach's next line",
    "mode": "set the coach to {mode}",
}
"""What the report says of the therapist's controls that spoke no line themselves."""


def coach_section(events: Sequence[Event]) -> str:
    """The HTML section listing the coach's lines; empty when the session had no coach."""
    rows: list[str] = []
    for event in events:
        if isinstance(event, CoachLine):
            who = "therapist" if event.by == "clinician" else "coach"
            asked = f" · asks {event.ask.replace('_', ' ')}" if event.ask else ""
            rows.append(
                f'<tr><td class="t">{clock(event.t)}</td><td>{who}</td>'
                f'<td>“{_e(event.text)}”</td><td class="muted">{_e(event.why)}{_e(asked)}</td></tr>'
            )
        elif isinstance(event, CoachControl) and event.action in _CONTROLS:
            text = _CONTROLS[event.action].format(mode=event.mode or "")
            rows.append(
                f'<tr><td class="t">{clock(event.t)}</td><td>therapist</td>'
                f'<td class="muted">{_e(text.capitalize())}</td><td></td></tr>'
            )
    if not rows:
        return ""
    return "\n".join(
        [
            "<h2>The coach in the headset</h2>",
            '<table class="coach"><thead><tr><th>Time</th><th>By</th><th>What the client heard'
            "</th><th>Why</th></tr></thead><tbody>",
            *rows,
            "</tbody></table>",
        ]
    )


def _e(text: object) -> str:
    return html.escape(str(text))
