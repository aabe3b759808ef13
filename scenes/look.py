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

**Linear light** (every OpenGL renderer, `LookFeatures.linear_light`): the window is an sRGB
framebuffer, so light adds up in linear light and is encoded to sRGB once, as pixels are
written. Colours are authored in sRGB, as on screen: `to_linear_light` converts a built scene's
vertex, flat, material, light, fog and text colours to linear once, and marks its colour
textures sRGB (the GPU decodes them as it samples); normal maps and other data stay linear.
p3tinydisplay has no shaders and no sRGB framebuffer: there the look stays in gamma space,
exactly as before. On a GPU the key light also casts soft shadows and the window is
multisampled (`cast_shadows`, `scenes.stage.make_base`); `scenes.render.config.look_features`
decides, from the renderer, what this process gets.

Textures come from `scenes.textures` (numpy, cached in the user's cache folder) and are loaded
into Panda3D once per process, whichever scene asks first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from panda3d.core import (
    ColorAttrib,
    ColorBlendAttrib,
    ColorScaleAttrib,
    Fog,
    FogAttrib,
    GeomEnums,
    GeomNode,
    GeomVertexData,
    GeomVertexFormat,
    GraphicsStateGuardianBase,
    InternalName,
    LightAttrib,
    MaterialAttrib,
    ModelRoot,
    NodePath,
    SamplerState,
    TextNode,
    Texture,
    TextureAttrib,
    TextureStage,
)

from scenes import textures
from scenes.geometry import Mesh
from scenes.render.config import SHADOW_REACH_M, LookFeatures

_features = LookFeatures()
"""What the look uses in this process: set once by `scenes.stage.make_base` (`use_features`)."""

_loaded: dict[tuple[str, int, int, tuple[tuple[str, float], ...]], tuple[Texture, Texture]] = {}
_normal_stage: TextureStage | None = None


def shaders_available() -> bool:
    """True when the renderer runs shaders (OpenGL); False in software (p3tinydisplay)."""
    gsg = GraphicsStateGuardianBase.getDefaultGsg()
    return bool(gsg is not None and gsg.getSupportsBasicShaders())


def use_features(features: LookFeatures) -> None:
    """Set what the look uses in this process (once, when the window has opened)."""
    global _features
    _features = features


def features() -> LookFeatures:
    """What the look uses in this process (the software fallback until a window says more)."""
    return _features


def linear_light() -> bool:
    """True when this process lights in linear light through an sRGB framebuffer."""
    return _features.linear_light


# ---------------------------------------------------------------------------- sRGB and linear
def srgb_to_linear(value: float) -> float:
    """One sRGB-encoded component (0..1, as authored and as on screen) in linear light."""
    if value <= 0.04045:
        return value / 12.92
    return float(((value + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(value: float) -> float:
    """One linear-light component (0..1) encoded as sRGB, as the framebuffer writes it."""
    if value <= 0.0031308:
        return value * 12.92
    return float(1.055 * value ** (1 / 2.4) - 0.055)


def linear_colour(colour: Any) -> tuple[float, ...]:
    """An sRGB colour (RGB or RGBA, alpha kept) as the renderer wants it: in linear light
    where the framebuffer is sRGB, unchanged in software rendering (gamma space)."""
    c = tuple(float(v) for v in colour)
    if not _features.linear_light:
        return c
    return tuple(srgb_to_linear(v) if k < 3 else v for k, v in enumerate(c))


_SRGB_FORMATS = {
    Texture.F_rgb: Texture.F_srgb,
    Texture.F_rgb8: Texture.F_srgb,
    Texture.F_rgba: Texture.F_srgb_alpha,
    Texture.F_rgba8: Texture.F_srgb_alpha,
}
_DATA_STAGES = {
    TextureStage.M_normal,
    TextureStage.M_normal_height,
    TextureStage.M_normal_gloss,
    TextureStage.M_height,
    TextureStage.M_gloss,
    TextureStage.M_selector,
}
"""Texture stages whose texels are data (directions, heights, masks), never colour."""
_LINEAR_TAG = "vret-linear"


class _Linearise:
    """One walk of `to_linear_light`: everything converted at most once."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, int]] = set()
        self.lights: list[tuple[Any, Any]] = []

    def once(self, kind: str, node: Any) -> bool:
        """True the first time `node` is met as `kind` (in this walk, or tagged by an earlier)."""
        tag = f"{_LINEAR_TAG}-{kind}"
        if node.hasTag(tag):
            return False
        node.setTag(tag, "1")
        return True

    def node(self, np_: NodePath) -> None:
        node = np_.node()
        if not self.once("node", node):
            return
        if isinstance(node, ModelRoot) and node.getFullpath().getExtension() in ("gltf", "glb"):
            return  # glTF colours are linear already, and its loader marks baseColor sRGB
        self.state(node)
        if isinstance(node, GeomNode):
            for i in range(node.getNumGeoms()):
                state = node.getGeomState(i)
                new = self.render_state(state)
                if new is not state:
                    node.setGeomState(i, new)
                _linear_vertex_colours(node.modifyGeom(i))
        if node.asLight() is not None:
            self.light(np_)
        if isinstance(node, Fog):
            self.fog(node)
        if isinstance(node, TextNode):
            node.setTextColor(*linear_colour(node.getTextColor()))
            if node.hasCard():
                node.setCardColor(*linear_colour(node.getCardColor()))
            if node.hasFrame():
                node.setFrameColor(*linear_colour(node.getFrameColor()))
            if node.hasShadow():
                node.setShadowColor(*linear_colour(node.getShadowColor()))
        for child in np_.getChildren():
            self.node(child)
        for child in np_.getStashedChildren():
            self.node(child)

    def light(self, light_np: NodePath) -> None:
        light = light_np.node()
        if not self.once("light", light):
            return
        linear = linear_colour(light.getColor())
        light.setColor(linear)
        self.lights.append((light, tuple(light.getColor())))  # a copy: getColor is a view

    def fog(self, fog: Fog) -> None:
        if self.once("fog", fog):
            fog.setColor(*linear_colour(fog.getColor())[:3])

    def state(self, node: Any) -> None:
        state = node.getState()
        new = self.render_state(state)
        if new is not state:
            node.setState(new)

    def render_state(self, state: Any) -> Any:
        """`state` with its flat colour, colour scale and materials in linear light, its
        lights and fog converted, and its colour textures marked sRGB."""
        attrib = state.getAttrib(ColorAttrib)
        if attrib is not None and attrib.getColorType() == ColorAttrib.T_flat:
            colour = linear_colour(attrib.getColor())
            state = state.setAttrib(ColorAttrib.makeFlat(colour), state.getOverride(ColorAttrib))
        attrib = state.getAttrib(ColorScaleAttrib)
        if attrib is not None and attrib.hasScale():
            scale = linear_colour(attrib.getScale())
            state = state.setAttrib(attrib.setScale(scale), state.getOverride(ColorScaleAttrib))
        attrib = state.getAttrib(MaterialAttrib)
        if attrib is not None and not attrib.isOff() and attrib.getMaterial() is not None:
            self.material(attrib.getMaterial())
        attrib = state.getAttrib(LightAttrib)
        if attrib is not None:
            for k in range(attrib.getNumOnLights()):
                self.light(attrib.getOnLight(k))
        attrib = state.getAttrib(FogAttrib)
        if attrib is not None and not attrib.isOff():
            self.fog(attrib.getFog())
        attrib = state.getAttrib(TextureAttrib)
        if attrib is not None:
            for k in range(attrib.getNumOnStages()):
                stage = attrib.getOnStage(k)
                if stage.getMode() not in _DATA_STAGES:
                    srgb_texture(attrib.getOnTexture(stage))
        return state

    def material(self, material: Any) -> None:
        if ("material", hash(material)) in self.seen:
            return
        self.seen.add(("material", hash(material)))
        for has, get, put in (
            ("hasBaseColor", "getBaseColor", "setBaseColor"),
            ("hasDiffuse", "getDiffuse", "setDiffuse"),
            ("hasAmbient", "getAmbient", "setAmbient"),
            ("hasEmission", "getEmission", "setEmission"),
            ("hasSpecular", "getSpecular", "setSpecular"),
        ):
            if getattr(material, has)():
                getattr(material, put)(linear_colour(getattr(material, get)()))


def srgb_texture(tex: Texture) -> Texture:
    """Mark a colour texture (8-bit RGB or RGBA texels: a photo, a video, an albedo) sRGB where
    light is linear, so the GPU decodes it as it samples; returns it. A texture a scene puts on
    in `apply` rather than `build` needs this call (the build's walk never sees it)."""
    srgb = _SRGB_FORMATS.get(tex.getFormat())
    colour_bytes = tex.getComponentType() == Texture.T_unsigned_byte
    if _features.linear_light and srgb is not None and colour_bytes:
        tex.setFormat(srgb)
    return tex


def _linear_vertex_colours(geom: Any) -> None:
    """Convert a Geom's vertex colours from sRGB to linear, stored as floats (8-bit linear
    colour would band in the darks: sRGB 20/255 is 2/255 in linear light)."""
    vdata = geom.getVertexData()
    fmt = vdata.getFormat()
    colour = InternalName.getColor()
    if not fmt.hasColumn(colour) or vdata.getNumRows() == 0:
        return
    column = fmt.getColumn(colour)
    if column.getNumericType() != GeomEnums.NT_float32:
        wider = GeomVertexFormat(fmt)
        for i in range(wider.getNumArrays()):
            if wider.getArray(i).hasColumn(colour):
                array_format = wider.modifyArray(i)
                array_format.removeColumn(colour)
                array_format.addColumn(colour, 4, GeomEnums.NT_float32, GeomEnums.C_color)
        vdata = GeomVertexData(vdata.convertTo(GeomVertexFormat.registerFormat(wider)))
    else:
        vdata = geom.modifyVertexData()
    fmt = vdata.getFormat()
    index = next(i for i in range(fmt.getNumArrays()) if fmt.getArray(i).hasColumn(colour))
    array_format = fmt.getArray(index)
    column = array_format.getColumn(colour)
    rows, stride = vdata.getNumRows(), array_format.getStride()
    raw = np.frombuffer(memoryview(vdata.modifyArray(index)).cast("B"), np.uint8)
    rgb = np.ndarray(
        (rows, 3), np.float32, raw.data, column.getStart(), (stride, 4)
    )  # a strided view: writes go into the vertex array
    c = rgb.astype(np.float64)
    rgb[...] = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    geom.setVertexData(vdata)


def to_linear_light(root: NodePath) -> list[tuple[Any, Any]]:
    """Convert everything under `root`, authored in sRGB, to linear light, once, at build:
    vertex, flat and material colours, colour scales, lights, fog and text colours; colour
    textures are marked sRGB (normal maps and other data textures stay linear). glTF models
    are left alone (their colours are linear by the glTF spec). Does nothing in software
    rendering. Returns the lights with the linear colour written to each, for
    `keep_lights_linear` (scenes that dim a light each frame write it in sRGB again).
    """
    if not _features.linear_light:
        return []
    walk = _Linearise()
    walk.node(root)
    return walk.lights


def keep_lights_linear(lights: list[tuple[Any, Any]]) -> None:
    """Per frame, after the scene's `apply`: a light whose colour the scene set again (in sRGB,
    as authored) is converted to linear light. A few comparisons a frame."""
    for k, (light, written) in enumerate(lights):
        colour = tuple(light.getColor())
        if colour != written:
            light.setColor(linear_colour(colour))
            lights[k] = (light, tuple(light.getColor()))


def cast_shadows(root: NodePath, around: NodePath, reach_m: float = SHADOW_REACH_M) -> Any:
    """Where the features allow (a GPU), the scene's key light (its brightest directional
    light) casts soft shadows over `reach_m` around `around` (the client's viewpoint): the
    shader generator's shadow map, filtered by the hardware's PCF. Returns the light, or None.
    """
    if not _features.shadows:
        return None
    lights = [np_ for np_ in root.findAllMatches("**/+DirectionalLight")]
    if not lights:
        return None
    key = max(lights, key=lambda np_: sum(tuple(np_.node().getColor())[:3]))
    size = _features.shadow_map_px
    place_shadow_camera(key, around, reach_m)
    key.node().setShadowCaster(True, size, size)
    return key


def place_shadow_camera(light: NodePath, around: NodePath, reach_m: float) -> None:
    """Put a directional light's shadow camera back along its direction from `around`, its
    film `2 * reach_m` across: a directional light's position does not change its lighting."""
    parent = light.getParent()
    centre = around.getPos(parent)
    forward = parent.getRelativeVector(light, (0.0, 1.0, 0.0))
    forward.normalize()
    distance = reach_m * 4.0
    light.setPos(centre - forward * distance)
    lens = light.node().getLens()
    lens.setFilmSize(2.0 * reach_m, 2.0 * reach_m)
    lens.setNearFar(distance - 2.0 * reach_m, distance + 2.0 * reach_m)


def buffer_properties() -> Any:
    """Framebuffer properties for an offscreen buffer drawing the scene (the thumbnail, a
    headset's eyes): sRGB where the window is, so its pixels are encoded as the window's are,
    and multisampled as the window is. None in software rendering: Panda3D's defaults."""
    from panda3d.core import FrameBufferProperties

    if not _features.linear_light and not _features.multisamples:
        return None
    props = FrameBufferProperties()  # Panda3D's defaults for a texture buffer, and ours
    props.setRgbColor(True)
    props.setAlphaBits(1)
    props.setDepthBits(1)
    props.setSrgbColor(_features.linear_light)
    props.setMultisamples(_features.multisamples)
    return props


def _to_texture(name: str, rgb: Any, srgb: bool) -> Texture:
    tex = Texture(name)
    size = rgb.shape[0]
    tex.setup2dTexture(size, rgb.shape[1], Texture.T_unsigned_byte, Texture.F_rgb)
    if srgb and _features.linear_light:
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
            _to_texture(f"{name}-detail", detail, srgb=True),
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
        fog.setColor(*look.fog_color)  # sRGB as authored: `to_linear_light` converts it
        fog.setExpDensity(look.fog_density)
        root.setFog(fog)
    if shaders_available():
        root.setShaderAuto()
