"""`vret session` takes the control settings as flags or a file, shows them, and records them.

Issue 16: "every number is configurable", but a client on beta-blockers could not be given
another therapeutic window; now every field of `ControlSettings` has a flag made from the model.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from exposure.core import replay
from exposure.models import ControlSettings, Reading, SessionStart, Suds
from scenes.registry import default_ladder
from tests.conftest import wait_for
from vret.cli import build_parser
from vret.cli import main as cli_main
from vret.records import Records
from vret.session_cli import settings_from_args, settings_lines
from vret.simulated_client import SimulatedClient

BASE = ["session", "--client", "C-1", "--scene", "spiders", "--sensor", "/dev/null"]
BASE += ["--protocol", "text", "--display", "offscreen"]


def parse(*flags: str, base: ControlSettings | None = None) -> ControlSettings:
    args = build_parser().parse_args([*BASE, *flags])
    return settings_from_args(args, base or ControlSettings())


def test_every_control_setting_has_a_flag() -> None:
    session = build_parser()._subparsers._group_actions[0].choices["session"]  # type: ignore[union-attr]
    flags = {s for action in session._actions for s in action.option_strings}
    for name in ControlSettings.model_fields:
        assert "--" + name.replace("_", "-") in flags, name
    assert {"--settings", "--window", "--dwell-s"} <= flags


def test_flags_set_the_settings_and_percentages_read_as_fractions() -> None:
    settings = parse(
        "--baseline-s", "90", "--dwell-s", "45", "--window", "10%,30%", "--ceiling", "0.45",
        "--hard-ceiling", "70%", "--suds-low", "25", "--no-suds-before-step-up",
    )  # fmt: skip
    assert settings == ControlSettings(
        baseline_s=90, min_dwell_s=45, window_low=0.1, window_high=0.3, ceiling=0.45,
        hard_ceiling=0.7, suds_low=25, suds_before_step_up=False,
    )  # fmt: skip
    assert parse() == ControlSettings()  # no flag: the clinical defaults
    demo = ControlSettings(baseline_s=15, min_dwell_s=20)
    assert parse("--ceiling", "40%", base=demo) == demo.model_copy(update={"ceiling": 0.4})


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_settings_file_is_read_and_flags_override_it(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"beta-blockers{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"window_low": 0.03, "window_high": 0.15, "ceiling": 0.2}))
    else:
        path.write_text(
            "# a client on beta-blockers: a smaller rise means as much\n"
            'window_low = 0.03\nwindow_high = 0.15\nceiling = "20%"\nhard_ceiling = 0.35\n'
        )
    settings = parse("--settings", str(path), "--ceiling", "0.25")
    assert (settings.window_low, settings.window_high, settings.ceiling) == (0.03, 0.15, 0.25)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--min-dwell-s", "-5"], "--min-dwell-s must be a number greater than 0 (got -5)."),
        (["--dwell-s", "soon"], "--dwell-s must be a number greater than 0 (got soon)."),
        (["--suds-low", "120"], "--suds-low must be a whole number at least 0 and at most 100 "),
        (["--min-baseline-readings", "2.5"], "--min-baseline-readings must be a whole number at"),
        (["--ceiling", "high"], "--ceiling must be a number (or a percentage, like 25%) (got"),
        (["--window", "10%"], "--window takes LOW,HIGH, like 10%,30% (got 10%)."),
        (
            ["--ceiling", "20%"],
            "The arousal thresholds must be ordered: --window-low (5%) <= --window-high (25%) "
            "<= --ceiling (20%) <= --hard-ceiling (55%) does not hold.",
        ),
    ],
)
def test_a_bad_value_is_one_sentence_naming_the_flag_and_its_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert cli_main([*BASE, "--db", db, *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vret: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.db").exists()  # refused before any record was opened


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("s.json", '{"dwell": 90}', "has an unknown setting 'dwell': the settings are baseline_s"),
        ("s.toml", "window_low = [", "is not TOML ("),
        ("s.json", "[90]", "must hold settings by name, like"),
        ("s.json", '{"suds_before_step_up": "yes"}', "suds_before_step_up in "),
        ("s.json", '{"stale_after_s": 0}', "stale_after_s in "),
        ("none.json", None, "No settings file"),
    ],
)
def test_a_bad_settings_file_is_one_sentence(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert cli_main([*BASE, "--settings", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.rstrip().endswith(".")


def test_the_settings_are_printed_with_the_changed_ones_marked() -> None:
    lines = settings_lines(ControlSettings(min_dwell_s=45, window_high=0.3))
    assert lines[0].startswith("Control settings")
    by_flag = {line.split()[1] if line[1] == "*" else line.split()[0]: line for line in lines[1:]}
    assert len(by_flag) == len(ControlSettings.model_fields)
    assert (
        by_flag["--min-dwell-s"].startswith(" * --min-dwell-s")
        and " 45 " in by_flag["--min-dwell-s"]
    )
    assert by_flag["--window-high"].startswith(" * ") and "30%" in by_flag["--window-high"]
    assert by_flag["--baseline-s"].startswith("   --baseline-s")


def test_replay_uses_the_settings_recorded_with_the_session(tmp_path: Path) -> None:
    """A 30 s dwell recorded in the header: the replayed step up comes at 30 s, not the
    default 60 s, so replay reads the record's own settings."""
    records = Records(f"sqlite:///{tmp_path / 'r.db'}")
    settings = ControlSettings(baseline_s=20, min_dwell_s=30)
    start = SessionStart(client="C-1", ladder=default_ladder("spiders"), settings=settings)
    sid = records.open_session(start, "spiders")
    for t in range(1, 61):
        records.append(sid, Reading(t=float(t), hr=70.0))
        if t == 25:
            records.append(sid, Suds(t=25.5, value=10))
    events = records.events(sid)
    assert records.get_session(sid).start.settings == settings == events[0].settings  # type: ignore[union-attr]
    ups = [d for d in replay(events) if d.from_level > 0]
    assert [(d.t, d.to_level) for d in ups] == [(50.0, 2)]  # the baseline ended at 20 s
    records.close()


def test_vret_session_prints_and_records_its_settings(tmp_path: Path) -> None:
    """The whole command: a simulated sensor on a pty, the settings as flags, Ctrl-C to end."""
    client = SimulatedClient("text", rate=4.0)
    port = client.start()
    db = f"sqlite:///{tmp_path / 'r.db'}"
    args = ["session", "--client", "C-7", "--scene", "spiders", "--sensor", port]
    args += ["--protocol", "text", "--display", "offscreen", "--size", "160x120", "--db", db]
    args += ["--port", "0", "--dwell-s", "45", "--window", "8%,20%", "--no-suds-before-step-up"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vret", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Console: ") or len(lines) > 80:
                break
        printed = "".join(lines)
        assert "Console: " in printed, printed
        assert " * --min-dwell-s" in printed and " * --window-low" in printed
        assert " * --suds-before-step-up       off" in printed
        records = Records(db)
        row = wait_for(lambda: records.list_sessions(), 10, "the session's record")[-1]
        expected = ControlSettings(
            min_dwell_s=45, window_low=0.08, window_high=0.2, suds_before_step_up=False
        )
        assert row.start.settings == expected
        assert records.events(row.id)[0].settings == expected  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        client.stop()
    assert proc.returncode == 0
