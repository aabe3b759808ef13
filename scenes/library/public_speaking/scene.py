"""Public speaking: you stand at a lectern facing an audience, from an empty room to a full hall."""

from __future__ import annotations

import random

from panda3d.core import AmbientLight, DirectionalLight, NodePath, PointLight

from scenes.api import Scene, level, wave
from scenes.geometry import Mesh
from scenes.look import textured

ROWS = 6
SEATS = 8
ROW_M = 1.05
SEAT_M = 0.62
STAGE_Z = 0.3
AISLE_X = 5.4
RAKE_M = 0.24
"""Each row stands this much higher than the one in front (a raked lecture room)."""
SKIN = [
    (0.96, 0.8, 0.66),
    (0.85, 0.65, 0.5),
    (0.62, 0.44, 0.32),
    (0.42, 0.3, 0.22),
    (0.93, 0.75, 0.6),
]
CLOTHES = [
    (0.2, 0.3, 0.55),
    (0.6, 0.15, 0.15),
    (0.25, 0.45, 0.3),
    (0.3, 0.3, 0.32),
    (0.75, 0.7, 0.6),
    (0.5, 0.35, 0.55),
    (0.85, 0.55, 0.2),
    (0.15, 0.15, 0.18),
]
HAIR = [
    (0.1, 0.07, 0.05),
    (0.35, 0.22, 0.1),
    (0.6, 0.45, 0.25),
    (0.5, 0.5, 0.5),
    (0.05, 0.05, 0.05),
]


def person_meshes(skin, clothes, hair, legs) -> tuple[Mesh, Mesh]:  # noqa: ANN001
    """A seated person facing +Y: the body, and the head (separate so it can turn)."""
    body = Mesh()
    body.box((0, -0.05, 0.8), (0.38, 0.24, 0.6), clothes)  # torso
    body.box((0.11, 0.15, 0.52), (0.14, 0.42, 0.14), legs)  # thighs
    body.box((-0.11, 0.15, 0.52), (0.14, 0.42, 0.14), legs)
    body.box((0.11, 0.34, 0.24), (0.12, 0.12, 0.48), legs)  # shins
    body.box((-0.11, 0.34, 0.24), (0.12, 0.12, 0.48), legs)
    body.box((0.23, 0.08, 0.78), (0.09, 0.3, 0.1), clothes)  # arms resting forward
    body.box((-0.23, 0.08, 0.78), (0.09, 0.3, 0.1), clothes)
    body.box((0, 0.22, 0.74), (0.2, 0.1, 0.06), skin)  # hands in the lap
    head = Mesh()
    head.sphere((0, 0, 0.13), (0.085, 0.095, 0.115), skin, segs=8, rings=5)
    head.sphere((0, -0.015, 0.18), (0.09, 0.095, 0.085), hair, segs=8, rings=4)
    head.sphere((0.032, 0.082, 0.15), 0.014, (0.08, 0.06, 0.05), segs=5, rings=3)  # eyes
    head.sphere((-0.032, 0.082, 0.15), 0.014, (0.08, 0.06, 0.05), segs=5, rings=3)
    head.box((0, 0.088, 0.085), (0.05, 0.012, 0.012), (0.55, 0.3, 0.28))  # mouth
    head.prism((0, 0, -0.06), (0, 0, 0.03), 0.045, skin, sides=6)  # neck
    return body, head


