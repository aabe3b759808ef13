"""The coach in the headset: a figure at the client's side, captions, the paced-breathing guide.

Built once before the first frame (a few hundred triangles, one draw call per part); each
frame `frame(now)` sets a handful of transforms, so it costs microseconds in the render loop:
- the figure faces the client, breathes (its chest rises every 4 s), blinks every few
  seconds, moves its mouth with the line's loudness (an envelope read on the control side),
  tilts its head on empathic lines and nods after the client answers on the panel;
- "voice" mode shows a soft light instead of a person (a scene with no room for one), which
  glows with the loudness; "off" shows nothing and plays nothing;
- captions are always on while a line plays, on a dark card below the panel, head-locked;
- the breathing guide is a ring ahead of the client that grows over 4 s (breathe in) and
  shrinks over 6 s (breathe out), shown for a minute after a calm line.

The sound plays through Panda3D's audio (`loader.loadSfx`); where there is no sound device the
render process runs with `audio-library-name null` and the sound is loaded but silent.
"""

from __future__ import annotations

import math
from typing import Any

from panda3d.core import Filename, NodePath, TextNode, TransparencyAttrib

from scenes.client_input import overlay_card
from scenes.geometry import Mesh
from scenes.render.messages import ENVELOPE_HZ, CoachSay

MODES = ("person", "voice", "off")
CAPTION_LINGER_S = 1.5
"""The caption stays this long after the sound ends (reading is slower than listening)."""
CAPTION_WORDS_PER_S = 2.5
"""Without a sound the caption stays as long as the text takes to read at this pace."""
BLINK_EVERY_S = 3.7
BLINK_S = 0.15
BREATH_IN_S = 4.0
BREATH_OUT_S = 6.0
GUIDE_S = 60.0
NOD_S = 0.9
TILT_DEG = 9.0
SIDE_M = (1.05, 2.0)
"""Where the figure stands from the client's spot: to the right, a little ahead (x, y)."""

SKIN = (0.86, 0.69, 0.58, 1)
SHIRT = (0.32, 0.52, 0.62, 1)
TROUSERS = (0.22, 0.24, 0.3, 1)
HAIR = (0.25, 0.18, 0.14, 1)
DARK = (0.1, 0.08, 0.08, 1)
LIGHT = (1.0, 0.9, 0.7, 1)


def breath_phase(t: float) -> float:
    """The paced-breathing guide's size at time `t`: 0 (out) to 1 (in), 4 s in, 6 s out."""
    cycle = BREATH_IN_S + BREATH_OUT_S
    x = t % cycle
    f = x / BREATH_IN_S if x < BREATH_IN_S else 1.0 - (x - BREATH_IN_S) / BREATH_OUT_S
    return f * f * (3 - 2 * f)


def caption_seconds(say: CoachSay) -> float:
    """How long a line's caption stays on."""
    reading = len(say.text.split()) / CAPTION_WORDS_PER_S
    return max(say.seconds, reading if not say.wav else 0.0) + CAPTION_LINGER_S


