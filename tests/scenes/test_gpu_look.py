"""The look's features: what each renderer gets (sRGB, shadows, multisampling), decided in one
pure function, and the key light's shadow set-up (which only a GPU draws)."""

from __future__ import annotations

import math

import pytest
from panda3d.core import AmbientLight, DirectionalLight, NodePath, Point3

from scenes import look
from scenes.geometry import Mesh
from scenes.render.config import (
    MULTISAMPLES,
    SHADOW_MAP_PX,
    LookFeatures,
    LookSettings,
    LookSettingsError,
    RenderConfig,
    is_software_gl,
    look_features,
    look_settings_from,
)

LLVMPIPE = "llvmpipe (LLVM 15.0.6, 256 bits)"
NVIDIA = "NVIDIA H200/PCIe/SSE2"
SOFTWARE_GL = (
    LLVMPIPE,
    "softpipe",
    "Mesa X11 swrast",
    "llvmpipe (LLVM 17.0.6, 256 bits)",
    "GDI Generic",
    "",
)
GPUS = (
    NVIDIA,
    "AMD Radeon RX 7900 XTX (radeonsi, navi31, LLVM 17.0.6, DRM 3.54, 6.5.0)",
    "Mesa Intel(R) UHD Graphics 630 (CFL GT2)",
    "Apple M2",
)


def test_software_rendering_keeps_the_tuned_fallback_whatever_is_asked():
    for settings in (None, LookSettings(shadows="on", multisamples=8)):
        assert look_features("tiny", "TinyPanda", settings) == LookFeatures()
    assert look_features("egl", "TinyPanda") == LookFeatures()  # an OpenGL pipe that fell back
    assert LookFeatures().tier == "software" and not LookFeatures().linear_light


@pytest.mark.parametrize("renderer", SOFTWARE_GL)
def test_opengl_on_the_cpu_gets_srgb_but_never_shadows_or_msaa_by_default(renderer):
    assert is_software_gl(renderer) or renderer == ""
    for pipe in ("egl", "gl"):
        features = look_features(pipe, renderer)
        assert features.linear_light and features.tier == "software-gl"
        assert not features.shadows and features.shadow_map_px == 0
        assert features.multisamples == 0
    # asked for shadows: still refused (llvmpipe draws no shadow)
    assert not look_features("egl", renderer, LookSettings(shadows="on")).shadows
    # multisampling only when asked for by number
    assert look_features("egl", renderer, LookSettings(multisamples=4)).multisamples == 4


@pytest.mark.parametrize("renderer", GPUS)
def test_a_gpu_gets_srgb_soft_shadows_and_multisampling(renderer):
    assert not is_software_gl(renderer)
    features = look_features("gl", renderer)
    assert features == LookFeatures(
        linear_light=True,
        shadows=True,
        shadow_map_px=SHADOW_MAP_PX,
        multisamples=MULTISAMPLES,
        tier="gpu",
    )
    assert look_features("egl", renderer) == features  # a headless GPU too


def test_a_station_can_turn_shadows_and_multisampling_off_on_a_gpu():
    features = look_features("gl", NVIDIA, LookSettings(shadows="off", multisamples=0))
    assert features.linear_light and not features.shadows and features.shadow_map_px == 0
    assert features.multisamples == 0
    assert look_features("gl", NVIDIA, LookSettings(multisamples=8)).multisamples == 8


def test_look_settings_refuse_what_they_cannot_mean():
    with pytest.raises(ValueError, match="unknown shadows setting 'soft'"):
        LookSettings(shadows="soft")
    with pytest.raises(ValueError, match="multisamples must be 0 to 16"):
        LookSettings(multisamples=32)
    assert RenderConfig().look == LookSettings()  # auto unless a station says otherwise


