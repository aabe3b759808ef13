"""The report a clinical note needs (issue 16): alert episodes, pauses and mode switches, SUDS per
level, local time, scene-event names, breaks without the end, one word for the therapist, the
therapist's summary, and one or two printed A4 pages."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe

from exposure.core import step
from exposure.episodes import worth_recording
from exposure.models import (
    Alert,
    AutoOff,
    AutoOn,
    Effect,
    End,
    Event,
    Pause,
    Reading,
    Resume,
    SceneEvent,
    SessionStart,
    SessionState,
    SetLevel,
    Suds,
)
from tests.clinician_console.conftest import browser, chromium_path  # noqa: F401  (fixtures)
from vret.records import Records, SessionRow
from vret.report import build_report, clock, summarize

from .conftest import START, record_session
from .test_report import _text


def run_core(events: Sequence[Event]) -> tuple[list[Event], list[Effect]]:
    """Step events through the core as the runtime does; every effect it gave, in order."""
    state: SessionState | None = None
    effects: list[Effect] = []
    for event in events:
        state, out = step(state, event)
        effects.extend(out)
    return list(events), effects


def row_for(events: Sequence[Event], started: str = "2026-01-15T13:30:00.000+00:00") -> SessionRow:
    start = events[0]
    assert isinstance(start, SessionStart)
    return SessionRow(
        id=16,
        client=start.client,
        scene=start.ladder.scene,
        started=started,
        ended="2026-01-15T14:05:00.000+00:00",
        status="completed",
        recorded_status="completed",
        pid=None,
        host=None,
        start=start,
        event_count=len(events),
    )


def ceiling_session() -> list[Event]:
    """A 70 bpm baseline, level 3 in manual mode, 55 s over the ceiling (the text changes every
    second), back under it, a pause, automatic mode back on, a scene event, then End."""
    events: list[Event] = [START.model_copy(update={"auto": True})]
    t = 0.0
    for _ in range(int(START.settings.baseline_s) + 5):
        t += 1
        events.append(Reading(t=t, hr=70.0))
    events += [AutoOff(t=t + 0.1), SetLevel(t=t + 0.2, level=3), Suds(t=t + 0.3, value=40)]
    for second in range(64):  # 55 s past the sustain time, the percentage flipping 50/51 %
        t += 1
        events.append(Reading(t=t, hr=105.0 + (second % 2)))
    for _ in range(5):
        t += 1
        events.append(Reading(t=t, hr=72.0))
    events += [
        Suds(t=t + 0.5, value=60),
        Pause(t=t + 1),
        Resume(t=t + 20),
        AutoOn(t=t + 21),
        SceneEvent(t=t + 22, name="spider_drop"),
        End(t=t + 30),
    ]
    return events


def test_a_55_s_ceiling_episode_is_one_alert_row_with_its_onset_end_and_duration() -> None:
    events, effects = run_core(ceiling_session())
    ceiling = [e for e in effects if isinstance(e, Alert) and e.kind == "ceiling"]
    assert len({a.message for a in ceiling if a.active}) >= 40  # re-worded every second
    onset, end = ceiling[0].t, next(a.t for a in ceiling if not a.active)
    assert 50 <= end - onset <= 60

    # as the station records it (onset and end) and as a full effect log: the same one row
    for kept in (effects, worth_recording(effects)):
        s = summarize(events, kept)
        rows = [a for a in s.alerts if a.kind == "ceiling"]
        assert len(rows) == 1
        assert (rows[0].onset, rows[0].end) == (onset, end)
        page = build_report(row_for(events), events, kept, tz=UTC)
        start = page.index("Alerts shown to the therapist")
        table = page[start : page.index("</table>", start)]
        latest = [a for a in ceiling if a.active][-1].message
        assert table.count(latest) == 1  # the latest text, as it was when the episode ended
        assert table.count("<tr><td") == 1 + sum(1 for a in s.alerts if a.kind != "ceiling")
        assert f'<td class="t">{clock(onset)}</td><td class="t">{clock(end)}</td>' in table

    # a record from before alerts carried their onset folds the same way
    old = [
        e.model_copy(update={"onset": e.t}) if isinstance(e, Alert) and e.active else e
        for e in effects
    ]
    assert len([a for a in summarize(events, old).alerts if a.kind == "ceiling"]) == 1


def test_pauses_mode_switches_and_scene_events_are_listed_in_the_therapists_words() -> None:
    events, effects = run_core(ceiling_session())
    text = _text(build_report(row_for(events), events, effects, tz=UTC))
    for line in (
        "therapist switched automatic mode off (manual)",
        "therapist paused the session",
        "therapist resumed",
        "therapist switched automatic mode on",
        "therapist Scene event: Spider drop",
    ):
        assert line in text, line
    assert "spider_drop" not in text
    assert "clinician" not in text.lower()


def test_the_report_shows_local_time_with_its_zone() -> None:
    events, effects = run_core(ceiling_session())
    paris = ZoneInfo("Europe/Paris")
    generated = datetime(2026, 1, 15, 14, 10, tzinfo=UTC)
    text = _text(build_report(row_for(events), events, effects, tz=paris, generated_at=generated))
    assert "Session #16 · 2026-01-15 14:30 CET to 15:05 CET" in text
    assert "on 2026-01-15 15:10 CET" in text
    assert "UTC" not in text
    summer = row_for(events, started="2026-07-15T13:30:00+00:00")
    assert "2026-07-15 15:30 CEST" in _text(build_report(summer, events, effects, tz=paris))


@pytest.fixture(scope="module")
def fixture_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    folder = tmp_path_factory.mktemp("report-clinic")
    with Records(f"sqlite:///{folder / 'vret.db'}") as records:
        recorded = record_session(records)
        row = records.get_session(recorded.session_id)
        yield row, records.events(recorded.session_id), records.effects(recorded.session_id)


def test_suds_per_level_before_peak_and_end(fixture_session: tuple[Any, ...]) -> None:
    row, events, effects = fixture_session
    s = summarize(events, effects)
    # from the record alone: which level each rating was given at, and when each was reached
    level_at, ratings, first_at = 0, [], {}
    decisions = iter(sorted((d.t, d.to_level) for d in s.decisions))
    pending = next(decisions, None)
    for e in events:
        while pending is not None and pending[0] <= e.t:
            level_at = pending[1]
            first_at.setdefault(level_at, pending[0])
            pending = next(decisions, None)
        if isinstance(e, Suds):
            ratings.append((e.t, level_at, e.value))
    checked = 0
    for lt in s.level_times:
        if lt.key in ("baseline", "0") or lt.seconds <= 0:
            continue
        level = int(lt.key)
        here = [v for _, lv, v in ratings if lv == level]
        before = [v for t, _, v in ratings if t < first_at[level]]
        assert lt.suds_peak == (max(here) if here else None), level
        assert lt.suds_end == (here[-1] if here else None), level
        assert lt.suds_before == (before[-1] if before else None), level
        checked += bool(here)
    assert checked >= 2
    page = build_report(row, events, effects)
    assert '<th class="num">SUDS before</th><th class="num">SUDS peak</th>' in page


def test_breaks_count_the_clients_break_but_not_the_end(fixture_session: tuple[Any, ...]) -> None:
    row, events, effects = fixture_session
    s = summarize(events, effects)
    assert [b.who for b in s.breaks] == ["client"]  # the break at 4:35; End at 6:00 is not one
    text = _text(build_report(row, events, effects))
    assert "Breaks 1 to the safe scene: 1 client, 0 therapist, 0 automatic (the end not" in text


def test_the_therapists_summary_is_an_editable_box_that_can_be_filled() -> None:
    events, effects = run_core(ceiling_session())
    empty = build_report(row_for(events), events, effects, tz=UTC)
    assert re.search(
        r'<div class="summary-box" id="summary" contenteditable="true"[^>]*></div>', empty
    )
    filled = build_report(
        row_for(events), events, effects, tz=UTC, summary="Habituated at 3 <fast>.\nNext: 4."
    )
    assert ">Habituated at 3 &lt;fast&gt;.\nNext: 4.</div>" in filled


@pytest.mark.browser
def test_the_report_prints_on_one_or_two_a4_pages_with_the_summary(
    fixture_session: tuple[Any, ...],
    browser: Any,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    row, events, effects = fixture_session
    for name, page_html in (
        ("fixture", build_report(row, events, effects)),
        ("ceiling", build_report(row_for(ceiling_session()), *run_core(ceiling_session()))),
    ):
        path = tmp_path / f"{name}.html"
        path.write_text(page_html, encoding="utf-8")
        page = browser.new_page()
        page.goto(path.as_uri())
        box = page.locator("#summary")
        box.click()
        page.keyboard.type("Habituated well at level 3; next session from level 4.")
        expect_text = "Habituated well at level 3; next session from level 4."
        assert box.inner_text() == expect_text
        violations = Axe().run(page).response["violations"]
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
        page.emulate_media(media="print")
        assert box.is_visible()
        pdf = page.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 2, (name, pages)
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        page.close()
