"""sRGB throughout on OpenGL: colours authored in sRGB come back on screen as authored (one
decode at build, one encode as pixels are written: no double gamma, nothing washed out or
dark), colour textures are sRGB and normal maps are not; software rendering is unchanged.

The OpenGL checks run on Mesa's llvmpipe through EGL (`p3headlessgl`), each in a fresh process
(one ShowBase per process); they skip where only software rendering exists.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import numpy as np
import pytest
from panda3d.core import GeomVertexReader, NodePath, Texture

from scenes import look
from scenes.geometry import Mesh
from scenes.render.config import LookSettings

SIZE = (64, 48)
BACKGROUND = (0.25, 0.5, 0.75)
GREY = (0.5, 0.5, 0.5)
FLAT = (0.2, 0.4, 0.6)
TEXELS = (180, 120, 60)
AMBIENT = (0.5, 0.5, 0.5)


def _bytes(colour: tuple[float, ...]) -> np.ndarray:
    return np.round(np.asarray(colour[:3]) * 255.0)


def _patches(base: Any) -> NodePath:
    """Four patches in a row facing the camera: vertex colour, flat colour, a texture (all
    unlit), and white lit by an ambient light; built as a scene builds them, then linearised."""
    from panda3d.core import AmbientLight, SamplerState

    root = base.render.attachNewNode("patches")
    quads = []
    for k in range(4):
        x0 = -2.0 + k
        colour = GREY if k == 0 else (1.0, 1.0, 1.0)
        quads.append(
            Mesh()
            .quad((x0, 6, -1), (x0 + 1, 6, -1), (x0 + 1, 6, 1), (x0, 6, 1), colour)
            .node(f"patch{k}", tile_m=None if k != 2 else 10.0)
        )
        quads[-1].reparentTo(root)
    for quad in quads[:3]:
        quad.setLightOff(1)
    quads[1].setColor(*FLAT, 1)
    tex = Texture("paint")
    tex.setup2dTexture(4, 4, Texture.T_unsigned_byte, Texture.F_rgb)
    tex.setRamImageAs(bytes(TEXELS[::-1]) * 16, "BGR")
    tex.setMinfilter(SamplerState.FT_nearest)
    tex.setMagfilter(SamplerState.FT_nearest)
    quads[2].setTexture(tex)
    ambient = AmbientLight("ambient")
    ambient.setColor((*AMBIENT, 1))
    root.setLight(root.attachNewNode(ambient))
    root.setShaderAuto()
    look.to_linear_light(root)
    return root


def _read(output: Any) -> np.ndarray:
    tex = output.getScreenshot() if hasattr(output, "getScreenshot") else output
    w, h = tex.getXSize(), tex.getYSize()
    rgb = np.frombuffer(bytes(tex.getRamImageAs("RGB")), np.uint8).reshape(h, w, 3)
    return rgb[::-1].astype(int)


def _centres(img: np.ndarray) -> list[list[int]]:
    h, w = img.shape[:2]
    # patch k spans x in [-2 + k, -1 + k] at 6 m; with an 80 degree lens each is ~w/10 wide
    xs = [int(w / 2 + (-1.5 + k) * w / (2 * 6 * np.tan(np.radians(40)))) for k in range(4)]
    return [img[h // 2, x].tolist() for x in xs] + [img[2, 2].tolist()]


def gl_child(conn: Any, settings: LookSettings | None, pipe: str = "egl") -> None:
    """In a fresh process on OpenGL through EGL: the patches on screen and in a thumbnail."""
    from scenes.stage import configure, make_base, renderer_name

    configure("offscreen", SIZE, pipe=pipe)
    base = make_base(settings)
    out: dict[str, Any] = {"renderer": renderer_name(base), "features": look.features()}
    fb = base.win.getFbProperties()
    out["fb"] = (fb.getSrgbColor(), fb.getMultisamples())
    if not out["features"].linear_light:
        conn.send(out)
        return
    base.camLens.setFov(80.0)
    base.win.setClearColor((*look.linear_colour(BACKGROUND), 1.0))
    root = _patches(base)
    detail, normal = look.material_textures("wood", size=16)
    out["formats"] = (detail.getFormat(), normal.getFormat())
    # a thumbnail buffer, as the render process makes one
    thumb = Texture("thumbnail")
    buf = base.win.makeTextureBuffer("thumbnail", *SIZE, thumb, True, look.buffer_properties())
    buf.setClearColor(base.win.getClearColor())
    cam = base.makeCamera(buf, lens=base.camLens)
    cam.reparentTo(base.camera)
    # an unconverted patch, below the others: what double gamma would look like
    raw = Mesh().quad((-0.5, 6, -2.2), (0.5, 6, -2.2), (0.5, 6, -1.4), (-0.5, 6, -1.4), GREY)
    raw_np = raw.node("raw")
    raw_np.reparentTo(root)
    raw_np.setLightOff(1)
    slanted = Mesh().quad((1.0, 6, -3), (2.5, 6, -3), (2.0, 6, -1.4), (1.6, 6, -1.4), FLAT)
    slanted.node("slanted").reparentTo(root)  # diagonal edges, for multisampling to smooth
    for _ in range(2):
        base.graphicsEngine.renderFrame()
    screen = _read(base.win)
    out["screen"] = _centres(screen)
    out["raw"] = screen[int(SIZE[1] * 0.5 + SIZE[1] * 0.28), SIZE[0] // 2].tolist()
    small = _read(thumb)
    out["thumbnail"] = _centres(small)
    out["thumbnail_colours"] = len(np.unique(small.reshape(-1, 3), axis=0))
    conn.send(out)


def _in_child(settings: LookSettings | None = None, pipe: str = "egl") -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=gl_child, args=(theirs, settings, pipe))
    proc.start()
    theirs.close()
    assert ours.poll(120), "the render process sent nothing"
    out: dict[str, Any] = ours.recv()
    proc.join(10)
    if pipe != "tiny" and "tiny" in out["renderer"].lower():
        pytest.skip("no OpenGL through EGL on this machine: only software rendering")
    return out


@pytest.mark.render
def test_on_opengl_colours_come_back_on_screen_as_they_were_authored():
    out = _in_child()
    assert out["features"].linear_light and out["features"].tier == "software-gl"
    assert out["fb"] == (True, 0)  # an sRGB framebuffer; llvmpipe gets no MSAA unasked
    vertex, flat, textured, lit, clear = out["screen"]
    assert np.abs(np.asarray(vertex) - 127).max() <= 1  # 0.5 stored as 127/255 in the mesh
    assert np.abs(np.asarray(flat) - _bytes(FLAT)).max() <= 1
    assert np.abs(np.asarray(textured) - np.asarray(TEXELS)).max() <= 1
    assert np.abs(np.asarray(clear) - _bytes(BACKGROUND)).max() <= 1
    # white under a 0.5 (sRGB) ambient light is 0.5 on screen: the light was linearised too
    assert np.abs(np.asarray(lit) - 128).max() <= 2
    # the same grey not converted comes out washed out: the framebuffer really encodes
    assert min(out["raw"]) >= 180


@pytest.mark.render
def test_the_thumbnail_buffer_is_srgb_too_and_matches_the_screen():
    out = _in_child()
    assert np.abs(np.asarray(out["thumbnail"]) - np.asarray(out["screen"])).max() <= 1


@pytest.mark.render
def test_on_opengl_colour_textures_are_srgb_and_normal_maps_are_not():
    out = _in_child()
    assert out["formats"] == (Texture.F_srgb, Texture.F_rgb)


@pytest.mark.render
def test_multisampling_when_asked_for_reopens_the_window_with_samples():
    out = _in_child(LookSettings(multisamples=4))
    assert out["features"].multisamples == 4 and out["fb"] == (True, 4)
    vertex, flat, textured, lit, clear = out["screen"]  # the colours still round-trip
    assert np.abs(np.asarray(flat) - _bytes(FLAT)).max() <= 1
    # llvmpipe's EGL window reports the samples but draws without them (a GPU's window does
    # not); its framebuffer objects do multisample: the thumbnail's slanted edges blend
    plain = _in_child()
    assert out["thumbnail_colours"] > plain["thumbnail_colours"] + 2


@pytest.mark.render
def test_software_rendering_opens_a_plain_window_whatever_is_asked():
    out = _in_child(LookSettings(shadows="on", multisamples=4), pipe="tiny")
    assert out["renderer"] == "TinyPanda"
    assert out["features"] == look.LookFeatures()  # the tuned fallback: gamma space
    assert out["fb"] == (False, 0)  # no sRGB framebuffer, no samples


def test_in_software_rendering_nothing_changes():
    assert look.features().tier == "software"  # no window in the test process: the default
    mesh = Mesh().quad((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), GREY)
    node = mesh.node("grey")
    node.setColorScale(0.5, 0.5, 0.5, 1)
    assert look.to_linear_light(node) == []
    reader = GeomVertexReader(node.node().getGeom(0).getVertexData(), "color")
    assert reader.getData4()[0] == pytest.approx(127 / 255)
    assert tuple(node.getColorScale()) == (0.5, 0.5, 0.5, 1)
    assert look.linear_colour((0.5, 0.25, 0.1)) == (0.5, 0.25, 0.1)
    assert look.buffer_properties() is None  # Panda3D's default buffers, as before
    detail, normal = look.material_textures("plaster", size=16)
    assert detail.getFormat() == normal.getFormat() == Texture.F_rgb


def test_srgb_and_linear_are_inverse_and_match_the_standard():
    for v in np.linspace(0.0, 1.0, 101):
        assert look.linear_to_srgb(look.srgb_to_linear(v)) == pytest.approx(v, abs=1e-9)
    assert look.srgb_to_linear(0.5) == pytest.approx(0.21404, abs=1e-5)  # IEC 61966-2-1
    assert look.srgb_to_linear(0.04) == pytest.approx(0.04 / 12.92)
    assert look.srgb_to_linear(1.0) == pytest.approx(1.0)


def test_on_opengl_a_scene_is_linearised_once(monkeypatch):
    """Every kind of colour a scene sets, converted once, however often it is walked; a light
    the scene dims again each frame (in sRGB) is converted again."""
    from panda3d.core import AmbientLight, Fog, TextNode

    monkeypatch.setattr(look, "_features", look.LookFeatures(linear_light=True))
    root = NodePath("scene")
    mesh = Mesh().quad((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), GREY).node("grey")
    mesh.reparentTo(root)
    twin = mesh.copyTo(root)  # shares its Geom: converted once per node, not twice per Geom
    flat = root.attachNewNode("flat")
    flat.setColor(*FLAT, 1)
    tint = root.attachNewNode("tint")
    tint.setColorScale(0.5, 0.5, 0.5, 1)
    light = AmbientLight("house")
    light.setColor((0.5, 0.5, 0.5, 1))
    root.setLight(root.attachNewNode(light))
    fog = Fog("haze")
    fog.setColor(0.5, 0.5, 0.5)
    root.setFog(fog)
    label = TextNode("label")
    label.setTextColor(0.5, 0.5, 0.5, 1)
    root.attachNewNode(label)
    normal = Texture("bumps")
    normal.setup2dTexture(2, 2, Texture.T_unsigned_byte, Texture.F_rgb)
    from panda3d.core import TextureStage

    stage = TextureStage("normal")
    stage.setMode(TextureStage.M_normal)
    mesh.setTexture(stage, normal)
    lights = look.to_linear_light(root)
    again = look.to_linear_light(root)  # a second walk changes nothing
    half = look.srgb_to_linear(0.5)
    for node in (mesh, twin):
        reader = GeomVertexReader(node.node().getGeom(0).getVertexData(), "color")
        assert reader.getData4()[0] == pytest.approx(look.srgb_to_linear(127 / 255), abs=1e-6)
    assert flat.getColor()[0] == pytest.approx(look.srgb_to_linear(0.2), abs=1e-3)  # 1/1024
    assert tint.getColorScale()[0] == pytest.approx(half, abs=1e-3)
    assert tint.getColorScale()[3] == 1.0  # alpha is not a colour
    assert light.getColor()[0] == pytest.approx(half, abs=1e-6)
    assert fog.getColor()[0] == pytest.approx(half, abs=1e-6)
    assert label.getTextColor()[0] == pytest.approx(half, abs=1e-6)
    assert normal.getFormat() == Texture.F_rgb  # data, not colour
    assert again == []
    assert [entry[0] for entry in lights] == [light]
    light.setColor((0.5, 0.5, 0.5, 1))  # the scene's apply dims it again, in sRGB
    look.keep_lights_linear(lights)
    assert light.getColor()[0] == pytest.approx(half, abs=1e-6)
    look.keep_lights_linear(lights)  # and leaves it alone when it did not change
    assert light.getColor()[0] == pytest.approx(half, abs=1e-6)


def test_a_texture_put_on_in_apply_is_marked_srgb_by_its_scene(monkeypatch):
    """The build's walk never sees a texture a scene sets later (a 360-degree scene's levels):
    `srgb_texture` marks it, and only where light is linear and its texels are colour bytes."""
    photo = Texture("photo")
    photo.setup2dTexture(2, 2, Texture.T_unsigned_byte, Texture.F_rgba)
    assert look.srgb_texture(photo).getFormat() == Texture.F_rgba  # software: as it was
    monkeypatch.setattr(look, "_features", look.LookFeatures(linear_light=True))
    assert look.srgb_texture(photo).getFormat() == Texture.F_srgb_alpha
    hdr = Texture("hdr")
    hdr.setup2dTexture(2, 2, Texture.T_float, Texture.F_rgb)
    assert look.srgb_texture(hdr).getFormat() == Texture.F_rgb  # float texels are linear


def _client_view_sky(pipe: str) -> tuple[str, np.ndarray]:
    """The render process on `pipe` showing the safe place: its renderer and the mean colour
    of the top rows of a client's-view thumbnail (the sky dome: unlit, unfogged)."""
    import time

    from scenes.render import start_render
    from scenes.render.messages import Thumbnail

    handle = start_render(
        size=(64, 48),
        frame_rate=30.0,
        thumbnail_hz=10.0,
        thumbnail_size=(64, 48),
        scenes=["safe_place"],
        pipe=pipe,
        coach="off",
    )
    try:
        ready = handle.wait_ready()
        start = time.monotonic()
        thumbnails: list[Thumbnail] = []
        while time.monotonic() - start < 30.0 and len(thumbnails) < 3:
            handle.send_target("safe_place", 1.0)
            for msg in handle.poll():
                if isinstance(msg, Thumbnail) and time.monotonic() - start > 1.5:
                    thumbnails.append(msg)  # after the first fade in
            time.sleep(0.03)
        assert thumbnails, "the render process sent no thumbnail"
        t = thumbnails[-1]
        img = np.frombuffer(t.rgb, np.uint8).reshape(t.height, t.width, 3)
        return ready.renderer, img[:4].reshape(-1, 3).mean(axis=0)
    finally:
        handle.stop()


