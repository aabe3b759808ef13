"""Procedural people for an audience: bodies, faces, hair and clothes in variety, and the small
motions that make a seated crowd look alive.

A `Person` is seated, facing +Y, feet on z = 0 (turn its root to face the speaker). To the
cull it is five nodes: its root, the shift (breathing and sway), the body (clothes, hands,
shoes), the neck pivot and the head on it (face, ears, hair; skin and hair differ per person);
the eyelids (for a blink) and the right forearm on its elbow pivot (it lifts a phone, covers a
yawn, goes to the mouth for a whisper) join only while they are needed. Body and head each
come near and far (`set_detail`); the versions not drawn are stashed. Poses are functions of
scene time, so a preview at a given time always shows the same crowd.

Idle motion: breathing (the chest rises, 3-5 s a breath), blinking (every 2-6 s, 0.15 s),
shifting (a slow sway of the whole body). Gestures: nod, yawn, phone, whisper; each person may
start one in each window of `GESTURE_WINDOW_S` with the level's `gestures` odds, and a scene
event makes one person do one now.

Vertex budget: about 380 vertices a person near (the first rows), 160 far (the old block
people: 390), each repeated vertex drawn once (`welded`), because a full room is 48 of them and
software rendering transforms every vertex every frame: that, and their pixels, is what an
audience costs there, not its nodes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from panda3d.core import NodePath

from scenes.geometry import Color, Mesh, Vec

SKIN: tuple[Color, ...] = (
    (0.96, 0.8, 0.66),
    (0.88, 0.68, 0.54),
    (0.72, 0.52, 0.38),
    (0.55, 0.38, 0.27),
    (0.4, 0.27, 0.19),
    (0.93, 0.75, 0.6),
)
HAIR: tuple[Color, ...] = (
    (0.1, 0.07, 0.05),
    (0.32, 0.2, 0.1),
    (0.6, 0.45, 0.25),
    (0.55, 0.55, 0.55),
    (0.05, 0.05, 0.05),
    (0.55, 0.25, 0.12),
)
TOPS: tuple[Color, ...] = (
    (0.2, 0.3, 0.55),
    (0.6, 0.15, 0.15),
    (0.25, 0.45, 0.3),
    (0.3, 0.3, 0.32),
    (0.8, 0.76, 0.68),
    (0.5, 0.35, 0.55),
    (0.85, 0.55, 0.2),
    (0.15, 0.15, 0.18),
    (0.9, 0.9, 0.9),
)
TROUSERS: tuple[Color, ...] = (
    (0.15, 0.17, 0.25),
    (0.3, 0.3, 0.3),
    (0.35, 0.28, 0.2),
    (0.1, 0.1, 0.1),
)
HAIR_STYLES = ("short", "long", "bun", "curly", "bald", "cap")
GESTURES = ("nod", "yawn", "phone", "whisper")
GESTURE_WINDOW_S = 9.0
GESTURE_S = 3.0
NECK = (0.0, -0.05, 1.12)
"""The head's pivot (top of the neck) in the person's frame."""
ELBOW = (0.19, 0.02, 0.78)


@dataclass(frozen=True)
class Look:
    """What one person looks like: colours and styles, drawn from a seeded generator."""

    skin: Color
    hair: Color
    top: Color
    trousers: Color
    hair_style: str
    jacket: bool
    glasses: bool
    build: float
    """Width factor of the body, 0.9 slight .. 1.15 broad."""

    @staticmethod
    def random(rng: random.Random) -> Look:
        return Look(
            skin=rng.choice(SKIN),
            hair=rng.choice(HAIR),
            top=rng.choice(TOPS),
            trousers=rng.choice(TROUSERS),
            hair_style=rng.choice(HAIR_STYLES),
            jacket=rng.random() < 0.35,
            glasses=rng.random() < 0.25,
            build=rng.uniform(0.9, 1.15),
        )


def _darker(c: Color, f: float = 0.7) -> tuple[float, float, float]:
    return (c[0] * f, c[1] * f, c[2] * f)


def body_mesh(look: Look, detail: bool = True, right_forearm: bool = True) -> Mesh:
    """Torso, shoulders, arms resting on the lap, legs and shoes.

    `detail` False is the far version: a coarser torso, the jacket as its colour only.
    `right_forearm` False leaves the right forearm out, for the person's gesturing arm.
    """
    m = Mesh()
    w = look.build
    n = 5 if detail else 4  # sides of limbs
    top = _darker(look.top, 0.6) if look.jacket and not detail else look.top
    m.sphere(
        (0, -0.05, 0.86),
        (0.17 * w, 0.11, 0.27),
        top,
        segs=8 if detail else 5,
        rings=4 if detail else 3,
    )  # chest and belly
    m.prism((-0.17 * w, -0.05, 1.02), (0.17 * w, -0.05, 1.02), 0.065, top, sides=n, caps=detail)
    if look.jacket and detail:  # open jacket: darker panels either side of the shirt
        jacket = _darker(top, 0.45)
        for side in (-1, 1):
            m.sphere((side * 0.1 * w, -0.03, 0.86), (0.09 * w, 0.1, 0.26), jacket, segs=5, rings=3)
    m.sphere((0, -0.02, 0.56), (0.17 * w, 0.14, 0.09), look.trousers, segs=n + 1, rings=n - 2)
    for side in (-1, 1):
        x = side * 0.1 * w
        m.prism((x, 0.0, 0.52), (x, 0.42, 0.5), 0.075, look.trousers, sides=n, caps=False)
        m.prism((x, 0.42, 0.5), (x, 0.46, 0.08), 0.06, look.trousers, sides=n, caps=False)
        if detail:
            m.box((x, 0.5, 0.04), (0.1, 0.24, 0.08), (0.12, 0.1, 0.09))  # shoe
        # upper arms hang from the shoulders to the elbows
        shoulder = (side * 0.2 * w, -0.05, 1.0)
        m.prism(shoulder, (side * 0.21 * w, 0.0, 0.78), 0.05, top, sides=n, caps=False)
    # the forearms rest on the lap, hands on the thighs
    for side in (-1, 1) if right_forearm else (-1,):
        m.prism(
            (side * 0.21 * w, 0.0, 0.78), (side * 0.12, 0.28, 0.6), 0.04, top, sides=n, caps=False
        )
        m.sphere((side * 0.1, 0.32, 0.59), (0.04, 0.055, 0.025), look.skin, segs=n, rings=n - 2)
    return m


def head_mesh(look: Look, detail: bool = True) -> Mesh:
    """Head about the neck pivot: neck, face with nose, mouth, brows, ears; hair; glasses.

    `detail` False is the far version: the same head and hair, coarser, with dark eyes only.
    """
    m = Mesh()
    skin, hair = look.skin, look.hair
    segs = 9 if detail else 5
    m.prism((0, 0, -0.07), (0, 0, 0.04), 0.05, skin, sides=5, caps=False)  # neck
    m.sphere((0, 0.005, 0.13), (0.078, 0.095, 0.112), skin, segs=segs, rings=5 if detail else 4)
    for side in (-1, 1):
        m.sphere((side * 0.031, 0.1, 0.152), 0.0065, (0.12, 0.08, 0.05), segs=4, rings=2)
    if detail:
        m.prism((0, 0.095, 0.15), (0, 0.112, 0.11), 0.012, _darker(skin, 0.92), sides=3)  # nose
        m.sphere((0, 0.075, 0.065), (0.05, 0.03, 0.035), skin, segs=6, rings=3)  # jaw, chin
        m.prism(
            (-0.021, 0.101, 0.082), (0.021, 0.101, 0.082), 0.005, (0.6, 0.3, 0.3), 3, caps=False
        )
        for side in (-1, 1):
            m.sphere((side * 0.08, 0.0, 0.13), (0.012, 0.022, 0.03), skin, segs=4, rings=2)  # ear
            m.sphere((side * 0.031, 0.094, 0.152), (0.016, 0.008, 0.01), (0.95, 0.95, 0.93), 5, 2)
            m.prism(
                (side * 0.047, 0.098, 0.172),
                (side * 0.017, 0.098, 0.174),
                0.004,
                _darker(hair, 0.9),
                sides=3,
                caps=False,
            )  # brow
            if look.glasses:
                m.prism(
                    (side * 0.05, 0.108, 0.152),
                    (side * 0.012, 0.108, 0.152),
                    0.017,
                    (0.1, 0.1, 0.12),
                    sides=4,
                    caps=False,
                )
    style = look.hair_style
    if style != "bald":
        m.sphere(
            (0, -0.012, 0.17), (0.084, 0.097, 0.085), hair, segs=segs - 1, rings=4 if detail else 3
        )
    if style == "long":
        m.box((0, -0.06, 0.07), (0.17, 0.06, 0.2), hair)
    elif style == "bun":
        m.sphere((0, -0.085, 0.2), 0.04, hair, segs=5, rings=3)
    elif style == "curly":
        for k in range(5 if detail else 3):
            a = 2 * math.pi * k / (5 if detail else 3)
            m.sphere((0.07 * math.cos(a), -0.01 + 0.07 * math.sin(a), 0.2), 0.035, hair, 4, 2)
    elif style == "cap":
        m.box((0, 0.09, 0.2), (0.15, 0.08, 0.012), look.top)  # the peak of a cap
    return m


def lids_mesh(look: Look) -> Mesh:
    """Closed eyelids, drawn over the eyes only while the person blinks."""
    m = Mesh()
    for side in (-1, 1):
        m.sphere((side * 0.031, 0.097, 0.152), (0.019, 0.01, 0.013), look.skin, segs=5, rings=2)
    return m


def forearm_mesh(look: Look) -> tuple[Mesh, Mesh]:
    """The right forearm and hand from the elbow (pointing +Y), and the phone in that hand."""
    arm = Mesh()
    arm.prism((0, 0, 0), (0, 0.26, 0), 0.04, look.top, sides=5, caps=False)
    arm.sphere((0, 0.3, 0), (0.035, 0.05, 0.022), look.skin, segs=5, rings=3)
    phone = Mesh()
    phone.box((0, 0.31, 0.025), (0.07, 0.14, 0.01), (0.08, 0.08, 0.1))
    phone.box((0, 0.31, 0.031), (0.06, 0.12, 0.002), (0.55, 0.75, 0.95))  # its lit screen
    return arm, phone


def welded(mesh: Mesh) -> Mesh:
    """`mesh` with each vertex that repeats another (the same position, normal and colour: a
    sphere's seam and poles, a box's shared corners) drawn once.

    The same triangles and the same picture with 25-45 % fewer vertices: in software rendering
    an audience costs by the vertex (about 0.1 us each, transformed every frame), not by the
    node or the draw (48 people as 96 one-box geoms cost 0.1 ms a frame).
    """
    index: dict[tuple[tuple[float, ...], ...], int] = {}
    verts: list[tuple[Vec, Vec, tuple[float, float, float, float]]] = []
    remap: list[int] = []
    for p, n, c in mesh.verts:
        key = (_rounded(p, 6), _rounded(n, 5), _rounded(c, 5))
        k = index.get(key)
        if k is None:
            k = index[key] = len(verts)
            verts.append((p, n, c))
        remap.append(k)
    mesh.verts = verts
    mesh.tris = [(remap[a], remap[b], remap[c]) for a, b, c in mesh.tris]
    return mesh


def seen_from(mesh: Mesh, eyes: list[Vec], margin: float = 0.05) -> Mesh:
    """`mesh` without the triangles that face away from every point of `eyes` (in the mesh's
    frame), and without the vertices only those used.

    Give the corners of a box the eye stays in: a triangle that faces away from each corner
    faces away from the whole box (a plane splits space in two), so it is never drawn (the
    cull drops back faces), yet in software it costs its vertices' transforms each frame.
    `margin` (the cosine) keeps triangles that are nearly edge-on.
    """
    keep = []
    for tri in mesh.tris:
        (a, n, _), (b, _, _), (c, _, _) = (mesh.verts[i] for i in tri)
        # the face's own normal from its corners (counter-clockwise seen from the front)
        u = (b[0] - a[0], b[1] - a[1], b[2] - a[2])
        v = (c[0] - a[0], c[1] - a[1], c[2] - a[2])
        f = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        size = math.sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2])
        if size == 0.0:
            continue  # no area: never drawn
        for e in eyes:
            d = (e[0] - a[0], e[1] - a[1], e[2] - a[2])
            dist = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) or 1.0
            if (f[0] * d[0] + f[1] * d[1] + f[2] * d[2]) / (size * dist) > -margin:
                keep.append(tri)
                break
    used = sorted({i for tri in keep for i in tri})
    remap = {old: new for new, old in enumerate(used)}
    mesh.verts = [mesh.verts[i] for i in used]
    mesh.tris = [(remap[a], remap[b], remap[c]) for a, b, c in keep]
    return mesh


def _rounded(values: tuple[float, ...], digits: int) -> tuple[float, ...]:
    return tuple(round(v, digits) for v in values)


NEAR_M = 3.5
"""Nearer than this to the client's eye a person shows the full face and clothes; farther, the
far version (under half the vertices): the front rows are what a speaker reads faces in."""


@dataclass(frozen=True)
class RoomLight:
    """The light a seated person is lit by, to bake into their colours in software rendering:
    an ambient colour and a directional light's colour and direction (HPR), in the person's
    own frame (turned with them)."""

    ambient: tuple[float, float, float]
    sun: tuple[float, float, float]
    sun_hpr: tuple[float, float, float]


class Person:
    """One seated person's nodes and idle rhythm; `pose` sets everything for a moment.

    With `light`, in software rendering the person is lit once at build time (`baked` is then
    True and the caller turns the scene's lights off on them): a full room lit per vertex each
    frame cost about 1 ms a frame at 640x360. Under a light from above, a head turning by a
    few tens of degrees changes its shading too little to see, so the baked light holds.
    """

    def __init__(
        self,
        parent: NodePath,
        rng: random.Random,
        material: bool = True,
        light: RoomLight | None = None,
    ) -> None:
        from scenes.look import bake_sunlight, shaders_available, textured  # when built

        self.look = Look.random(rng)
        self.root = parent.attachNewNode("person")
        self.shift = self.root.attachNewNode("shift")
        self.baked = light is not None and not shaders_available()

        def lit(mesh: Mesh) -> Mesh:
            if self.baked and light is not None:
                # p3tinydisplay takes a lit vertex's colour in twice (a 0.5 grey under ambient
                # 0.62 draws 0.155): baked from the squared colour, a person looks as lit
                mesh.verts = [
                    (p, n, (c[0] * c[0], c[1] * c[1], c[2] * c[2], c[3])) for p, n, c in mesh.verts
                ]
                bake_sunlight(mesh, light.ambient, light.sun, light.sun_hpr)
            return welded(mesh)

        def version(mesh: Mesh, name: str, texture: str, tile: float) -> NodePath:
            # only the near version wears a texture: from the back rows it is below a texel
            # a pixel, and costs about 1.8 ms a frame for a full room in software
            near = material and not name.endswith("-far")
            mesh = lit(mesh)
            return textured(mesh, texture, tile, name) if near else mesh.node(name)

        # four bodies (near and far, forearm at rest or left out while its own node gestures)
        # and two heads (near and far); one of each is in the scene graph, the others are
        # stashed, so the cull never visits them. LOD nodes and a switch node (the old way: ten
        # nodes a person, each LOD's distance worked out each frame) cost about 0.5 ms a frame
        # for a full room in software: the scene picks the detail by distance when it places a
        # person (`set_detail`)
        self.bodies: dict[tuple[bool, bool], NodePath] = {}
        for near in (True, False):
            for rest in (True, False):
                name = ("body" if rest else "body-gesturing") + ("" if near else "-far")
                body = version(body_mesh(self.look, near, right_forearm=rest), name, "fabric", 0.25)
                body.reparentTo(self.shift)
                body.stash()
                self.bodies[near, rest] = body
        self.head = self.shift.attachNewNode("neck")
        self.head.setPos(*NECK)
        self.heads: dict[bool, NodePath] = {}
        for near in (True, False):
            name = "head" if near else "head-far"
            face = version(head_mesh(self.look, detail=near), name, "skin", 0.12)
            face.reparentTo(self.head)
            face.stash()
            self.heads[near] = face
        self.lids = lit(lids_mesh(self.look)).node("lids")
        self.lids.reparentTo(self.head)
        self.lids.stash()
        self.elbow = self.shift.attachNewNode("elbow")
        self.elbow.setPos(*ELBOW)
        forearm, phone = forearm_mesh(self.look)
        lit(forearm).node("forearm").reparentTo(self.elbow)
        self.phone = lit(phone).node("phone")
        self.phone.reparentTo(self.elbow)
        self.phone.hide()
        self.elbow.stash()
        self._near = (True, True)
        self.body = self.bodies[True, True]
        """The body in the scene graph now."""
        self.body.unstash()
        self.heads[True].unstash()
        self._arm = False
        self.breath_s = rng.uniform(3.2, 5.0)
        self.blink_s = rng.uniform(2.0, 6.0)
        self.phase = rng.random()
        self.seed = rng.randrange(1 << 30)
        self._lids = False
        self._phone = False
        self.gesturing = False
        """The latest pose was a gesture (the next must be set, to end it)."""
        self._window: tuple[tuple[int, float], str | None, float] = ((-1, -1.0), None, 0.0)

    def set_detail(self, body_near: bool, head_near: bool) -> None:
        """Draw the near (full) or far (coarser) body and head: nearer than `NEAR_M` to the
        client's eye, near. The scene calls it when it places a person, not each frame."""
        if (body_near, head_near) == self._near:
            return
        self.heads[self._near[1]].stash()
        self._near = (body_near, head_near)
        self.heads[head_near].unstash()
        self._show_body()

    def _show_body(self) -> None:
        body = self.bodies[self._near[0], not self._arm]
        if body is not self.body:
            self.body.stash()
            body.unstash()
            self.body = body

    def gesture_at(self, t: float, odds: float) -> tuple[str | None, float]:
        """The spontaneous gesture at time `t` and how far through it (0-1), from the seed."""
        window = math.floor(t / GESTURE_WINDOW_S + self.phase)
        if self._window[0] != (window, odds):
            r = random.Random(self.seed * 7919 + window)
            kind = GESTURES[r.randrange(len(GESTURES))] if r.random() < odds else None
            self._window = ((window, odds), kind, r.uniform(0.0, GESTURE_WINDOW_S - GESTURE_S))
        _, kind, start = self._window
        if kind is None:
            return None, 0.0
        into = (t / GESTURE_WINDOW_S + self.phase - window) * GESTURE_WINDOW_S - start
        if 0.0 <= into < GESTURE_S:
            return kind, into / GESTURE_S
        return None, 0.0

    def pose(
        self,
        t: float,
        look_h: float,
        look_p: float,
        gesture: str | None = None,
        progress: float = 0.0,
    ) -> None:
        """Set breathing, blinking, sway, where the head looks (degrees) and one gesture."""
        self.gesturing = gesture is not None
        breath = math.sin(2 * math.pi * (t / self.breath_s + self.phase))
        sway = 1.2 * math.sin(2 * math.pi * (t / 11.0 + self.phase))
        # one transform change, not two: 48 people's transforms are remade every frame
        self.shift.setHprScale(0.0, 0.0, sway, 1.0, 1.0, 1.0 + 0.008 * breath)
        blink = ((t + self.phase * self.blink_s) % self.blink_s) < 0.15
        h, p, r = look_h, look_p, 0.0
        arm_p, arm_h = 0.0, 0.0  # forearm forward on the thigh
        phone = False
        if gesture is not None:
            bell = math.sin(math.pi * min(1.0, max(0.0, progress)))  # in, hold, out
            if gesture == "nod":
                p += 14.0 * math.sin(progress * 6 * math.pi) * bell
            elif gesture == "yawn":
                p += 22.0 * bell
                arm_p = 75.0 * bell  # a hand to the mouth
                blink = blink or bell > 0.5
            elif gesture == "phone":
                p = -35.0 * bell + look_p * (1 - bell)
                h = look_h * (1 - bell)
                arm_p = 38.0 * bell
                phone = bell > 0.15
            elif gesture == "whisper":
                h = look_h * (1 - bell) + 55.0 * bell  # to the neighbour on the left
                r = 8.0 * bell
                arm_p, arm_h = 70.0 * bell, 35.0 * bell
        self.head.setHpr(h, p, r)
        arm = arm_p > 0.5
        if arm != self._arm:
            self._arm = arm
            self._show_body()
            if arm:
                self.elbow.unstash()
            else:
                self.elbow.stash()
        if arm:
            self.elbow.setHpr(arm_h, arm_p, 0.0)
        if blink != self._lids:
            self._lids = blink
            if blink:
                self.lids.unstash()
            else:
                self.lids.stash()
        if phone != self._phone:
            self._phone = phone
            if phone:
                self.phone.show()
            else:
                self.phone.hide()
