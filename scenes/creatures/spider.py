"""A procedural spider with its anatomy, and the way it walks.

Model: in spider units (1 = the leg span), facing +Y, feet on z = 0. The body is one mesh:
cephalothorax (carapace with a fovea and radiating grooves), pedicel, abdomen with the
species' markings, chelicerae with fangs, two palps (three segments each), eight eyes in two
rows (the front middle pair large and glossy) and hairs. Each of the eight legs is its own
node with the coxa at the hip; the femur, patella, tibia, metatarsus and tarsus are baked in
with their joint bends, and two rotations at the hip (swing and lift) walk it (`rig`). For
drawing, the walk cycle is baked into a few one-geom poses with a near and a far version
(`build_species`), so twelve spiders stay inside a software frame budget.

Gait: the alternating tetrapod gait real spiders use. Legs L1, R2, L3 and R4 swing together
while R1, L2, R3 and L4 push, then the other way round. A leg lifts as it swings forward.

Behaviour (`Walker`): a seeded sequence of bouts (walk, pause, sudden run) whose odds and
speeds follow the level's `movement`; heading wanders and is pulled back towards a home spot;
with `face` above zero a pausing spider turns towards the client, and at 1 it always does.
Everything is a function of the seed and the frames it was stepped through: a preview from
time 0 draws the same spider every time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from panda3d.core import LODNode, NodePath, SwitchNode

from scenes.geometry import Color, Mesh

LEG_ANGLES = (58.0, 22.0, -14.0, -48.0)
"""Heading of each leg pair from the side axis, front (pair 1) to back (pair 4), in degrees."""
TETRAPOD_A = {("L", 1), ("R", 2), ("L", 3), ("R", 4)}
"""Legs that swing together (the other four push meanwhile)."""


@dataclass(frozen=True)
class Species:
    """What tells one kind of spider from another, in spider units and colours."""

    name: str
    body: Color
    legs: Color
    marking: Color
    abdomen: tuple[float, float, float]
    """Radii (x, y, z) of the abdomen."""
    thorax: tuple[float, float, float]
    leg_radius: float
    leg_reach: float
    """Horizontal reach of a leg from the hip, as a fraction of half the span."""
    hairs: int
    """Hairs on the body; legs get a third as many each."""
    bands: bool
    """Pale rings at the leg joints (tarantulas, some wolf spiders)."""
    pattern: str
    """Abdomen marking: chevrons, stripe, or none."""


SPECIES: tuple[Species, ...] = (
    Species(
        name="house spider",
        body=(0.55, 0.4, 0.26),
        legs=(0.5, 0.37, 0.24),
        marking=(0.82, 0.68, 0.48),
        abdomen=(0.075, 0.115, 0.07),
        thorax=(0.058, 0.07, 0.04),
        leg_radius=0.011,
        leg_reach=1.0,
        hairs=30,
        bands=False,
        pattern="chevrons",
    ),
    Species(
        name="wolf spider",
        body=(0.45, 0.36, 0.26),
        legs=(0.48, 0.38, 0.27),
        marking=(0.8, 0.7, 0.55),
        abdomen=(0.095, 0.13, 0.08),
        thorax=(0.075, 0.09, 0.055),
        leg_radius=0.016,
        leg_reach=0.9,
        hairs=45,
        bands=True,
        pattern="stripe",
    ),
    Species(
        name="tarantula",
        body=(0.3, 0.22, 0.18),
        legs=(0.26, 0.2, 0.17),
        marking=(0.85, 0.55, 0.3),
        abdomen=(0.13, 0.16, 0.115),
        thorax=(0.1, 0.11, 0.06),
        leg_radius=0.028,
        leg_reach=0.82,
        hairs=80,
        bands=True,
        pattern="none",
    ),
)
"""By level parameter `species`: 0 house spider, 1 wolf spider, 2 tarantula."""


def _mix(a: Color, b: Color, f: float) -> tuple[float, float, float]:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)


def _hair(
    mesh: Mesh,
    root: tuple[float, float, float],
    direction: tuple[float, float, float],
    length: float,
    width: float,
    color: Color,
) -> None:
    tip = (
        root[0] + direction[0] * length,
        root[1] + direction[1] * length,
        root[2] + direction[2] * length,
    )
    # a thin blade crossed with a second one: 6 vertices, seen from any side
    mesh.prism(root, tip, width, color, sides=2, radius1=width * 0.15, caps=False)


def body_mesh(sp: Species, seed: int = 3, detail: bool = True) -> Mesh:
    """The spider's body (everything but the legs), in spider units, facing +Y.

    `detail` False is the far version: the same shape and markings, without hairs, grooves,
    fangs and eye highlights (a quarter of the vertices).
    """
    rng = random.Random(seed)
    m = Mesh()
    ax, ay, az = sp.abdomen
    tx, ty, tz = sp.thorax
    hip_z = 0.085 + tz * 0.2
    abd_c = (0.0, -ty - ay * 0.85, hip_z + az * 0.35)
    thx_c = (0.0, 0.02, hip_z)
    dark = _mix(sp.body, (0, 0, 0), 0.45)
    # abdomen and its markings (a few flattened ellipsoids laid on its back)
    m.sphere(abd_c, (ax, ay, az), sp.body, segs=10 if detail else 7, rings=6 if detail else 4)
    if sp.pattern == "chevrons" and detail:
        for k in range(4):
            y = abd_c[1] + ay * (0.45 - k * 0.3)
            w = ax * (0.75 - k * 0.13)
            zt = abd_c[2] + az * math.sqrt(max(0.05, 1 - ((y - abd_c[1]) / ay) ** 2)) * 0.98
            m.prism(
                (-w, y - 0.012, zt - 0.004),
                (0, y + 0.01, zt + 0.003),
                0.007,
                sp.marking,
                sides=3,
                caps=False,
            )
            m.prism(
                (w, y - 0.012, zt - 0.004),
                (0, y + 0.01, zt + 0.003),
                0.007,
                sp.marking,
                sides=3,
                caps=False,
            )
    elif sp.pattern == "stripe" and detail:
        m.sphere(
            (abd_c[0], abd_c[1], abd_c[2] + az * 0.72),
            (ax * 0.3, ay * 0.85, az * 0.32),
            sp.marking,
            segs=8,
            rings=4,
        )
        m.sphere(
            (abd_c[0], abd_c[1] + ay * 0.2, abd_c[2] + az * 0.8),
            (ax * 0.14, ay * 0.5, az * 0.25),
            dark,
            segs=6,
            rings=3,
        )
    # spinnerets
    m.prism(
        (0, abd_c[1] - ay * 0.95, abd_c[2] - az * 0.2),
        (0, abd_c[1] - ay * 1.08, abd_c[2] - az * 0.3),
        0.012,
        dark,
        sides=4 if detail else 3,
        caps=detail,
    )
    # pedicel: the narrow waist
    m.prism(
        (0, thx_c[1] - ty * 0.8, thx_c[2]),
        (0, abd_c[1] + ay * 0.85, abd_c[2] - az * 0.2),
        0.014,
        dark,
        sides=5 if detail else 3,
        caps=detail,
    )
    # cephalothorax: carapace, with a fovea and grooves from it
    m.sphere(thx_c, (tx, ty, tz), sp.body, segs=10 if detail else 7, rings=5 if detail else 3)
    m.sphere(
        (0, thx_c[1] - ty * 0.1, thx_c[2] + tz * 0.93), (0.006, 0.012, 0.003), dark, segs=5, rings=2
    )
    for k in range(4 if detail else 0):
        a = math.radians(k * 45 + 22.5)
        for side in (1, -1):
            p0 = (0.0, thx_c[1] - ty * 0.1, thx_c[2] + tz * 0.95)
            p1 = (
                side * tx * 0.75 * math.cos(a),
                thx_c[1] - ty * 0.1 + ty * 0.75 * math.sin(a),
                thx_c[2] + tz * 0.6,
            )
            m.prism(p0, p1, 0.0035, dark, sides=3)
    # eyes: two rows of four, the front middle pair large and glossy (a highlight on each)
    black = (0.02, 0.02, 0.025)
    front_y = thx_c[1] + ty * 0.88
    eye_z = thx_c[2] + tz * 0.62
    for x, dy, dz, r in (
        (0.013, 0.0, 0.0, 0.011),
        (-0.013, 0.0, 0.0, 0.011),  # anterior median
        (0.034, -0.008, -0.004, 0.007),
        (-0.034, -0.008, -0.004, 0.007),  # anterior lateral
        (0.017, -0.022, 0.014, 0.008),
        (-0.017, -0.022, 0.014, 0.008),  # posterior median
        (0.04, -0.035, 0.01, 0.007),
        (-0.04, -0.035, 0.01, 0.007),  # posterior lateral
    ):
        c = (x * tx / 0.06, front_y + dy, eye_z + dz)
        if not detail and r < 0.01:
            continue  # far away only the two big front eyes show
        m.sphere(c, r * tx / 0.06, black, segs=5 if detail else 4, rings=3 if detail else 2)
        if not detail or r < 0.01:
            continue
        m.sphere(
            (c[0] + r * 0.3, c[1] + r * 0.55, c[2] + r * 0.45),
            r * 0.3,
            (0.9, 0.9, 0.95),
            segs=4,
            rings=2,
        )
    # chelicerae with fangs, under the eyes
    for side in (1, -1):
        top = (side * tx * 0.3, front_y - 0.004, thx_c[2] - tz * 0.05)
        low = (side * tx * 0.26, front_y + 0.018, thx_c[2] - tz * 0.85)
        m.prism(top, low, tx * 0.22, dark, sides=6 if detail else 3, radius1=tx * 0.16, caps=detail)
        if detail:  # the fangs
            m.prism(
                low,
                (side * tx * 0.12, front_y + 0.012, low[2] - 0.016),
                0.004,
                black,
                sides=3,
                radius1=0.001,
            )
    # palps: three short segments each, reaching forward and down
    for side in (1, -1):
        p0 = (side * tx * 0.55, front_y - 0.01, thx_c[2] - tz * 0.3)
        p1 = (side * tx * 0.8, front_y + 0.05, thx_c[2] + tz * 0.1)
        p2 = (side * tx * 0.85, front_y + 0.1, thx_c[2] - tz * 0.2)
        p3 = (side * tx * 0.7, front_y + 0.12, 0.02)
        r = sp.leg_radius * 0.8
        faces = 5 if detail else 3
        m.prism(p0, p1, r, sp.legs, sides=faces, caps=False)
        if detail:
            m.sphere(p1, r * 1.1, sp.legs, segs=5, rings=3)
        m.prism(p1, p2, r, sp.legs, sides=faces, caps=False)
        m.prism(p2, p3, r, sp.legs, sides=faces, radius1=r * 1.25)
    # hairs: on the abdomen and the carapace, longer and paler on a tarantula
    for _ in range(sp.hairs if detail else 0):
        on_abdomen = rng.random() < 0.7
        cx, cy, cz = abd_c if on_abdomen else thx_c
        rx, ry, rz = sp.abdomen if on_abdomen else sp.thorax
        th = rng.uniform(0, 2 * math.pi)
        ph = rng.uniform(0.0, math.pi * 0.62)
        n = (math.sin(ph) * math.cos(th), math.sin(ph) * math.sin(th), math.cos(ph))
        root = (cx + n[0] * rx * 0.95, cy + n[1] * ry * 0.95, cz + n[2] * rz * 0.95)
        length = (0.012 + 0.016 * rng.random()) * (1.0 + rz * 3)
        tint = _mix(sp.body, sp.marking, rng.random() * 0.6)
        back = (n[0] * 0.7, n[1] * 0.7 - 0.5, n[2] * 0.7)  # hairs lie backwards
        _hair(m, root, back, length, 0.0032, tint)
    return m


def leg_mesh(sp: Species, side: int, pair: int, seed: int = 5, detail: bool = True) -> Mesh:
    """One leg from its hip at the origin, reaching out along +X (side 1) or -X (side -1).

    Segments: coxa, trochanter, femur (up), patella (the knee, the highest point), tibia and
    metatarsus (down), tarsus (on the ground). Its node turns it to its pair's heading.
    `detail` False is the far version: four-sided segments, no joint knobs and no setae.
    """
    rng = random.Random(seed * 31 + pair * 2 + (side > 0))
    m = Mesh()
    reach = 0.5 * sp.leg_reach * (1.0 if pair in (1, 4) else 0.9)
    hip_z = 0.085 + sp.thorax[2] * 0.2
    r = sp.leg_radius
    s = float(side)
    joints = [
        (0.0, 0.0, hip_z),
        (s * reach * 0.08, 0.0, hip_z + 0.01),  # coxa
        (s * reach * 0.14, 0.0, hip_z + 0.02),  # trochanter
        (s * reach * 0.42, 0.0, hip_z + 0.13),  # femur up to the knee
        (s * reach * 0.52, 0.0, hip_z + 0.135),  # patella
        (s * reach * 0.72, 0.0, hip_z + 0.05),  # tibia
        (s * reach * 0.93, 0.0, 0.012),  # metatarsus
        (s * reach * 1.0, 0.0, 0.0),  # tarsus
    ]
    radii = [r * 1.2, r * 1.15, r * 1.1, r, r * 0.95, r * 0.8, r * 0.6, r * 0.35]
    dark = _mix(sp.legs, (0, 0, 0), 0.35)
    pale = _mix(sp.legs, sp.marking, 0.75)
    # far away the leg keeps its bends (hip, knee, tibia, metatarsus, foot) in four segments
    drawn = range(len(joints)) if detail else (0, 3, 5, 6, 7)
    pairs = list(zip(drawn, list(drawn)[1:], strict=False))
    for i, j in pairs:
        m.prism(
            joints[i],
            joints[j],
            radii[i],
            sp.legs,
            sides=5 if detail else 3,
            radius1=radii[j],
            caps=False,
        )
    for k in range(len(joints) - 1):
        if detail and 0 < k < len(joints) - 2:
            m.sphere(
                joints[k + 1], radii[k + 1] * 1.12, pale if sp.bands else dark, segs=5, rings=3
            )
    # setae: short stiff hairs along the leg
    for _ in range(sp.hairs // 4 if detail else 0):
        k = rng.randrange(2, len(joints) - 1)
        f = rng.random()
        a, b = joints[k], joints[k + 1]
        p = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)
        th = rng.uniform(0, 2 * math.pi)
        d = (s * 0.35, math.cos(th) * 0.7, 0.3 + math.sin(th) * 0.6)
        _hair(m, p, d, r * (1.0 + 1.2 * rng.random()), r * 0.18, pale if sp.bands else dark)
    return m


GAIT_POSES = 8
"""Poses baked per gait cycle; a ninth is the spider standing still."""
STANDING = GAIT_POSES
NEAR_M = 0.7
"""Nearer than this to the camera (metres, whatever the spider's size: Panda3D measures LOD
distances in the camera's space) a spider shows every hair and joint; farther, its far version
(the same outline, a fifth of the vertices). From the client's seat the table's spiders are
about 1 m away; the preview's close-up and a dropped spider come nearer."""


@dataclass
class Rig:
    """A spider with movable legs: the body and eight hip nodes, for posing (and baking)."""

    root: NodePath
    legs: list[tuple[NodePath, float, float, bool]]
    """(hip node, resting heading, side -1 left / 1 right, in tetrapod group A), L1..R4."""


def rig(sp: Species, detail: bool = True, material: str | None = None) -> Rig:
    """Body and eight legs of species `sp`, each leg on its own hip node."""
    from scenes.look import textured  # the look loads textures: only when a spider is built

    def geom(mesh: Mesh, name: str) -> NodePath:
        return textured(mesh, material, 0.08, name) if material else mesh.node(name)

    root = NodePath(f"spider-{sp.name}")
    geom(body_mesh(sp, detail=detail), "body").reparentTo(root)
    legs = []
    for side_name, side in (("L", -1), ("R", 1)):
        for pair, ang in enumerate(LEG_ANGLES, start=1):
            hip = root.attachNewNode(f"hip-{side_name}{pair}")
            a = math.radians(ang)
            hip.setPos(side * sp.thorax[0] * 0.7, 0.02 + math.sin(a) * sp.thorax[1] * 0.6, 0.0)
            hip.setH(side * ang)
            geom(leg_mesh(sp, side, pair, detail=detail), "leg").reparentTo(hip)
            legs.append((hip, side * ang, float(side), (side_name, pair) in TETRAPOD_A))
    return Rig(root, legs)


def pose_legs(spider: Rig, phase: float, stride: float) -> None:
    """Set the legs for gait `phase` (cycles; group B half a cycle behind) and `stride` (0-1).

    A leg swings forward while lifted and pushes back on the ground: sin gives the swing,
    the positive half of cos the lift.
    """
    for hip, rest, side, group_a in spider.legs:
        ph = 2.0 * math.pi * (phase + (0.0 if group_a else 0.5))
        swing = math.sin(ph) * 16.0 * stride
        lift = max(0.0, math.cos(ph)) * 18.0 * stride
        hip.setHpr(rest + side * swing, 0.0, side * lift)


def _baked(sp: Species, detail: bool, material: str | None, pose: int) -> NodePath:
    r = rig(sp, detail, material)
    if pose == STANDING:
        pose_legs(r, 0.0, 0.0)
    else:
        pose_legs(r, pose / GAIT_POSES, 1.0)
    r.root.flattenStrong()  # one geom: the pose is baked into the vertices
    return r.root


def build_species(sp: Species, material: str | None = None) -> NodePath:
    """A template spider of species `sp` (copy it with `copyTo`); textured when `material`.

    The gait is baked: GAIT_POSES poses of the walk cycle and one standing, each one geom
    with a near and a far version (`NEAR_M`), under a switch that shows one. Eight leg
    nodes a spider cost about 0.2 ms a spider a frame more in software rendering than one
    baked pose, which draws as one geom.
    """
    root = NodePath(f"spider-{sp.name}")
    poses = root.attachNewNode(SwitchNode("poses"))
    for pose in range(GAIT_POSES + 1):
        lod = poses.attachNewNode(LODNode(f"pose-{pose}"))
        _baked(sp, True, material, pose).reparentTo(lod)
        lod.node().addSwitch(NEAR_M, 0.0)
        _baked(sp, False, material, pose).reparentTo(lod)
        lod.node().addSwitch(1e6, NEAR_M)
    poses.node().setVisibleChild(STANDING)
    return root


@dataclass
class SpiderModel:
    """One spider in a scene: its root (place, turn and scale it) and its pose switch."""

    root: NodePath
    poses: NodePath

    def pose(self, phase: float, stride: float) -> int:
        """Show the baked pose nearest gait `phase` (or standing with no stride); its index."""
        index = STANDING if stride <= 0.05 else int(phase * GAIT_POSES) % GAIT_POSES
        self.poses.node().setVisibleChild(index)
        return index


def instance(template: NodePath, parent: NodePath) -> SpiderModel:
    """A copy of a species template under `parent`."""
    root = template.copyTo(parent)
    return SpiderModel(root, root.find("poses"))


@dataclass
class Walker:
    """Where one spider is and what it is doing: bouts of walking, pausing and running.

    `step` moves it by `dt` seconds at `movement` (0 still .. 1 restless and fast) and `face`
    (0 ignores the client .. 1 turns to them whenever it stops). Distances are metres on the
    table plane; `bounds` is (x0, x1, y0, y1).
    """

    seed: int
    x: float = 0.0
    y: float = 0.0
    heading: float = 180.0
    phase: float = 0.0
    mode: str = "pause"
    left: float = 0.0
    speed: float = 0.0
    turn: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    def reset(self, x: float, y: float, heading: float) -> None:
        self.rng = random.Random(self.seed)
        self.x, self.y, self.heading = x, y, heading
        self.phase, self.mode, self.left, self.speed, self.turn = 0.0, "pause", 0.0, 0.0, 0.0

    def _next_bout(self, movement: float) -> None:
        r = self.rng.random()
        if movement <= 0.02:
            self.mode, self.left, self.speed = "pause", 1.0, 0.0
        elif r < 0.12 + 0.25 * movement:  # a sudden run
            self.mode, self.left = "run", self.rng.uniform(0.3, 0.8)
            self.speed = 0.35 + 0.35 * movement
        elif r < 0.45 + 0.3 * movement:
            self.mode, self.left = "walk", self.rng.uniform(0.8, 2.5)
            self.speed = 0.04 + 0.12 * movement
        else:
            self.mode, self.left = "pause", self.rng.uniform(0.5, 2.5) * (1.3 - movement)
            self.speed = 0.0
        self.turn = self.rng.uniform(-70.0, 70.0)

    def step(
        self,
        dt: float,
        movement: float,
        face: float,
        home: tuple[float, float],
        bounds: tuple[float, float, float, float],
        client: tuple[float, float],
        span: float,
    ) -> float:
        """Advance `dt` seconds; returns the stride (0-1) to pose the legs with."""
        self.left -= dt
        if self.left <= 0.0:
            self._next_bout(movement)
        if self.mode == "pause":
            if face > 0.0:
                to_client = math.degrees(math.atan2(-(client[0] - self.x), client[1] - self.y))
                self.heading += _angle(to_client - self.heading) * min(1.0, dt * 3.0 * face)
            return 0.0
        # wander, and steer back towards home when far from it
        hx, hy = home[0] - self.x, home[1] - self.y
        to_home = math.degrees(math.atan2(-hx, hy))
        pull = min(1.0, math.hypot(hx, hy) / 0.25)
        self.heading += (self.turn * (1.0 - pull) + _angle(to_home - self.heading) * pull) * dt
        if face > 0.5 and self.mode == "run":  # at the top of the ladder a run comes at you
            to_client = math.degrees(math.atan2(-(client[0] - self.x), client[1] - self.y))
            self.heading += _angle(to_client - self.heading) * min(1.0, dt * 4.0 * (face - 0.5))
        h = math.radians(self.heading)
        self.x = min(bounds[1], max(bounds[0], self.x - math.sin(h) * self.speed * dt))
        self.y = min(bounds[3], max(bounds[2], self.y + math.cos(h) * self.speed * dt))
        # one gait cycle per stride of about 40% of the leg span
        self.phase += self.speed * dt / max(0.01, 0.4 * span)
        return 1.0 if self.mode == "run" else 0.7


def _angle(a: float) -> float:
    """`a` degrees wrapped into (-180, 180]."""
    return (a + 180.0) % 360.0 - 180.0
