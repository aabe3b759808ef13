"""The session report: figures computed from the record, a well-formed chart, nothing external."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exposure.models import SAFE_LEVEL, Decision, Event, Note, Reading, Suds
from tests.clinician_console.conftest import CHROMIUM_CANDIDATES
from vret.records import RecordedEffect, Records, SessionRow
from vret.report import build_report, clock, summarize

from .conftest import START, record_session

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Session:
    row: SessionRow
    events: list[Event]
    effects: list[RecordedEffect]
    html: str


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    folder = tmp_path_factory.mktemp("report")
    with Records(f"sqlite:///{folder / 'vret.db'}") as records:
        recorded = record_session(records)
        row = records.get_session(recorded.session_id)
        events = records.events(recorded.session_id)
        effects = records.effects(recorded.session_id)
    yield Session(row, events, effects, build_report(row, events, effects))


def _text(html: str) -> str:
    """The visible words of the page (tags dropped, whitespace collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_page_is_self_contained(session: Session) -> None:
    page = session.html
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower()
    for external in ("src=", "href=", "@import", "url(", "<link", "<iframe"):
        assert external not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]  # a namespace


def test_chart_is_well_formed_svg_with_every_series(session: Session) -> None:
    svg_text = re.search(r"<svg.*?</svg>", session.html, re.S)
    assert svg_text is not None
    svg = ET.fromstring(svg_text.group(0))
    ns = "{http://www.w3.org/2000/svg}"
    polylines = svg.findall(f"{ns}polyline")
    points = sum(len(p.get("points", "").split()) for p in polylines)
    readings = [e for e in session.events if isinstance(e, Reading) and e.good]
    assert 0.8 * len(readings) <= points <= len(readings)  # the HR line (at most one point a pixel)
    assert len(polylines) >= 2  # broken where the sensor lost contact
    tags = [t.text for t in svg.iter(f"{ns}text") if t.text and re.fullmatch(r"[DNE]\d+", t.text)]
    decisions = [e for e in session.effects if isinstance(e, Decision)]
    assert sorted(tags) == sorted(
        [f"D{i}" for i in range(1, len(decisions) + 1)] + ["E1", "N1", "N2"]
    )
    suds_labels = [t.text for t in svg.iter(f"{ns}text") if t.get("font-weight") == "600"]
    assert suds_labels == [str(e.value) for e in session.events if isinstance(e, Suds)]
    assert any((t.text or "") == "window" for t in svg.iter(f"{ns}text"))


def test_headline_figures_come_from_the_record(session: Session) -> None:
    text = _text(session.html)
    good = [
        (e.t, float(e.hr)) for e in session.events if isinstance(e, Reading) and e.hr and e.good
    ]
    baseline = statistics.median(hr for t, hr in good if t <= START.settings.baseline_s)
    peak_t, peak = max(good, key=lambda r: r[1])
    assert f"Baseline HR {baseline:.0f} bpm" in text
    assert f"Peak HR {peak:.0f} bpm at {clock(peak_t)}" in text
    suds = [(e.t, e.value) for e in session.events if isinstance(e, Suds)]
    assert f"SUDS before {suds[0][1]} at {clock(suds[0][0])}" in text
    top = max(suds, key=lambda s: s[1])
    assert f"SUDS peak {top[1]} at {clock(top[0])}" in text
    assert f"SUDS end {suds[-1][1]} at {clock(suds[-1][0])}" in text
    assert "Client C-0142" in text and "Status: completed" in text


def test_time_at_each_level_adds_up(session: Session) -> None:
    s = summarize(session.events, session.effects)
    decisions = [e for e in session.effects if isinstance(e, Decision)]
    expected: dict[str, float] = {"baseline": decisions[0].t}
    for d, following in zip(decisions, [*decisions[1:], None], strict=True):
        end = following.t if following is not None else s.duration_s
        expected[str(d.to_level)] = expected.get(str(d.to_level), 0.0) + end - d.t
    got = {lt.key: lt.seconds for lt in s.level_times if lt.seconds > 0}
    assert got == pytest.approx(expected)
    assert sum(got.values()) == pytest.approx(s.duration_s)
    assert s.duration_s == pytest.approx(session.events[-1].t)


