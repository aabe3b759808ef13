"""Attention in the session report: per level, the look-away episodes, lost tracking; in Chromium.

The session is folded through the core exactly as recorded: readings at rest (so only the dwell
and attention decide), and gaze summaries that look at the spider except for one stretch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from exposure.core import replay_steps
from exposure.models import (
    ControlSettings,
    Decision,
    Event,
    Gaze,
    Ladder,
    Level,
    Reading,
    SessionStart,
)
from vret.records import SessionRow
from vret.report import build_report
from vret.report.attention import summarize_attention

SETTINGS = ControlSettings(
    baseline_s=10, min_baseline_readings=3, min_dwell_s=15, suds_before_step_up=False
)
LADDER = Ladder(scene="spiders", levels=[Level(name=f"spider {i}") for i in range(1, 9)])
START = SessionStart(client="C-0042", ladder=LADDER, settings=SETTINGS)


def session(track: bool = True) -> list[Event]:
    """70 s: looking throughout, but away 18-34 s, and tracking lost 50-52 s."""
    events: list[Event] = [START]
    for tenth in range(700):
        t = tenth / 10
        if tenth % 10 == 0:
            events.append(Reading(t=t, hr=70.0))
        if not track:
            continue
        if 50 <= t < 52:
            events.append(Gaze(t=t, on_stimulus=0.0, valid=False))
        else:
            on = 0.0 if 18 <= t < 34 else 1.0
            events.append(Gaze(t=t, on_stimulus=on, distance_m=1.9, head_speed_dps=8.0))
    return events


def row() -> SessionRow:
    return SessionRow(
        id=7,
        client="C-0042",
        scene="spiders",
        started="2026-11-29T10:00:00+00:00",
        ended="2026-11-29T10:01:10+00:00",
        status="completed",
        recorded_status="completed",
        pid=None,
        host=None,
        start=START,
    )


def report(events: list[Event]) -> str:
    effects = [e for _, _, fx in replay_steps(events) for e in fx if e.type != "scene_target"]
    return build_report(row(), events, effects)


def step_up_to_2() -> float:
    decisions = [e for _, _, fx in replay_steps(session()) for e in fx if isinstance(e, Decision)]
    return next(d.t for d in decisions if d.to_level == 2)


def test_attention_per_level_and_the_look_away_episode():
    a = summarize_attention(session())
    assert a.tracked
    by_level = {lv.level: lv for lv in a.levels}
    at_1 = step_up_to_2() - 10.0  # level 1 from the end of the baseline to the step up
    assert by_level[1].tracked_s == pytest.approx(at_1, abs=0.3)
    assert by_level[1].share == pytest.approx((at_1 - 16.0) / at_1, abs=0.02)  # 16 s away
    [episode] = a.look_away
    assert episode.level == 1 and episode.held
    assert 22 <= episode.start <= 24  # attention fell under half five seconds into it
    assert 38 <= episode.end <= 41  # and came back over half after they looked again
    assert episode.lowest == pytest.approx(0.0, abs=0.05)
    [lost] = a.lost
    assert 50.4 <= lost.start <= 50.7 and 51.9 <= lost.end <= 52.1


def test_a_held_step_up_is_the_reason_the_level_stayed():
    assert step_up_to_2() > 38  # due at 25 s; held until attention was back over half


def test_the_report_shows_attention_in_a_browser(browser: Any, tmp_path: Path):
    html = report(session())
    assert '<h2 id="attention">Attention (head tracking)</h2>' in html
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto(page_file.as_uri())
    section = page.locator("#attention")
    expect(section).to_be_visible()
    levels = page.locator("table.attention-levels tbody tr")
    expect(levels.first).to_contain_text("spider 1")
    at_1 = step_up_to_2() - 10.0
    expect(levels.first.locator("td").nth(3)).to_have_text(f"{(at_1 - 16) / at_1:.0%}")
    away = page.locator("table.look-away tbody tr")
    expect(away).to_have_count(1)
    expect(away.first.locator("td").nth(4)).to_have_text("yes")
    expect(page.locator("body")).to_contain_text("1 look-away episode, ")
    expect(page.locator("body")).to_contain_text("Head tracking was lost at 0:50")
    page.close()


def test_a_session_without_head_tracking_says_so():
    html = report(session(track=False))
    assert "No head tracking in this session" in html
    assert summarize_attention(session(track=False)).levels == []
