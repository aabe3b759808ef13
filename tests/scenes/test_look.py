"""The look: textured, shaded scenes (not flat boxes), a sky, and the close-up inset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from panda3d.core import NodePath, TextureStage

from scenes.checks import flat_share, load_rgb, render_in_subprocess
from scenes.geometry import Mesh
from scenes.look import Look, apply_look, bake_sunlight, material_textures, sky_dome, textured
from scenes.registry import LIBRARY
from tests.scenes.conftest import BUILT_IN, from_fresh_process


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def test_a_textured_mesh_gets_texture_coordinates_in_metres():
    mesh = Mesh().quad((0, 0, 0), (2, 0, 0), (2, 0, 1), (0, 0, 1), (1, 1, 1))  # a wall
    node = textured(mesh, "plaster", 0.5)
    vdata = node.node().getGeom(0).getVertexData()
    assert vdata.hasColumn("texcoord")
    from panda3d.core import GeomVertexReader

    reader = GeomVertexReader(vdata, "texcoord")
    uvs = []
    while not reader.isAtEnd():
        uv = reader.getData2f()
        uvs.append((round(uv[0], 3), round(uv[1], 3)))
    assert sorted(uvs) == [(0, 0), (0, 2), (4, 0), (4, 2)]  # 2 m x 1 m at 0.5 m a repeat
    assert node.getTexture(TextureStage.getDefault()).getName() == "plaster-detail"


def test_material_textures_are_loaded_once_per_process():
    assert material_textures("wood") is material_textures("wood")
    assert material_textures("wood", params={"planks": 4.0}) is not material_textures("wood")


def test_the_sky_is_a_gradient_behind_everything_and_unlit():
    sky = sky_dome((0.2, 0.4, 0.9), (0.8, 0.85, 0.9), (0.4, 0.4, 0.4))
    assert sky.getBinName() == "background"
    assert sky.hasLightOff() and sky.hasFogOff()
    root = NodePath("scene")
    apply_look(root, Look(fog_density=0.01, sky=((0.2, 0.4, 0.9), (0.8, 0.8, 0.9), (0, 0, 0))))
    assert root.find("sky") and root.getFog() is not None
    bare = NodePath("room")
    apply_look(bare, Look())
    assert not bare.find("sky") and bare.getFog() is None


@pytest.mark.render
def test_no_built_in_scene_is_flat_boxes_any_more(tmp_path):
    """The issue's measure: 90 to 99 % of pixels had their neighbours' exact colour."""
    result = render_in_subprocess(list(BUILT_IN), (640, 480), tmp_path, dirs=[LIBRARY])
    for name in BUILT_IN:
        paths = result[name]
        assert not isinstance(paths, str), paths
        shares = [flat_share(load_rgb(p)) for p in paths]
        assert np.mean(shares) < 0.6, f"{name}: {np.mean(shares):.0%} of pixels are flat"


def test_flat_share_tells_a_flat_picture_from_a_textured_one():
    flat = np.zeros((20, 20, 3), np.uint8)
    assert flat_share(flat) == 1.0
    noisy = np.random.default_rng(2).integers(0, 255, (20, 20, 3), dtype=np.uint8)
    assert flat_share(noisy) < 0.01


@pytest.mark.render
def test_the_preview_inset_shows_the_stimulus_close_up(tmp_path):
    plain = render_in_subprocess(["spiders"], (160, 120), tmp_path / "a", dirs=[LIBRARY])
    inset = render_in_subprocess(
        ["spiders"], (160, 120), tmp_path / "b", dirs=[LIBRARY], inset=True
    )
    a, b = load_rgb(plain["spiders"][0]), load_rgb(inset["spiders"][0])
    # the lower right corner (a third of each side) holds the close-up, framed in light grey
    h, w = a.shape[:2]
    corner = (slice(int(h * 0.63), h), slice(int(w * 0.64), w))
    outside = (slice(0, int(h * 0.55)), slice(0, int(w * 0.6)))
    assert np.array_equal(a[outside], b[outside])
    assert (np.abs(a[corner].astype(int) - b[corner]).max(axis=2) > 12).mean() > 0.5
    # a scene with no stimulus (the safe place) gets no inset
    calm = render_in_subprocess(
        ["safe_place"], (160, 120), tmp_path / "c", dirs=[LIBRARY], inset=True
    )
    calm_plain = render_in_subprocess(["safe_place"], (160, 120), tmp_path / "d", dirs=[LIBRARY])
    assert np.array_equal(load_rgb(calm["safe_place"][0]), load_rgb(calm_plain["safe_place"][0]))


def test_software_rendering_lights_a_static_mesh_once_in_its_vertex_colours():
    floor = Mesh().quad((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0.5, 0.5, 0.5))
    shade = Mesh().quad((0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0), (0.5, 0.5, 0.5))  # faces down
    ambient, sun = (0.4, 0.4, 0.4), (0.8, 0.6, 0.4)
    assert bake_sunlight(floor, ambient, sun, (0.0, -30.0, 0.0))  # no shaders here: baked
    assert bake_sunlight(shade, ambient, sun, (0.0, -30.0, 0.0))
    lit = 0.5  # the sun 30 degrees up lights a floor by sin(30)
    assert floor.verts[0][2] == pytest.approx(
        (0.5 * (0.4 + 0.8 * lit), 0.5 * (0.4 + 0.6 * lit), 0.5 * (0.4 + 0.4 * lit), 1.0)
    )
    assert shade.verts[0][2] == pytest.approx((0.2, 0.2, 0.2, 1.0))  # the sky light only


def gl_child() -> dict[str, Any]:
    """In a fresh process on OpenGL through EGL (Mesa llvmpipe here): the spiders' look."""
    from panda3d.core import ShaderAttrib

    from scenes.look import shaders_available
    from scenes.preview import screenshot_rgb
    from scenes.registry import discover
    from scenes.stage import Stage, configure, make_base

    configure("offscreen", (96, 72), pipe="egl")
    base = make_base()
    out = {"renderer": base.win.getGsg().getDriverRenderer(), "shaders": shaders_available()}
    stage = Stage(base)
    scene = stage.build(discover([LIBRARY])[0]["spiders"])
    stage.show("spiders")
    stage.frame(10.0, 0.5)
    base.graphicsEngine.renderFrame()
    base.graphicsEngine.renderFrame()
    out["shader_auto"] = scene.root.hasAttrib(ShaderAttrib)
    stages = [ts.getName() for ts in scene.root.find("**/wood").findAllTextureStages()]
    out["stages"] = stages
    out["image"] = screenshot_rgb(base)
    return out


@pytest.mark.render
def test_on_opengl_the_shader_generator_lights_every_pixel_with_normal_maps():
    out = from_fresh_process(gl_child, what="OpenGL render process")
    if "tiny" in out["renderer"].lower():
        pytest.skip("no OpenGL through EGL on this machine: only software rendering")
    assert out["shaders"] and out["shader_auto"]
    assert out["stages"] == ["default", "normal"]  # the detail map and its normal map
    w, h, rgb = out["image"]
    img = np.frombuffer(rgb, np.uint8).reshape(h, w, 3)
    assert flat_share(img) < 0.5 and img.std() > 10
