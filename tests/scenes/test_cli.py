"""`vret scenes list | preview | new | check | show`, run as a person would."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image

from vret.cli import main

VRET = [sys.executable, "-c", "import sys; from vret.cli import main; sys.exit(main())"]


def vret(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [*VRET, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def run(capsys, *args: str) -> tuple[int, str, str]:
    """`vret ARGS` in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_name_phobia_and_levels(capsys):
    assert main(["scenes", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["NAME", "PHOBIA", "LEVELS"]
    rows = {line.split()[0]: line for line in out[1:]}
    assert "arachnophobia" in rows["spiders"] and " 10 " in rows["spiders"]
    assert "acrophobia" in rows["heights"] and "claustrophobia" in rows["enclosed_space"]
    assert "(calm scene)" in rows["safe_place"]


@pytest.mark.render
def test_preview_writes_every_level_and_a_contact_sheet(tmp_path, capsys):
    out = tmp_path / "pv"
    code, printed, err = run(
        capsys, "scenes", "preview", "enclosed_space", "--out", str(out), "--size", "96x72"
    )
    assert code == 0, err
    assert printed.splitlines()[-1] == str(out / "enclosed_space-sheet.png")
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"enclosed_space-{n:02d}.png" for n in range(1, 11)] + [
        "enclosed_space-sheet.png"
    ]
    with Image.open(out / "enclosed_space-03.png") as img:
        assert img.size == (96, 72)
    with Image.open(out / "enclosed_space-sheet.png") as sheet:
        assert sheet.width == 800 and sheet.height > 3 * 72


@pytest.mark.parametrize(
    "args, message",
    [
        (["scenes", "preview", "nope", "--out", "x"], "no scene named 'nope'"),
        (["scenes", "preview", "spiders", "--out", "x", "--size", "big"], "is not WxH"),
        (["scenes", "new", "Bad-Name"], "is not a scene name"),
        (["scenes", "new", "spiders"], "already exists"),
        (["scenes", "show", "spiders", "--level", "11", "--display", "offscreen"], "outside 1..10"),
    ],
)
def test_user_errors_are_one_sentence(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vret: ") and message in err and "\n" not in err


@pytest.mark.render
def test_new_scene_from_template_checks_and_previews(tmp_path, capsys, monkeypatch):
    lib = tmp_path / "lib"
    code, out, err = run(
        capsys, "scenes", "new", "dogs_park", "--dir", str(lib), "--phobia", "cynophobia (dogs)"
    )
    assert code == 0, err
    assert (lib / "dogs_park" / "scene.py").is_file()
    assert f"VRET_SCENE_PATH={lib}" in out
    monkeypatch.setenv("VRET_SCENE_PATH", str(lib))
    code, out, err = run(capsys, "scenes", "list")
    assert code == 0 and "dogs_park" in out and "cynophobia (dogs)" in out
    code, out, err = run(capsys, "scenes", "check", "dogs_park")  # renders in a subprocess
    assert code == 0, out + err
    assert out.startswith("dogs_park: ok (8 levels, rendered)")


def test_check_reports_a_broken_scene_and_still_checks_the_others(tmp_path, capsys, monkeypatch):
    lib = tmp_path / "lib"
    (lib / "half_done").mkdir(parents=True)
    (lib / "half_done" / "scene.py").write_text("from scenes.api import Scene\nclass X(Scene:\n")
    monkeypatch.setenv("VRET_SCENE_PATH", str(lib))
    code, out, _ = run(capsys, "scenes", "check", "--no-render")
    assert code == 1
    lines = out.splitlines()
    assert any(
        line.startswith("half_done: BROKEN") and "scene.py: syntax error on line 2" in line
        for line in lines
    )
    for name in ("spiders", "heights", "public_speaking", "enclosed_space", "safe_place"):
        assert f"{name}: ok" in out
    code, out, err = run(capsys, "scenes", "list")
    assert code == 0 and "spiders" in out
    assert "broken scene 'half_done'" in err


@pytest.mark.render
def test_show_runs_offscreen_for_a_few_frames():
    r = vret(
        "scenes",
        "show",
        "heights",
        "--display",
        "offscreen",
        "--level",
        "4",
        "--size",
        "64x48",
        "--frames",
        "5",
    )
    assert r.returncode == 0, r.stderr
    assert "level 4/10: 8th floor, hands on the railing" in r.stdout


def test_show_openvr_without_steamvr_is_one_plain_sentence():
    r = vret("scenes", "show", "spiders", "--display", "openvr")
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "vret: No SteamVR runtime found: start SteamVR, or run with --display window."
    )
    assert "Traceback" not in r.stdout + r.stderr


def test_show_window_without_a_display_says_what_to_do():
    # no X display: Panda3D on Linux opens windows through X11 only
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run(
        [*VRET, "scenes", "show", "spiders", "--frames", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "vret: Could not open a window (no display or OpenGL driver here): run it on a desktop, "
        "or use --display offscreen."
    )
    assert "Traceback" not in r.stderr
