"""Pose sources: the pose script's format and errors, quaternions, window look, recentring."""

from __future__ import annotations

import math

import pytest

from exposure.errors import UserError
from scenes.pose import (
    PoseScript,
    PoseScriptError,
    WindowLook,
    forward,
    from_hpr,
    heading_of,
    multiply,
    pose_line,
    recentre_offset,
    rotate,
)


def close(a, b, tol=1e-6):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_quaternions_are_w_x_y_z_and_turn_like_panda3d_headings():
    assert close(forward((1.0, 0.0, 0.0, 0.0)), (0.0, 1.0, 0.0))
    left = from_hpr(90.0, 0.0)
    assert close(left, (math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)))
    assert close(forward(left), (-1.0, 0.0, 0.0))  # heading 90 looks to the left (-X)
    up = from_hpr(0.0, 30.0)
    assert close(forward(up), (0.0, math.cos(math.radians(30)), 0.5))
    # the value Panda3D's own Quat.setHpr((30, 20, 10)) gives
    assert close(from_hpr(30, 20, 10), (0.943714, 0.144878, 0.127679, 0.268536), 1e-5)
    assert heading_of(from_hpr(-70.0, 25.0)) == pytest.approx(-70.0)
    q = multiply(from_hpr(40, 0), from_hpr(0, 10))
    assert close(rotate(q, (0, 1, 0)), forward(from_hpr(40, 10)))


def test_a_script_eases_between_lines_and_repeats():
    text = "\n".join(
        [
            "# looking ahead, then turning left",
            pose_line(0.0, (0.0, 0.0, 1.6), from_hpr(0, 0)),
            "",
            pose_line(2.0, (0.2, 0.0, 1.6), from_hpr(90, 0)),
            pose_line(3.0, (0.2, 0.0, 1.6), from_hpr(90, 0), valid=False),
            pose_line(4.0, (0.2, 0.0, 1.6), from_hpr(90, 0)),
        ]
    )
    script = PoseScript.parse(text)
    assert script.duration_s == 4.0
    mid = script.at(1.0)
    assert close(mid.position, (0.1, 0.0, 1.6))
    assert heading_of(mid.orientation) == pytest.approx(45.0)
    assert mid.valid
    assert script.at(2.5).valid and not script.at(3.5).valid  # it holds until the next line
    again = script.at(5.0)  # after the last line it starts again
    assert close(again.position, mid.position) and close(again.orientation, mid.orientation)


def test_a_script_file_is_read_from_disk(tmp_path):
    path = tmp_path / "poses.jsonl"
    path.write_text('{"t": 0, "position": [0, 0, 1.6], "orientation": [2, 0, 0, 0]}\n')
    script = PoseScript.load(path)
    assert script.at(10.0).orientation == (1.0, 0.0, 0.0, 0.0)  # normalised


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "line 1 is not JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"t": 0, "position": [0, 0], "orientation": [1, 0, 0, 0]}', "position must be"),
        ('{"t": 0, "position": [0, 0, 1], "orientation": [1, 0, 0]}', "quaternion [w, x, y, z]"),
        ('{"t": 0, "position": [0, 0, 1], "orientation": [0, 0, 0, 0]}', "no rotation"),
        ('{"t": -1, "position": [0, 0, 1], "orientation": [1, 0, 0, 0]}', "t must be"),
        ('{"t": 0, "position": [0, 0, 1], "orientation": [1, 0, 0, 0], "x": 1}', "unknown keys x"),
        ('{"t": 0, "position": [0, 0, 1], "orientation": [1, 0, 0, 0], "valid": 1}', "valid must"),
        (
            '{"t": 1, "position": [0, 0, 1], "orientation": [1, 0, 0, 0]}\n'
            '{"t": 1, "position": [0, 0, 1], "orientation": [1, 0, 0, 0]}',
            "line 2: t 1 is not after",
        ),
        ("# only a comment", "has no poses"),
    ],
)
def test_a_bad_script_is_one_sentence_naming_the_line(text, says):
    with pytest.raises(PoseScriptError) as err:
        PoseScript.parse(text, "demo.jsonl")
    assert isinstance(err.value, UserError)
    assert says in str(err.value)
    assert str(err.value).count(".") >= 1 and "\n" not in str(err.value)


def test_a_missing_script_says_check_the_path(tmp_path):
    with pytest.raises(PoseScriptError, match="Cannot read the pose script .*check the path"):
        PoseScript.load(tmp_path / "nope.jsonl")


def test_window_look_turns_with_keys_and_drags_and_recentres():
    look = WindowLook()
    look.key("a")
    look.key("w")
    assert (look.heading, look.pitch) == (10.0, 10.0)
    look.drag(40, 0)  # dragging right turns right
    assert look.heading == pytest.approx(0.0)
    for _ in range(20):
        look.key("s")
    assert look.pitch == -80.0  # no further than straight down-ish
    look.key("x")
    look.recentre()
    assert (look.heading, look.pitch) == (0.0, 0.0)


def test_recentring_puts_the_head_on_the_spot_facing_forward_and_is_idempotent():
    position, q = (0.4, -0.3, 1.7), from_hpr(-65.0, 12.0)
    x, y, h = recentre_offset(position, q)
    assert h == pytest.approx(65.0)
    # the head seen through the turned and moved tracking space
    c, s = math.cos(math.radians(h)), math.sin(math.radians(h))
    wx = c * position[0] - s * position[1] + x
    wy = s * position[0] + c * position[1] + y
    assert (wx, wy) == pytest.approx((0.0, 0.0), abs=1e-9)
    assert heading_of(multiply(from_hpr(h, 0), q)) == pytest.approx(0.0, abs=1e-9)
    assert recentre_offset(position, q) == (x, y, h)


def test_a_bad_pose_script_stops_vret_session_with_one_sentence(tmp_path, capsys):
    from vret.cli import main

    bad = tmp_path / "poses.jsonl"
    bad.write_text('{"t": 0, "position": [0, 0, 1.6], "orientation": [1, 0, 0, 0]}\nnot json\n')
    common = ["--display", "offscreen", "--db", f"sqlite:///{tmp_path / 'vret.db'}"]
    code = main(
        ["session", "--client", "C-0042", "--scene", "spiders", "--sensor", "/dev/null"]
        + ["--protocol", "text", *common, "--pose-script", str(bad)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("vret: ") and "line 2 is not JSON" in err and err.count("\n") == 1
    assert not (tmp_path / "vret.db").exists()  # nothing was started or recorded


def test_a_pose_script_is_refused_with_the_headset(tmp_path, capsys):
    from vret.cli import main

    good = tmp_path / "poses.jsonl"
    good.write_text(pose_line(0.0, (0.0, 0.0, 1.6), from_hpr(0, 0)) + "\n")
    code = main(
        ["session", "--client", "C-0042", "--scene", "spiders", "--sensor", "/dev/null"]
        + ["--protocol", "text", "--display", "openvr", "--pose-script", str(good)]
    )
    assert code == 2
    assert "the headset tracks the real one" in capsys.readouterr().err
