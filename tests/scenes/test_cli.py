"""`vret scenes list | preview | new | check | show`, run as a person would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from PIL import Image

from scenes.registry import ladder_template, load_scene, session_ladder
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


# ---------------------------------------------------------------------------- ladder files

FEAR_SCENES = ("spiders", "heights", "public_speaking", "enclosed_space")


@pytest.mark.parametrize("name", FEAR_SCENES)
def test_a_scenes_ladder_template_documents_every_parameter_and_checks_valid(
    tmp_path, capsys, name
):
    out = tmp_path / f"{name}.json"
    code, printed, err = run(capsys, "scenes", "ladder", name, "--out", str(out))
    assert code == 0, err
    assert printed.strip() == f"wrote {out}: edit it, then `vret scenes check-ladder {out}`"
    template = json.loads(out.read_text())
    assert "check-ladder" in template["doc"]
    keys = set(template["levels"][0]["params"])
    assert set(template["parameters"]) == keys and keys
    for text in template["parameters"].values():
        assert re.search(r"\(.*-?[\d.]+ to [\d.]+\)$", text), text  # what it does, and its range
    code, printed, err = run(capsys, "scenes", "check-ladder", str(out))
    assert code == 0, err
    lines = printed.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{out}: a valid ladder for {name}: 10 levels")


def test_the_ladder_template_prints_without_out_and_reads_as_a_session_ladder(tmp_path, capsys):
    code, printed, _ = run(capsys, "scenes", "ladder", "spiders")
    assert code == 0
    path = tmp_path / "client.json"
    template = json.loads(printed)
    template["levels"][0]["name"] = "Photo of a spider"
    path.write_text(json.dumps(template))
    ladder = session_ladder("spiders", str(path))  # the template's doc fields are accepted
    assert ladder.levels[0].name == "Photo of a spider" and ladder.top == 10


def edited(tmp_path, change) -> str:
    """The spiders template with `change(template)` applied, written to a file."""
    template = json.loads(ladder_template("spiders"))
    change(template)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(template))
    return str(path)


def _set(path: list, value):
    def change(template):
        target = template
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop_jar(template):
    del template["levels"][1]["params"]["jar"]


def _typo(template):
    template["levels"][2]["params"]["cuont"] = 2


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(["scene"], "dragons"), "no usable scene named 'dragons': see `vret scenes list`."),
        (_set(["safe_scene"], "beach"), "no usable safe scene named 'beach'"),
        (
            _typo,
            "level 3 ('Jar removed: spider at the far end, still') sets 'cuont', which spiders does not have (its parameters: count, distance, face, jar, movement, span, species).",
        ),
        (_drop_jar, "level 2 ('Spider in a closed jar, middle of the table') does not set 'jar'"),
        (
            _set(["levels", 4, "params", "distance"], 9),
            "sets distance to 9 m, outside the range 0.4 to 2.5 m that spiders can show.",
        ),
        (_set(["levels", 3, "suds"], 5), "expects SUDS 5, less than level 3's 30: order the"),
        (_set(["levels", 1, "suds"], 120), "level 2.suds: Input should be less than or equal"),
        (_set(["start_level"], 12), "start_level 12 is past the top of a 10-level ladder."),
        (_set(["levels"], []), "levels: List should have at least 1 item"),
    ],
)
def test_check_ladder_names_each_problem_in_one_sentence(tmp_path, capsys, change, message):
    path = edited(tmp_path, change)
    code, out, err = run(capsys, "scenes", "check-ladder", path)
    assert code == 2 and out == ""
    err = err.strip()
    assert err.startswith(f"vret: {path}") and message in err and "\n" not in err
    assert err.endswith(".")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "No ladder file"),
        ("{ not json", "is not JSON (Expecting property name"),
        ("[1, 2]", "is not a ladder: it must be a JSON object with scene and levels."),
    ],
)
def test_check_ladder_refuses_what_is_not_a_ladder_file(tmp_path, capsys, content, message):
    path = tmp_path / "ladder.json"
    if content is not None:
        path.write_text(content)
    code, _, err = run(capsys, "scenes", "check-ladder", str(path))
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["scenes", "ladder", "nope"], "no scene named 'nope'"),
        (["scenes", "ladder", "safe_place"], "safe_place is a calm scene with no fear ladder"),
    ],
)
def test_ladder_errors_are_one_sentence(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vret: ") and message in err and "\n" not in err


def test_ladder_does_not_overwrite_a_file(tmp_path, capsys):
    out = tmp_path / "mine.json"
    out.write_text("the client's own ladder")
    code, _, err = run(capsys, "scenes", "ladder", "heights", "--out", str(out))
    assert code == 2 and "already exists" in err
    assert out.read_text() == "the client's own ladder"


def test_a_scene_whose_declared_parameters_miss_one_is_broken(tmp_path):
    path = tmp_path / "scene.py"
    path.write_text(
        "from scenes.api import Param, Scene, level\n"
        "class Dogs(Scene):\n"
        "    phobia = 'dogs'\n"
        "    description = 'A dog.'\n"
        "    parameters = {'distance': Param('How far the dog is', 0.5, 10, 'm')}\n"
        "    levels = [level('Far', distance=8.0, size=0.3)]\n"
        "    def build(self): pass\n"
        "    def apply(self, intensity, dt): pass\n"
    )
    with pytest.raises(ValueError, match="must describe exactly the level parameters: size"):
        load_scene("dogs", path)
    path.write_text(
        path.read_text()
        .replace("{'distance'", "{'size': Param('Size', 0.1, 1), 'distance'")
        .replace("distance=8.0", "distance=12.0")
    )
    with pytest.raises(ValueError, match="sets distance 12, outside its declared range 0.5 to 10"):
        load_scene("dogs", path)
