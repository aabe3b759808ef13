"""Public speaking: you stand at a lectern facing an audience, from an empty room to a full hall."""

from __future__ import annotations

import math
import random

from panda3d.core import AmbientLight, DirectionalLight, NodePath, PointLight

from scenes.api import EYE_HEIGHT_M, Param, Scene, level, wave
from scenes.creatures.people import (
    GESTURE_S,
    GESTURES,
    NEAR_M,
    NECK,
    Person,
    RoomLight,
    seen_from,
)
from scenes.geometry import Mesh
from scenes.look import shaders_available, textured

ROWS = 6
SEATS = 8
ROW_M = 1.05
SEAT_M = 0.62
STAGE_Z = 0.3
AISLE_X = 5.4
RAKE_M = 0.24
"""Each row stands this much higher than the one in front (a raked lecture room)."""
LECTERN = (0.0, 0.5)
"""Where the speaker (the client) stands, on the stage: heads that listen turn to it."""
HOUSE = (0.62, 0.62, 0.6)
CEILING = (0.6, 0.58, 0.55)
CEILING_HPR = (20.0, -70.0, 0.0)
"""The hall's ambient and ceiling light at full brightness (`lights` 1)."""
IDLE_EVERY_OTHER_DT_S = 1.0 / 45.0
"""Frames this short or shorter (the headset's) pose each idle listener every other frame."""


