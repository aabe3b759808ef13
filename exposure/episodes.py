"""Alert episodes: an alert from its raising to its clearing, named by `(kind, onset)`.

The core re-raises an active alert whenever its text changes (a ceiling warning's percentage
moves every second), each with the episode's `onset`. The console's log and the report show
one entry per episode, folded here; the records keep its onset and its end, not each update:
alerts are outputs, so replay regenerates every update from the events.
"""

from __future__ import annotations

from collections.abc import Iterable

from exposure.models import Alert, Effect

EpisodeKey = tuple[str, float]


def episode_key(alert: Alert) -> EpisodeKey:
    """The name of the episode an alert effect belongs to."""
    return (alert.kind, alert.onset)


def fold_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """One alert per episode, in the order the episodes began; each is its latest effect."""
    folded: dict[EpisodeKey, Alert] = {}
    for alert in alerts:
        folded[episode_key(alert)] = alert  # a dict keeps the first insertion's place
    return list(folded.values())


def worth_recording(effects: Iterable[Effect]) -> list[Effect]:
    """The effects a record keeps: all but alert updates, which the episode's end carries."""
    return [e for e in effects if not (isinstance(e, Alert) and e.is_update)]