class PublicSpeaking(Scene):
    phobia = "public speaking (social anxiety)"
    description = "A lecture room seen from the lectern: from empty seats to a full, staring audience and a camera."
    background = (0.1, 0.1, 0.12)
    events = ("cough", "whisper")
    levels = [
        level(
            "Empty lecture room, you at the lectern",
            suds=10,
            audience=0,
            attention=0.0,
            front=4.0,
            lights=1.0,
            camera=0.0,
        ),
        level(
            "One listener, second row",
            suds=20,
            audience=1,
            attention=0.6,
            front=4.0,
            lights=1.0,
            camera=0.0,
        ),
        level(
            "Three listeners, mostly looking at their phones",
            suds=30,
            audience=3,
            attention=0.3,
            front=4.0,
            lights=1.0,
            camera=0.0,
        ),
        level(
            "Eight people, half of them listening",
            suds=40,
            audience=8,
            attention=0.5,
            front=3.6,
            lights=1.0,
            camera=0.0,
        ),
        level(
            "Fifteen people, most looking at you",
            suds=50,
            audience=15,
            attention=0.7,
            front=3.3,
            lights=1.0,
            camera=0.0,
        ),
        level(
            "Twenty-four people, front row close",
            suds=60,
            audience=24,
            attention=0.75,
            front=2.8,
            lights=0.95,
            camera=0.0,
        ),
        level(
            "Thirty-two people, nearly all eyes on you",
            suds=70,
            audience=32,
            attention=0.9,
            front=2.6,
            lights=0.9,
            camera=0.0,
        ),
        level(
            "Forty people, house lights down",
            suds=80,
            audience=40,
            attention=0.9,
            front=2.4,
            lights=0.6,
            camera=0.0,
        ),
        level(
            "Full room of 48, a camera recording you",
            suds=90,
            audience=48,
            attention=0.95,
            front=2.2,
            lights=0.6,
            camera=1.0,
        ),
        level(
            "Full room, everyone staring, front row at arm's length, camera",
            suds=100,
            audience=48,
            attention=1.0,
            front=1.6,
            lights=0.45,
            camera=1.0,
        ),
    ]

    def build(self) -> None:
        rng = random.Random(11)
        room = Mesh()
        room.inside_box(
            (0, 5.5, 1.75),
            (12.0, 15.0, 3.5),
            {
                "floor": (0.36, 0.3, 0.3),
                "ceiling": (0.85, 0.85, 0.83),
                "walls": (0.78, 0.74, 0.66),
                "north": (0.7, 0.66, 0.6),
            },
        )
        room.box((0, -0.6, STAGE_Z / 2), (8.0, 3.6, STAGE_Z), (0.45, 0.32, 0.22))  # stage
        room.box((0, 0.55, 0.6), (0.6, 0.4, 1.2), (0.4, 0.28, 0.18))  # lectern
        room.box((0, 0.5, 1.21), (0.64, 0.5, 0.04), (0.45, 0.32, 0.22))
        room.box((0.05, 0.45, 1.24), (0.21, 0.3, 0.01), (0.97, 0.97, 0.95))  # notes
        for k in (-1, 1):  # windows along the side walls
            for j in range(3):
                room.box((k * 5.97, 3.0 + j * 4.0, 2.0), (0.04, 2.0, 1.4), (0.55, 0.7, 0.85))
        room.box((4.2, 12.97, 1.05), (1.2, 0.04, 2.1), (0.35, 0.25, 0.18))  # door at the back
        room.box((-2.0, 12.97, 1.9), (3.0, 0.04, 1.4), (0.2, 0.35, 0.25))  # notice board
        textured(room, "plaster", 1.2, "room").reparentTo(self.root)

        self.people: list[tuple[NodePath, NodePath, float, float, float, float, float]] = []
        self.seats = NodePath("seats")
        self.seats.reparentTo(self.root)
        # seat order: the first three sit a few rows back, then the room fills from the middle
        seats = [(r, s) for r in range(ROWS) for s in range(SEATS)]
        first = [(1, 4), (2, 1), (2, 6)]
        rest = sorted(
            (rs for rs in seats if rs not in first),
            key=lambda rs: abs(rs[0] - 2.5) + abs(rs[1] - 3.5) * 0.5 + rng.uniform(0, 1.5),
        )
        order = first + rest
        for r, s in order:
            body, head = person_meshes(
                rng.choice(SKIN),
                rng.choice(CLOTHES),
                rng.choice(HAIR),
                rng.choice([(0.15, 0.17, 0.25), (0.3, 0.3, 0.3), (0.35, 0.28, 0.2)]),
            )
            p = self.seats.attachNewNode("person")
            textured(body, "fabric", 0.25, "body").reparentTo(p)
            h = textured(head, "skin", 0.12, "head")
            h.reparentTo(p)
            h.setPos(0, -0.05, 1.12)
            p.setH(180)  # face the speaker
            x = (s - (SEATS - 1) / 2) * SEAT_M + (0.3 if s >= SEATS / 2 else -0.3)
            self.people.append(
                (p, h, x, r * ROW_M, r * RAKE_M, rng.random(), rng.uniform(0.0, 1.0))
            )
        # empty chairs stay visible in every seat
        chair = Mesh()
        for r in range(ROWS):
            for s in range(SEATS):
                x = (s - (SEATS - 1) / 2) * SEAT_M + (0.3 if s >= SEATS / 2 else -0.3)
                y = r * ROW_M
                z = r * RAKE_M
                seat = (0.22, 0.26, 0.42)
                chair.box((x, y, z + 0.45), (0.42, 0.42, 0.06), seat)
                chair.box((x, y + 0.2, z + 0.75), (0.42, 0.04, 0.55), seat)
                for lx in (-0.18, 0.18):
                    chair.box((x + lx, y, z + 0.21), (0.04, 0.4, 0.42), (0.2, 0.2, 0.22))
            if r > 0:  # the tier this row stands on
                chair.box((0, y - 0.05, z / 2), (11.9, ROW_M + 0.02, z), (0.4, 0.32, 0.3))
        self.chairs = textured(chair, "fabric", 0.3, "chairs")
        self.chairs.reparentTo(self.root)

        cam = Mesh()
        cam.prism((0, 0, 0), (0.5, 0.0, 1.45), 0.02, (0.1, 0.1, 0.1), sides=4)  # tripod
        cam.prism((0, 0, 0), (-0.3, 0.4, 1.45), 0.02, (0.1, 0.1, 0.1), sides=4)
        cam.prism((0, 0, 0), (-0.3, -0.4, 1.45), 0.02, (0.1, 0.1, 0.1), sides=4)
        cam.box((0, 0, 1.58), (0.22, 0.36, 0.22), (0.12, 0.12, 0.13))
        cam.prism((0, -0.18, 1.6), (0, -0.32, 1.6), 0.07, (0.05, 0.05, 0.05), sides=8)
        cam.sphere((0.08, -0.05, 1.72), 0.025, (0.95, 0.1, 0.1), segs=5, rings=3)  # recording
        self.camera_rig = cam.node("video-camera")
        self.camera_rig.reparentTo(self.root)

        self.house = AmbientLight("house")
        self.house_np = self.root.attachNewNode(self.house)
        self.root.setLight(self.house_np)
        self.ceiling = DirectionalLight("ceiling")
        self.ceiling_np = self.root.attachNewNode(self.ceiling)
        self.ceiling_np.setHpr(20, -70, 0)
        self.root.setLight(self.ceiling_np)
        spot = PointLight("stage-light")
        spot.setColor((0.35, 0.33, 0.3, 1))
        spot_np = self.root.attachNewNode(spot)
        spot_np.setPos(0, 1.5, 3.2)
        self.root.setLight(spot_np)
        self.viewpoint.setPos(0, -0.1, STAGE_Z)
        self.gaze_pitch = -4.0
        self._cough = 0.0

    def on_event(self, name: str) -> None:
        if name == "cough":
            self._cough = 1.0

    def apply(self, intensity: float, dt: float) -> None:
        p = self.params(intensity)
        count, attention, front = p["audience"], p["attention"], p["front"]
        t = self.time
        self._cough = max(0.0, self._cough - dt)
        self.seats.setY(front)
        self.chairs.setY(front)
        for i, (person, head, x, y, z, r, phase) in enumerate(self.people):
            shown = count - i
            if shown <= 0.0:
                person.hide()
                continue
            person.show()
            # a person arriving walks in from the side aisle to the seat
            arrive = min(1.0, shown)
            px = AISLE_X + (x - AISLE_X) * arrive
            person.setPos(px, y, z)
            # each person looks at the speaker when the level's attention is above their
            # own threshold `r`; the rest look down at a phone or to the side
            look = min(1.0, max(0.0, (attention - r) * 6.0 + 0.5))
            sway = wave(t, 6.0 + 3.0 * phase, phase)
            head.setHpr(
                (1.0 - look) * (35.0 if phase > 0.5 else -35.0) + 4.0 * sway,
                (1.0 - look) * -30.0 + 2.0 * wave(t, 4.0, phase) + 12.0 * self._cough * (i == 5),
                3.0 * sway,
            )
            person.setR(1.5 * wave(t, 9.0 + 4.0 * phase, phase + 0.3))
        light = p["lights"]
        self.house.setColor((0.62 * light, 0.62 * light, 0.6 * light, 1))
        self.ceiling.setColor((0.6 * light, 0.58 * light, 0.55 * light, 1))
        cam = p["camera"]
        if cam < 0.02:
            self.camera_rig.hide()
        else:
            self.camera_rig.show()
            # on its tripod in the centre aisle, one row back, lens on the speaker
            self.camera_rig.setPos(0.0, front + ROW_M + (1.0 - cam) * 6.0, RAKE_M)
            self.camera_rig.setScale(0.9 + 0.1 * cam)
