"""The stage's asset hooks: a scene's ambient sound and models load from its folder at build."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.render

CODE = textwrap.dedent("""
    from scenes.registry import LIBRARY, discover
    from scenes.stage import Stage, configure, make_base

    configure("offscreen", (64, 48))
    base = make_base()
    stage = Stage(base)
    found, _ = discover([LIBRARY])
    scene = stage.build(found["safe_place"])
    print("sound", sorted(stage.sounds), scene.folder.name)
    stage.show("safe_place")
    try:
        scene.load_model("missing.bam")
    except FileNotFoundError as err:
        print("missing", "missing.bam" in str(err))
    spiders = stage.build(found["spiders"])
    stage.show("spiders")
    print("root", len(base.render.findAllMatches("scene-*;+s")), spiders.root.isStashed(),
          scene.root.isStashed())
""")


def test_ambient_sound_loads_at_build_and_scenes_swap_on_show():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "sound ['safe_place'] safe_place"
    assert lines[1] == "missing True"
    assert lines[2] == "root 2 False True"  # both built, only the one on show unstashed
