"""Arachnophobia: spiders on a long table in a living room, from one in a jar to many close by."""

from __future__ import annotations

import math
import random

from panda3d.core import AmbientLight, DirectionalLight, NodePath, PointLight, TransparencyAttrib

from scenes.api import Param, Scene, level, wave
from scenes.geometry import Mesh

TABLE_TOP_Z = 0.75
TABLE_NEAR_Y = 0.35
TABLE_FAR_Y = 2.9
TABLE_HALF_W = 0.6
MAX_SPIDERS = 12

# Where each spider sits relative to the first one (x across, y away from the client), in metres.
_rng = random.Random(7)
OFFSETS = [(0.0, 0.0)] + [
    (_rng.uniform(-0.42, 0.42), _rng.uniform(-0.05, 0.9)) for _ in range(MAX_SPIDERS - 1)
]
PHASES = [
    (_rng.uniform(0, 1), _rng.uniform(0, 1), _rng.uniform(0.7, 1.3)) for _ in range(MAX_SPIDERS)
]


def spider_mesh(
    body: tuple[float, float, float], legs: tuple[float, float, float]
) -> tuple[Mesh, Mesh, Mesh]:
    """A spider with a 1 m leg span: body, and the two alternating groups of four legs."""
    b = Mesh()
    # abdomen (behind), cephalothorax (front), and a paler marking on the abdomen
    b.sphere((0, -0.13, 0.085), (0.085, 0.12, 0.075), body, segs=10, rings=6)
    b.sphere((0, -0.15, 0.15), (0.03, 0.05, 0.012), (0.45, 0.35, 0.22), segs=6, rings=3)
    b.sphere((0, 0.04, 0.065), (0.06, 0.07, 0.05), body, segs=8, rings=5)
    b.sphere((0.018, 0.105, 0.08), 0.012, (0.02, 0.02, 0.02), segs=5, rings=3)  # eyes
    b.sphere((-0.018, 0.105, 0.08), 0.012, (0.02, 0.02, 0.02), segs=5, rings=3)
    b.prism((0.02, 0.1, 0.05), (0.03, 0.16, 0.02), 0.012, body, sides=4)  # palps
    b.prism((-0.02, 0.1, 0.05), (-0.03, 0.16, 0.02), 0.012, body, sides=4)
    groups = (Mesh(), Mesh())
    angles = (55.0, 20.0, -15.0, -50.0)  # leg pairs fanning from front to back
    for side in (1, -1):
        for k, ang in enumerate(angles):
            group = groups[(k + (0 if side > 0 else 1)) % 2]
            a = math.radians(ang)
            dx, dy = side * math.cos(a), math.sin(a)
            root = (side * 0.04, 0.04 + dy * 0.03, 0.07)
            knee = (root[0] + dx * 0.22, root[1] + dy * 0.22, 0.2)
            foot = (root[0] + dx * 0.47, root[1] + dy * 0.47, 0.0)
            group.prism(root, knee, 0.014, legs, sides=4, radius1=0.012)
            group.prism(knee, foot, 0.012, legs, sides=4, radius1=0.006)
    return b, groups[0], groups[1]


