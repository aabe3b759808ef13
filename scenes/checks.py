"""What `vret scenes check` verifies, as plain functions the tests use too.

Static checks read the registry and the scene folder (every asset file needs a line in its
`assets.toml`). Render checks draw every level offscreen (in a fresh
process: one ShowBase per process) and look at the pixels: no level may be blank, and each level
must look different from the one below it, not only have different parameters.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from scenes.assets import asset_problems
from scenes.preview import render_levels
from scenes.registry import SceneInfo, discover

BLANK_STD = 3.0
"""A render whose pixel values vary less than this (0-255 scale) is blank."""
DIFF_THRESHOLD = 12
"""A pixel 'differs' when one channel changed by more than this."""
MIN_DIFF_FRACTION = 0.0005
"""Neighbouring levels must differ in at least 0.05% of their pixels (and MIN_DIFF_PIXELS).
Small on purpose: a spider 2 m away is a few dozen pixels of an 80-degree view."""
MIN_DIFF_PIXELS = 12
RECOMMENDED_LEVELS = (8, 12)


def is_blank(img: np.ndarray) -> bool:
    """True when an HxWx3 image is one flat colour (nothing drawn, or all black)."""
    spread = img.reshape(-1, img.shape[-1]).astype(np.float32).std(axis=0).max()
    return float(spread) < BLANK_STD or int(img.max()) < 8


def diff_fraction(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of pixels that differ visibly between two images of the same size."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    return float((d > DIFF_THRESHOLD).mean())


def flat_share(img: np.ndarray) -> float:
    """The share of pixels with exactly the colour of their right and lower neighbours.

    Flat-shaded boxes score high (the old scenes: 83 to 99.5 % at 640x480); texture, shading
    and sky gradients bring it down. A measure of the look, not a pass/fail check of scenes.
    """
    a = img.astype(np.int16)
    right = (a[:-1, 1:] == a[:-1, :-1]).all(axis=2)
    down = (a[1:, :-1] == a[:-1, :-1]).all(axis=2)
    return float((right & down).mean())


def static_problems(info: SceneInfo) -> tuple[list[str], list[str]]:
    """(errors, warnings) about a scene's metadata and ladder, without rendering it."""
    errors: list[str] = list(asset_problems(info.folder))
    warnings: list[str] = []
    levels = info.ladder.levels
    lo, hi = RECOMMENDED_LEVELS
    if not info.calm and not lo <= len(levels) <= hi:
        warnings.append(f"has {len(levels)} levels; a clinic ladder usually has {lo} to {hi}")
    if not info.calm and len(levels) < 2:
        errors.append("an exposure scene needs at least 2 levels")
    for n in range(1, len(levels)):
        if levels[n].params == levels[n - 1].params:
            errors.append(f"levels {n} and {n + 1} have the same parameters")
    suds = [lv.suds for lv in levels if lv.suds is not None]
    if len(suds) == len(levels) and any(b < a for a, b in zip(suds, suds[1:], strict=False)):
        warnings.append("expected SUDS go down somewhere on the ladder; order levels mildest first")
    return errors, warnings


def render_problems(images: list[np.ndarray]) -> list[str]:
    """Problems seen in the renders of levels 1..N of one scene."""
    problems = []
    for n, img in enumerate(images, start=1):
        if is_blank(img):
            problems.append(f"level {n} renders blank")
    for n in range(1, len(images)):
        frac = diff_fraction(images[n - 1], images[n])
        pixels = frac * images[n].shape[0] * images[n].shape[1]
        if frac < MIN_DIFF_FRACTION or pixels < MIN_DIFF_PIXELS:
            problems.append(
                f"levels {n} and {n + 1} look the same ({frac:.2%} of pixels differ; "
                f"need {MIN_DIFF_FRACTION:.2%}): make the parameters change something visible"
            )
    return problems


def _render_child(
    names: list[str],
    dirs: list[str] | None,
    size: tuple[int, int],
    out: str,
    conn: Any,
    inset: bool = False,
) -> None:
    from scenes.stage import configure, make_base  # Panda3D: in the render child only

    result: dict[str, Any] = {}
    try:
        found, _ = discover([Path(d) for d in dirs] if dirs is not None else None)
        configure("offscreen", size)
        base = make_base()
        for name in names:
            try:
                written = render_levels(
                    [found[name]], Path(out), size=size, sheet=False, base=base, inset=inset
                )
                result[name] = [str(p) for p in written[name]]
            except Exception as err:  # one broken scene must not hide the others
                result[name] = f"{type(err).__name__}: {err}"
    except Exception as err:  # no renderer at all
        result = {"__error__": f"{type(err).__name__}: {err}"}
    conn.send(result)
    conn.close()


def render_in_subprocess(
    names: list[str],
    size: tuple[int, int],
    out: Path,
    dirs: list[Path] | None = None,
    timeout: float = 300.0,
    inset: bool = False,
) -> dict[str, list[Path] | str]:
    """Render every level of the named scenes to `out` in a fresh process.

    The client's view alone, or with `inset` the preview's close-up of the stimulus too.
    Returns the PNG paths by scene name, or a one-line error for a scene that failed.
    """
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_render_child,
        args=(
            names,
            [str(d) for d in dirs] if dirs is not None else None,
            size,
            str(out),
            theirs,
            inset,
        ),
    )
    proc.start()
    theirs.close()
    result: dict[str, Any] = {}
    if ours.poll(timeout):
        try:
            result = ours.recv()
        except EOFError:
            result = {}
    proc.join(10)
    if proc.is_alive():
        proc.kill()
    if "__error__" in result:
        raise RuntimeError(result["__error__"])
    if not result:
        raise RuntimeError(f"the render process exited with code {proc.exitcode} and no images")
    return {n: v if isinstance(v, str) else [Path(p) for p in v] for n, v in result.items()}


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image  # heavy: only the checks that compare pictures need it

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def check_scenes(
    infos: list[SceneInfo],
    render: bool = True,
    size: tuple[int, int] = (240, 180),
    dirs: list[Path] | None = None,
) -> dict[str, tuple[list[str], list[str]]]:
    """(errors, warnings) per scene name: static checks, then render checks when `render`."""
    report = {info.name: static_problems(info) for info in infos}
    if render and infos:
        with tempfile.TemporaryDirectory(prefix="vret-check-") as tmp:
            try:
                paths = render_in_subprocess([i.name for i in infos], size, Path(tmp), dirs)
            except RuntimeError as err:
                for info in infos:
                    report[info.name][0].append(f"could not be rendered: {err}")
                return report
            for name, files in paths.items():
                if isinstance(files, str):
                    report[name][0].append(f"failed to build or render: {files}")
                else:
                    report[name][0].extend(render_problems([load_rgb(p) for p in files]))
    return report
