"""Real assets: scenes load glTF 2.0 and .bam models, and every asset file has a line in the
scene's assets.toml (file, source, author, licence), or `vret scenes check` fails."""

from __future__ import annotations

import base64
import json
import struct
import textwrap
from pathlib import Path

import pytest

from scenes.assets import asset_files, asset_problems, read_assets
from scenes.checks import check_scenes, load_rgb, render_in_subprocess
from scenes.registry import LIBRARY, discover
from tests.scenes.conftest import write_scene
from vret.cli import main

LINE = '[[asset]]\nfile = "{file}"\nsource = "made by the test"\nauthor = "vret tests"\nlicence = "MIT"\n'

MODEL_SCENE = textwrap.dedent("""
    from panda3d.core import AmbientLight, DirectionalLight
    from scenes.api import Scene, level

    class Props(Scene):
        phobia = "test phobia"
        description = "A model from a file comes closer."
        background = (0.1, 0.1, 0.12)
        levels = [level(f"step {n}", suds=n * 10, distance=6.0 - n * 0.6) for n in range(1, 9)]

        def build(self):
            self.model = self.load_model("MODEL")
            self.model.reparentTo(self.root)
            sun = self.root.attachNewNode(DirectionalLight("sun"))
            sun.setHpr(30, -50, 0)
            amb = self.root.attachNewNode(AmbientLight("amb"))
            amb.node().setColor((0.4, 0.4, 0.4, 1))
            self.root.setLight(sun)
            self.root.setLight(amb)

        def apply(self, intensity, dt):
            self.model.setPos(0, self.params(intensity)["distance"], 1.0)
""")


def box_gltf(path: Path, size: float = 0.8, color=(0.85, 0.25, 0.2, 1.0)) -> Path:
    """A real glTF 2.0 file: a box, its buffer embedded, a base colour material."""
    h = size / 2
    corners = [(x, y, z) for z in (-h, h) for y in (-h, h) for x in (-h, h)]
    quads = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
    tris = [i for a, b, c, d in quads for i in (a, b, c, a, c, d)]
    data = b"".join(struct.pack("<3f", *p) for p in corners)
    data += struct.pack(f"<{len(tris)}H", *tris)
    gltf = {
        "asset": {"version": "2.0", "generator": "vret tests"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "box"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": list(color)}}],
        "buffers": [
            {
                "byteLength": len(data),
                "uri": "data:application/octet-stream;base64," + base64.b64encode(data).decode(),
            }
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 96},
            {"buffer": 0, "byteOffset": 96, "byteLength": len(tris) * 2},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 8,
                "type": "VEC3",
                "min": [-h, -h, -h],
                "max": [h, h, h],
            },
            {"bufferView": 1, "componentType": 5123, "count": len(tris), "type": "SCALAR"},
        ],
    }
    path.write_text(json.dumps(gltf))
    return path


def bam_model(path: Path) -> Path:
    """A .bam file written by Panda3D from a procedural mesh."""
    from scenes.geometry import Mesh

    Mesh().box((0, 0, 0), (0.8, 0.8, 0.8), (0.2, 0.4, 0.85)).node("box").writeBamFile(str(path))
    return path


@pytest.fixture
def lib(tmp_path):
    return tmp_path / "lib"


@pytest.mark.render
@pytest.mark.parametrize("kind", ["gltf", "bam"])
def test_a_scene_loads_a_declared_model_and_its_levels_render_it(lib, kind):
    folder = write_scene(lib, "props", MODEL_SCENE.replace("MODEL", f"box.{kind}")).parent
    (box_gltf if kind == "gltf" else bam_model)(folder / f"box.{kind}")
    (folder / "assets.toml").write_text(LINE.format(file=f"box.{kind}"))
    found, problems = discover([lib])
    assert not problems
    report = check_scenes([found["props"]], size=(96, 72), dirs=[lib])
    assert report["props"][0] == []  # rendered, not blank, each level different
    paths = render_in_subprocess(["props"], (96, 72), lib / "out", dirs=[lib])["props"]
    img = load_rgb(paths[-1])  # the nearest level: the box fills the middle of the view
    middle = img[30:42, 42:54].reshape(-1, 3).mean(axis=0)
    corner = img[:6, :6].reshape(-1, 3).mean(axis=0)  # the background
    # the model's own colour: the glTF box is red, the .bam box blue; the background grey-blue
    if kind == "gltf":
        assert middle[0] > middle[2] + 15 and corner[0] < corner[2]
    else:
        assert middle[2] > middle[0] + 40


def test_an_asset_without_a_line_fails_the_check(lib, capsys, monkeypatch):
    folder = write_scene(lib, "props", MODEL_SCENE.replace("MODEL", "box.gltf")).parent
    box_gltf(folder / "box.gltf")
    found, _ = discover([lib])
    errors, _ = check_scenes([found["props"]], render=False)["props"]
    assert errors == [
        "box.gltf has no line in assets.toml (file, source, author, licence): add one"
    ]
    monkeypatch.setenv("VRET_SCENE_PATH", str(lib))
    assert main(["scenes", "check", "props", "--no-render"]) == 1
    out = capsys.readouterr().out
    assert "props: FAIL" in out and "box.gltf has no line in assets.toml" in out
    (folder / "assets.toml").write_text(LINE.format(file="box.gltf"))
    assert main(["scenes", "check", "props", "--no-render"]) == 0


def test_a_line_needs_all_four_fields(tmp_path):
    (tmp_path / "tree.glb").write_bytes(b"glTF")
    (tmp_path / "assets.toml").write_text('[[asset]]\nfile = "tree.glb"\nsource = "me"\n')
    assert asset_problems(tmp_path) == ["assets.toml: tree.glb has no author, licence: add it"]


def test_a_line_for_a_file_that_is_gone_is_reported(tmp_path):
    (tmp_path / "assets.toml").write_text(LINE.format(file="gone.wav"))
    assert asset_problems(tmp_path) == ["assets.toml lists gone.wav, which is not in the folder"]


def test_a_broken_assets_file_is_one_sentence(tmp_path):
    (tmp_path / "assets.toml").write_text("[[asset]\nfile = ")
    problems = asset_problems(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("assets.toml is not valid TOML")
    (tmp_path / "assets.toml").write_text('asset = "one"\n')
    assert asset_problems(tmp_path) == ["assets.toml: write each asset as an [[asset]] table"]


def test_assets_are_models_pictures_sounds_and_videos_not_code(tmp_path):
    for name in ("scene.py", "notes.md", "assets.toml", "m.glb", "sub/t.png", "a.wav", "v.mp4"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.png").write_bytes(b"x")
    assert asset_files(tmp_path) == ["a.wav", "m.glb", "sub/t.png", "v.mp4"]


def test_every_built_in_scene_declares_its_assets():
    for folder in sorted(p for p in LIBRARY.iterdir() if (p / "scene.py").is_file()):
        assert asset_problems(folder) == [], folder.name
    assets, problems, _ = read_assets(LIBRARY / "safe_place")
    assert [a.file for a in assets] == ["lake.wav"] and not problems