def test_a_station_overrides_the_look_with_vret_look():
    assert look_settings_from(None) == LookSettings()
    assert look_settings_from("  ") == LookSettings()
    assert look_settings_from("shadows=off multisamples=0") == LookSettings("off", 0)
    assert look_settings_from("MSAA=8,shadows=ON") == LookSettings("on", 8)
    # what it does not say keeps the station's own setting
    assert look_settings_from("msaa=2", LookSettings(shadows="off")) == LookSettings("off", 2)
    assert look_settings_from("detail=FULL").detail == "full"  # a study: always as authored
    assert look_settings_from("msaa=2", LookSettings(detail="full")).detail == "full"
    assert LookSettings().detail == "adaptive"
    off = look_features("gl", NVIDIA, look_settings_from("shadows=off msaa=0"))
    assert not off.shadows and off.multisamples == 0 and off.linear_light


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("shadows=soft", "VRET_LOOK: unknown shadows setting 'soft': use one of auto, on, off."),
        ("msaa=four", "VRET_LOOK: multisamples must be a whole number, not 'four'"),
        ("msaa=64", "VRET_LOOK: multisamples must be 0 to 16, not 64."),
        ("bloom=on", "VRET_LOOK: unknown setting 'bloom=on': use shadows=auto|on|off"),
        ("detail=low", "VRET_LOOK: unknown detail setting 'low': use one of adaptive, full."),
    ],
)
def test_a_vret_look_that_cannot_be_read_is_one_sentence_with_the_fix(text, says):
    with pytest.raises(LookSettingsError) as err:
        look_settings_from(text)
    assert str(err.value).startswith(says)
    assert isinstance(err.value, ValueError)  # the render process reports it as it starts


@pytest.mark.render
def test_the_render_process_reports_a_bad_vret_look_instead_of_starting(monkeypatch):
    from scenes.render import RenderError, start_render

    monkeypatch.setenv("VRET_LOOK", "shadows=maybe")
    handle = start_render(size=(32, 24), thumbnail_hz=0, scenes=["safe_place"], coach="off")
    try:
        with pytest.raises(RenderError, match="VRET_LOOK: unknown shadows setting 'maybe'"):
            handle.wait_ready()
    finally:
        handle.stop()


def _room() -> tuple[NodePath, NodePath, NodePath, NodePath]:
    root = NodePath("scene")
    viewpoint = root.attachNewNode("viewpoint")
    viewpoint.setPos(3.0, 4.0, 0.0)
    Mesh().quad((-5, -5, 0), (5, -5, 0), (5, 5, 0), (-5, 5, 0), (0.5, 0.5, 0.5)).node(
        "floor"
    ).reparentTo(root)
    window = DirectionalLight("window-light")
    window.setColor((0.6, 0.56, 0.48, 1))
    window_np = root.attachNewNode(window)
    window_np.setHpr(30, -45, 0)
    fill = DirectionalLight("fill")
    fill.setColor((0.2, 0.2, 0.2, 1))
    fill_np = root.attachNewNode(fill)
    root.attachNewNode(AmbientLight("ambient"))
    return root, viewpoint, window_np, fill_np


def test_the_key_light_casts_shadows_only_where_the_features_allow(monkeypatch):
    root, viewpoint, window, fill = _room()
    assert look.cast_shadows(root, viewpoint) is None  # software: the default here
    assert not window.node().isShadowCaster()
    monkeypatch.setattr(look, "_features", look_features("gl", NVIDIA))
    key = look.cast_shadows(root, viewpoint)
    assert key == window  # the brightest directional light
    assert window.node().isShadowCaster() and not fill.node().isShadowCaster()
    size = window.node().getShadowBufferSize()
    assert (size[0], size[1]) == (SHADOW_MAP_PX, SHADOW_MAP_PX)


def test_the_shadow_camera_looks_along_the_light_at_the_clients_seat():
    root, viewpoint, window, _fill = _room()
    before = window.getQuat(root)
    look.place_shadow_camera(window, viewpoint, 12.0)
    assert window.getQuat(root).almostEqual(before)  # the light still shines the same way
    lens = window.node().getLens()
    film = lens.getFilmSize()
    assert (film[0], film[1]) == pytest.approx((24.0, 24.0))
    # the seat is in the middle of the shadow map and inside its depth range
    seat = window.getRelativePoint(viewpoint, Point3(0, 0, 0))
    projected = Point3()
    assert lens.project(seat, projected)
    assert (projected[0], projected[1]) == pytest.approx((0.0, 0.0), abs=1e-4)
    # and a point 11 m away on the floor is still on the map
    edge = window.getRelativePoint(root, Point3(3.0 + 11.0 / math.sqrt(2), 4.0, 0.0))
    assert lens.project(edge, projected)
