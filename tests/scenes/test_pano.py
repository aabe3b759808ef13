"""360-degree scenes end to end: a folder of equirectangular pictures and videos (made here with
numpy and ffmpeg) becomes a scene with `vret scenes new --from-360`, and its renders show the
right picture the right way round, the video moving and looping, the fade between levels."""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenes.pano import level_name, media_files
from scenes.registry import discover
from vret.cli import main

pytestmark = pytest.mark.render

W, H = 256, 128
FPS, FRAMES = 12, 24  # a two-second clip
RED, GREEN, BLUE, YELLOW = (220, 40, 40), (40, 200, 40), (40, 60, 220), (230, 220, 40)


def quarters(colours) -> np.ndarray:
    """An equirectangular picture: four vertical quarters, left edge (behind, on the left) first;
    the middle of the picture (between quarters 2 and 3) is straight ahead. Below the horizon
    a darker band of each, a ground, so no view is one flat colour."""
    img = np.zeros((H, W, 3), np.uint8)
    for q, colour in enumerate(colours):
        img[:, q * W // 4 : (q + 1) * W // 4] = colour
    img[int(H * 0.62) :] //= 2
    return img


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    assert path, "ffmpeg is needed to make the test clips: run tools/ensure-ffmpeg.sh"
    return path


def write_clip(path: Path, frames: np.ndarray) -> Path:
    """Encode RGB frames (N, H, W, 3) with ffmpeg: numpy in, a real video file out."""
    n, h, w, _ = frames.shape
    subprocess.run(
        [ffmpeg(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"]
        + ["-s", f"{w}x{h}", "-r", str(FPS), "-i", "-", "-c:v", "mpeg4", "-q:v", "2"]
        + ["-pix_fmt", "yuv420p", str(path)],
        input=frames.tobytes(),
        check=True,
        timeout=60,
    )
    return path


def clip_frames(colours, pulse: bool) -> np.ndarray:
    frames = np.repeat(quarters(colours)[None], FRAMES, axis=0)
    if pulse:  # the two middle quarters (straight ahead) darken and brighten over the clip
        for k in range(FRAMES):
            f = 0.35 + 0.65 * abs(np.sin(np.pi * k / FRAMES))
            frames[k, :, W // 4 : 3 * W // 4] = (frames[k, :, W // 4 : 3 * W // 4] * f).astype(
                np.uint8
            )
    return frames


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("footage")
    Image.fromarray(quarters([BLUE, GREEN, RED, YELLOW])).save(src / "01_empty-park.png")
    write_clip(src / "02_dog far away.mp4", clip_frames([YELLOW, BLUE, BLUE, YELLOW], True))
    write_clip(src / "10_dog close.mp4", clip_frames([RED, RED, RED, RED], False))
    (src / "notes.txt").write_text("not footage")
    for stem in ("01_empty-park", "02_dog far away"):  # the sound recorded with two of them
        with wave.open(str(src / f"{stem}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            tone = np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000) * 8000
            out.writeframes(tone.astype("<i2").tobytes())
    return src


@pytest.fixture(scope="module")
def scene_lib(footage, tmp_path_factory) -> Path:
    lib = tmp_path_factory.mktemp("lib")
    assert main(["scenes", "new", "dogs_park", "--from-360", str(footage), "--dir", str(lib)]) == 0
    return lib


def render_child(
    lib: str, name: str, shots: list[tuple[float, float]], conn, pipe: str | None = None
) -> None:
    """In a fresh process: the scene at each (intensity, scene time), as RGB arrays (and, last,
    the renderer's name)."""
    from scenes.preview import screenshot_rgb
    from scenes.stage import Stage, configure, make_base

    found, _ = discover([Path(lib)])
    configure("offscreen", (96, 72), pipe=pipe)
    base = make_base()
    stage = Stage(base)
    stage.build(found[name])
    scene = stage.show(name)
    out = []
    for intensity, t in shots:
        scene.time = t
        stage.frame(intensity, 0.0)
        base.graphicsEngine.renderFrame()
        w, h, rgb = screenshot_rgb(base)
        out.append(np.frombuffer(rgb, np.uint8).reshape(h, w, 3).copy())
    conn.send((out, base.win.getGsg().getDriverRenderer()))
    conn.close()


def render(
    lib: Path, name: str, shots: list[tuple[float, float]], pipe: str | None = None
) -> list[np.ndarray]:
    return render_on(lib, name, shots, pipe)[0]


def render_on(
    lib: Path, name: str, shots: list[tuple[float, float]], pipe: str | None
) -> tuple[list[np.ndarray], str]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=render_child, args=(str(lib), name, shots, theirs, pipe))
    proc.start()
    theirs.close()
    assert ours.poll(120), "the render process sent nothing"
    images, renderer = ours.recv()
    proc.join(10)
    return images, renderer


def centre(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return img[h // 2 - 3 : h // 2 + 3, w // 2 - 3 : w // 2 + 3].reshape(-1, 3).mean(axis=0)


def near(colour, expected, tolerance: float = 40.0) -> bool:
    return bool(np.abs(np.asarray(colour, float) - np.asarray(expected, float)).max() < tolerance)


def test_files_give_the_ladder_in_the_order_of_their_names(footage):
    files = media_files(footage)
    assert [p.name for p in files] == [
        "01_empty-park.png",
        "02_dog far away.mp4",
        "10_dog close.mp4",
    ]
    assert [level_name(p) for p in files] == ["Empty park", "Dog far away", "Dog close"]


def test_the_new_scene_is_a_ladder_of_the_files_and_needs_their_licences(scene_lib, capsys):
    folder = scene_lib / "dogs_park"
    assert sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".mp4")) == [
        "01_empty-park.png",
        "02_dog far away.mp4",
        "10_dog close.mp4",
    ]
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".wav") == [
        "01_empty-park.wav",
        "02_dog far away.wav",
    ]
    found, problems = discover([scene_lib])
    assert not problems
    assert found["dogs_park"].scene_class.audio == [
        "01_empty-park.wav",
        "02_dog far away.wav",
        None,
    ]
    ladder = found["dogs_park"].ladder
    assert [lv.name for lv in ladder.levels] == ["Empty park", "Dog far away", "Dog close"]
    assert [lv.params["media"] for lv in ladder.levels] == [0.0, 1.0, 2.0]
    assert [lv.suds for lv in ladder.levels] == [10, 55, 100]
    from scenes.checks import check_scenes

    errors, _ = check_scenes([found["dogs_park"]], render=False)["dogs_park"]
    assert errors == [
        f"assets.toml: {n} has no author, licence: add it"
        for n in (
            "01_empty-park.png",
            "02_dog far away.mp4",
            "10_dog close.mp4",
            "01_empty-park.wav",
            "02_dog far away.wav",
        )
    ]
    toml = folder / "assets.toml"
    toml.write_text(
        toml.read_text()
        .replace('author = ""', 'author = "the clinic"')
        .replace('licence = ""', 'licence = "CC-BY-4.0"')
    )
    report = check_scenes([found["dogs_park"]], size=(96, 72), dirs=[scene_lib])
    assert report["dogs_park"][0] == []  # renders, nothing blank, every level different


def test_the_picture_surrounds_the_client_the_right_way_round(scene_lib):
    ahead, behind = render(scene_lib, "dogs_park", [(1.0, 0.0)]), None
    img = ahead[0]
    h, w = img.shape[:2]
    # straight ahead is the seam between the 2nd (green) and 3rd (red) quarters: green on
    # the left of the view, red on the right
    left = img[h // 2, w // 2 - 10]
    right = img[h // 2, w // 2 + 10]
    assert near(left, GREEN) and near(right, RED), (left, right)
    assert behind is None


def test_on_opengl_the_picture_shows_its_own_colours_not_washed_out(scene_lib):
    """The files are sRGB pictures: on OpenGL's linear-light pipeline they are decoded as they
    are sampled and encoded once at the end, so ahead shows the same green and red as in
    software (unmarked, they came back lifted by up to 90 levels)."""
    (software,), _ = render_on(scene_lib, "dogs_park", [(1.0, 0.0)], "tiny")
    (opengl,), renderer = render_on(scene_lib, "dogs_park", [(1.0, 0.0)], "egl")
    if "tiny" in renderer.lower():
        pytest.skip("no OpenGL through EGL on this machine: only software rendering")
    h, w = opengl.shape[:2]
    for x in (w // 2 - 10, w // 2 + 10):
        gl, sw = opengl[h // 2, x].astype(int), software[h // 2, x].astype(int)
        assert np.abs(gl - sw).max() <= 6, (x, gl, sw)


def test_the_video_plays_on_scene_time_and_loops_without_a_jump(scene_lib):
    length = FRAMES / FPS
    shots = [(2.0, 0.05), (2.0, length / 2), (2.0, length + 0.05), (2.0, 2 * length + length / 2)]
    start, middle, looped, middle_again = (centre(i) for i in render(scene_lib, "dogs_park", shots))
    assert middle.mean() > start.mean() + 40  # the clip brightens towards its middle
    assert near(looped, start, 12) and near(middle_again, middle, 12)  # and comes round again


def test_each_level_shows_its_file_and_levels_fade_into_each_other(scene_lib):
    t = 0.75  # a frame of the clips where the first is bright
    first, between, second = render(scene_lib, "dogs_park", [(2.0, t), (2.5, t), (3.0, t)])
    assert near(centre(second), RED)
    a, b = centre(first), centre(second)
    assert near(centre(between), (a + b) / 2, 25)  # half way: half of each


def test_top_bottom_stereo_shows_the_left_eye_in_a_mono_view(tmp_path):
    """The preview is mono: the top half (tests/scenes/test_stereo.py has both eyes)."""
    src = tmp_path / "src"
    src.mkdir()
    for k, (top, bottom) in enumerate(((RED, BLUE), (GREEN, BLUE))):
        pair = np.concatenate([quarters([top] * 4), quarters([bottom] * 4)], axis=0)
        Image.fromarray(pair).save(src / f"{k + 1:02d}.png")
    lib = tmp_path / "lib"
    assert (
        main(
            [
                "scenes",
                "new",
                "lift",
                "--from-360",
                str(src),
                "--dir",
                str(lib),
                "--stereo",
                "top-bottom",
            ]
        )
        == 0
    )
    one, two = render(lib, "lift", [(1.0, 0.0), (2.0, 0.0)])
    assert near(centre(one), RED) and near(centre(two), GREEN)


def test_a_folder_without_footage_is_one_sentence(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert (
        main(
            [
                "scenes",
                "new",
                "nothing",
                "--from-360",
                str(tmp_path / "empty"),
                "--dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "has no pictures or videos" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()
    assert (
        main(
            [
                "scenes",
                "new",
                "nothing",
                "--from-360",
                str(tmp_path / "missing"),
                "--dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "is not a folder" in capsys.readouterr().err


def test_each_files_sound_plays_with_it_and_fades_with_it(scene_lib):
    from panda3d.core import NodePath

    info = discover([scene_lib])[0]["dogs_park"]
    scene = info.scene_class("dogs_park", NodePath("root"), info.folder)
    scene.build()
    park, dog = scene.level_sounds[0], scene.level_sounds[1]
    assert [s.path.name for s in scene.spatial_sounds] == [
        "01_empty-park.wav",
        "02_dog far away.wav",
    ]
    volumes = []
    for level in (1.0, 1.5, 2.0, 3.0):
        scene.advance(level, 0.0)
        volumes.append((round(park.volume, 2), round(dog.volume, 2)))
    assert volumes == [(1.0, 0.0), (0.5, 0.5), (0.0, 1.0), (0.0, 0.0)]
