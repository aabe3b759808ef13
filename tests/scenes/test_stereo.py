"""Stereo 360-degree files: each eye of a stereo display sees its own half, a mono view the left.

The files are made here (numpy, ffmpeg): a top-bottom picture, a side-by-side picture, a
top-bottom video of a size that is no power of two (a software renderer pads it) and a mono
picture, every half a different pattern of four coloured quarters. They are rendered three
ways, each in a fresh process: the preview camera (mono); a Panda3D stereo display region, as
a stereo window has, with each eye in its half of an offscreen buffer; and the OpenVR display
itself with the stand-in SteamVR module (tests/scenes/standin_openvr.py), whose two eye
textures are read back (this one needs OpenGL through EGL and skips without it)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenes.pano import stereo_layout
from scenes.registry import discover
from tests.scenes.test_pano import write_clip
from vret.cli import main

pytestmark = pytest.mark.render

EYE_W, EYE_H = 192, 96  # each eye's picture: equirectangular, 2:1
FRAMES = 24  # the test_pano clips' two seconds at 12 frames a second
LENGTH_S = 2.0
RED, GREEN, BLUE, YELLOW = (220, 40, 40), (40, 200, 40), (40, 60, 220), (230, 220, 40)
MAGENTA, CYAN, GREY, ORANGE = (200, 40, 200), (40, 200, 210), (128, 128, 128), (240, 140, 30)

# what each half shows on either side of straight ahead: (left of centre, right of centre)
TB_TOP, TB_BOTTOM = (BLUE, GREEN, RED, YELLOW), (GREY, MAGENTA, CYAN, ORANGE)
SBS_LEFT, SBS_RIGHT = (RED, YELLOW, BLUE, GREEN), (ORANGE, CYAN, MAGENTA, GREY)
VIDEO_TOP, VIDEO_BOTTOM = (YELLOW, RED, GREEN, BLUE), (CYAN, ORANGE, GREY, MAGENTA)
MONO = (MAGENTA, GREY, CYAN, RED)
SHOTS = [(1.0, 0.0), (2.0, 0.0), (3.0, 0.05), (3.0, 1.0), (3.0, LENGTH_S + 0.05), (4.0, 0.0)]
SHOTS += [(1.5, 0.0)]  # half way from the top-bottom picture to the side-by-side one
TB, SBS, VIDEO_DARK, VIDEO_BRIGHT, VIDEO_LOOPED, MONO_SHOT, FADE = range(len(SHOTS))


def quarters(colours, w: int = EYE_W, h: int = EYE_H) -> np.ndarray:
    """One eye's picture: four vertical quarters, the middle of the picture straight ahead, and
    a darker ground below the horizon."""
    img = np.zeros((h, w, 3), np.uint8)
    for q, colour in enumerate(colours):
        img[:, q * w // 4 : (q + 1) * w // 4] = colour
    img[int(h * 0.62) :] //= 2
    return img


def pulsing(picture: np.ndarray) -> np.ndarray:
    """Frames of `picture` darkening and brightening over the clip, as test_pano's clip does."""
    frames = np.repeat(picture[None], FRAMES, axis=0).astype(float)
    for k in range(FRAMES):
        frames[k] *= 0.35 + 0.65 * abs(np.sin(np.pi * k / FRAMES))
    return frames.astype(np.uint8)


