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
) -> dict[str, list[Path]]:
    """Render each level of each scene to OUT/NAME-NN.png (and OUT/NAME-sheet.png).

    Starts an offscreen software ShowBase unless `base` is given. Returns the PNG paths by scene.
    """
    from PIL import Image  # heavy: only the preview commands need it

    from scenes.stage import Stage, configure, make_base  # Panda3D: only when rendering

    if base is None:
        configure("offscreen", size)
        base = make_base()
    stage = Stage(base)
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
