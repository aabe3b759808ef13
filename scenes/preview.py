"""Offscreen renders of every level of a scene, and a contact sheet of them.

`render_levels` runs in the calling process (one ShowBase per process, so call it from a fresh
process: the CLI does, and the tests run it in a subprocess).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scenes.registry import SceneInfo

PREVIEW_SETTLE_S = 0.5
"""Scene time before the snapshot, so ambient motion has started (same for every level)."""
INSET = (0.64, 0.98, 0.03, 0.37)
"""Where the close-up of the stimulus goes: left, right, bottom, top as window fractions."""
INSET_FOV = 24.0


class CloseUp:
    """A close-up inset of the scene's stimulus (`Scene.stimulus`) in a corner of the picture.

    A second camera in its own display region looks at the stimulus from the client's side,
    near enough that it fills the inset, so a level's picture shows what changed even when the
    stimulus is a few pixels of the client's view. Previews only: a session never draws it.
    """

    def __init__(self, base: Any) -> None:
        from panda3d.core import Camera, NodePath, PerspectiveLens  # Panda3D: previews only

        self.base = base
        left, right, bottom, top = INSET
        px = 2.0 / max(1, base.win.getXSize())
        py = 2.0 / max(1, base.win.getYSize())
        self.frame = base.win.makeDisplayRegion(left - px, right + px, bottom - py, top + py)
        self.frame.setSort(20)
        self.frame.setClearColorActive(True)
        self.frame.setClearColor((0.92, 0.92, 0.92, 1))
        blank = Camera("inset-frame")
        blank.setScene(NodePath("nothing"))
        self.frame.setCamera(NodePath(blank))
        self.region = base.win.makeDisplayRegion(left, right, bottom, top)
        self.region.setSort(21)
        self.region.setClearColorActive(True)
        self.region.setClearDepthActive(True)
        lens = PerspectiveLens()
        lens.setFov(INSET_FOV)
        w = (right - left) * base.win.getXSize()
        h = (top - bottom) * base.win.getYSize()
        lens.setAspectRatio(w / max(1.0, h))
        lens.setNearFar(0.005, 100.0)
        cam = Camera("close-up")
        cam.setLens(lens)
        self.cam = base.render.attachNewNode(cam)
        self.region.setCamera(self.cam)
        self.show(False)

    def show(self, on: bool) -> None:
        self.frame.setActive(on)
        self.region.setActive(on)

    def aim(self, scene: Any) -> bool:
        """Point the inset at `scene.stimulus()`; False (and hidden) when there is none."""
        import math

        node = scene.stimulus()
        bounds = node.getTightBounds(self.base.render) if node is not None else None
        if not bounds:
            self.show(False)
            return False
        lo, hi = bounds
        center = (lo + hi) * 0.5
        radius = max(0.01, (hi - lo).length() * 0.5)
        eye = self.base.camera.getPos(self.base.render)
        direction = center - eye
        direction.normalize()
        distance = radius / math.tan(math.radians(INSET_FOV / 2)) * 1.15
        self.cam.setPos(center - direction * distance)
        self.cam.lookAt(center)
        bg = scene.background
        self.region.setClearColor((bg[0], bg[1], bg[2], 1))
        self.show(True)
        return True


def screenshot_rgb(base: Any) -> tuple[int, int, bytes]:
    """The last rendered frame of the main window as (width, height, RGB bytes, top row first)."""
    import numpy as np  # only where a picture is taken; scene authors need not load it

    tex = base.win.getScreenshot()
    if tex is None:
        raise RuntimeError("the renderer returned no image")
    w, h = tex.getXSize(), tex.getYSize()
    # Panda's images are bottom row first; flip to the usual top-first order.
    pixels = np.frombuffer(bytes(tex.getRamImageAs("RGB")), np.uint8).reshape(h, w, 3)
    return w, h, pixels[::-1].tobytes()


def render_levels(
    infos: list[SceneInfo],
    out: Path,
    size: tuple[int, int] = (480, 360),
    sheet: bool = True,
    base: Any = None,
    inset: bool = True,
) -> dict[str, list[Path]]:
    """Render each level of each scene to OUT/NAME-NN.png (and OUT/NAME-sheet.png).

    Starts an offscreen software ShowBase unless `base` is given. With `inset`, each picture
    carries a close-up of the scene's stimulus in its lower right corner (`CloseUp`). Returns
    the PNG paths by scene.
    """
    from PIL import Image  # heavy: only the preview commands need it

    from scenes.stage import Stage, configure, make_base  # Panda3D: only when rendering

    if base is None:
        configure("offscreen", size)
        base = make_base()
    stage = Stage(base)
    close_up = CloseUp(base) if inset else None
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    for info in infos:
        stage.build(info)  # a scene that fails to build raises here, before any file is written
        scene = stage.show(info.name)
        paths: list[Path] = []
        images: list[Image.Image] = []
        for number in range(1, info.ladder.top + 1):
            scene.time = 0.0
            stage.frame(float(number), 0.0)  # reset any motion state to this level
            stage.frame(float(number), PREVIEW_SETTLE_S)
            if close_up is not None:
                close_up.aim(scene)
            base.graphicsEngine.renderFrame()
            w, h, rgb = screenshot_rgb(base)
            img = Image.frombytes("RGB", (w, h), rgb)
            path = out / f"{info.name}-{number:02d}.png"
            img.save(path)
            paths.append(path)
            images.append(img)
        if sheet:
            names = [lv.name for lv in info.ladder.levels]
            sheet_img = contact_sheet(images, names, f"{info.name} ({info.phobia or 'calm'})")
            sheet_path = out / f"{info.name}-sheet.png"
            sheet_img.save(sheet_path)
            paths.append(sheet_path)
        written[info.name] = paths
        stage.hide()
        if close_up is not None:
            close_up.show(False)
    return written


def contact_sheet(
    images: list[Any], captions: list[str], title: str, columns: int = 4, width: int = 800
) -> Any:
    """A labelled grid of level images, `width` pixels wide."""
    from PIL import Image, ImageDraw, ImageFont  # heavy: only the contact sheet needs it

    cols = min(columns, len(images))
    rows = (len(images) + cols - 1) // cols
    pad = 6
    cell_w = (width - pad * (cols + 1)) // cols
    src_w, src_h = images[0].size
    cell_h = round(cell_w * src_h / src_w)
    font = ImageFont.load_default()
    cap_h = 16
    title_h = 24
    sheet = Image.new("RGB", (width, title_h + rows * (cell_h + cap_h + pad) + pad), (24, 26, 30))
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 6), title, fill=(235, 235, 235), font=font)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        x = pad + c * (cell_w + pad)
        y = title_h + r * (cell_h + cap_h + pad)
        sheet.paste(img.resize((cell_w, cell_h), Image.Resampling.LANCZOS), (x, y))
        caption = f"{i + 1:02d} {captions[i]}"
        while draw.textlength(caption, font=font) > cell_w and len(caption) > 4:
            caption = caption.rstrip(".")[:-2] + "..."
        draw.text((x, y + cell_h + 2), caption, fill=(210, 210, 210), font=font)
    return sheet
