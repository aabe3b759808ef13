"""Claustrophobia: a room that shrinks level by level, from an open bright room to a dim cupboard."""

from __future__ import annotations

from panda3d.core import AmbientLight, DirectionalLight, NodePath

from scenes.api import Param, Scene, level, wave
from scenes.geometry import Mesh
from scenes.look import textured

DOOR_W = 0.9
DOOR_H = 2.05
WALL = (0.82, 0.8, 0.74)


class EnclosedSpace(Scene):
    phobia = "claustrophobia"
    description = (
        "A room that closes in: from a bright room with an open door to a dim, shut cupboard."
    )
    background = (0.02, 0.02, 0.02)
    detail_steps = 1  # drawn plain (no textures) while frames come close to late
    events = ("door_slam",)
    parameters = {
        "width": Param("Width of the room", 0.6, 8, "m"),
        "depth": Param("Depth of the room", 0.7, 8, "m"),
        "height": Param("Height of the ceiling", 1.7, 3.5, "m"),
        "light": Param("Brightness of the ceiling light (1 full)", 0.1, 1),
        "door": Param("How far the door stands open (1 open, 0 shut)", 0, 1),
        "window": Param("Size of the window onto the corridor (1 full, 0 none)", 0, 1),
        "flicker": Param("Flicker of the old fluorescent tube (0 steady, 1 failing)", 0, 1),
    }
    levels = [
        level(
            "Large bright room, door wide open, window",
            suds=10,
            width=6.0,
            depth=7.0,
            height=3.0,
            light=1.0,
            door=1.0,
            window=1.0,
            flicker=0.0,
        ),
        level(
            "Medium room, door open, window",
            suds=20,
            width=4.5,
            depth=5.0,
            height=2.8,
            light=1.0,
            door=1.0,
            window=1.0,
            flicker=0.0,
        ),
        level(
            "Small office, door open",
            suds=30,
            width=3.2,
            depth=3.5,
            height=2.6,
            light=0.95,
            door=0.8,
            window=1.0,
            flicker=0.0,
        ),
        level(
            "Small office, door closed",
            suds=40,
            width=3.2,
            depth=3.5,
            height=2.6,
            light=0.9,
            door=0.0,
            window=1.0,
            flicker=0.0,
        ),
        level(
            "Windowless storeroom, 2 x 2.5 m, door closed",
            suds=50,
            width=2.0,
            depth=2.5,
            height=2.5,
            light=0.85,
            door=0.0,
            window=0.0,
            flicker=0.0,
        ),
        level(
            "Storeroom, dim light",
            suds=60,
            width=2.0,
            depth=2.5,
            height=2.4,
            light=0.55,
            door=0.0,
            window=0.0,
            flicker=0.0,
        ),
        level(
            "Walk-in closet 1.4 x 1.6 m, low ceiling",
            suds=70,
            width=1.4,
            depth=1.6,
            height=2.2,
            light=0.55,
            door=0.0,
            window=0.0,
            flicker=0.0,
        ),
        level(
            "Lift-sized box 1.1 x 1.2 m, light flickering",
            suds=80,
            width=1.1,
            depth=1.2,
            height=2.1,
            light=0.5,
            door=0.0,
            window=0.0,
            flicker=0.5,
        ),
        level(
            "Cupboard 0.9 x 0.9 m, ceiling just above your head",
            suds=90,
            width=0.9,
            depth=0.9,
            height=1.9,
            light=0.4,
            door=0.0,
            window=0.0,
            flicker=0.6,
        ),
        level(
            "Cupboard 0.75 x 0.8 m, dim and flickering, ceiling touching your hair",
            suds=100,
            width=0.75,
            depth=0.8,
            height=1.78,
            light=0.3,
            door=0.0,
            window=0.0,
            flicker=1.0,
        ),
    ]

    def build(self) -> None:
        wall = Mesh().quad((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1), WALL)  # faces -Y
        floor = Mesh().quad((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0.42, 0.36, 0.3))
        ceiling = Mesh().quad((0, 1, 0), (1, 1, 0), (1, 0, 0), (0, 0, 0), (0.9, 0.9, 0.88))
        skirting = Mesh().quad(
            (0, -0.005, 0), (1, -0.005, 0), (1, -0.005, 0.1), (0, -0.005, 0.1), (0.3, 0.27, 0.24)
        )
        self.walls: dict[str, NodePath] = {}
        for name in ("front-left", "front-right", "lintel", "back", "left", "right"):
            node = textured(wall, "plaster", 0.5, name)
            node.reparentTo(self.root)
            if name not in ("lintel",):
                skirting.node("skirting").reparentTo(node)
            self.walls[name] = node
        self.floor = textured(floor, "carpet", 0.3, "floor")
        self.floor.reparentTo(self.root)
        self.ceiling = textured(ceiling, "plaster", 0.6, "ceiling")
        self.ceiling.reparentTo(self.root)

        corridor = Mesh()  # the bright corridor seen through the open door
        corridor.inside_box(
            (0, 2.0, 1.4),
            (2.4, 4.0, 2.8),
            {"floor": (0.55, 0.52, 0.48), "walls": (0.95, 0.95, 0.9), "ceiling": (1, 1, 1)},
        )
        self.corridor = corridor.node("corridor")
        self.corridor.reparentTo(self.root)
        self.corridor.setLightOff()
        frame = Mesh()
        frame.box((-DOOR_W / 2 - 0.04, -0.02, DOOR_H / 2), (0.08, 0.06, DOOR_H), (0.95, 0.95, 0.92))
        frame.box((DOOR_W / 2 + 0.04, -0.02, DOOR_H / 2), (0.08, 0.06, DOOR_H), (0.95, 0.95, 0.92))
        frame.box((0, -0.02, DOOR_H + 0.04), (DOOR_W + 0.16, 0.06, 0.08), (0.95, 0.95, 0.92))
        self.frame = frame.node("door-frame")
        self.frame.reparentTo(self.root)
        leaf = Mesh()
        leaf.box(
            (DOOR_W / 2, 0, DOOR_H / 2), (DOOR_W - 0.02, 0.04, DOOR_H - 0.02), (0.62, 0.44, 0.28)
        )
        leaf.sphere((DOOR_W - 0.1, -0.05, 1.0), 0.03, (0.85, 0.8, 0.5), segs=6, rings=4)
        self.door = textured(leaf, "wood", 0.9, "door", {"planks": 3.0})
        self.door.reparentTo(self.root)

        window = Mesh()
        window.box((0, 0, 0), (0.02, 1.2, 1.1), (0.62, 0.8, 0.96))
        window.box((0.01, 0, 0), (0.03, 0.05, 1.1), (0.95, 0.95, 0.95))
        window.box((0.01, 0, 0), (0.03, 1.2, 0.05), (0.95, 0.95, 0.95))
        self.window = window.node("window")
        self.window.reparentTo(self.root)
        self.window.setLightOff()  # daylight: as bright as the sky outside

        stuff = Mesh()  # boxes stacked in a corner and a shelf, for scale
        stuff.box((0.25, 0.2, 0.2), (0.4, 0.35, 0.4), (0.62, 0.48, 0.3))
        stuff.box((0.25, 0.22, 0.58), (0.34, 0.3, 0.36), (0.66, 0.52, 0.34))
        stuff.box((0.2, 0.55, 0.15), (0.3, 0.3, 0.3), (0.58, 0.45, 0.28))
        self.stuff = textured(stuff, "fabric", 0.4, "boxes")
        self.stuff.reparentTo(self.root)
        lamp = Mesh().box((0, 0, -0.02), (0.5, 0.5, 0.04), (1.0, 0.98, 0.9))
        self.lamp_panel = lamp.node("lamp-panel")
        self.lamp_panel.reparentTo(self.root)
        self.lamp_panel.setLightOff()

        # the ceiling lamp, as a light from above (slightly angled so each wall shades apart)
        self.light = DirectionalLight("ceiling-light")
        self.light_np = self.root.attachNewNode(self.light)
        self.light_np.setHpr(25, -62, 0)
        self.root.setLight(self.light_np)
        self.fill = AmbientLight("fill")
        self.root.setLight(self.root.attachNewNode(self.fill))
        self.viewpoint.setH(-28)  # facing the door, turned a little toward the room's corner
        self._slam = 0.0
        self.vent = self.spatial_sound("ventilation", self.lamp_panel, volume=0.2, min_distance=1.0)
        self.door_sound = self.spatial_sound("door", self.door, min_distance=1.5)
        self._door_angle = -1.0

    def on_event(self, name: str) -> None:
        if name == "door_slam":
            self._slam = 1.0
            self.door_sound.trigger()

    def stimulus_anchors(self, intensity: float) -> list[tuple[float, float, float]]:
        """The confinement: the wall ahead (with its door) and the side walls at eye level,
        and the ceiling above the client."""
        p = self.params(intensity)
        w, d, h = p["width"], p["depth"], p["height"]
        eye = min(1.6, h - 0.2)
        return [
            (0.0, d * 0.6, eye),
            (-w / 2, d * 0.1, eye),
            (w / 2, d * 0.1, eye),
            (0.0, d * 0.1, h),
        ]

    def apply(self, intensity: float, dt: float) -> None:
        p = self.params(intensity)
        w, d, h = p["width"], p["depth"], p["height"]
        yf, yb = d * 0.6, -d * 0.4  # the client stands a little back from the middle
        self.gaze_pitch = -8.0 + (3.0 - h) * 9.0  # low ceilings draw the eye up
        side = w / 2 - DOOR_W / 2
        walls = self.walls
        if side > 0.01:
            walls["front-left"].show()
            walls["front-right"].show()
            walls["front-left"].setPosHprScale(-w / 2, yf, 0, 0, 0, 0, side, 1, h)
            walls["front-right"].setPosHprScale(DOOR_W / 2, yf, 0, 0, 0, 0, side, 1, h)
        else:
            walls["front-left"].hide()
            walls["front-right"].hide()
        lintel_w = max(w, DOOR_W) if side <= 0.01 else DOOR_W
        walls["lintel"].setPosHprScale(
            -lintel_w / 2, yf, DOOR_H, 0, 0, 0, lintel_w, 1, max(0.01, h - DOOR_H)
        )
        walls["back"].setPosHprScale(w / 2, yb, 0, 180, 0, 0, w, 1, h)
        walls["left"].setPosHprScale(-w / 2, yb, 0, 90, 0, 0, d, 1, h)
        walls["right"].setPosHprScale(w / 2, yf, 0, -90, 0, 0, d, 1, h)
        self.floor.setPosHprScale(-w / 2, yb, 0, 0, 0, 0, w, d, 1)
        self.ceiling.setPosHprScale(-w / 2, yb, h, 0, 0, 0, w, d, 1)
        self.corridor.setPos(0, yf, 0)
        self.frame.setPos(0, yf, 0)
        self._slam = max(0.0, self._slam - dt * 1.5)
        self.door.setPos(-DOOR_W / 2, yf, 0)
        angle = 100.0 * max(0.0, p["door"] - self._slam)
        self.door.setH(angle)
        if angle < 3.0 <= self._door_angle and not self._slam:
            self.door_sound.trigger()  # the door swings shut as the level closes it
        self._door_angle = angle
        # the ventilation fills a small closed room: louder as the walls come in
        self.vent.volume = min(1.0, 0.15 + 0.85 * (1.0 - min(1.0, w * d / 42.0)))
        win = p["window"]
        if win < 0.02:
            self.window.hide()
        else:
            self.window.show()
            self.window.setPos(w / 2 - 0.02, yf * 0.35, 1.55)
            self.window.setScale(1, win, win)
        self.stuff.setPosHpr(w / 2, yf, 0, 180, 0, 0)
        self.stuff.setScale(min(1.0, w / 2.0))
        self.lamp_panel.setPos(0, (yf + yb) / 2, h)
        # an old fluorescent tube: a slow hum plus short drop-outs at higher levels
        t = self.time
        drop = 1.0 if wave(t, 2.3) * wave(t, 0.37, 0.2) < 0.55 else 0.35
        lit = p["light"] * (
            1.0 - p["flicker"] * (0.12 * (wave(t, 0.09) + 1.0) + (1.0 - drop) * 0.6)
        )
        self.light.setColor((0.6 * lit, 0.58 * lit, 0.52 * lit, 1))
        self.fill.setColor((0.45 * lit + 0.08, 0.45 * lit + 0.08, 0.43 * lit + 0.08, 1))
        self.lamp_panel.setColorScale(lit, lit, lit * 0.95, 1)
