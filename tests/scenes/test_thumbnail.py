"""The console's thumbnail in software rendering: a shrunken copy of the client's frame."""

from __future__ import annotations

import numpy as np
import pytest

from scenes.render.thumbnail import ShrinkView


def panda_frame(rgb_top_down: np.ndarray) -> bytes:
    """An RGB picture (top row first) as Panda3D keeps a frame: BGRA, bottom row first."""
    h, w, _ = rgb_top_down.shape
    bgra = np.full((h, w, 4), 255, np.uint8)
    bgra[..., :3] = rgb_top_down[::-1, :, ::-1]
    return bgra.tobytes()


def test_the_thumbnail_has_exactly_the_size_asked_for_and_top_row_first() -> None:
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:180] = (40, 90, 200)  # sky above
    frame[180:] = (90, 120, 60)  # ground below
    thumb = ShrinkView((640, 360), (160, 120))(panda_frame(frame))
    img = np.frombuffer(thumb, np.uint8).reshape(120, 160, 3)
    assert len(thumb) == 160 * 120 * 3
    assert tuple(img[0, 0]) == (40, 90, 200) and tuple(img[-1, -1]) == (90, 120, 60)


def test_a_wide_frame_is_cropped_to_its_centre_not_squashed() -> None:
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:, :80] = 255  # the outer eighth either side falls outside a 4:3 crop
    frame[:, -80:] = 255
    frame[:, 310:330] = (255, 0, 0)  # a red stripe in the middle stays in the middle
    img = np.frombuffer(ShrinkView((640, 360), (160, 120))(panda_frame(frame)), np.uint8)
    img = img.reshape(120, 160, 3)
    assert img[..., 1].max() == 0  # no white from the sides
    red = np.nonzero(img[60, :, 0])[0]
    assert red.min() >= 74 and red.max() <= 85


def test_each_thumbnail_pixel_averages_its_cell_so_fine_detail_does_not_alias() -> None:
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:, 1::2] = 200  # one-pixel stripes: a point sample would show 0 or 200
    img = np.frombuffer(ShrinkView((640, 360), (160, 90))(panda_frame(frame)), np.uint8)
    assert set(np.unique(img)) == {100}


def test_the_same_size_is_the_frame_itself() -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    img = np.frombuffer(ShrinkView((64, 48), (64, 48))(panda_frame(frame)), np.uint8)
    assert np.array_equal(img.reshape(48, 64, 3), frame)


def test_pixels_of_the_wrong_size_are_refused_with_a_sentence() -> None:
    shrink = ShrinkView((64, 48), (32, 24))
    with pytest.raises(ValueError, match="expected 64x48 BGRA pixels"):
        shrink(bytes(100))
    with pytest.raises(ValueError, match="sizes above zero"):
        ShrinkView((64, 48), (0, 24))
