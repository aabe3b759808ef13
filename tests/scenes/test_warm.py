"""Warming a scene: drawn once at every level before anything is on show, then left as built.

Whether the first frame of a scene on show is as quick as the others is a figure of `make bench`
(`switch max` in the frame-pacing table), not a timed test. What is tested here is what makes it
so and what must not change: every texture of the scene is made ready for the renderer, every
level is applied (so a level that raises, raises at start), the scene's own numbers and sounds
are as they were, and the view is left as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.scenes.conftest import write_scene

pytestmark = pytest.mark.render

COUNTING = """
from panda3d.core import Texture

from scenes.api import Scene, level
from scenes.geometry import Mesh


def painted(node, name):
    texture = Texture(name)
    texture.setup2dTexture(4, 4, Texture.T_unsigned_byte, Texture.F_rgb)
    texture.setRamImage(bytes(range(48)))
    node.setTexture(texture)
    return node


class Counting(Scene):
    phobia = "test"
    description = "Records the intensities it is drawn at; knocks (a one-shot sound) each time."
    levels = [level(f"step {n}", size=float(n)) for n in range(1, 4)]
    detail_steps = 2

    def build(self):
        front = Mesh().box((0, 3, 1.5), (1, 1, 1), (0.9, 0.2, 0.2)).node("front")
        painted(front, "front").reparentTo(self.root)
        # behind the client: out of view from the viewpoint, drawn when they turn round
        behind = Mesh().box((0, -3, 1.5), (1, 1, 1), (0.2, 0.2, 0.9)).node("behind")
        painted(behind, "behind").reparentTo(self.root)
        self.knock = self.spatial_sound("door", self.root, volume=0.0)
        self.drawn = []
        self.details = []
        self.last = -1.0

    def set_detail(self, step):
        super().set_detail(step)
        self.details.append(step)

    def apply(self, intensity, dt):
        self.drawn.append((intensity, self.detail))
        self.last = intensity
        self.knock.trigger()
"""

CODE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from scenes.registry import LIBRARY, discover
    from scenes.stage import Stage, configure, make_base

    configure("offscreen", (64, 48))
    base = make_base()
    stage = Stage(base)
    found, _ = discover([LIBRARY, Path(sys.argv[1])])
    gsg = base.win.getGsg()
    out = {}
    for name in ("spiders", "counting", "safe_place"):
        scene = stage.build(found[name])
        textures = scene.root.findAllTextures()
        before = sum(t.isPrepared(gsg.getPreparedObjects()) for t in textures)
        rig_parent = stage.rig.getParent()
        stage.warm(name)
        out[name] = {
            "textures": len(textures),
            "prepared_before": before,
            "prepared_after": sum(t.isPrepared(gsg.getPreparedObjects()) for t in textures),
            "stashed": scene.root.isStashed(),
            "colour_scale": scene.root.hasColorScale(),
            "time": scene.time,
            "rig_parent_kept": stage.rig.getParent() == rig_parent,
            "camera_kept": base.camNode.getDisplayRegion(0).getCamera() == base.cam,
        }
    counting = stage.scenes["counting"]
    knock = counting.knock
    out["counting"].update(
        drawn=counting.drawn,
        details=counting.details,
        detail=counting.detail,
        last=counting.last,
        knocks=knock.triggers,
        knocks_played=stage.soundscape._played.get(id(knock)),
    )
    stage.show("safe_place")
    try:
        stage.warm("spiders")
    except RuntimeError as err:
        out["on_show"] = str(err)
    print(json.dumps(out))
""")


def test_warm_draws_every_level_and_leaves_the_scene_as_built(tmp_path: Path) -> None:
    write_scene(tmp_path, "counting", COUNTING)
    r = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    spiders = out["spiders"]
    # every texture (wood, fur, ...) was converted for the renderer before the first frame,
    # those out of the client's view too
    assert spiders["textures"] > 0 and spiders["prepared_before"] == 0
    assert spiders["prepared_after"] == spiders["textures"]
    for name in ("spiders", "counting", "safe_place"):
        got = out[name]
        assert got["stashed"] and not got["colour_scale"], name  # hidden, not left black
        assert got["time"] == 0.0, name  # scene time starts at its first show, as before
        assert got["rig_parent_kept"] and got["camera_kept"], name
    counting = out["counting"]
    # the box behind the client's back too: the warm-up culls nothing
    assert counting["textures"] == 2 and counting["prepared_after"] == 2
    # each cheaper detail at the top level, then each level as authored, the top first
    assert counting["drawn"] == [[3.0, 2], [3.0, 1], [3.0, 0], [2.0, 0], [1.0, 0], [0.0, 0]]
    assert counting["details"] == [2, 1, 0] and counting["detail"] == 0  # left as authored
    assert counting["last"] == -1.0  # its own numbers are as built
    # the knocks made while warming count as played: none sounds when it comes on show
    assert counting["knocks"] == 6 and counting["knocks_played"] == 6
    assert "before any is on show" in out["on_show"]
