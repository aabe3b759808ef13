"""The console's thumbnail as a shrunken copy of the frame the client saw (software rendering).

In software rendering (p3tinydisplay) a second camera for the thumbnail draws the whole scene a
second time: culling and every vertex again, 3.5-4 ms on top of a 6-9 ms frame in heights and
public speaking at 640x360, four times a second, which made those frames late. The frame is in
memory already, so the thumbnail is a copy of it instead: the main view cropped to the
thumbnail's shape (its centre) and shrunk by averaging the 2x2 pixels at the centre of each
thumbnail pixel's cell (0.4 ms for 160x120 from 640x360). Pure numpy, tested without Panda3D.
"""

from __future__ import annotations

import numpy as np


class ShrinkView:
    """Turns a frame's pixels (BGRA rows, bottom row first, as Panda3D keeps a texture) into a
    thumbnail (RGB rows, top row first) of exactly `size`, cropped to its aspect."""

    def __init__(self, source: tuple[int, int], size: tuple[int, int]) -> None:
        sw, sh = source
        tw, th = size
        if min(sw, sh, tw, th) <= 0:
            raise ValueError(f"a thumbnail needs sizes above zero, not {source} -> {size}")
        self.source = (sw, sh)
        self.size = (tw, th)
        # the largest centred part of the frame with the thumbnail's aspect
        cw, ch = (sw, sw * th / tw) if sw * th <= sh * tw else (sh * tw / th, sh)
        x0, y0 = (sw - cw) / 2.0, (sh - ch) / 2.0
        step_x, step_y = cw / tw, ch / th
        # the 2x2 pixels at each cell's centre (the one pixel where the cell is a pixel)
        offsets = (-0.5, 0.5) if min(step_x, step_y) >= 2.0 else (0.0,)
        rows = [
            # source rows are bottom-up: the thumbnail's top row is the frame's last
            sh - 1 - np.clip((y0 + (np.arange(th) + 0.5) * step_y + d).astype(np.intp), 0, sh - 1)
            for d in offsets
        ]
        cols = [
            np.clip((x0 + (np.arange(tw) + 0.5) * step_x + d).astype(np.intp), 0, sw - 1)
            for d in offsets
        ]
        # each sample as one index into the frame's pixels (a pixel read as one uint32)
        self._samples = [(r[:, None] * sw + c[None, :]).ravel() for r in rows for c in cols]
        self._total = np.zeros((th * tw, 4), np.uint16)

    def __call__(self, bgra: bytes | memoryview) -> bytes:
        sw, sh = self.source
        tw, th = self.size
        raw = np.frombuffer(bgra, np.uint8)
        if raw.size != sw * sh * 4:
            raise ValueError(f"expected {sw}x{sh} BGRA pixels, got {raw.size} bytes")
        pixels = raw.view(np.uint32)
        total = self._total
        total[:] = 0
        for sample in self._samples:
            total += pixels.take(sample).view(np.uint8).reshape(-1, 4)
        total //= len(self._samples)
        return total[:, 2::-1].astype(np.uint8).tobytes()  # BGR -> RGB
