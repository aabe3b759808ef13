"""How scenes look: textured materials, lighting by the shader generator or by the fixed
pipeline, fog and sky. Used from a scene's `build` (Panda3D is loaded there already).

Two tiers, chosen by what the renderer can do, never by the scene:

- **Shaders** (OpenGL: a GPU, or Mesa's llvmpipe through `p3headlessgl`): Panda3D's shader
  generator lights every pixel, and each material adds its normal map, so wood grain and
  ripples catch the light. simplepbr is not used: its shadow pass crashes llvmpipe, and the
  shader generator gives per-pixel light and normal maps without it.
- **Software** (`p3tinydisplay`, the offscreen default, no GPU): the tuned fallback. No shaders
  and no shadows; lighting is per vertex, so the detail comes from the textures (one stage,
  nearest texels without mipmaps, multiplied by the vertex colour), from sky gradients and fog. This tier is
  what previews, tests and the frame-pacing benchmark measure.

Textures come from `scenes.textures` (numpy, cached in the user's cache folder) and are loaded
into Panda3D once per process, whichever scene asks first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from panda3d.core import (
    ColorBlendAttrib,
    Fog,
    GraphicsStateGuardianBase,
    NodePath,
    SamplerState,
    Texture,
    TextureStage,
)

from scenes import textures
from scenes.geometry import Mesh

_loaded: dict[tuple[str, int, int, tuple[tuple[str, float], ...]], tuple[Texture, Texture]] = {}
_normal_stage: TextureStage | None = None


def shaders_available() -> bool:
    """True when the renderer runs shaders (OpenGL); False in software (p3tinydisplay)."""
    gsg = GraphicsStateGuardianBase.getDefaultGsg()
    return bool(gsg is not None and gsg.getSupportsBasicShaders())


def _to_texture(name: str, rgb: Any, srgb: bool) -> Texture:
    tex = Texture(name)
    size = rgb.shape[0]
    tex.setup2dTexture(size, rgb.shape[1], Texture.T_unsigned_byte, Texture.F_rgb)
    if srgb:
        tex.setFormat(Texture.F_srgb)
    # Panda3D keeps images bottom row first and in BGR order in memory
    tex.setRamImageAs(rgb[::-1].tobytes(), "RGB")
    tex.setWrapU(SamplerState.WM_repeat)
    tex.setWrapV(SamplerState.WM_repeat)
    if shaders_available():
        tex.setMinfilter(SamplerState.FT_linear_mipmap_linear)
        tex.setMagfilter(SamplerState.FT_linear)
        tex.setAnisotropicDegree(4)
    else:
        # software: nearest texels, no mipmaps. Measured at 640x360 in p3tinydisplay, trilinear
        # mipmapping took heights from 8.7 to 18 ms a frame; nearest stays near the untextured
        # scene's time, and at 256 px the shimmer is slight
        tex.setMinfilter(SamplerState.FT_nearest)
        tex.setMagfilter(SamplerState.FT_nearest)
    return tex


def material_textures(
    name: str,
    size: int = textures.DEFAULT_SIZE,
    seed: int = 1,
    params: dict[str, float] | None = None,
) -> tuple[Texture, Texture]:
    """(detail, normal map) Panda3D textures of material `name`, made or loaded once."""
    params = params or {}
    key = (name, size, seed, tuple(sorted(params.items())))
    if key not in _loaded:
        detail, normal = textures.make(name, size, seed, **params)
        _loaded[key] = (
            _to_texture(f"{name}-detail", detail, srgb=False),
            _to_texture(f"{name}-normal", normal, srgb=False),
        )
    return _loaded[key]


def textured(
    mesh: Mesh,
    material: str,
    tile_m: float,
    name: str | None = None,
    params: dict[str, float] | None = None,
    seed: int = 1,
) -> NodePath:
    """`mesh` as a node wearing `material` (one repeat every `tile_m` metres).

    The texture multiplies the mesh's vertex colours, so the scene's palette stays; where
    shaders run, the material's normal map is added too.
    """
    global _normal_stage
    node = mesh.node(name or material, tile_m=tile_m)
    detail, normal = material_textures(material, seed=seed, params=params)
    node.setTexture(TextureStage.getDefault(), detail)
    if shaders_available():
        if _normal_stage is None:
            _normal_stage = TextureStage("normal")
            _normal_stage.setMode(TextureStage.M_normal)
        node.setTexture(_normal_stage, normal)
    return node


def bake_sunlight(
    mesh: Mesh,
    ambient: tuple[float, float, float],
    sun: tuple[float, float, float],
    sun_hpr: tuple[float, float, float],
) -> bool:
    """In software rendering, light a static mesh once: its vertex colours take the ambient
    light and a directional sun (Lambert), and the caller sets its node's light off.

    Under ambient and directional light a static surface's light never changes, so lighting
    it every frame is waste; in p3tinydisplay a lit textured surface also draws through a
    slower path (heights' textured ground: 1.5 ms a frame lit, 0.5 ms baked). Returns False
    and leaves the mesh alone where shaders run (there the light is per pixel, normal maps
    and all).
    """
    if shaders_available():
        return False
    from panda3d.core import LVector3, Quat  # Panda3D math: already loaded with the look

    q = Quat()
    q.setHpr(sun_hpr)
    toward = -q.getForward()  # from a surface toward the sun
    toward.normalize()
    for k, (p, n, c) in enumerate(mesh.verts):
        lambert = max(0.0, toward.dot(LVector3(*n)))
        mesh.verts[k] = (
            p,
            n,
            (
                min(1.0, c[0] * (ambient[0] + sun[0] * lambert)),
                min(1.0, c[1] * (ambient[1] + sun[1] * lambert)),
                min(1.0, c[2] * (ambient[2] + sun[2] * lambert)),
                c[3],
            ),
        )
    return True


@dataclass(frozen=True)
class Look:
    """A scene's atmosphere: fog, sky and the renderer tier's lighting.

    fog_density is exponential fog per metre (0: none): 0.002 hazes a valley 300 m away,
    0.05 fills a room-sized haze. sky is (zenith, horizon, ground) colours of a gradient dome,
    or None indoors.
    """

    fog_color: tuple[float, float, float] = (0.7, 0.75, 0.8)
    fog_density: float = 0.0
    sky: tuple[tuple[float, float, float], ...] | None = None
    sky_radius_m: float = 800.0


def sky_dome(
    zenith: tuple[float, float, float],
    horizon: tuple[float, float, float],
    ground: tuple[float, float, float],
    radius: float = 800.0,
) -> NodePath:
    """A gradient sphere around the scene: zenith overhead, horizon at eye level, ground below.

    Unlit and unfogged, drawn first behind everything, so it costs one pass of flat fill.
    """
    mesh = Mesh()
    segs, rings = 16, 10
    grid: list[list[int]] = []
    for r in range(rings + 1):
        phi = math.pi * r / rings  # 0 overhead .. pi below
        elev = math.cos(phi)
        if elev >= 0:
            f = elev**0.5
            col = tuple(h + (z - h) * f for z, h in zip(zenith, horizon, strict=True))
        else:
            f = min(1.0, -elev * 4)
            col = tuple(h + (g - h) * f for g, h in zip(ground, horizon, strict=True))
        row = []
        for s in range(segs + 1):
            th = 2 * math.pi * s / segs
            p = (
                radius * math.sin(phi) * math.cos(th),
                radius * math.sin(phi) * math.sin(th),
                radius * elev,
            )
            row.append(mesh._vertex(p, (0.0, 0.0, 1.0), (col[0], col[1], col[2], 1.0)))
        grid.append(row)
    for r in range(rings):
        for s in range(segs):
            a, b = grid[r][s], grid[r][s + 1]
            c, d = grid[r + 1][s + 1], grid[r + 1][s]
            mesh.tris.append((a, b, d))  # wound to face inwards
            mesh.tris.append((b, c, d))
    node = mesh.node("sky")
    node.setLightOff(1)
    node.setFogOff(1)
    node.setBin("background", 0)
    node.setDepthWrite(False)
    node.setAttrib(ColorBlendAttrib.make(ColorBlendAttrib.M_none))
    node.setTextureOff(1)
    node.setShaderOff(1)
    return node


def apply_look(root: NodePath, look: Look) -> None:
    """Put `look` on a scene's root: sky, fog, and the shader generator where it runs."""
    if look.sky is not None:
        zenith, horizon, ground = look.sky
        sky_dome(zenith, horizon, ground, look.sky_radius_m).reparentTo(root)
    if look.fog_density > 0:
        fog = Fog("haze")
        fog.setColor(*look.fog_color)
        fog.setExpDensity(look.fog_density)
        root.setFog(fog)
    if shaders_available():
        root.setShaderAuto()
