"""Arachnophobia: spiders on a long table in a living room, from one in a jar to many close by."""

from __future__ import annotations

import math
import random

from panda3d.core import AmbientLight, DirectionalLight, PointLight, TransparencyAttrib

from scenes.api import Param, Scene, level
from scenes.creatures.spider import SPECIES, SpiderModel, Walker, build_species, instance
from scenes.geometry import Mesh
from scenes.look import Look, apply_look, textured

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
HEADINGS = [180.0 + _rng.uniform(-60, 60) for _ in range(MAX_SPIDERS)]
CEILING_Z = 2.6
DROP_HANG_Z = 1.2
"""A dropped spider hangs on its thread at this height, above the near end of the table."""


class Spiders(Scene):
    phobia = "arachnophobia"
    description = "A living room table: from one small spider in a jar to many large ones close by."
    background = (0.08, 0.08, 0.1)
    detail_steps = 1  # drawn plain (no textures) while frames come close to late
    events = ("spider_drop",)
    parameters = {
        "count": Param("How many spiders are on the table", 1, MAX_SPIDERS, "spiders"),
        "distance": Param("How far the nearest spider is from the client", 0.4, 2.5, "m"),
        "span": Param("Leg span of each spider", 0.03, 0.25, "m"),
        "movement": Param("How much the spiders walk about (0 still, 1 scurrying)", 0, 1),
        "jar": Param("The closed glass jar over the first spider (1 shut, 0 gone)", 0, 1),
        "species": Param(
            "Which spider: 0 a house spider, 1 a wolf spider, 2 a tarantula", 0, len(SPECIES) - 1
        ),
        "face": Param(
            "How often a pausing spider turns to face the client (0 never, 1 always)", 0, 1
        ),
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
            species=0.0,
            face=0,
        ),
        level(
            "Spider in a closed jar, middle of the table",
            suds=20,
            count=1,
            distance=1.2,
            span=0.07,
            movement=0.1,
            jar=1.0,
            species=0.0,
            face=0,
        ),
        level(
            "Jar removed: spider at the far end, still",
            suds=30,
            count=1,
            distance=1.9,
            span=0.08,
            movement=0.0,
            jar=0.0,
            species=0.0,
            face=0,
        ),
        level(
            "Larger spider in the middle of the table, twitching",
            suds=40,
            count=1,
            distance=1.05,
            span=0.12,
            movement=0.15,
            jar=0.0,
            species=1.0,
            face=0,
        ),
        level(
            "Spider walks slowly, nearer you",
            suds=50,
            count=1,
            distance=0.85,
            span=0.13,
            movement=0.45,
            jar=0.0,
            species=1.0,
            face=0,
        ),
        level(
            "Large spider walks at the near edge of the table",
            suds=60,
            count=1,
            distance=0.5,
            span=0.14,
            movement=0.6,
            jar=0.0,
            species=1.0,
            face=0,
        ),
        level(
            "Three spiders walking on the table",
            suds=70,
            count=3,
            distance=0.6,
            span=0.14,
            movement=0.7,
            jar=0.0,
            species=1.0,
            face=0.3,
        ),
        level(
            "A large hairy spider close by, two more behind",
            suds=80,
            count=3,
            distance=0.55,
            span=0.16,
            movement=0.6,
            jar=0.0,
            species=2.0,
            face=0.6,
        ),
        level(
            "Six large spiders walking toward you",
            suds=90,
            count=6,
            distance=0.5,
            span=0.16,
            movement=0.9,
            jar=0.0,
            species=1.0,
            face=0.8,
        ),
        level(
            "Twelve spiders, the largest at arm's length, moving fast",
            suds=100,
            count=12,
            distance=0.45,
            span=0.2,
            movement=1.0,
            jar=0.0,
            species=2.0,
            face=1.0,
        ),
    ]

    def build(self) -> None:
        # the room, one mesh per material: the texture multiplies each surface's colour
        floor, walls, ceiling, rug, table, glass, cloth = (Mesh() for _ in range(7))
        floor.quad((-2.5, -2.0, 0), (2.5, -2.0, 0), (2.5, 4.0, 0), (-2.5, 4.0, 0), (0.5, 0.34, 0.2))
        room_walls = Mesh()
        room_walls.inside_box(
            (0, 1.0, 1.3),
            (5.0, 6.0, 2.6),
            {"floor": (0, 0, 0), "ceiling": (0.92, 0.91, 0.88), "walls": (0.86, 0.82, 0.72)},
        )
        # keep the room's walls (all but the first two quads: the floor and the ceiling)
        walls.verts, walls.tris = room_walls.verts, room_walls.tris[4:]
        ceiling.verts, ceiling.tris = room_walls.verts, room_walls.tris[2:4]
        glass.box((0, 3.95, 1.5), (1.6, 0.04, 1.1), (0.55, 0.75, 0.95))  # window
        walls.box((0, 3.93, 1.5), (0.06, 0.06, 1.1), (0.95, 0.95, 0.95))
        walls.box((0, 3.93, 2.07), (1.7, 0.08, 0.06), (0.95, 0.95, 0.95))
        walls.box((0, 3.93, 0.93), (1.7, 0.1, 0.05), (0.95, 0.95, 0.95))
        cloth.box((-1.4, 3.96, 1.5), (0.8, 0.04, 0.6), (0.35, 0.5, 0.35))  # a picture
        rug.box((0, 1.6, 0.005), (2.6, 3.0, 0.01), (0.55, 0.16, 0.14))
        # the long table: top and four legs
        mid = (TABLE_NEAR_Y + TABLE_FAR_Y) / 2
        length = TABLE_FAR_Y - TABLE_NEAR_Y
        wood = (0.62, 0.45, 0.28)
        table.box(
            (0, mid, TABLE_TOP_Z - 0.02), (TABLE_HALF_W * 2, length, 0.04), (0.72, 0.56, 0.38)
        )
        for x in (-TABLE_HALF_W + 0.06, TABLE_HALF_W - 0.06):
            for y in (TABLE_NEAR_Y + 0.06, TABLE_FAR_Y - 0.06):
                table.box((x, y, (TABLE_TOP_Z - 0.04) / 2), (0.06, 0.06, TABLE_TOP_Z - 0.04), wood)
        # a mug and a book for scale
        mug = Mesh().cylinder((0.42, 1.0, TABLE_TOP_Z), 0.1, 0.04, (0.2, 0.35, 0.6), sides=12)
        mug.node("mug").reparentTo(self.root)
        cloth.box((-0.4, 1.9, TABLE_TOP_Z + 0.02), (0.2, 0.28, 0.04), (0.6, 0.15, 0.12))
        for mesh, material, tile, params in (
            (floor, "wood", 2.4, {"planks": 12.0}),
            (walls, "plaster", 1.5, {}),
            (ceiling, "plaster", 2.0, {}),
            (rug, "carpet", 0.6, {}),
            (table, "wood", 1.2, {"planks": 4.0}),
            (glass, "glass", 1.0, {}),
            (cloth, "fabric", 0.15, {}),
        ):
            textured(mesh, material, tile, params=params).reparentTo(self.root)

        # one template per species, copied for each spider (and one more for the drop)
        templates = [build_species(sp) for sp in SPECIES]
        self.spiders = [[instance(t, self.root) for t in templates] for _ in range(MAX_SPIDERS + 1)]
        self.walkers = [Walker(seed=100 + i) for i in range(MAX_SPIDERS + 1)]
        for models in self.spiders:
            for model in models:
                model.root.hide()
        thread = Mesh().prism((0, 0, 0), (0, 0, 1), 0.0012, (0.9, 0.9, 0.92), sides=3)
        self.thread = thread.node("thread")
        self.thread.reparentTo(self.root)
        self.thread.setLightOff(1)
        self.thread.hide()

        jar = Mesh()
        jar.cylinder((0, 0, 0), 0.16, 0.07, (0.85, 0.92, 1.0, 0.35), sides=14)
        jar.cylinder((0, 0, 0.16), 0.015, 0.075, (0.7, 0.7, 0.72, 1.0), sides=14)
        self.jar = textured(jar, "glass", 0.2, "jar")
        self.jar.reparentTo(self.root)
        self.jar.setTransparency(TransparencyAttrib.MAlpha)
        self.jar.setDepthWrite(False)
        self.jar.setBin("transparent", 10)

        ambient = AmbientLight("ambient")
        ambient.setColor((0.42, 0.41, 0.42, 1))
        sun = DirectionalLight("window-light")
        sun.setColor((0.6, 0.56, 0.48, 1))
        lamp = PointLight("lamp")
        lamp.setColor((0.4, 0.36, 0.3, 1))
        lamp.setAttenuation((0.6, 0.0, 0.12))
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
            if light is lamp:  # spiders are lit by two lights, not three: vertex light is dear
                for models in self.spiders:
                    for model in models:
                        model.root.setLightOff(np_)
        apply_look(self.root, Look(fog_color=self.background, fog_density=0.0))
        self.scuttle_at = self.root.attachNewNode("scuttle")
        self.scuttle = self.spatial_sound("scuttle", self.scuttle_at, volume=0.0, min_distance=0.3)
        self.gaze_pitch = -33.0
        self._drop = -1.0
        self._shown: list[int] = [-1] * (MAX_SPIDERS + 1)

    def on_event(self, name: str) -> None:
        if name == "spider_drop":
            self._drop = 0.0  # a spider lowers itself on a thread from the ceiling

    def stimulus(self) -> object | None:
        """The dropping spider while it hangs, else the first spider on the table."""
        for i in (MAX_SPIDERS, 0):
            if self._shown[i] != -1:
                return self.spiders[i][self._shown[i]].root
        return None

    def _place(self, i: int, species: int) -> SpiderModel:
        """Show spider `i` as `species` (hiding its other species' models); returns its model."""
        if self._shown[i] != species:
            for k, model in enumerate(self.spiders[i]):
                if k == species:
                    model.root.show()
                else:
                    model.root.hide()
            self._shown[i] = species
        return self.spiders[i][species]

    def _hide(self, i: int) -> None:
        if self._shown[i] != -1:
            for model in self.spiders[i]:
                model.root.hide()
            self._shown[i] = -1

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
        count, span, move, face = p["count"], p["span"], p["movement"], p["face"]
        species = min(len(SPECIES) - 1, max(0, int(round(p["species"]))))
        base_y = p["distance"]
        if self.time <= dt:  # scene time starts again (a preview, a fresh show): same spiders
            for i, w in enumerate(self.walkers[:MAX_SPIDERS]):
                w.reset(OFFSETS[i][0], base_y + OFFSETS[i][1], HEADINGS[i])
        bounds = (
            -TABLE_HALF_W + 0.08,
            TABLE_HALF_W - 0.08,
            TABLE_NEAR_Y + 0.08,
            TABLE_FAR_Y - 0.1,
        )
        client = (0.0, -0.2)
        for i in range(MAX_SPIDERS):
            shown = count - i
            if shown <= 0.0:
                self._hide(i)
                continue
            model = self._place(i, species)
            w = self.walkers[i]
            ox, oy = OFFSETS[i]
            home = (ox * (1.0 + 0.3 * move), base_y + oy * (1.0 - 0.4 * move))
            if move <= 0.02:  # still: it stays where the level puts it
                w.x, w.y = home
            stride = w.step(dt, move, face, home, bounds, client, span)
            size = span * min(1.0, shown)
            model.root.setPosHprScale(w.x, w.y, TABLE_TOP_Z, w.heading, 0, 0, size, size, size)
            if 0.05 < move < 0.3 and stride == 0.0 and math.sin(self.time * 9.0 + i) > 0.6:
                model.pose(self.time * 0.4, 0.5)  # a restless twitch of the legs while it waits
            else:
                model.pose(w.phase, stride)
        first = self.walkers[0]
        self.scuttle_at.setPos(first.x, first.y, TABLE_TOP_Z)
        walking = 0.0 if first.mode == "pause" else (1.0 if first.mode == "run" else 0.6)
        self.scuttle.volume = min(1.0, count) * (1.0 - p["jar"]) * walking * (0.4 + 0.6 * move)
        self._apply_drop(dt, span, species)
        jar = p["jar"]
        if jar <= 0.01:
            self.jar.hide()
        else:
            self.jar.show()
            self.jar.setPos(OFFSETS[0][0], max(TABLE_NEAR_Y + 0.08, base_y), TABLE_TOP_Z)
            self.jar.setAlphaScale(jar)

    def _apply_drop(self, dt: float, span: float, species: int) -> None:
        """The drop event: down from the ceiling in 2 s, hang and sway for 8 s, climb back."""
        i = MAX_SPIDERS
        if self._drop < 0.0:
            self._hide(i)
            self.thread.hide()
            return
        self._drop += dt
        t = self._drop
        if t > 13.0:
            self._drop = -1.0
            self._hide(i)
            self.thread.hide()
            return
        if t < 2.0:
            f = t / 2.0
            z = CEILING_Z - (CEILING_Z - DROP_HANG_Z) * f * f
        elif t < 10.0:
            z = DROP_HANG_Z + 0.03 * math.sin((t - 2.0) * 2.2)
        else:
            f = (t - 10.0) / 3.0
            z = DROP_HANG_Z + (CEILING_Z - DROP_HANG_Z) * f
        sway = 0.04 * math.sin(t * 1.3) * min(1.0, t / 2.0)
        x, y = sway, TABLE_NEAR_Y + 0.35
        model = self._place(i, species)
        size = max(span, 0.08)
        # hanging head down from its thread, legs drawn in
        model.root.setPosHprScale(
            x, y, z, 180.0 + 20 * math.sin(t * 0.7), -90.0, 0, size, size, size
        )
        model.pose(0.25, 1.0)
        self.thread.show()
        self.thread.setPos(x, y, z + 0.05 * size)
        self.thread.setSz(max(0.01, CEILING_Z - z))