class PublicSpeaking(Scene):
    phobia = "public speaking (social anxiety)"
    description = "A lecture room seen from the lectern: from empty seats to a full, staring audience and a camera."
    background = (0.1, 0.1, 0.12)
    events = ("cough", "whisper", "nod", "yawn", "phone")
    parameters = {
        "audience": Param("How many people sit in the audience", 0, ROWS * SEATS, "people"),
        "attention": Param("How many of them watch the speaker (0 none, 1 all)", 0, 1),
        "front": Param("Distance from the speaker to the first row", 1, 6, "m"),
        "lights": Param("Brightness of the hall (1 full, lower is dimmer)", 0.2, 1),
        "camera": Param(
            "A video camera on its tripod pointed at the speaker (0 none, 1 close)", 0, 1
        ),
        "gestures": Param(
            "How often listeners nod, yawn, check a phone or whisper (0 never, 1 often)", 0, 1
        ),
    }
    detail_steps = 2
    levels = [
        level(
            "Empty lecture room, you at the lectern",
            suds=10,
            audience=0,
            attention=0.0,
            front=4.0,
            lights=1.0,
            camera=0.0,
            gestures=0.0,
        ),
        level(
            "One listener, second row",
            suds=20,
            audience=1,
            attention=0.6,
            front=4.0,
            lights=1.0,
            camera=0.0,
            gestures=0.15,
        ),
        level(
            "Three listeners, mostly looking at their phones",
            suds=30,
            audience=3,
            attention=0.3,
            front=4.0,
            lights=1.0,
            camera=0.0,
            gestures=0.3,
        ),
        level(
            "Eight people, half of them listening",
            suds=40,
            audience=8,
            attention=0.5,
            front=3.6,
            lights=1.0,
            camera=0.0,
            gestures=0.3,
        ),
        level(
            "Fifteen people, most looking at you",
            suds=50,
            audience=15,
            attention=0.7,
            front=3.3,
            lights=1.0,
            camera=0.0,
            gestures=0.35,
        ),
        level(
            "Twenty-four people, front row close",
            suds=60,
            audience=24,
            attention=0.75,
            front=2.8,
            lights=0.95,
            camera=0.0,
            gestures=0.35,
        ),
        level(
            "Thirty-two people, nearly all eyes on you",
            suds=70,
            audience=32,
            attention=0.9,
            front=2.6,
            lights=0.9,
            camera=0.0,
            gestures=0.4,
        ),
        level(
            "Forty people, house lights down",
            suds=80,
            audience=40,
            attention=0.9,
            front=2.4,
            lights=0.6,
            camera=0.0,
            gestures=0.4,
        ),
        level(
            "Full room of 48, a camera recording you",
            suds=90,
            audience=48,
            attention=0.95,
            front=2.2,
            lights=0.6,
            camera=1.0,
            gestures=0.45,
        ),
        level(
            "Full room, everyone staring, front row at arm's length, camera",
            suds=100,
            audience=48,
            attention=1.0,
            front=1.6,
            lights=0.45,
            camera=1.0,
            gestures=0.5,
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
        hall = textured(room, "plaster", 1.2, "room")
        # drawn after the audience and the chairs: in software the room's pixels behind them
        # then fail the depth test before they are textured (0.2-0.4 ms a frame, full room)
        hall.setBin("fixed", 0)
        hall.reparentTo(self.root)

        self.people: list[tuple[Person, float, float, float, float]] = []
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
        # in software the audience is lit once, here, in each person's frame (they face the
        # speaker: turned 180 degrees), and dimmed with a colour scale (`lights`)
        light = RoomLight(HOUSE, CEILING, (CEILING_HPR[0] - 180.0, *CEILING_HPR[1:]))
        for r, s in order:
            person = Person(self.seats, rng, light=light)
            person.root.setH(180)  # face the speaker
            x = (s - (SEATS - 1) / 2) * SEAT_M + (0.3 if s >= SEATS / 2 else -0.3)
            self.people.append((person, x, r * ROW_M, r * RAKE_M, rng.random()))
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
        # the client's eye at the lectern (a step either way, crouching to on tiptoe) with the
        # rows anywhere in `front`'s range, in the chairs' frame: faces turned from all of it
        # (the backs and undersides) go in software: 4,700 vertices to 3,200
        low, high = self.parameters["front"].low, self.parameters["front"].high
        eyes = [
            (x, y - front, STAGE_Z + z)
            for x in (-1.0, 1.0)
            for y in (-1.1, 0.9)
            for z in (0.8, EYE_HEIGHT_M + 0.4)
            for front in (low, high)
        ]
        if not shaders_available():  # on a GPU vertices are cheap, and shadows see the backs
            seen_from(chair, eyes)
        self.chairs = chair.node("chairs")  # untextured: 0.6 ms a frame in software
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
        self.ceiling_np.setHpr(*CEILING_HPR)
        self.root.setLight(self.ceiling_np)
        spot = PointLight("stage-light")
        spot.setColor((0.35, 0.33, 0.3, 1))
        spot_np = self.root.attachNewNode(spot)
        spot_np.setPos(0, 1.5, 3.2)
        self.root.setLight(spot_np)
        self.baked = self.people[0][0].baked
        if self.baked:
            self.seats.setLightOff(1)
        else:
            self.seats.setLightOff(spot_np)  # people: two lights, not three
        self._light: float | None = None
        self._placed: list[float | None] = [math.nan] * len(self.people)
        """Where each person was put last (their x on the way in), None while hidden."""
        self._frames = 0
        self._front = math.nan
        self._count = math.nan
        self._nearest_shown: int | None = None
        self._stimulus: int | None = None
        """The person who shows the full face wherever they sit: the preview's close-up."""
        self.viewpoint.setPos(0, -0.1, STAGE_Z)
        self.gaze_pitch = -4.0
        self._cough = 0.0
        self.murmur_at = self.seats.attachNewNode("murmur")
        self.murmur_at.setPos(0, 2.5 * ROW_M, 1.2)
        self.murmur = self.spatial_sound("murmur", self.murmur_at, volume=0.0, min_distance=3.0)
        self.cough_sound = self.spatial_sound("cough", self.people[5][0].head, min_distance=1.5)
        self._event: tuple[str, float] | None = None
        self._intensity = 1.0

    def set_detail(self, step: int) -> None:
        """1: the audience's clothes and skin without their weave and grain (faces keep their
        features; about a sixth of the hall's cost at 640x360 in software); 2: the whole hall
        plain too."""
        super().set_detail(1 if step >= 2 else 0)
        self.draw_plain([self.seats], step >= 1)
        self.detail = step

    def stimulus(self) -> NodePath | None:
        """The head of the nearest person in the audience (faces are what a speaker fears)."""
        nearest = self._nearest(self.params(self._intensity)["audience"])
        return self.people[nearest][0].head if nearest is not None else None

    def _nearest(self, count: float) -> int | None:
        """The index of the nearest person shown (the front row, the middle) when `count` are."""
        if count != self._count:
            shown = [
                (y, abs(x), i) for i, (_p, x, y, _z, _r) in enumerate(self.people) if i < count
            ]
            self._count, self._nearest_shown = count, min(shown)[2] if shown else None
        return self._nearest_shown

    def on_event(self, name: str) -> None:
        if name == "cough":
            self._cough = 1.0
            self.cough_sound.trigger()
        elif name in GESTURES:
            self._event = (name, self.time)  # the nearest person does it now

    def stimulus_anchors(self, intensity: float) -> list[tuple[float, float, float]]:
        """The audience: the front rows and the back rows of the seats, and the camera if any."""
        p = self.params(intensity)
        front = p["front"]
        anchors = [
            (0.0, front + ROW_M, STAGE_Z + 1.0),
            (0.0, front + ROW_M * (ROWS - 1), STAGE_Z + 1.0 + RAKE_M * (ROWS - 1)),
        ]
        if p["camera"] >= 0.02:
            anchors.append((0.0, front + ROW_M + (1.0 - p["camera"]) * 6.0, 1.4))
        return anchors

    def _near(self, x: float, y: float, z: float) -> bool:
        """Whether a point of the hall (seats placed) is nearer than `NEAR_M` to the client's
        eye at the lectern: there a person shows the full face and clothes."""
        eye = self.viewpoint.getPos()
        return math.dist((x, y, z), (eye[0], eye[1], eye[2] + EYE_HEIGHT_M)) < NEAR_M

    def apply(self, intensity: float, dt: float) -> None:
        p = self.params(intensity)
        self._intensity = intensity
        count, attention, front = p["audience"], p["attention"], p["front"]
        t = self.time
        self._cough = max(0.0, self._cough - dt)
        self.seats.setY(front)
        self.chairs.setY(front)
        odds = p["gestures"]
        event, event_t = self._event if self._event else (None, 0.0)
        if event is not None and t - event_t > GESTURE_S:
            self._event = event = None
        placed = self._placed
        nearest = self._nearest(count)
        # the rows moved, or another person is the stimulus: each person's detail is chosen again
        moved = front != self._front or nearest != self._stimulus
        self._front, self._stimulus = front, nearest
        self._frames += 1
        # at the headset's rate each idle person is posed every other frame, half the room in
        # each: breathing and sway move less than a pixel in a frame, and each new transform
        # costs about 20 us (apply and cull) a person; a still or a jump in time poses everyone
        half = 0.0 < dt <= IDLE_EVERY_OTHER_DT_S
        for i, (person, x, y, z, r) in enumerate(self.people):
            shown = count - i
            if shown <= 0.0:
                if placed[i] is not None:
                    placed[i] = None
                    person.root.hide()
                continue
            # a person arriving walks in from the side aisle to the seat
            arrive = min(1.0, shown)
            px = AISLE_X + (x - AISLE_X) * arrive
            detail = moved
            if placed[i] != px:  # seated people stay put: no new transform each frame
                if placed[i] is None:
                    person.root.show()
                placed[i] = px
                person.root.setPos(px, y, z)
                detail = True
            if detail:  # facing the speaker, the neck is NECK turned 180 degrees
                person.set_detail(
                    i == nearest or self._near(px, y + front, z),
                    i == nearest or self._near(px, y + front - NECK[1], z + NECK[2]),
                )
            # each person looks at the speaker when the level's attention is above their own
            # threshold `r`; the rest look at their phones
            look = min(1.0, max(0.0, (attention - r) * 6.0 + 0.5))
            gesture: str | None
            if i == 0 and event is not None:
                gesture, progress = event, (t - event_t) / GESTURE_S
            elif look < 0.5:
                gesture, progress = "phone", 0.5  # head down over the phone, held
            else:
                gesture, progress = person.gesture_at(t, odds)
            if half and (i + self._frames) % 2 and gesture is None and not person.gesturing:
                continue
            dx, dy = LECTERN[0] - px, LECTERN[1] - (y + front)
            dz = STAGE_Z + 1.6 - (z + 1.25)
            to_speaker = math.degrees(math.atan2(-dx, dy)) - 180.0
            to_speaker = (to_speaker + 180.0) % 360.0 - 180.0
            pitch = math.degrees(math.atan2(dz, math.hypot(dx, dy)))
            person.pose(
                t,
                to_speaker * look + 4.0 * wave(t, 7.0, r),
                pitch * look - 10.0 * (1.0 - look) + 12.0 * self._cough * (i == 5),
                gesture,
                progress,
            )
        # a room talks among itself when it is not listening; a full attentive room is quiet
        self.murmur.volume = min(1.0, count / 24.0) * (1.0 - 0.75 * attention)
        light = p["lights"]
        if light != self._light:
            self._light = light
            self.house.setColor((HOUSE[0] * light, HOUSE[1] * light, HOUSE[2] * light, 1))
            self.ceiling.setColor((CEILING[0] * light, CEILING[1] * light, CEILING[2] * light, 1))
            if self.baked:
                self.seats.setColorScale(light, light, light, 1.0)
        cam = p["camera"]
        if cam < 0.02:
            self.camera_rig.hide()
        else:
            self.camera_rig.show()
            # on its tripod in the centre aisle, one row back, lens on the speaker
            self.camera_rig.setPos(0.0, front + ROW_M + (1.0 - cam) * 6.0, RAKE_M)
            self.camera_rig.setScale(0.9 + 0.1 * cam)