def test_every_decision_and_note_is_listed(session: Session) -> None:
    decisions = [e for e in session.effects if isinstance(e, Decision)]
    for number, d in enumerate(decisions, start=1):
        row = re.search(
            rf">D{number}</span></td>\s*<td class=\"t\">([^<]+)</td>(.*?)</tr>", session.html, re.S
        )
        assert row is not None, d
        assert row.group(1) == clock(d.t)
        assert d.reason in row.group(2)
        who = {"auto": "automatic", "clinician": "therapist", "client": "client"}[d.who]
        assert f"<td>{who}</td>" in row.group(2)
    notes = [e for e in session.events if isinstance(e, Note)]
    assert len(notes) == 2
    assert "&lt;&amp; checked in&gt;" in session.html and "<& checked in>" not in session.html
    assert "&#x27;fine now&#x27;" in session.html
    assert f"reproduces these {len(decisions)} decisions exactly" in session.html


def test_a_record_that_disagrees_with_replay_is_flagged(session: Session) -> None:
    decisions = [e for e in session.effects if isinstance(e, Decision)]
    tampered = [e for e in session.effects if e is not decisions[2]]
    page = build_report(session.row, session.events, tampered)
    assert "reproduces" not in page
    assert f"gives {len(decisions)} decisions where {len(decisions) - 1} were recorded live" in page


def test_a_session_stopped_in_its_baseline(session: Session) -> None:
    header_only = build_report(
        session.row.model_copy(update={"status": "interrupted"}), session.events[:1], []
    )
    text = _text(header_only)
    assert "did not end normally (interrupted)" in text
    assert "No level changes." in text and "exposure did not start" in text
    assert "Baseline HR — no baseline was set" in text
    chart = re.search(r"<svg.*?</svg>", header_only, re.S)
    assert chart is not None and ET.fromstring(chart.group(0)).tag == SVG + "svg"  # well formed
    with pytest.raises(ValueError, match="session_start"):
        summarize(session.events[1:], [])


def test_summary_levels_follow_the_decisions(session: Session) -> None:
    s = summarize(session.events, session.effects)
    changes = [(t, level) for t, level, phase in s.levels if phase != "baseline"]
    decisions = [e for e in session.effects if isinstance(e, Decision)]
    assert changes == [(d.t, d.to_level) for d in decisions]
    assert s.levels[0] == (0.0, SAFE_LEVEL, "baseline")
    assert s.decisions_recorded and s.replay_agrees


def find_chromium() -> str | None:
    """The Chromium the console's browser tests use (VRET_CHROMIUM, Debian's, or on PATH)."""
    override = os.environ.get("VRET_CHROMIUM")
    for path in [override] if override else CHROMIUM_CANDIDATES:
        if path and os.access(path, os.X_OK):
            return path
    return shutil.which("chromium-headless-shell") or shutil.which("chromium")


CHROMIUM = find_chromium()


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: apt-get install chromium-headless-shell (or set "
    "VRET_CHROMIUM) to render the report",
)
def test_report_renders_in_a_browser(session: Session, tmp_path: Path) -> None:
    from PIL import Image

    page, png = tmp_path / "report.html", tmp_path / "report.png"
    page.write_text(session.html, encoding="utf-8")
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,1400",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    image = Image.open(png).convert("RGB")
    assert image.size == (1100, 1400)
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 200  # text, bands and lines, not a blank page
    # the HR line's red is drawn (the chart rendered, not just the tables)
    assert any(r > 150 and g < 80 and b < 80 for _, (r, g, b) in colors)