@pytest.mark.render
def test_the_render_process_shows_the_sky_as_authored_on_opengl_and_in_software():
    """End to end: the sky dome's colours, unlit, come back the same from both renderers (a
    double gamma would lift them by ~60 levels, a missing encode drop them as much); they may
    differ a little as the gradient is interpolated in linear light on OpenGL."""
    _, software = _client_view_sky("tiny")
    renderer, opengl = _client_view_sky("egl")
    if "tiny" in renderer.lower():
        pytest.skip("no OpenGL through EGL on this machine: only software rendering")
    assert np.abs(opengl - software).max() < 16, (opengl, software)


def test_gltf_models_are_left_alone_their_colours_are_linear_already(monkeypatch):
    from panda3d.core import Filename, ModelRoot

    monkeypatch.setattr(look, "_features", look.LookFeatures(linear_light=True))
    root = NodePath("scene")
    for path in ("mug.glb", "chair.bam"):
        model = ModelRoot(path)
        model.setFullpath(Filename(path))
        grey = Mesh().quad((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), GREY).node("grey")
        grey.reparentTo(root.attachNewNode(model))
    look.to_linear_light(root)
    glb, bam = (root.find(f"{name}/grey") for name in ("mug.glb", "chair.bam"))
    for node, expected in ((glb, 127 / 255), (bam, look.srgb_to_linear(127 / 255))):
        reader = GeomVertexReader(node.node().getGeom(0).getVertexData(), "color")
        assert reader.getData4()[0] == pytest.approx(expected, abs=1e-6)