class Spiders(Scene):
    phobia = "arachnophobia"
    description = "A living room table: from one small spider in a jar to many large ones close by."
    background = (0.08, 0.08, 0.1)
    events = ("spider_drop",)
    parameters = {
        "count": Param("How many spiders are on the table", 1, MAX_SPIDERS, "spiders"),
        "distance": Param("How far the nearest spider is from the client", 0.4, 2.5, "m"),
        "span": Param("Leg span of each spider", 0.03, 0.25, "m"),
        "movement": Param("How much the spiders walk about (0 still, 1 scurrying)", 0, 1),
        "jar": Param("The closed glass jar over the first spider (1 shut, 0 gone)", 0, 1),
    }
    levels = [
        level(
            "Small spider in a closed jar, far end of the table",
            suds=10,
            count=1,
            distance=2.0,
            span=0.07,
            movement=0.0,
            jar=1.0,
        ),
        level(
            "Spider in a closed jar, middle of the table",
            suds=20,
            count=1,
            distance=1.2,
            span=0.07,
            movement=0.1,
            jar=1.0,
        ),
        level(
            "Jar removed: spider at the far end, still",
            suds=30,
            count=1,
            distance=1.9,
            span=0.08,
            movement=0.0,
            jar=0.0,
        ),
        level(
            "Larger spider in the middle of the table, twitching",
            suds=40,
            count=1,
            distance=1.2,
            span=0.1,
            movement=0.15,
            jar=0.0,
        ),
        level(
            "Spider walks slowly, nearer you",
            suds=50,
            count=1,
            distance=0.85,
            span=0.11,
            movement=0.45,
            jar=0.0,
        ),
        level(
            "Large spider walks at the near edge of the table",
            suds=60,
            count=1,
            distance=0.5,
            span=0.12,
            movement=0.6,
            jar=0.0,
        ),
        level(
            "Three spiders walking on the table",
            suds=70,
            count=3,
            distance=0.6,
            span=0.12,
            movement=0.7,
            jar=0.0,
        ),
        level(
            "A large hairy spider close by, two more behind",
            suds=80,
            count=3,
            distance=0.55,
            span=0.16,
            movement=0.6,
            jar=0.0,
        ),
        level(
            "Six large spiders walking toward you",
            suds=90,
            count=6,
            distance=0.5,
            span=0.16,
            movement=0.9,
            jar=0.0,
        ),
        level(
            "Twelve spiders, the largest at arm's length, moving fast",
            suds=100,
            count=12,
            distance=0.45,
            span=0.2,
            movement=1.0,
            jar=0.0,
        ),
    ]

    def build(self) -> None:
        room = Mesh()
        room.inside_box(
            (0, 1.0, 1.3),
            (5.0, 6.0, 2.6),
            {
                "floor": (0.45, 0.3, 0.18),
                "ceiling": (0.92, 0.91, 0.88),
                "walls": (0.86, 0.82, 0.72),
                "north": (0.8, 0.78, 0.7),
            },
        )
        room.box((0, 3.95, 1.5), (1.6, 0.04, 1.1), (0.55, 0.75, 0.95))  # window
        room.box((0, 3.93, 1.5), (0.06, 0.06, 1.1), (0.95, 0.95, 0.95))
        room.box((-1.4, 3.96, 1.5), (0.8, 0.04, 0.6), (0.35, 0.5, 0.35))  # a picture
        room.box((0, 1.6, 0.005), (2.6, 3.0, 0.01), (0.55, 0.16, 0.14))  # rug
        # the long table: top and four legs
        mid = (TABLE_NEAR_Y + TABLE_FAR_Y) / 2
        length = TABLE_FAR_Y - TABLE_NEAR_Y
        wood = (0.62, 0.45, 0.28)
        room.box((0, mid, TABLE_TOP_Z - 0.02), (TABLE_HALF_W * 2, length, 0.04), (0.72, 0.56, 0.38))
        for x in (-TABLE_HALF_W + 0.06, TABLE_HALF_W - 0.06):
            for y in (TABLE_NEAR_Y + 0.06, TABLE_FAR_Y - 0.06):
                room.box((x, y, (TABLE_TOP_Z - 0.04) / 2), (0.06, 0.06, TABLE_TOP_Z - 0.04), wood)
        # a mug and a book for scale
        room.cylinder((0.42, 1.0, TABLE_TOP_Z), 0.1, 0.04, (0.2, 0.35, 0.6), sides=10)
        room.box((-0.4, 1.9, TABLE_TOP_Z + 0.02), (0.2, 0.28, 0.04), (0.6, 0.15, 0.12))
        room.node("room").reparentTo(self.root)

        body, legs_a, legs_b = spider_mesh((0.3, 0.2, 0.12), (0.26, 0.18, 0.11))
        template = NodePath("spider")
        body.node("body").reparentTo(template)
        legs_a.node("legs-a").reparentTo(template)
        legs_b.node("legs-b").reparentTo(template)
        self.spiders: list[tuple[NodePath, NodePath, NodePath, NodePath]] = []
        for _ in range(MAX_SPIDERS):
            sp = template.copyTo(self.root)
            self.spiders.append((sp, sp.find("body"), sp.find("legs-a"), sp.find("legs-b")))

        jar = Mesh()
        jar.cylinder((0, 0, 0), 0.16, 0.07, (0.85, 0.92, 1.0, 0.35), sides=14)
        jar.cylinder((0, 0, 0.16), 0.015, 0.075, (0.7, 0.7, 0.72, 1.0), sides=14)
        self.jar = jar.node("jar")
        self.jar.reparentTo(self.root)
        self.jar.setTransparency(TransparencyAttrib.MAlpha)
        self.jar.setDepthWrite(False)
        self.jar.setBin("transparent", 10)

        ambient = AmbientLight("ambient")
        ambient.setColor((0.38, 0.37, 0.38, 1))
        sun = DirectionalLight("window-light")
        sun.setColor((0.55, 0.52, 0.46, 1))
        lamp = PointLight("lamp")
        lamp.setColor((0.25, 0.23, 0.2, 1))
        for light, pos, hpr in (
            (ambient, None, None),
            (sun, None, (160, -50, 0)),
            (lamp, (0.0, 1.2, 2.4), None),
        ):
            np_ = self.root.attachNewNode(light)
            if pos:
                np_.setPos(*pos)
            if hpr:
                np_.setHpr(*hpr)
            self.root.setLight(np_)
        self.gaze_pitch = -33.0
        self._drop = 0.0

    def on_event(self, name: str) -> None:
        if name == "spider_drop":
            self._drop = 1.0  # the nearest spider drops from above onto the table

    def stimulus_anchors(self, intensity: float) -> list[tuple[float, float, float]]:
        """Each spider on show, where it sits on the table at this level."""
        p = self.params(intensity)
        shown = max(1, math.ceil(p["count"] - 0.01))
        return [
            (OFFSETS[i][0], p["distance"] + OFFSETS[i][1], TABLE_TOP_Z + 0.05)
            for i in range(min(shown, MAX_SPIDERS))
        ]

    def apply(self, intensity: float, dt: float) -> None:
        p = self.params(intensity)
        count, span, move = p["count"], p["span"], p["movement"]
        base_y = p["distance"]
        t = self.time
        self._drop = max(0.0, self._drop - dt * 0.8)
        for i, (sp, body, legs_a, legs_b) in enumerate(self.spiders):
            shown = count - i
            if shown <= 0.0:
                sp.hide()
                continue
            sp.show()
            ox, oy = OFFSETS[i]
            ph_x, ph_y, speed = PHASES[i]
            # wander in a loop around the home spot; amplitude and speed grow with movement
            wx = wave(t * speed * (0.3 + move), 7.0, ph_x) * 0.22 * move
            wy = wave(t * speed * (0.3 + move), 9.0, ph_y) * 0.15 * move
            x = max(-TABLE_HALF_W + 0.08, min(TABLE_HALF_W - 0.08, ox * (1.0 + 0.3 * move) + wx))
            y = max(
                TABLE_NEAR_Y + 0.08, min(TABLE_FAR_Y - 0.1, base_y + oy * (1.0 - 0.4 * move) + wy)
            )
            heading = (
                math.degrees(
                    math.atan2(
                        -wave(t * speed * (0.3 + move), 7.0, ph_x + 0.25),
                        wave(t * speed * (0.3 + move), 9.0, ph_y + 0.25),
                    )
                )
                if move > 0.05
                else 180.0 + 40 * ox
            )
            z = TABLE_TOP_Z + (self._drop * 0.8 if i == 0 else 0.0)
            sp.setPosHprScale(
                x,
                y,
                z,
                heading,
                0,
                0,
                span * min(1.0, shown),
                span * min(1.0, shown),
                span * min(1.0, shown),
            )
            gait = wave(t, 0.35 / (0.2 + move), ph_x) * 9.0 * move
            legs_a.setH(gait)
            legs_b.setH(-gait)
            body.setZ(0.01 * abs(gait) / 9.0)
        jar = p["jar"]
        if jar <= 0.01:
            self.jar.hide()
        else:
            self.jar.show()
            self.jar.setPos(OFFSETS[0][0], max(TABLE_NEAR_Y + 0.08, base_y), TABLE_TOP_Z)
            self.jar.setAlphaScale(jar)