@pytest.fixture(scope="module")
def stereo_lib(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("stereo-footage")
    tb = np.concatenate([quarters(TB_TOP), quarters(TB_BOTTOM)], axis=0)  # 1:1
    Image.fromarray(tb).save(src / "01_top-bottom.png")
    sbs = np.concatenate([quarters(SBS_LEFT), quarters(SBS_RIGHT)], axis=1)  # 4:1
    Image.fromarray(sbs).save(src / "02_side-by-side.png")
    video = np.concatenate([quarters(VIDEO_TOP), quarters(VIDEO_BOTTOM)], axis=0)  # 192x192
    write_clip(src / "03_top-bottom-video.mp4", pulsing(video))
    Image.fromarray(quarters(MONO)).save(src / "04_mono.png")  # 2:1
    lib = tmp_path_factory.mktemp("stereo-lib")
    args = ["scenes", "new", "lift", "--from-360", str(src), "--dir", str(lib)]
    assert main([*args, "--stereo", "auto"]) == 0
    return lib


def render_child(lib: str, view: str, conn) -> None:
    """In a fresh process: every shot of the scene as (left eye, right eye) RGB arrays, top row
    first; a mono view sends its one picture as both. Sends a string to skip."""
    from panda3d.core import loadPrcFileData

    from scenes.stage import Stage, configure, make_base

    found, _ = discover([Path(lib)])
    if view == "openvr":
        configure("openvr", (64, 48), pipe="egl")
        loadPrcFileData("test", "ffmpeg-max-readahead-frames 0")  # a video frame per scene time
        try:
            base = make_base()
        except RuntimeError as err:
            if not str(err).startswith("Could not open an offscreen renderer"):
                raise
            conn.send(f"no OpenGL through EGL on this machine: {err}")
            return
        if base.pipe.getInterfaceName() == "TinyPanda":
            conn.send("no OpenGL through EGL on this machine: only software rendering")
            return
    else:
        configure("offscreen", (2 * 96 if view == "stereo-region" else 96, 72))
        base = make_base()
    if view == "stereo-region":
        # what ShowBase makes for a stereo window: one stereo region, one camera for both eyes
        base.win.setSideBySideStereo(True)  # each eye in its half of the buffer
        for region in base.win.getDisplayRegions():
            if region.getCamera() == base.cam:
                base.win.removeDisplayRegion(region)
        base.win.makeStereoDisplayRegion().setCamera(base.cam)
    stage = Stage(base)
    display = None
    if view == "openvr":  # as scenes/render/loop.py sets it up
        from scenes.openvr_display import OpenVRDisplay, load_openvr
        from scenes.stage import FAR_M, NEAR_M

        stage.head.setPosHpr(0, 0, 0, 0, 0, 0)
        stage.track_gaze = False
        ovr = load_openvr("tests.scenes.standin_openvr")
        display = OpenVRDisplay(base, stage.head, ovr, NEAR_M, FAR_M)
        stage.outputs.extend(display.outputs)
    stage.build(found["lift"])
    scene = stage.show("lift")
    out = []
    for intensity, t in SHOTS:
        scene.time = t
        stage.frame(intensity, 0.0)
        base.graphicsEngine.renderFrame()
        if display is not None:
            # a second frame at the same scene time: a video frame still being decoded when
            # the first was drawn (seen on a loaded machine: one eye a frame behind) is there
            base.graphicsEngine.renderFrame()
            eyes = []
            for _eye, _tex, buf in display.eyes:
                # read the eye's framebuffer, not its texture: a RAM copy in the texture would be
                # uploaded again over the next frame by the window's mirror of the left eye
                shot = buf.getScreenshot()
                w, h = shot.getXSize(), shot.getYSize()
                rgb = np.frombuffer(bytes(shot.getRamImageAs("RGB")), np.uint8)
                eyes.append(rgb.reshape(h, w, 3)[::-1].copy())
            out.append((eyes[0], eyes[1]))
            continue
        from scenes.preview import screenshot_rgb

        w, h, rgb = screenshot_rgb(base)
        img = np.frombuffer(rgb, np.uint8).reshape(h, w, 3).copy()
        if view == "stereo-region":
            out.append((img[:, : w // 2], img[:, w // 2 :]))
        else:
            out.append((img, img))
    conn.send(out)
    conn.close()


def render(lib: Path, view: str) -> list[tuple[np.ndarray, np.ndarray]]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=render_child, args=(str(lib), view, theirs))
    proc.start()
    theirs.close()
    assert ours.poll(120), f"the {view} render process sent nothing"
    shots = ours.recv()
    proc.join(10)
    if isinstance(shots, str):
        pytest.skip(shots)
    return shots


def sides(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colours just left and just right of straight ahead, a little above the horizon."""
    h, w = img.shape[:2]
    dx = max(4, w // 5)
    row = img[h // 2 - h // 10 - 1 : h // 2 - h // 10 + 2]
    return (
        row[:, w // 2 - dx - 1 : w // 2 - dx + 2].reshape(-1, 3).mean(axis=0),
        row[:, w // 2 + dx - 1 : w // 2 + dx + 2].reshape(-1, 3).mean(axis=0),
    )


def shows(img: np.ndarray, colours, scale: float = 1.0, tolerance: float = 40.0) -> bool:
    """Whether `img` shows the middle two quarters of `colours` (times `scale`) either side of
    straight ahead."""
    got = sides(img)
    want = (np.asarray(colours[1], float) * scale, np.asarray(colours[2], float) * scale)
    return all(np.abs(g - e).max() < tolerance for g, e in zip(got, want, strict=True))


def mix(a, b, linear: bool = False) -> tuple[tuple[float, ...], ...]:
    """Half of each of two patterns, quarter by quarter: averaged as stored (software
    rendering), or in linear light (OpenGL's sRGB pipeline: `linear`)."""
    if linear:
        from scenes.look import linear_to_srgb, srgb_to_linear

        def half(x: float, y: float) -> float:
            both = (srgb_to_linear(x / 255) + srgb_to_linear(y / 255)) / 2
            return 255 * linear_to_srgb(both)
    else:

        def half(x: float, y: float) -> float:
            return (x + y) / 2

    return tuple(
        tuple(half(x, y) for x, y in zip(p, q, strict=True)) for p, q in zip(a, b, strict=True)
    )


def brightness(img: np.ndarray) -> float:
    return float(np.mean(sides(img)))


@pytest.fixture(scope="module")
def mono_shots(stereo_lib):
    return render(stereo_lib, "mono")


@pytest.fixture(scope="module")
def region_shots(stereo_lib):
    return render(stereo_lib, "stereo-region")


def test_auto_reads_the_layout_from_the_shape_and_a_declared_layout_wins():
    assert stereo_layout("auto", 3840, 3840) == "top-bottom"
    assert stereo_layout("auto", 3840, 1920) == "mono"
    assert stereo_layout("auto", 7680, 1920) == "side-by-side"
    # the boundaries lie half way on a log scale: 1.41:1 and 2.83:1
    assert stereo_layout("auto", 140, 100) == "top-bottom"
    assert stereo_layout("auto", 142, 100) == "mono"
    assert stereo_layout("auto", 282, 100) == "mono"
    assert stereo_layout("auto", 284, 100) == "side-by-side"
    # a top-bottom file squeezed to 2:1 says so, and is read as it says
    assert stereo_layout("top-bottom", 4096, 2048) == "top-bottom"
    assert stereo_layout("mono", 3840, 3840) == "mono"


def test_each_file_gets_its_layout_one_word_for_all_or_one_per_file(stereo_lib):
    from panda3d.core import NodePath

    info = discover([stereo_lib])[0]["lift"]
    assert info.scene_class.stereo == "auto"  # as `--stereo auto` wrote it

    def built(stereo):
        cls = type("Lift", (info.scene_class,), {"stereo": stereo})
        scene = cls("lift", NodePath("root"), info.folder)
        scene.build()
        return scene.layouts

    assert built("auto") == ["top-bottom", "side-by-side", "top-bottom", "mono"]
    assert built(["mono", "auto", "side-by-side", "auto"]) == [
        "mono",
        "side-by-side",
        "side-by-side",
        "mono",
    ]
    with pytest.raises(ValueError, match="stereo lists 2 layouts for 4 files in media"):
        built(["mono", "auto"])
    with pytest.raises(ValueError, match="stereo 'over-under': use one of mono, top-bottom"):
        built("over-under")


def test_scenes_check_names_a_stereo_list_that_does_not_fit_the_files(stereo_lib, tmp_path):
    import shutil

    from scenes.checks import check_scenes

    lib = tmp_path / "lib"
    shutil.copytree(stereo_lib, lib)
    scene_py = lib / "lift" / "scene.py"
    scene_py.write_text(scene_py.read_text().replace('stereo = "auto"', 'stereo = ["mono"]'))
    found, problems = discover([lib])
    assert not problems
    errors, _ = check_scenes([found["lift"]], size=(48, 36), dirs=[lib])["lift"]
    assert (
        "failed to build or render: ValueError: stereo lists 1 layouts for 4 files in media: give one per "
        "file, or one word for all"
    ) in errors, errors


def test_a_mono_view_shows_the_left_eye_of_every_layout(mono_shots):
    left = [shot[0] for shot in mono_shots]
    assert shows(left[TB], TB_TOP), sides(left[TB])
    assert shows(left[SBS], SBS_LEFT), sides(left[SBS])
    assert shows(left[VIDEO_BRIGHT], VIDEO_TOP), sides(left[VIDEO_BRIGHT])  # padded: its part
    assert shows(left[MONO_SHOT], MONO), sides(left[MONO_SHOT])


def test_each_eye_of_a_stereo_display_region_sees_its_own_half(region_shots):
    left, right = ([shot[k] for shot in region_shots] for k in (0, 1))
    assert shows(left[TB], TB_TOP) and shows(right[TB], TB_BOTTOM), (
        sides(left[TB]),
        sides(right[TB]),
    )
    assert shows(left[SBS], SBS_LEFT) and shows(right[SBS], SBS_RIGHT)
    assert shows(left[VIDEO_BRIGHT], VIDEO_TOP) and shows(right[VIDEO_BRIGHT], VIDEO_BOTTOM)
    assert shows(left[MONO_SHOT], MONO) and shows(right[MONO_SHOT], MONO)  # both the same


def test_in_a_stereo_region_the_video_plays_in_step_in_both_eyes_and_loops(region_shots):
    check_video_in_step(region_shots)


def test_in_a_stereo_region_each_eye_fades_between_its_own_halves(region_shots):
    left, right = region_shots[FADE]
    assert shows(left, mix(TB_TOP, SBS_LEFT), tolerance=30), sides(left)
    assert shows(right, mix(TB_BOTTOM, SBS_RIGHT), tolerance=30), sides(right)


def test_the_openvr_display_shows_each_eye_its_own_half(stereo_lib):
    shots = render(stereo_lib, "openvr")
    left, right = ([shot[k] for shot in shots] for k in (0, 1))
    assert left[TB].shape == (48, 64, 3)  # the stand-in headset's eye size
    assert shows(left[TB], TB_TOP) and shows(right[TB], TB_BOTTOM), (
        sides(left[TB]),
        sides(right[TB]),
    )
    assert shows(left[SBS], SBS_LEFT) and shows(right[SBS], SBS_RIGHT)
    assert shows(left[VIDEO_BRIGHT], VIDEO_TOP) and shows(right[VIDEO_BRIGHT], VIDEO_BOTTOM)
    assert shows(left[MONO_SHOT], MONO) and shows(right[MONO_SHOT], MONO)
    # the headset is OpenGL: the fade adds up in linear light
    assert shows(shots[FADE][0], mix(TB_TOP, SBS_LEFT, linear=True), tolerance=30)
    assert shows(shots[FADE][1], mix(TB_BOTTOM, SBS_RIGHT, linear=True), tolerance=30)
    check_video_in_step(shots)


def check_video_in_step(shots) -> None:
    """Both eyes show the same frame of the one video: they darken and brighten together, and
    a loop later they show what they showed a loop before."""
    (dark_l, dark_r), (bright_l, bright_r) = shots[VIDEO_DARK], shots[VIDEO_BRIGHT]
    looped_l, looped_r = shots[VIDEO_LOOPED]
    assert brightness(bright_l) > brightness(dark_l) + 40
    assert brightness(bright_r) > brightness(dark_r) + 40
    # the same frame in both eyes: the same fraction of each half's full brightness
    left_gain = brightness(dark_l) / brightness(bright_l)
    right_gain = brightness(dark_r) / brightness(bright_r)
    assert abs(left_gain - right_gain) < 0.06, (left_gain, right_gain)
    # a loop later, the dark frame again: nearer the dark than the bright by far (on OpenGL's
    # sRGB path a frame's timing moves the darks by more than in software: 45 against 56 seen)
    for looped, dark, bright in ((looped_l, dark_l, bright_l), (looped_r, dark_r, bright_r)):
        gap = brightness(bright) - brightness(dark)
        assert abs(brightness(looped) - brightness(dark)) < 0.3 * gap
