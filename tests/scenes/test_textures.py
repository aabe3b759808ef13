"""Procedural textures: every material tiles, has grain, a sane normal map, and is cached."""

from __future__ import annotations

import numpy as np
import pytest

from scenes import textures
from scenes.textures import MATERIALS, cache_dir, cache_key, generate, make, normal_map

SIZE = 64


def test_the_nine_materials_of_the_issue_exist():
    assert set(MATERIALS) == {
        "wood",
        "plaster",
        "carpet",
        "fabric",
        "skin",
        "foliage",
        "concrete",
        "glass",
        "water",
    }


@pytest.mark.parametrize("name", sorted(MATERIALS))
def test_every_material_has_grain_and_stays_a_light_detail_map(name):
    detail, normal = generate(name, SIZE)
    assert detail.shape == normal.shape == (SIZE, SIZE, 3)
    assert detail.dtype == np.uint8
    # a detail map multiplies the scene's colour: mostly light, never a flat colour
    assert detail.mean() > 140
    assert detail.astype(float).std() > 2.0
    assert len(np.unique(detail.reshape(-1, 3), axis=0)) >= 20


@pytest.mark.parametrize("name", sorted(MATERIALS))
def test_every_material_tiles_without_a_seam(name):
    detail, _ = generate(name, SIZE)
    img = detail.astype(float).mean(axis=2)
    inner = np.abs(np.diff(img, axis=1)).mean()
    seam = np.abs(img[:, 0] - img[:, -1]).mean()
    inner_v = np.abs(np.diff(img, axis=0)).mean()
    seam_v = np.abs(img[0, :] - img[-1, :]).mean()
    assert seam <= 3 * inner + 2.0, f"{name}: seam {seam:.1f} vs {inner:.1f} inside"
    assert seam_v <= 3 * inner_v + 2.0, f"{name}: seam {seam_v:.1f} vs {inner_v:.1f} inside"


def test_materials_differ_from_each_other_and_a_seed_is_repeatable():
    a, _ = generate("wood", SIZE, seed=1)
    assert np.array_equal(a, generate("wood", SIZE, seed=1)[0])
    assert not np.array_equal(a, generate("wood", SIZE, seed=2)[0])
    assert not np.array_equal(a, generate("plaster", SIZE, seed=1)[0])


def test_wood_planks_cut_dark_seams_across_the_boards():
    plain, _ = generate("wood", SIZE)
    boards, _ = generate("wood", SIZE, planks=4)
    column_mean = boards.astype(float).mean(axis=(0, 2))
    assert column_mean[0] < column_mean[SIZE // 8] - 10  # a seam at the edge of each board
    assert not np.array_equal(plain, boards)


def test_a_flat_height_field_gives_normals_straight_up_and_a_slope_tilts_them():
    flat = normal_map(np.zeros((8, 8)))
    assert np.allclose(flat, (0.5, 0.5, 1.0))
    ramp = normal_map(np.tile(np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False)), (16, 1)))
    assert np.allclose(np.linalg.norm(ramp * 2 - 1, axis=-1), 1.0)
    assert ramp[..., 0].std() > 0.05 and np.allclose(ramp[..., 1], 0.5)


def test_an_unknown_material_is_named_in_the_error():
    with pytest.raises(KeyError, match="no material 'marble'"):
        generate("marble", SIZE)


def test_the_cache_lives_in_the_xdg_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("VRET_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "vret" / "textures"


def test_a_texture_is_made_once_then_read_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path))
    detail, normal = make("carpet", SIZE)
    files = sorted(p.name for p in (tmp_path / "textures").iterdir())
    key = cache_key("carpet", SIZE, {}, 1)
    assert files == [f"carpet-{SIZE}-{key}-normal.png", f"carpet-{SIZE}-{key}.png"]
    # the cached file is what the next call returns: change it and the change shows
    from PIL import Image

    marked = detail.copy()
    marked[0, 0] = (1, 2, 3)
    Image.fromarray(marked).save(tmp_path / "textures" / f"carpet-{SIZE}-{key}.png")
    again, again_normal = make("carpet", SIZE)
    assert tuple(again[0, 0]) == (1, 2, 3) and np.array_equal(again_normal, normal)


def test_a_corrupt_cache_file_is_made_again(monkeypatch, tmp_path):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path))
    detail, _ = make("glass", SIZE)
    key = cache_key("glass", SIZE, {}, 1)
    (tmp_path / "textures" / f"glass-{SIZE}-{key}.png").write_bytes(b"half a PNG")
    again, _ = make("glass", SIZE)
    assert np.array_equal(again, detail)


def test_the_key_changes_with_version_parameters_size_and_seed(monkeypatch):
    base = cache_key("wood", 64, {"planks": 4.0}, 1)
    assert base != cache_key("wood", 64, {"planks": 5.0}, 1)
    assert base != cache_key("wood", 128, {"planks": 4.0}, 1)
    assert base != cache_key("wood", 64, {"planks": 4.0}, 2)
    monkeypatch.setattr(textures, "TEXTURE_VERSION", textures.TEXTURE_VERSION + 1)
    assert base != cache_key("wood", 64, {"planks": 4.0}, 1)


def test_an_unwritable_cache_costs_only_time(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VRET_CACHE_DIR", str(blocker))
    detail, _ = make("skin", SIZE)
    assert np.array_equal(detail, generate("skin", SIZE)[0])