class CoachPresence:
    """The coach in one render process: its figure or light, its captions, its sound."""

    def __init__(self, base: Any, rig: NodePath, head: NodePath, mode: str = "person") -> None:
        self.base = base
        self.mode = mode if mode in MODES else "person"
        self.root = rig.attachNewNode("coach")
        self.root.setLightOff()  # vertex colours: the same in every scene's light
        self.figure, self.head, self.mouth, self.eyes = self._build_figure(self.root)
        self.light = self._build_light(self.root)
        self.guide = self._build_guide(rig)
        self.caption, self.caption_text = self._build_caption(head)
        self.sound: Any = None
        self.say: CoachSay | None = None
        self.said_at = -math.inf
        self.caption_until = -math.inf
        self.guide_until = -math.inf
        self.nod_at = -math.inf
        self.loudness = 0.0
        self.set_mode(self.mode)

    # ------------------------------------------------------------------ building (once)

    def _build_figure(self, root: NodePath) -> tuple[NodePath, NodePath, NodePath, NodePath]:
        figure = root.attachNewNode("coach-person")
        figure.setPos(SIDE_M[0], SIDE_M[1], 0)
        figure.lookAt(0, 0, 0)  # its front (+Y) faces the client's spot
        legs = Mesh()
        legs.cylinder((-0.1, 0, 0), 0.85, 0.08, TROUSERS)
        legs.cylinder((0.1, 0, 0), 0.85, 0.08, TROUSERS)
        legs.node("coach-legs").reparentTo(figure)
        chest = figure.attachNewNode("coach-chest")
        chest.setZ(0.85)
        body = Mesh()
        body.cylinder((0, 0, 0), 0.62, 0.2, SHIRT, sides=10, top_radius=0.17)
        body.cylinder((-0.25, 0, 0.05), 0.52, 0.055, SHIRT, sides=6)
        body.cylinder((0.25, 0, 0.05), 0.52, 0.055, SHIRT, sides=6)
        body.cylinder((0, 0, 0.6), 0.1, 0.05, SKIN, sides=6)
        body.node("coach-body").reparentTo(chest)
        head = chest.attachNewNode("coach-head")
        head.setZ(0.7)
        face = Mesh()
        face.sphere((0, 0, 0.13), (0.12, 0.13, 0.15), SKIN, segs=12, rings=8)
        face.sphere((0, -0.02, 0.19), (0.125, 0.125, 0.11), HAIR, segs=12, rings=6)
        face.node("coach-face").reparentTo(head)
        eyes = head.attachNewNode("coach-eyes")
        eyes.setPos(0, 0.115, 0.15)
        eye = Mesh()
        eye.sphere((-0.045, 0, 0), 0.017, DARK, segs=6, rings=4)
        eye.sphere((0.045, 0, 0), 0.017, DARK, segs=6, rings=4)
        eye.node("coach-eye").reparentTo(eyes)
        mouth = head.attachNewNode("coach-mouth")
        mouth.setPos(0, 0.122, 0.07)
        lips = Mesh()
        lips.box((0, 0, 0), (0.06, 0.01, 0.016), (0.55, 0.25, 0.25, 1))
        lips.node("coach-lips").reparentTo(mouth)
        return figure, head, mouth, eyes

    def _build_light(self, root: NodePath) -> NodePath:
        light = root.attachNewNode("coach-light")
        light.setPos(SIDE_M[0] * 0.7, SIDE_M[1], 1.45)
        orb = Mesh()
        orb.sphere((0, 0, 0), 0.09, LIGHT, segs=10, rings=6)
        orb.node("coach-orb").reparentTo(light)
        light.setTransparency(TransparencyAttrib.MAlpha)
        return light

    def _build_guide(self, rig: NodePath) -> NodePath:
        guide = rig.attachNewNode("coach-breathing-guide")
        guide.setPos(0, 2.2, 1.35)
        guide.setLightOff()
        guide.setTransparency(TransparencyAttrib.MAlpha)
        ring = Mesh()
        sides = 32
        for k in range(sides):
            a0, a1 = 2 * math.pi * k / sides, 2 * math.pi * (k + 1) / sides
            inner, outer = 0.16, 0.2
            p = [
                (inner * math.cos(a0), 0.0, inner * math.sin(a0)),
                (outer * math.cos(a0), 0.0, outer * math.sin(a0)),
                (outer * math.cos(a1), 0.0, outer * math.sin(a1)),
                (inner * math.cos(a1), 0.0, inner * math.sin(a1)),
            ]
            ring.quad(p[0], p[1], p[2], p[3], (0.7, 0.9, 1.0, 0.8))
            ring.quad(p[3], p[2], p[1], p[0], (0.7, 0.9, 1.0, 0.8))
        ring.node("coach-ring").reparentTo(guide)
        guide.hide()
        return guide

    def _build_caption(self, head: NodePath) -> tuple[NodePath, TextNode]:
        card = overlay_card(  # below the panel, about an arm's length ahead
            head,
            "coach-caption",
            (0, 1.1, -0.33),
            (-0.45, 0.45, -0.075, 0.075),
            (0.02, 0.03, 0.05, 0.82),
            110,
        )
        text = TextNode("coach-caption-text")
        text.setAlign(TextNode.ACenter)
        text.setWordwrap(28.0)
        text.setTextColor(1, 1, 0.92, 1)
        text_np = card.attachNewNode(text)
        text_np.setScale(0.03)
        text_np.setPos(0, -0.002, 0.04)
        text_np.setBin("fixed", 111)
        text_np.setDepthTest(False)
        card.hide()
        return card, text

    # ------------------------------------------------------------------ from the control side

    def set_mode(self, mode: str) -> None:
        """Show the coach as a person, a soft light (voice), or not at all (off)."""
        self.mode = mode if mode in MODES else self.mode
        for part, shown in ((self.figure, "person"), (self.light, "voice")):
            if self.mode == shown:
                part.show()
            else:
                part.hide()
        if self.mode == "off":
            self._stop_sound()
            self.caption.hide()
            self.guide.hide()
            self.caption_until = self.guide_until = -math.inf

    def speak(self, say: CoachSay, now: float) -> bool:
        """Start a line: its sound (made ahead, so loading is a file read), caption, gestures.

        Returns True when a sound was started."""
        if self.mode == "off":
            return False
        self._stop_sound()
        self.say, self.said_at = say, now
        if say.wav and self.base.sfxManagerList:
            self.sound = self.base.loader.loadSfx(Filename.fromOsSpecific(say.wav))
            self.sound.setVolume(1.0)
            self.sound.play()
        self.caption_text.setText(say.text)
        self.caption.show()
        self.caption_until = now + caption_seconds(say)
        if say.guide:
            self.guide_until = now + GUIDE_S
        return self.sound is not None

    def nod(self, now: float) -> None:
        """The client answered: the figure nods."""
        self.nod_at = now

    def _stop_sound(self) -> None:
        if self.sound is not None:
            self.sound.stop()
            self.sound = None

    # ------------------------------------------------------------------ each frame

    def frame(self, now: float, fade: float = 1.0) -> None:
        """Move the figure for this frame: breath, blink, mouth, nod, tilt; captions and guide."""
        if self.mode == "off":
            return
        self.root.setColorScale(fade, fade, fade, 1.0)
        self.loudness = self._loudness(now)
        speaking = self.say is not None and now - self.said_at <= self.say.seconds
        if self.mode == "person":
            breath = math.sin(2 * math.pi * now / BREATH_IN_S / 1.1)
            self.head.getParent().setScale(1.0 + 0.012 * breath, 1.0 + 0.02 * breath, 1.0)
            blinking = (now % BLINK_EVERY_S) < BLINK_S
            self.eyes.setScale(1.0, 1.0, 0.15 if blinking else 1.0)
            self.mouth.setScale(1.0, 1.0, 0.4 + 2.6 * self.loudness)
            since_nod = now - self.nod_at
            pitch = -12.0 * math.sin(math.pi * since_nod / NOD_S * 2) if since_nod < NOD_S else 0.0
            tilt = TILT_DEG if speaking and self.say is not None and self.say.empathic else 0.0
            self.head.setHpr(0, pitch, tilt)
        else:
            glow = 0.55 + 0.45 * self.loudness
            self.light.setScale(0.9 + 0.3 * self.loudness)
            self.light.setAlphaScale(glow)
        if now > self.caption_until and not self.caption.isHidden():
            self.caption.hide()
        if now < self.guide_until:
            self.guide.show()
            self.guide.setScale(0.6 + 0.8 * breath_phase(now - self.said_at))
        elif not self.guide.isHidden():
            self.guide.hide()

    def _loudness(self, now: float) -> float:
        say = self.say
        if say is None or not say.envelope:
            return 0.0
        i = int((now - self.said_at) * ENVELOPE_HZ)
        return say.envelope[i] if 0 <= i < len(say.envelope) else 0.0

    @property
    def captioning(self) -> str:
        """The caption on show now, or ""."""
        return "" if self.caption.isHidden() else self.caption_text.getText()
