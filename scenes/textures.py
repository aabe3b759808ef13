"""Procedural surface textures made with numpy: a detail map and a normal map per material.

Every texture tiles (the noise wraps at the edges) and is a *detail* map: a colour near white
with the material's grain in it, multiplied by the vertex colour the scene already chose, so a
scene keeps its palette and gains wood grain, plaster, weave or ripples. The height field behind
each pattern also gives a normal map, which the shader generator uses where shaders run.

Textures are made at first use and cached as PNG files in the user's cache folder
(`$XDG_CACHE_HOME/vret/textures`, or the platform's equivalent), keyed by a hash of the
generator version, the material, the size and its parameters: a change to any of them makes a
new file, and nothing is ever downloaded. Making all nine at 256 px takes about a second;
loading a cached one takes a few milliseconds.

This module needs numpy and Pillow only (no Panda3D), so it is tested and used outside the
render process too; `scenes.look` turns the arrays into Panda3D textures.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

TEXTURE_VERSION = 1
"""Bump when any generator changes: old cache files are then ignored (and can be deleted)."""
DEFAULT_SIZE = 256
"""Pixels a side: small enough for software rendering, and a 2x2 m floor shows ~1 mm grain."""

Array = np.ndarray
Generator = Callable[[np.random.Generator, int, dict[str, float]], tuple[Array, Array]]


# ---------------------------------------------------------------------------- noise
def value_noise(rng: np.random.Generator, size: int, cells: tuple[int, int]) -> Array:
    """Smooth tileable noise in [0, 1]: a random `cells` (x, y) lattice, eased between points."""
    cx, cy = cells
    grid = rng.random((cy, cx))

    def axis(n: int) -> tuple[Array, Array, Array]:
        x = np.arange(size) * n / size
        i0 = np.floor(x).astype(np.int64)
        f = x - i0
        return i0 % n, (i0 + 1) % n, f * f * (3.0 - 2.0 * f)

    y0, y1, sy = axis(cy)
    x0, x1, sx = axis(cx)
    top = grid[np.ix_(y0, x0)] * (1 - sx) + grid[np.ix_(y0, x1)] * sx
    bottom = grid[np.ix_(y1, x0)] * (1 - sx) + grid[np.ix_(y1, x1)] * sx
    return top * (1 - sy[:, None]) + bottom * sy[:, None]


def fbm(rng: np.random.Generator, size: int, cells: tuple[int, int], octaves: int = 4) -> Array:
    """Fractal noise (octaves of value noise, each twice as fine and half as strong) in [0, 1]."""
    total = np.zeros((size, size))
    weight = 0.0
    amp = 1.0
    for k in range(octaves):
        c = (min(size, cells[0] << k), min(size, cells[1] << k))
        total += amp * value_noise(rng, size, c)
        weight += amp
        amp *= 0.5
    return total / weight


def _stretch(x: Array, lo: float, hi: float) -> Array:
    """`x` rescaled so its 1st and 99th percentiles land on lo and hi."""
    a, b = np.percentile(x, (1, 99))
    return lo + (hi - lo) * np.clip((x - a) / max(b - a, 1e-6), 0.0, 1.0)


def _tint(lum: Array, tint: tuple[float, float, float]) -> Array:
    return lum[..., None] * np.asarray(tint)[None, None, :]


# ---------------------------------------------------------------------------- materials
def wood(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Boards with the grain along v: warped growth rings, fine streaks, darker late wood.

    `planks` > 0 cuts the tile into that many boards across u, with dark seams between them
    and a butt joint at a different place along each board.
    """
    x = np.arange(n)[None, :] / n
    warp = fbm(rng, n, (4, 2), 3)
    rings = np.sin(2 * np.pi * (x * p.get("rings", 24.0) + warp * 3.0)) * 0.5 + 0.5
    streaks = value_noise(rng, n, (96, 4))
    lum = 1.0 - 0.22 * rings**3 + 0.1 * (streaks - 0.5)  # dark late wood at the ring tops
    height = rings * 0.6 + streaks * 0.4
    planks = int(p.get("planks", 0))
    if planks:
        u = (np.arange(n) * planks // n)[None, :].repeat(n, axis=0)
        seam = (np.arange(n) * planks % n < max(2, n // 128))[None, :].repeat(n, axis=0)
        joint_at = rng.integers(0, n, planks)[u]
        joint = np.abs(np.arange(n)[:, None] - joint_at) < max(1, n // 256)
        shade = rng.uniform(0.9, 1.05, planks)[u]  # each board a little different
        lum = lum * shade
        lum[seam | joint] *= 0.55
        height = height - 1.0 * (seam | joint)
    lum = _stretch(lum, 0.6, 1.0)
    return _tint(lum, (1.0, 0.93, 0.84)), height


def plaster(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """A painted wall: soft blotches and a fine trowel texture."""
    blotch = fbm(rng, n, (3, 3), 3)
    fine = fbm(rng, n, (32, 32), 2)
    lum = _stretch(blotch * 0.6 + fine * 0.4, 0.84, 1.0)
    return _tint(lum, (1.0, 0.99, 0.97)), fine


def carpet(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Pile: per-fibre speckle over a faint pattern of wear."""
    pile = rng.random((n, n))
    wear = fbm(rng, n, (4, 4), 3)
    lum = _stretch(0.55 * pile + 0.45 * wear, 0.7, 1.0)
    return _tint(lum, (1.0, 0.97, 0.97)), pile


def fabric(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """A plain weave: threads over and under, with slubs in the yarn."""
    threads = int(p.get("threads", 64))
    x = np.arange(n) * threads / n
    warp = (np.sin(np.pi * x)[None, :] ** 2) * ((np.floor(x)[None, :] + np.floor(x)[:, None]) % 2)
    weft = (np.sin(np.pi * x)[:, None] ** 2) * (
        1 - (np.floor(x)[None, :] + np.floor(x)[:, None]) % 2
    )
    slub = value_noise(rng, n, (8, 64))
    h = warp + weft
    lum = _stretch(0.7 * h + 0.3 * slub, 0.72, 1.0)
    return _tint(lum, (1.0, 1.0, 1.0)), h


def skin(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Skin: gentle colour variation (warmer patches) and pores."""
    tone = fbm(rng, n, (4, 4), 3)
    pores = rng.random((n, n)) ** 8
    lum = _stretch(tone - 0.25 * pores, 0.86, 1.0)
    rgb = _tint(lum, (1.0, 0.97, 0.95))
    rgb[..., 0] += 0.04 * (tone - 0.5)  # flushed patches
    return np.clip(rgb, 0, 1), tone - pores


def foliage(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Leaves: overlapping lit blobs with dark gaps between them, a little yellow in the light."""
    leaves = fbm(rng, n, (12, 12), 3)
    lit = np.clip((leaves - 0.35) * 3.0, 0.0, 1.0)
    lum = 0.45 + 0.55 * lit
    rgb = _tint(lum, (0.95, 1.0, 0.85))
    rgb[..., 0] += 0.1 * lit * value_noise(rng, n, (6, 6))
    return np.clip(rgb, 0, 1), leaves


def concrete(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Cast concrete: cloudy grey, aggregate speckle and a few air pores."""
    cloud = fbm(rng, n, (4, 4), 4)
    speck = rng.random((n, n))
    pores = (rng.random((n, n)) > 0.997).astype(float)
    lum = _stretch(0.7 * cloud + 0.3 * speck - 0.6 * pores, 0.7, 1.0)
    return _tint(lum, (1.0, 1.0, 0.98)), cloud + 0.2 * speck - pores


def glass(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Window glass: nearly clear, with faint streaks and smudges."""
    streak = value_noise(rng, n, (48, 3))
    smudge = fbm(rng, n, (3, 3), 3)
    lum = _stretch(0.5 * streak + 0.5 * smudge, 0.9, 1.0)
    return _tint(lum, (0.97, 1.0, 1.0)), streak * 0.2


def water(rng: np.random.Generator, n: int, p: dict[str, float]) -> tuple[Array, Array]:
    """Open water: ripples from several directions with glints on their crests."""
    x = np.arange(n) / n
    xx, yy = np.meshgrid(x, x)
    h = fbm(rng, n, (4, 4), 4) * 1.5
    for kx, ky in ((3, 5), (-4, 7), (7, -2), (11, 9)):
        h += np.sin(2 * np.pi * (kx * xx + ky * yy) + rng.random() * 6.28) / np.hypot(kx, ky)
    lum = _stretch(h, 0.72, 1.0)
    glint = np.clip((lum - 0.96) * 25.0, 0.0, 1.0)
    rgb = _tint(lum, (0.93, 0.98, 1.0)) + 0.15 * glint[..., None]
    return np.clip(rgb, 0, 1), h


MATERIALS: dict[str, Generator] = {
    "wood": wood,
    "plaster": plaster,
    "carpet": carpet,
    "fabric": fabric,
    "skin": skin,
    "foliage": foliage,
    "concrete": concrete,
    "glass": glass,
    "water": water,
}
"""Every material by name; `make(name)` builds (or loads from the cache) its two maps."""


# ---------------------------------------------------------------------------- normal maps
def normal_map(height: Array, strength: float = 2.0) -> Array:
    """A tangent-space normal map (RGB in [0, 1], +Z blue) from a tileable height field."""
    h = (height - height.min()) / max(float(height.max() - height.min()), 1e-6)
    dx = (np.roll(h, -1, axis=1) - np.roll(h, 1, axis=1)) * 0.5 * strength
    dy = (np.roll(h, -1, axis=0) - np.roll(h, 1, axis=0)) * 0.5 * strength
    n = np.stack([-dx, dy, np.ones_like(h)], axis=-1)  # rows run down: +v is up in the texture
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return n * 0.5 + 0.5


# ---------------------------------------------------------------------------- the cache
def cache_dir() -> Path:
    """Where textures are cached: VRET_CACHE_DIR, else the user's cache folder (XDG on Linux)."""
    override = os.environ.get("VRET_CACHE_DIR")
    if override:
        return Path(override).expanduser() / "textures"
    from platformdirs import user_cache_dir  # a small import, needed only when caching

    return Path(user_cache_dir("vret")) / "textures"


def cache_key(name: str, size: int, params: dict[str, float], seed: int) -> str:
    """The hash that names a texture's cache files: version, material, size, seed, parameters."""
    text = json.dumps(
        {"v": TEXTURE_VERSION, "name": name, "size": size, "seed": seed, "params": params},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generate(
    name: str, size: int = DEFAULT_SIZE, seed: int = 1, **params: float
) -> tuple[Array, Array]:
    """(detail, normal) of material `name` as HxWx3 uint8 arrays, made now (no cache)."""
    if name not in MATERIALS:
        raise KeyError(f"no material {name!r}: use one of {', '.join(MATERIALS)}")
    rng = np.random.default_rng([seed, size, *name.encode()])
    albedo, height = MATERIALS[name](rng, size, dict(params))
    detail = np.clip(albedo * 255.0 + 0.5, 0, 255).astype(np.uint8)
    normal = np.clip(normal_map(height) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return detail, normal


def make(
    name: str, size: int = DEFAULT_SIZE, seed: int = 1, **params: float
) -> tuple[Array, Array]:
    """(detail, normal) of material `name`: from the cache, or made and cached now.

    A cache file that cannot be read (half-written, corrupt) is made again; a cache folder that
    cannot be written only costs the time to make the texture each run.
    """
    from PIL import Image  # Pillow reads and writes the cached PNGs

    key = cache_key(name, size, params, seed)
    folder = cache_dir()
    paths = (folder / f"{name}-{size}-{key}.png", folder / f"{name}-{size}-{key}-normal.png")
    try:
        loaded = []
        for path in paths:
            with Image.open(path) as img:
                arr = np.asarray(img.convert("RGB"))
            if arr.shape != (size, size, 3):
                raise ValueError(f"{path} has the wrong size")
            loaded.append(arr)
        return loaded[0], loaded[1]
    except (OSError, ValueError):
        pass
    detail, normal = generate(name, size, seed, **params)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, arr in zip(paths, (detail, normal), strict=True):
            # write then rename: a reader never sees a half-written file
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".png")
            os.close(fd)
            Image.fromarray(arr).save(tmp, format="PNG")
            os.replace(tmp, path)
    except OSError:
        pass
    return detail, normal
