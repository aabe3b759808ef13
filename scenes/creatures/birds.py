"""A flock of small birds circling: a body and two wings, flapping between two baked poses.

Cheap on purpose (a bird is one geom of a few dozen vertices): birds are ambience, far away,
above a park seen from a roof or over a lake, and software rendering pays for every vertex.
"""

from __future__ import annotations

import math
import random

from panda3d.core import NodePath, SwitchNode

from scenes.geometry import Mesh

WINGBEAT_S = 0.14
"""Half a wingbeat: the time between the up and the down pose."""


def bird_mesh(wings_up: bool, color: tuple[float, float, float]) -> Mesh:
    """A bird 0.3 m across facing +Y: body, head and two wings (up or down)."""
    m = Mesh()
    m.sphere((0, 0, 0), (0.025, 0.07, 0.025), color, segs=5, rings=3)
    m.sphere((0, 0.075, 0.012), 0.02, color, segs=4, rings=2)
    tip_z = 0.07 if wings_up else -0.05
    for side in (-1, 1):
        root_f, root_b = (side * 0.02, 0.03, 0.0), (side * 0.02, -0.03, 0.0)
        tip = (side * 0.15, -0.01, tip_z)
        m.tri(root_f, root_b, tip, color)
        m.tri(root_b, root_f, tip, color)  # both faces: a wing is seen from above and below
    return m


class Flock:
    """`count` birds circling `centre` at `height`, each on its own circle and speed."""

    def __init__(
        self,
        parent: NodePath,
        count: int,
        centre: tuple[float, float],
        radius: float,
        height: float,
        scale: float = 1.0,
        seed: int = 3,
    ) -> None:
        rng = random.Random(seed)
        template = NodePath(SwitchNode("bird"))
        color = (0.12, 0.11, 0.1)
        bird_mesh(True, color).node("up").reparentTo(template)
        bird_mesh(False, color).node("down").reparentTo(template)
        self.root = parent.attachNewNode("flock")
        self.birds: list[tuple[NodePath, float, float, float, float]] = []
        for _ in range(count):
            bird = template.copyTo(self.root)
            bird.setScale(scale)
            r = radius * rng.uniform(0.5, 1.0)
            self.birds.append(
                (bird, r, rng.uniform(0, 2 * math.pi), rng.uniform(0.12, 0.25), rng.random())
            )
        self.centre = centre
        self.height = height

    def update(self, t: float) -> None:
        """Place and flap every bird for scene time `t`."""
        cx, cy = self.centre
        for bird, r, phase, speed, flap in self.birds:
            a = phase + speed * t
            bird.setPos(
                cx + r * math.cos(a), cy + r * math.sin(a), self.height + 2 * math.sin(a * 3)
            )
            bird.setH(math.degrees(a))  # along the circle, anticlockwise
            beat = int(t / WINGBEAT_S + flap * 7) % 2
            bird.node().setVisibleChild(beat)
