"""Attention in the session report: how much of each level the client looked at the stimulus,
and the stretches they looked away (the core held automatic step ups then).

Read through `exposure.core.replay_steps`, like the rest of the report, so the attention and
the tracking status are the ones the core had at each moment. Sessions without head tracking
get one line saying so.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from exposure.core import replay_steps
from exposure.models import SAFE_LEVEL, Event, Gaze, Ladder, SessionStart
from vret.report.summary import clock

MIN_EPISODE_S = 2.0
"""Look-aways shorter than this are glances, not episodes: the report leaves them out."""


@dataclass
class LevelAttention:
    """Gaze at one level: seconds tracked and the share of them on the stimulus."""

    level: int
    tracked_s: float = 0.0
    on_s: float = 0.0

    @property
    def share(self) -> float | None:
        return self.on_s / self.tracked_s if self.tracked_s > 0 else None


@dataclass
class Episode:
    """A stretch of exposure with attention under the threshold (or tracking lost)."""

    start: float
    end: float
    level: int
    lowest: float | None
    """The lowest attention in it; None for lost tracking."""
    held: bool = False
    """True when the attention rule held an automatic step up in it."""

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class AttentionSummary:
    tracked: bool
    """Any head tracking in the session at all."""
    attention_min: float
    window_s: float
    levels: list[LevelAttention] = field(default_factory=list)
    look_away: list[Episode] = field(default_factory=list)
    lost: list[Episode] = field(default_factory=list)
    fast_head: list[float] = field(default_factory=list)
    """When sustained fast head motion was flagged."""


def summarize_attention(events: Sequence[Event]) -> AttentionSummary:
    """Attention per level and the look-away episodes of one recorded session."""
    start = events[0]
    assert isinstance(start, SessionStart)
    cfg = start.settings
    out = AttentionSummary(
        tracked=False, attention_min=cfg.attention_min, window_s=cfg.attention_window_s
    )
    per_level: dict[int, LevelAttention] = {}
    open_away: Episode | None = None
    open_lost: Episode | None = None
    for event, state, effects in replay_steps(events):
        t = state.t
        if isinstance(event, Gaze):
            out.tracked = True
            if event.valid and event.distance_m is not None and state.phase == "exposure":
                lv = per_level.setdefault(state.level, LevelAttention(state.level))
                lv.tracked_s += 0.1  # each summary covers a tenth of a second
                lv.on_s += 0.1 * event.on_stimulus
        exposure = state.phase == "exposure"
        low = (
            exposure
            and state.tracking == "ok"
            and state.attention is not None
            and cfg.attention_min > 0
            and state.attention < cfg.attention_min
        )
        if low and open_away is None:
            open_away = Episode(t, t, state.level, state.attention)
        elif open_away is not None and (not low or state.level != open_away.level):
            _close(out.look_away, open_away, t, MIN_EPISODE_S)
            open_away = Episode(t, t, state.level, state.attention) if low else None
        if open_away is not None:
            open_away.end = t
            if state.attention is not None and (
                open_away.lowest is None or state.attention < open_away.lowest
            ):
                open_away.lowest = state.attention
            if state.auto and "client looked away" in state.next_step:
                open_away.held = True
        lost = exposure and state.tracking == "lost"
        if lost and open_lost is None:
            open_lost = Episode(t, t, state.level, None, held=state.auto)
        elif not lost and open_lost is not None:
            _close(out.lost, open_lost, t)
            open_lost = None
        if open_lost is not None:
            open_lost.end = t
        for e in effects:
            if e.type == "alert" and e.kind == "fast_head_motion" and e.active:
                out.fast_head.append(e.t)
    if open_away is not None:
        _close(out.look_away, open_away, open_away.end, MIN_EPISODE_S)
    if open_lost is not None:
        _close(out.lost, open_lost, open_lost.end)
    out.levels = [per_level[k] for k in sorted(per_level) if k != SAFE_LEVEL]
    return out


def _close(episodes: list[Episode], episode: Episode, end: float, min_s: float = 0.0) -> None:
    episode.end = max(episode.end, end)
    if episode.seconds >= min_s:
        episodes.append(episode)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def attention_section(events: Sequence[Event], ladder: Ladder) -> str:
    """The report's "Attention (head tracking)" section, as HTML."""
    a = summarize_attention(events)
    parts = ['<h2 id="attention">Attention (head tracking)</h2>']
    if not a.tracked:
        parts.append(
            '<p class="muted">No head tracking in this session: attention was not measured and '
            "the attention rule was off.</p>"
        )
        return "\n".join(parts)
    parts.append(
        f"<p>Attention is the share of the last {a.window_s:.0f} s the client looked at the "
        f"stimulus (within 30° of their gaze). Under {a.attention_min:.0%} the system held "
        "automatic step ups: looking away is a safety behaviour that blunts exposure.</p>"
    )
    if a.levels:
        parts.append(
            '<table class="attention-levels"><thead><tr><th>Level</th><th>Situation</th>'
            '<th class="num">Tracked</th><th class="num">Looking at the stimulus</th>'
            "</tr></thead><tbody>"
        )
        for lv in a.levels:
            share = lv.share
            name = ladder.level_name(lv.level) if 1 <= lv.level <= ladder.top else ""
            low = " warn" if share is not None and share < a.attention_min else ""
            parts.append(
                f"<tr><td>{lv.level}</td><td>{_e(name)}</td>"
                f'<td class="num">{lv.tracked_s:.0f} s</td>'
                f'<td class="num{low}">{"" if share is None else f"{share:.0%}"}</td></tr>'
            )
        parts.append("</tbody></table>")
    if a.look_away:
        parts.append(
            '<table class="look-away"><thead><tr><th>From</th><th>To</th><th>Level</th>'
            '<th class="num">Lowest attention</th><th>Step up held</th></tr></thead><tbody>'
        )
        for ep in a.look_away:
            parts.append(
                f'<tr><td class="t">{clock(ep.start)}</td><td class="t">{clock(ep.end)}</td>'
                f"<td>{ep.level}</td>"
                f'<td class="num">{"" if ep.lowest is None else f"{ep.lowest:.0%}"}</td>'
                f"<td>{'yes' if ep.held else 'no'}</td></tr>"
            )
        parts.append("</tbody></table>")
        total = sum(ep.seconds for ep in a.look_away)
        parts.append(
            f"<p>{len(a.look_away)} look-away episode{'s' if len(a.look_away) != 1 else ''}, "
            f"{total:.0f} s in all.</p>"
        )
    else:
        parts.append("<p>No look-away episodes: attention stayed above the threshold.</p>")
    if a.lost:
        spans = ", ".join(f"{clock(ep.start)}–{clock(ep.end)}" for ep in a.lost)
        parts.append(f"<p>Head tracking was lost at {spans} (the client saw a steady horizon).</p>")
    if a.fast_head:
        times = ", ".join(clock(t) for t in a.fast_head)
        parts.append(f"<p>Fast head movement (possible discomfort) was flagged at {times}.</p>")
    return "\n".join(parts)
