"""Acrophobia: the edge of a tower's terrace above a city, from a low balcony to a bare roof edge."""

from __future__ import annotations

import math
import random

from panda3d.core import AmbientLight, DirectionalLight, Fog, NodePath

from scenes.api import Param, Scene, level, wave
from scenes.creatures.birds import Flock
from scenes.creatures.hands import HAND_PARAMETERS, Hands, with_hands
from scenes.geometry import Mesh
from scenes.look import Look, apply_look, bake_sunlight, textured

TOWER_W = 24.0
TOWER_D = 24.0
TOWER_MAX = 160.0
FLOOR_M = 3.0
RAIL_M = 1.1
CARS = 24
SKY_LIGHT = (0.45, 0.47, 0.52)
SUN_LIGHT = (0.8, 0.76, 0.68)
SUN_HPR = (35.0, -55.0, 0.0)
STREET_Y = 14.0  # the avenue in front of the tower, metres from its edge
FLAG_SEGMENTS = 6
FLAG_SEGMENT_M = 0.2
FLAG_X = 1.6  # metres left of the client
FLAG_TILT_DEG = 50.0
POLE_M = 2.4
CITY_TILE_M = 92.0
"""The city is drawn in tiles of two blocks a side: culling drops the tiles out of view."""


class Heights(Scene):
    phobia = "acrophobia"
    description = "The terrace of a city tower: from a railed balcony on the 2nd floor to a bare roof edge 40 floors up."
    background = (0.62, 0.76, 0.92)
    detail_steps = 1  # drawn plain (no textures) while frames come close to late
    parameters = {
        "height": Param("Height of the roof the client stands on", 1, TOWER_MAX, "m"),
        "edge": Param("Distance from the client to the roof's edge", 0.1, 3, "m"),
        "railing": Param("Height of the railing at the edge (0: none)", 0, 1.2, "m"),
        "look": Param("Where the view is drawn (degrees down from level)", -90, 0, "degrees"),
        **HAND_PARAMETERS,
    }
    levels = [
        level(
            "2nd-floor balcony, high railing, 1.5 m back",
            suds=10,
            height=6,
            edge=1.5,
            railing=1.1,
            look=-12,
        ),
        level(
            "4th-floor balcony, high railing, 1.2 m back",
            suds=20,
            height=12,
            edge=1.2,
            railing=1.1,
            look=-16,
        ),
        level(
            "8th-floor balcony, 1 m from the railing",
            suds=30,
            height=24,
            edge=1.0,
            railing=1.1,
            look=-20,
        ),
        level(
            "8th floor, hands on the railing", suds=40, height=24, edge=0.35, railing=1.1, look=-28
        ),
        level(
            "15th floor, at the railing, looking down",
            suds=50,
            height=45,
            edge=0.35,
            railing=1.1,
            look=-34,
        ),
        level("15th floor, knee-high railing", suds=60, height=45, edge=0.5, railing=0.5, look=-36),
        level(
            "25th-floor roof, low parapet, 1 m back",
            suds=70,
            height=75,
            edge=1.0,
            railing=0.35,
            look=-32,
        ),
        level(
            "25th-floor roof, at the parapet, looking down",
            suds=80,
            height=75,
            edge=0.3,
            railing=0.35,
            look=-46,
        ),
        level(
            "40th-floor roof, no railing, 1 m from the edge",
            suds=90,
            height=120,
            edge=1.0,
            railing=0.0,
            look=-38,
        ),
        level(
            "40th-floor roof edge, toes at the drop, looking straight down",
            suds=100,
            height=120,
            edge=0.12,
            railing=0.0,
            look=-68,
        ),
    ]
    levels = with_hands(levels)  # the client's hands: shown, in the default skin tone

    def build(self) -> None:
        apply_look(
            self.root, Look(sky=((0.32, 0.5, 0.82), (0.8, 0.84, 0.9), (0.5, 0.52, 0.5)))
        )  # a gradient sky behind the scene
        rng = random.Random(3)
        # Flat ground layers are drawn first, in order, without a depth test: at these
        # distances a software depth buffer cannot separate layers a few centimetres apart.
        ground = Mesh()
        city = ground
        city.plane(-700, -700, 700, 700, 0, (0.36, 0.4, 0.33))  # cells: GL fogs per vertex
        city.box((0, STREET_Y, 0.02), (1400, 14, 0.04), (0.22, 0.22, 0.24))  # avenue
        for k in range(-30, 31):  # lane markings give the drop a scale
            city.box((k * 8.0, STREET_Y, 0.05), (3.0, 0.2, 0.02), (0.9, 0.9, 0.85))
        city.box((0, STREET_Y - 9.5, 0.08), (1400, 5, 0.16), (0.6, 0.6, 0.58))  # pavements
        city.box((0, STREET_Y + 9.5, 0.08), (1400, 5, 0.16), (0.6, 0.6, 0.58))
        park_far = STREET_Y + 170.0
        city.box(
            (0, (STREET_Y + 12 + park_far) / 2, 0.03),
            (260, park_far - STREET_Y - 12, 0.06),
            (0.33, 0.52, 0.27),
        )  # a park across the avenue
        city.box(
            (0, (STREET_Y + 12 + park_far) / 2, 0.07),
            (6, park_far - STREET_Y - 12, 0.06),
            (0.78, 0.74, 0.62),
        )  # its central path
        city.box((0, STREET_Y + 95, 0.09), (70, 30, 0.06), (0.3, 0.45, 0.62))  # a pond
        # the city never moves and its sun never changes: in software it is lit once, here
        # (the ground, buildings and tower cost 2.8 ms a frame lit and textured)
        baked = bake_sunlight(ground, SKY_LIGHT, SUN_LIGHT, SUN_HPR)
        ground_np = textured(ground, "concrete", 6.0, "ground")
        if baked:
            ground_np.setLightOff(1)
        ground_np.reparentTo(self.root)
        ground_np.setBin("background", 10)
        ground_np.setDepthTest(False)
        # the city in tiles, so culling drops those out of view (one mesh, 30k vertices, was
        # transformed whole every frame: 2.9 ms of a 6 ms frame at the top level)
        tiles: dict[tuple[int, int], Mesh] = {}

        def tile_at(x: float, y: float) -> Mesh:
            key = (math.floor(x / CITY_TILE_M), math.floor(y / CITY_TILE_M))
            return tiles.setdefault(key, Mesh())

        for k in range(-6, 7):  # street trees
            x = k * 12.0 + 4
            tile_at(x, STREET_Y + 9.5).cylinder(
                (x, STREET_Y + 9.5, 0.1), 3.0, 0.25, (0.4, 0.3, 0.2), sides=5
            )
            tile_at(x, STREET_Y + 9.5).sphere(
                (x, STREET_Y + 9.5, 4.2), 2.2, (0.25, 0.45, 0.22), segs=7, rings=4
            )
        for _ in range(70):
            x, y = rng.uniform(-125, 125), rng.uniform(STREET_Y + 16, park_far - 4)
            if abs(x) < 6 or (abs(x) < 38 and abs(y - STREET_Y - 95) < 18):
                continue
            r = rng.uniform(2.0, 3.5)
            tile_at(x, y).cylinder((x, y, 0), r * 1.2, 0.3, (0.4, 0.3, 0.2), sides=5)
            tile_at(x, y).sphere(
                (x, y, r * 1.9), r, (0.2, 0.42 + rng.uniform(-0.05, 0.08), 0.2), segs=7, rings=4
            )
        block = 46.0
        for bx in range(-12, 13):
            for by in range(-4, 13):
                cx, cy = bx * block, by * block + STREET_Y + 12 + block / 2
                if by < 0 and abs(cx) < 110:
                    continue  # the client's own street: low houses, added below
                if cy - block / 2 < park_far and abs(cx) < 150:
                    continue  # the park
                far = abs(bx) + abs(by)
                for qx in (-1, 1):
                    for qy in (-1, 1):
                        h = rng.uniform(12, 40) if far < 8 else rng.uniform(15, 110)
                        g = rng.uniform(0.55, 0.85)
                        col = (g, g * rng.uniform(0.93, 1.0), g * rng.uniform(0.85, 1.0))
                        x, y = cx + qx * 11, cy + qy * 11
                        # no bottom face: a building stands on the ground, never seen from below
                        tile_at(x, y).box((x, y, h / 2), (17, 17, h), col, bottom=False)
        # low buildings on the client's side of the avenue, left and right of the tower
        for k in (-3, -2, -1, 1, 2, 3):
            h = rng.uniform(8, 18)
            x, y = k * 30.0, -TOWER_D / 2 - 2
            tile_at(x, y).box((x, y, h / 2), (22, TOWER_D, h), (0.72, 0.62, 0.52), bottom=False)
        city_np = self.root.attachNewNode("city")
        for (tx, ty), mesh in sorted(tiles.items()):
            baked = bake_sunlight(mesh, SKY_LIGHT, SUN_LIGHT, SUN_HPR)
            tile = textured(mesh, "concrete", 3.0, f"city-{tx}-{ty}")
            tile.reparentTo(city_np)
            if baked:
                tile.setLightOff(1)

        tower = Mesh()
        tower.box(
            (0, -TOWER_D / 2, -TOWER_MAX / 2), (TOWER_W, TOWER_D, TOWER_MAX), (0.78, 0.76, 0.72)
        )
        floors = int(TOWER_MAX / FLOOR_M)
        for f in range(floors):  # window bands on the front face count the floors down
            z = -f * FLOOR_M - 1.6
            tower.box((0, 0.02, z), (TOWER_W - 1.0, 0.04, 1.4), (0.32, 0.42, 0.52))
        tower.box((0, -TOWER_D / 2, 0.05), (TOWER_W, TOWER_D, 0.1), (0.55, 0.55, 0.55))  # roof deck
        baked = bake_sunlight(tower, SKY_LIGHT, SUN_LIGHT, SUN_HPR)
        self.tower = self.root.attachNewNode("tower")  # the railing hangs from it, lit
        walls = textured(tower, "concrete", 1.2, "tower-walls")
        walls.reparentTo(self.tower)
        if baked:
            walls.setLightOff(1)

        rail = Mesh()
        steel = (0.35, 0.37, 0.4)
        rail.box((0, -0.04, RAIL_M), (TOWER_W, 0.06, 0.06), steel)
        for k in range(int(TOWER_W / 1.2) + 1):
            rail.box((-TOWER_W / 2 + k * 1.2, -0.04, RAIL_M / 2), (0.05, 0.05, RAIL_M), steel)
        rail.box((0, -0.04, RAIL_M * 0.5), (TOWER_W, 0.03, 0.03), steel)
        self.rail = rail.node("railing")
        self.rail.reparentTo(self.tower)
        self.flag = self._flag()
        self.hands = Hands(self.viewpoint)  # on the rail, or where the controllers hold them

        car = Mesh()
        car.box((0, 0, 0.7), (4.2, 1.8, 1.0), (1, 1, 1))
        car.box((-0.2, 0, 1.45), (2.2, 1.6, 0.6), (0.8, 0.85, 0.9))
        template = car.node("car")
        self.cars: list[tuple[NodePath, float, float]] = []
        colors = [
            (0.8, 0.1, 0.1),
            (0.1, 0.2, 0.7),
            (0.9, 0.9, 0.9),
            (0.1, 0.1, 0.1),
            (0.9, 0.7, 0.1),
        ]
        for i in range(CARS):
            c = template.copyTo(self.root)
            c.setColorScale(*colors[i % len(colors)], 1)
            lane = STREET_Y + (-3.2 if i % 2 else 3.2)
            speed = (9.0 + rng.uniform(0, 6)) * (1 if i % 2 else -1)
            c.setPos(rng.uniform(-300, 300), lane, 0)
            c.setH(0 if speed > 0 else 180)
            self.cars.append((c, speed, c.getX()))

        # birds circling over the park far below, wind at the edge, traffic on the avenue
        self.birds = Flock(self.root, 7, (25.0, STREET_Y + 60.0), 22.0, 14.0, scale=2.0)
        self.wind = self.spatial_sound("wind", self.viewpoint, volume=0.2, min_distance=2.0)
        street = self.root.attachNewNode("street-noise")
        street.setPos(0, STREET_Y, 0)
        self.traffic = self.spatial_sound("traffic", street, volume=0.8, min_distance=20.0)
        self.birdsong = self.spatial_sound("birds", self.birds.root, volume=0.4, min_distance=15.0)

        ambient = AmbientLight("sky")
        ambient.setColor((*SKY_LIGHT, 1))
        sun = DirectionalLight("sun")
        sun.setColor((*SUN_LIGHT, 1))
        a = self.root.attachNewNode(ambient)
        s = self.root.attachNewNode(sun)
        s.setHpr(*SUN_HPR)
        self.root.setLight(a)
        self.root.setLight(s)
        fog = Fog("haze")
        fog.setColor(*self.background)
        fog.setExpDensity(0.0016)
        self.root.setFog(fog)

    def _flag(self) -> list[NodePath]:
        """A flag on a bracket pole out from the facade just below the edge, ahead and to the
        client's left, over the drop: a chain of cloth strips, each turned a little against
        the one before, so the wind's wave runs along it (the client stays still: nothing
        sways the view itself, which would make them sick)."""
        tilt = math.radians(FLAG_TILT_DEG)
        base = (-FLAG_X, 0.05, -0.4)
        pole = Mesh()
        pole.cylinder((0, 0, 0), POLE_M, 0.035, (0.8, 0.8, 0.82), sides=4)
        pole_np = pole.node("flagpole")
        pole_np.reparentTo(self.tower)
        pole_np.setPos(*base)
        pole_np.setP(-FLAG_TILT_DEG)  # its top leans out over the street
        top = (base[0], base[1] + POLE_M * math.sin(tilt), base[2] + POLE_M * math.cos(tilt))
        parent = self.tower.attachNewNode("flag")
        parent.setPos(*top)
        parent.setH(180.0)  # the cloth streams to the left, away from the view's centre
        segments: list[NodePath] = []
        for k in range(FLAG_SEGMENTS):
            strip = Mesh()
            colour = (0.82, 0.12, 0.14) if k % 3 != 1 else (0.95, 0.95, 0.92)
            strip.quad(
                (0, 0, -0.64), (FLAG_SEGMENT_M, 0, -0.64), (FLAG_SEGMENT_M, 0, 0), (0, 0, 0), colour
            )
            node = strip.node(f"flag-{k}")
            node.setTwoSided(True)  # cloth: one quad seen from both sides
            node.reparentTo(parent)
            node.setX(FLAG_SEGMENT_M if k else 0.03)
            segments.append(node)
            parent = node
        return segments

    def wind_strength(self, height: float) -> float:
        """0-1: the wind at the client's height, in gusts (a 7 s swell)."""
        return min(1.0, 0.15 + height / 120.0 + 0.1 * wave(self.time, 7.0))

    def stimulus_anchors(self, intensity: float) -> list[tuple[float, float, float]]:
        """The drop: the terrace edge in front of the client, the street below it, and the
        ground where the level's downward look (`look`) meets it."""
        p = self.params(intensity)
        eye = p["height"] + 1.6
        down = math.radians(max(5.0, -p["look"]))
        return [
            (0.0, p["edge"], p["height"]),
            (0.0, STREET_Y, 0.0),
            (0.0, p["edge"] + eye / math.tan(down), 0.0),
        ]

    def apply(self, intensity: float, dt: float) -> None:
        p = self.params(intensity)
        height = p["height"]
        # the client stands at the origin facing +Y; the edge is `edge` metres ahead
        self.viewpoint.setPos(0, 0, height)
        self.tower.setPos(0, p["edge"], height)
        rail = p["railing"]
        if rail < 0.03:
            self.rail.hide()
        else:
            self.rail.show()
            self.rail.setSz(rail / RAIL_M)
        self.hands.update(p, p["edge"] - 0.04, rail if rail >= 0.03 else 0.0)
        self.gaze_pitch = p["look"] + 1.5 * wave(self.time, 11.0)
        self.birds.update(self.time)
        wind = self.wind_strength(height)
        self.wind.volume = wind
        # the flag streams out downwind, flapping faster and wider as the wind rises
        self.flag[0].setH(-35.0 + 25.0 * wind + 12.0 * wave(self.time, 2.9))
        for k, segment in enumerate(self.flag[1:], start=1):
            segment.setH((8.0 + 22.0 * wind) * wave(self.time, 0.9 - 0.4 * wind, -0.17 * k))
        for car, speed, x0 in self.cars:
            x = (x0 + speed * self.time + 320.0) % 640.0 - 320.0
            car.setX(x)
