"""Discovery, metadata and default ladders; broken scenes are reported and skipped."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from exposure.models import Ladder
from scenes.registry import LIBRARY, default_ladder, discover, get
from tests.scenes.conftest import BUILT_IN, write_scene

GOOD = textwrap.dedent("""
    from scenes.api import Scene, level

    class Good(Scene):
        phobia = "test phobia"
        description = "A scene that works."
        levels = [level(f"step {n}", suds=n * 10, size=float(n)) for n in range(1, 9)]

        def build(self):
            pass

        def apply(self, intensity, dt):
            self.params(intensity)
""")


def test_built_in_scenes_are_found_with_their_metadata(built_in):
    assert set(BUILT_IN) <= set(built_in)
    phobias = {name: info.phobia for name, info in built_in.items()}
    assert phobias["spiders"] == "arachnophobia"
    assert phobias["heights"] == "acrophobia"
    assert phobias["enclosed_space"] == "claustrophobia"
    assert "public speaking" in phobias["public_speaking"]
    assert built_in["safe_place"].calm and not built_in["spiders"].calm
    for info in built_in.values():
        assert info.description.strip()
        assert info.path == LIBRARY / info.name / "scene.py"


@pytest.mark.parametrize("name", [n for n in BUILT_IN if n != "safe_place"])
def test_default_ladders_are_graded_8_to_12_levels(name):
    ladder = default_ladder(name)
    assert isinstance(ladder, Ladder)
    assert ladder.scene == name and ladder.safe_scene == "safe_place"
    assert 8 <= ladder.top <= 12
    suds = [lv.suds for lv in ladder.levels]
    assert all(s is not None for s in suds)
    assert suds == sorted(suds) and suds[0] <= 20 and suds[-1] >= 80
    keys = set(ladder.levels[0].params)
    assert keys and all(set(lv.params) == keys for lv in ladder.levels)
    for a, b in zip(ladder.levels, ladder.levels[1:], strict=False):
        assert a.params != b.params


def test_reading_a_ladder_opens_no_window_and_starts_no_panda_loop():
    code = (
        "import sys; from scenes.registry import default_ladder; "
        "l = default_ladder('spiders'); "
        "print(l.top, 'direct.showbase.ShowBase' in sys.modules, "
        "'builtins' in sys.modules and hasattr(sys.modules['builtins'], 'base'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["10", "False", "False"]


def test_unknown_scene_is_a_plain_key_error():
    with pytest.raises(KeyError, match="no scene named 'nope'"):
        default_ladder("nope")


def test_broken_scenes_are_reported_with_file_and_reason_and_skipped(tmp_path):
    lib = tmp_path / "lib"
    write_scene(lib, "good_one", GOOD)
    syntax = write_scene(lib, "syntax_error", GOOD.replace("def build(self):", "def build(self)"))
    raises = write_scene(lib, "raises", "import math\nraise RuntimeError('no assets here')\n")
    write_scene(lib, "no_apply", GOOD.replace("def apply", "def not_apply"))
    write_scene(lib, "dup_levels", GOOD.replace('f"step {n}"', '"same"'))
    write_scene(
        lib,
        "mixed_params",
        GOOD.replace("size=float(n))", "**({'size': 1.0} if n < 3 else {'speed': 2.0}))"),
    )
    write_scene(lib, "two_classes", GOOD + "\nclass Other(Good):\n    pass\n")
    (lib / "no_module").mkdir()
    write_scene(lib, "BadName", GOOD)

    found, problems = discover([lib])
    assert list(found) == ["good_one"]
    by_name = {p.name: p for p in problems}
    assert set(by_name) == {
        "syntax_error",
        "raises",
        "no_apply",
        "dup_levels",
        "mixed_params",
        "two_classes",
        "no_module",
        "BadName",
    }
    assert by_name["syntax_error"].path == syntax
    assert "syntax error on line" in by_name["syntax_error"].reason
    assert by_name["raises"].path == raises
    assert "RuntimeError: no assets here (line 2)" in by_name["raises"].reason
    assert "build() and apply()" in by_name["no_apply"].reason
    assert "appears twice" in by_name["dup_levels"].reason
    assert "same parameters as level 1" in by_name["mixed_params"].reason
    assert "exactly one Scene subclass" in by_name["two_classes"].reason
    assert "has no scene.py" in by_name["no_module"].reason
    assert "lower case" in by_name["BadName"].reason
    assert str(syntax) in str(by_name["syntax_error"])
    with pytest.raises(KeyError, match="is broken"):
        get("raises", [lib])


def test_scene_path_env_adds_a_library(tmp_path, monkeypatch):
    lib = tmp_path / "extra"
    write_scene(lib, "extra_scene", GOOD)
    monkeypatch.setenv("VRET_SCENE_PATH", str(lib))
    found, _ = discover()
    assert "extra_scene" in found and "spiders" in found
