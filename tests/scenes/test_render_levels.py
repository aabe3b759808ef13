"""Every built-in scene renders every level offscreen: nothing blank, each level looks new."""

from __future__ import annotations

import numpy as np
import pytest

from scenes.checks import check_scenes, diff_fraction, is_blank, load_rgb, render_problems
from scenes.registry import discover
from tests.scenes.conftest import (
    BUILT_IN,
    EXPOSURE_SCENES,
    LIBRARY_SCENES,
    RENDER_SIZE,
    write_scene,
)
from tests.scenes.test_registry import GOOD

pytestmark = pytest.mark.render


def test_the_library_holds_the_five_built_in_scenes():
    assert set(BUILT_IN) <= set(LIBRARY_SCENES)


@pytest.mark.parametrize("name", LIBRARY_SCENES)
def test_every_level_renders_and_none_is_blank(level_renders, built_in, name):
    paths = level_renders[name]
    assert [p.name for p in paths] == [
        f"{name}-{n:02d}.png" for n in range(1, built_in[name].ladder.top + 1)
    ]
    for path in paths:
        img = load_rgb(path)
        assert img.shape == (RENDER_SIZE[1], RENDER_SIZE[0], 3)
        assert not is_blank(img), f"{path.name} is blank"
        # more than a flat background: several lit surfaces, none filling the whole view
        colours, counts = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
        assert len(colours) >= 4 and counts.max() < 0.9 * counts.sum(), path.name


@pytest.mark.parametrize("name", EXPOSURE_SCENES)
def test_neighbouring_levels_differ_in_pixels(level_renders, name):
    images = [load_rgb(p) for p in level_renders[name]]
    assert render_problems(images) == []
    for n in range(1, len(images)):
        changed = diff_fraction(images[n - 1], images[n]) * images[n].shape[0] * images[n].shape[1]
        assert changed >= 12, f"{name}: levels {n} and {n + 1} differ in {changed:.0f} pixels"
    # the hardest level is far from the mildest
    assert diff_fraction(images[0], images[-1]) > 0.02


def test_render_check_is_not_fooled_by_identical_images():
    flat = np.zeros((20, 20, 3), np.uint8)
    noisy = np.random.default_rng(1).integers(0, 255, (20, 20, 3), dtype=np.uint8)
    assert is_blank(flat) and not is_blank(noisy)
    problems = render_problems([noisy, noisy.copy(), flat])
    assert "level 3 renders blank" in problems
    assert any("levels 1 and 2 look the same" in p for p in problems)
    assert not any("levels 2 and 3" in p for p in problems)


def test_a_scene_whose_levels_look_alike_or_that_fails_to_build_is_reported(tmp_path):
    lib = tmp_path / "lib"
    write_scene(lib, "invisible", GOOD)  # parameters change, but nothing is drawn
    write_scene(
        lib,
        "crashes",
        GOOD.replace("        pass\n", "        raise ValueError('mesh file missing')\n", 1),
    )
    found, problems = discover([lib])
    assert not problems
    report = check_scenes(list(found.values()), size=(64, 48), dirs=[lib])
    errors, _ = report["invisible"]
    assert any("renders blank" in e for e in errors)
    assert any("look the same" in e for e in errors)
    errors, _ = report["crashes"]
    assert errors == ["failed to build or render: ValueError: mesh file missing"]
