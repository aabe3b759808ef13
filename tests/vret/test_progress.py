"""Progress across a course: each session's figures from its record, and the report's page.

`course_session` records one session of a client as a station does (LiveSession, write-ahead,
the client's hierarchy as the ladder, its version in the session row), with SSQ before and
after, expectancy ratings around a step, SUDS and a heart in the therapeutic window; the other
test files of the course import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from exposure.live import LiveSession
from exposure.measures import load_instrument, score
from exposure.models import (
    ControlSettings,
    End,
    Expectancy,
    Measure,
    Reading,
    SessionStart,
    SetLevel,
    Suds,
    Tick,
)
from vret import clients, hierarchy
from vret.cli import main as cli_main
from vret.hierarchy import Step
from vret.records import Records
from vret.report.progress import client_progress, progress_page, session_progress

COURSE_SETTINGS = ControlSettings(
    baseline_s=10, min_baseline_readings=5, min_dwell_s=10, arousal_window_s=4, trend_window_s=8
)
STEPS = [
    Step(level=1, suds=15),
    Step(level=3, suds=30, name="Jar off, far end"),
    Step(level=4, suds=45, params={"movement": 0.05}),
    Step(level=5, suds=55),
    Step(level=7, suds=75),
]


@dataclass
class CourseSession:
    session_id: int
    version: int | None
    start_step: int
    climb_to: int


def ssq(answers: list[int], phase: str) -> Measure:
    return Measure(
        instrument="ssq",
        phase=phase,
        answers=answers,
        scores=score(load_instrument("ssq"), answers),
    )  # type: ignore[arg-type]


def course_session(
    records: Records,
    code: str,
    *,
    climb: int,
    ssq_pre: list[int],
    ssq_post: list[int],
    suds: tuple[int, int] = (60, 30),
    violated: bool = True,
    start_step: int | None = None,
) -> CourseSession:
    """One manual-mode session of `code` on spiders: baseline at 70 bpm, exposure at about 77
    (arousal 0.1, inside the window), `climb` steps up from the start by the therapist with an
    expectancy before and after the first, SSQ before and after, then End."""
    ladder, version = hierarchy.session_ladder(records, code, "spiders", start_step)
    start = SessionStart(client=code, ladder=ladder, settings=COURSE_SETTINGS, auto=False)
    sid = records.open_session(start, "spiders", hierarchy_version=version)
    now = [0.0]
    live = LiveSession(
        start, clock=lambda: now[0], record=lambda e: records.append(sid, e), session_id=sid
    )
    live.add_listener(lambda _e, _s, effects: records.append_effects(sid, effects))

    def at(t: float, *events: object) -> None:
        now[0] = t
        for event in events:
            live.submit(event)  # type: ignore[arg-type]

    at(0.5, ssq(ssq_pre, "pre"))
    t = 1.0
    while t <= 12:
        at(t, Reading(t=0, hr=70.0), Tick(t=0))
        t += 1
    first = ladder.start_level
    at(13, SetLevel(level=first))  # manual mode: the therapist starts the exposure
    at(13, Expectancy(level=first, stage="before", expectation="it will jump", likelihood=80))
    level = first
    for second in range(14, 14 + 20 * (climb + 1)):
        at(second, Reading(t=0, hr=77.0))
        if second == 20:
            at(second, Suds(value=suds[0]))
        if second == 25:
            at(
                second,
                Expectancy(level=first, stage="after", happened=not violated, surprise=70),
            )
        if (second - 14) % 20 == 19 and level < min(first + climb, ladder.top):
            level += 1
            at(second, SetLevel(level=level))
    at(now[0] + 1, Suds(value=suds[1]), ssq(ssq_post, "post"), End())
    records.close_session(sid)
    return CourseSession(sid, version, first, level)


def start_course(records: Records, code: str = "C-0007") -> None:
    clients.add(records, code, "spiders", therapist="TH-2")
    hierarchy.save(records, code, "spiders", STEPS)


def test_each_session_of_a_course_shows_its_steps_window_suds_expectancy_and_ssq(
    records: Records,
) -> None:
    start_course(records)
    first = course_session(records, "C-0007", climb=2, ssq_pre=[0] * 16, ssq_post=[1] + [0] * 15)
    second = course_session(
        records, "C-0007", climb=1, ssq_pre=[1] * 16, ssq_post=[0] * 16, suds=(40, 10)
    )
    assert (first.start_step, first.climb_to) == (1, 3)
    assert second.start_step == 3  # the next session starts where the last one reached
    assert second.climb_to == 4
    progress = client_progress(records, "C-0007")
    one, two = progress.sessions
    assert (one.id, two.id) == (first.session_id, second.session_id)
    assert (one.hierarchy_version, two.hierarchy_version) == (1, 1)
    assert (one.highest_step, two.highest_step) == (3, 4)
    assert one.highest_name == "Larger spider in the middle of the table, twitching"
    assert two.highest_name == "Spider walks slowly, nearer you"
    assert (one.suds_peak, one.suds_end, two.suds_peak, two.suds_end) == (60, 30, 40, 10)
    assert one.violations == 1 and one.expectancies[0].likelihood == 80
    assert one.expectancies[0].surprise == 70
    # SSQ: nausea item 1 answered 1 -> nausea raw 1, total 1 x 3.74 (item 1 is in N and O)
    assert one.ssq_pre == 0.0 and one.ssq_change is not None and one.ssq_change > 0
    assert two.ssq_change is not None and two.ssq_change < 0
    # exposure at 77 bpm (arousal 0.1, inside the window) but while the smoothed HR rises
    assert one.exposure_s > 50
    averaging = COURSE_SETTINGS.arousal_window_s
    assert one.exposure_s - averaging <= one.window_s < one.exposure_s


def test_time_outside_the_window_is_not_counted(records: Records) -> None:
    start_course(records)
    sid = course_session(records, "C-0007", climb=0, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    row = records.get_session(sid.session_id)
    events = records.events(sid.session_id)
    # the same record with the heart at 100 bpm during exposure (arousal 0.43: above the window)
    hot = [
        e.model_copy(update={"hr": 100.0}) if e.type == "reading" and e.t > 13 else e
        for e in events
    ]
    calm, hot_progress = session_progress(row, events), session_progress(row, hot)
    assert calm.exposure_s == hot_progress.exposure_s > 15
    assert calm.window_s > 15
    # only the seconds the smoothed HR takes to climb through the window count
    assert hot_progress.window_s <= COURSE_SETTINGS.arousal_window_s / 2


def test_the_progress_page_has_both_sessions_and_the_measures(records: Records) -> None:
    start_course(records)
    course_session(records, "C-0007", climb=2, ssq_pre=[0] * 16, ssq_post=[1] + [0] * 15)
    course_session(records, "C-0007", climb=1, ssq_pre=[1] * 16, ssq_post=[0] * 16)
    values, scores = clients.score_measure("bat", "10,20,40")
    clients.add_measure(records, "C-0007", "bat", values, scores)
    page = progress_page(client_progress(records, "C-0007"))
    assert page.count("<svg") == 5  # four charts across sessions and the BAT's
    table = page.split('<table id="sessions">')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # the header and two sessions
    assert "3 / 5" in table and "4 / 5" in table
    assert "Highest step reached" in page and "3 → 4 (first → latest)" in page
    assert "steps completed 3" in page
    assert "<script" not in page


def test_vret_report_client_writes_the_progress_page(
    records: Records, db_url: str, tmp_path: Path, capsys: object
) -> None:
    start_course(records)
    course_session(records, "C-0007", climb=1, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    out = tmp_path / "progress.html"
    assert cli_main(["report", "--client", "C-0007", "--out", str(out), "--db", db_url]) == 0
    page = out.read_text()
    assert re.search(r'id="client-code">C-0007<', page)
    assert (out.stat().st_mode & 0o777) == 0o600
    assert cli_main(["report", "--db", db_url]) == 2  # neither an id nor a client
    assert (
        cli_main(
            ["report", "--client", "C-9999", "--out", str(tmp_path / "x.html"), "--db", db_url]
        )
        == 2
    )


def test_the_figures_of_completed_sessions_are_kept_and_a_running_one_is_replayed(
    records: Records,
) -> None:
    start_course(records)
    done = course_session(records, "C-0007", climb=1, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    ladder, version = hierarchy.session_ladder(records, "C-0007", "spiders")
    running = records.open_session(
        SessionStart(client="C-0007", ladder=ladder), "spiders", hierarchy_version=version
    )
    cache: dict = {}
    first = client_progress(records, "C-0007", cache)
    assert list(cache) == [(done.session_id, records.get_session(done.session_id).event_count)]
    records.append(running, Reading(t=1.0, hr=70.0))
    again = client_progress(records, "C-0007", cache)
    assert again.sessions[0] is first.sessions[0]  # taken from the cache
    assert again.sessions == first.sessions  # and the running one replayed to the same figures
    assert [s.id for s in again.sessions] == [done.session_id, running]
