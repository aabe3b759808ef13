"""The calm scene for baseline, breaks and panic: a quiet meadow by a lake on a mild afternoon."""

from __future__ import annotations

import math
import random

from panda3d.core import AmbientLight, DirectionalLight, Fog, NodePath

from scenes.api import Param, Scene, level, wave
from scenes.creatures.birds import Flock
from scenes.geometry import Mesh
from scenes.look import Look, apply_look, textured


class SafePlace(Scene):
    calm = True
    description = (
        "A quiet meadow by a lake: slow clouds, swaying trees. Baseline, breaks and panic."
    )
    background = (0.64, 0.8, 0.95)
    detail_steps = 1  # drawn plain (no textures) while frames come close to late
    sound = "lake.wav"  # water lapping (made by make_sound.py); plays where audio is on
    parameters = {
        "clouds": Param("How fast the clouds drift (1 a gentle breeze)", 0, 3),
    }
    levels = [
        level("Meadow by the lake", "Standing on soft grass facing the water.", suds=0, clouds=1.0),
    ]

    def build(self) -> None:
        apply_look(
            self.root, Look(sky=((0.36, 0.58, 0.9), (0.78, 0.87, 0.96), (0.55, 0.65, 0.5)))
        )  # a gradient sky behind the scene
        rng = random.Random(5)
        # flat layers first, in order, without depth test (see heights: software depth buffer)
        grass, lake, path = Mesh(), Mesh(), Mesh()
        grass.plane(-800, -800, 800, 800, 0, (0.42, 0.62, 0.3))  # cells: GL fogs per vertex
        lake.plane(-600, 22, 600, 700, 0, (0.34, 0.55, 0.72))
        path.quad((-600, 20, 0), (600, 20, 0), (600, 23, 0), (-600, 23, 0), (0.86, 0.8, 0.62))
        path.quad((-1.2, -2, 0), (1.2, -2, 0), (1.0, 20, 0), (-1.0, 20, 0), (0.72, 0.65, 0.5))
        for order, (mesh, material, tile) in enumerate(
            ((grass, "foliage", 5.0), (lake, "water", 9.0), (path, "concrete", 1.5))
        ):
            ground = textured(mesh, material, tile, f"ground-{material}")
            ground.reparentTo(self.root)
            ground.setBin("background", 10 + order)
            ground.setDepthTest(False)

        land = Mesh()
        for k in range(14):  # far hills across the lake
            x = -420 + k * 65 + rng.uniform(-20, 20)
            r = rng.uniform(60, 120)
            land.sphere(
                (x, 520 + rng.uniform(0, 80), -r * 0.55),
                (r, r * 0.6, r),
                (0.35 + rng.uniform(-0.04, 0.04), 0.5, 0.42),
                segs=10,
                rings=5,
            )
        for _ in range(90):  # flowers in the grass nearby
            x, y = rng.uniform(-9, 9), rng.uniform(1.5, 16)
            if abs(x) < 1.3:
                continue
            col = rng.choice([(0.95, 0.95, 0.9), (0.95, 0.85, 0.25), (0.75, 0.5, 0.85)])
            land.sphere((x, y, 0.12), 0.05, col, segs=5, rings=3)
            land.prism((x, y, 0), (x, y, 0.1), 0.008, (0.3, 0.5, 0.2), sides=3, caps=False)
        # a bench by the path
        wood = (0.55, 0.38, 0.22)
        land.box((2.2, 4.0, 0.45), (1.6, 0.45, 0.05), wood)
        land.box((2.2, 3.78, 0.75), (1.6, 0.05, 0.35), wood)  # faces the lake
        for x in (1.55, 2.85):
            land.box((x, 4.0, 0.22), (0.06, 0.4, 0.44), (0.3, 0.3, 0.3))
        textured(land, "foliage", 12.0, "land").reparentTo(self.root)

        self.trees: list[tuple[NodePath, float]] = []
        spots = [(-6, 9), (-9, 14), (7, 12), (11, 6), (-13, 5), (15, 15), (-4, 17), (5, 18)]
        for x, y in spots:
            tree = Mesh()
            h = rng.uniform(3.5, 6.0)
            tree.cylinder((0, 0, 0), h * 0.55, 0.18, (0.42, 0.3, 0.2), sides=6, top_radius=0.12)
            green = (0.2, 0.45 + rng.uniform(-0.05, 0.05), 0.2)
            tree.sphere((0, 0, h * 0.65), h * 0.3, green, segs=8, rings=5)
            tree.sphere((h * 0.12, 0.1, h * 0.8), h * 0.22, green, segs=7, rings=4)
            tree.sphere((-h * 0.1, -0.1, h * 0.78), h * 0.22, green, segs=7, rings=4)
            node = textured(tree, "foliage", 1.5, "tree")
            node.reparentTo(self.root)
            node.setPos(x, y, 0)
            self.trees.append((node, rng.uniform(0, 1)))

        sun = Mesh().disc((0, 0, 0), 14, (1.0, 0.97, 0.85), sides=18)
        sun_np = sun.node("sun")
        sun_np.reparentTo(self.root)
        sun_np.setPosHpr(-120, 600, 160, 0, 90, 0)
        sun_np.setLightOff()
        sun_np.setFogOff()

        self.clouds: list[tuple[NodePath, float, float]] = []
        for _ in range(9):
            cloud = Mesh()
            for _ in range(4):
                cloud.sphere(
                    (rng.uniform(-25, 25), rng.uniform(-6, 6), rng.uniform(-3, 3)),
                    (rng.uniform(14, 24), rng.uniform(8, 12), rng.uniform(5, 8)),
                    (1.0, 1.0, 1.0),
                    segs=8,
                    rings=4,
                )
            node = cloud.node("cloud")
            node.reparentTo(self.root)
            node.setLightOff()
            node.setFogOff()
            node.setColorScale(0.97, 0.98, 1.0, 1)
            x0 = rng.uniform(-500, 500)
            node.setPos(x0, rng.uniform(250, 600), rng.uniform(110, 170))
            self.clouds.append((node, x0, rng.uniform(1.0, 2.5)))

        ambient = AmbientLight("sky")
        ambient.setColor((0.5, 0.52, 0.56, 1))
        sunlight = DirectionalLight("sunlight")
        sunlight.setColor((0.72, 0.68, 0.58, 1))
        a = self.root.attachNewNode(ambient)
        s = self.root.attachNewNode(sunlight)
        s.setHpr(-20, -40, 0)
        self.root.setLight(a)
        self.root.setLight(s)
        fog = Fog("haze")
        fog.setColor(*self.background)
        fog.setExpDensity(0.0012)
        self.root.setFog(fog)
        self.gaze_pitch = -4.0
        # swallows over the lake, their song, small waves on the shore, wind in the trees
        self.birds = Flock(self.root, 5, (0.0, 60.0), 30.0, 18.0, scale=1.5, seed=8)
        shore = self.root.attachNewNode("shore")
        shore.setPos(0, 22, 0)
        self.spatial_sound("water", shore, volume=0.5, min_distance=6.0)
        self.spatial_sound("birds", self.trees[0][0], volume=0.5, min_distance=6.0)
        self.spatial_sound("wind", self.trees[-1][0], volume=0.25, min_distance=8.0)

    def apply(self, intensity: float, dt: float) -> None:
        t = self.time
        for tree, phase in self.trees:  # a light breeze
            tree.setR(1.2 * wave(t, 6.0, phase))
        self.birds.update(t)
        drift = self.params(intensity)["clouds"]
        for cloud, x0, speed in self.clouds:
            cloud.setX(math.fmod(x0 + speed * drift * t + 600.0, 1200.0) - 600.0)
