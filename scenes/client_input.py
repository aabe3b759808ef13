"""What the client can do in the headset: take a break, and answer private questions on a panel.

The panel asks SUDS (0-100), and runs of questions the coach or the therapist hand it
(`ask_items`): expectancy before a step (how likely, 0-100 %) and after it (did it happen, how
surprised), the mid-session sickness rating, the SSQ's sixteen items (none to severe). Each is
answered by pointing, never aloud; a run's answers go back together when the last is sent.

Keys (window display) and controller buttons (openvr display) map to the same actions:

    break to the safe scene   B (or Space when no panel is open), controller trigger or grip
    panel: change value       Left/Right arrows (a step), 0-9 (x10 on a 0-100 scale, else the
                              value itself), touchpad left/right
    panel: send               Enter (or Space), controller trigger (the next question, if any)
    panel: close              Escape

Each action reaches the control process as an event dict that `exposure.models.parse_event`
accepts once the control side stamps `t`: {"type": "safe", "by": "client"} and
{"type": "suds", "value": 40, "by": "client"}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from panda3d.core import CardMaker, NodePath, TextNode, TransparencyAttrib

from scenes.render.messages import PanelItem

STEP = 5
DWELL_S = 2.0
"""Gaze pointing: holding the gaze on one value this long answers with it."""
PANEL_POS = (0.0, 1.1, -0.05)
"""About an arm's length ahead, just below eye level (in the head's frame)."""
SUDS_ITEM = PanelItem("How anxious are you right now (0-100)?", 0, 100, STEP)


class ClientInput:
    """Binds the break action and the SUDS panel; `emit` receives each client event dict."""

    def __init__(
        self,
        base: Any,
        head: NodePath,
        emit: Callable[[dict[str, Any]], None],
        on_break: Callable[[], None],
        vr: bool = False,
    ) -> None:
        self.base = base
        self.emit = emit
        self.on_break = on_break
        self.value = 50
        self.question = ""
        self.kind = "suds"
        self.items: tuple[PanelItem, ...] = (SUDS_ITEM,)
        self.index = 0
        self.answers: list[int] = []
        self.level = 0
        self.tick_labels: list[NodePath] = []
        self.head = head
        self.rig: NodePath | None = None
        """Set by `point_with_gaze`: the panel then stays put in the scene while it is open."""
        self._pointed: tuple[int, float] | None = None
        self._gaze_moved = False
        """The gaze has moved off the value a question opened with: staring ahead is no answer."""
        self.panel = self._build_panel(head, vr)
        self.panel.hide()
        self.open = False
        for key in ("b", "vr-grip"):
            base.accept(key, self.take_break)
        base.accept("space", self._space)
        base.accept("vr-trigger", self._trigger)
        for key in ("enter", "return"):
            base.accept(key, self.send)
        base.accept("escape", self.close)
        for key in ("arrow_left", "vr-left"):
            base.accept(key, self.change, [-STEP])
        for key in ("arrow_right", "vr-right"):
            base.accept(key, self.change, [STEP])
        for digit in range(10):
            base.accept(str(digit), self.digit, [digit])

    # ------------------------------------------------------------------ panel
    def _build_panel(self, head: NodePath, vr: bool) -> NodePath:
        panel = overlay_card(
            head, "suds-panel", PANEL_POS, (-0.42, 0.42, -0.2, 0.2), (0.08, 0.1, 0.14, 0.9), 100
        )
        self.question_text = self._text(panel, "", (0, 0, 0.13), 0.035, (1, 1, 1, 1), 101)
        bar = CardMaker("bar")
        bar.setFrame(-0.35, 0.35, -0.012, 0.012)
        bar_np = panel.attachNewNode(bar.generate())
        bar_np.setColor(0.5, 0.55, 0.6, 1)
        bar_np.setBin("fixed", 101)
        for k in range(0, 101, 10):
            x = -0.35 + 0.7 * k / 100
            tick = CardMaker(f"tick{k}")
            tick.setFrame(x - 0.002, x + 0.002, -0.025, 0.025)
            t = panel.attachNewNode(tick.generate())
            t.setColor(0.8, 0.8, 0.85, 1)
            t.setBin("fixed", 101)
            if k % 20 == 0:
                self._text(panel, str(k), (x, 0, -0.065), 0.03, (0.85, 0.85, 0.9, 1), 101)
                self.tick_labels.append(panel.getChild(panel.getNumChildren() - 1))
        knob = CardMaker("knob")
        knob.setFrame(-0.012, 0.012, -0.035, 0.035)
        self.knob = panel.attachNewNode(knob.generate())
        self.knob.setColor(1.0, 0.75, 0.2, 1)
        self.knob.setBin("fixed", 102)
        self.value_text = self._text(panel, "50", (0, 0, 0.04), 0.06, (1.0, 0.8, 0.3, 1), 102)
        hint = (
            "touchpad left/right to choose, trigger to send"
            if vr
            else "Left/Right or 0-9 to choose, Enter to send, Esc to close"
        )
        self._text(panel, hint, (0, 0, -0.155), 0.026, (0.75, 0.8, 0.85, 1), 101)
        return panel

    @staticmethod
    def _text(
        parent: NodePath,
        text: str,
        pos: tuple[float, float, float],
        scale: float,
        color: tuple[float, float, float, float],
        sort: int,
    ) -> TextNode:
        node = TextNode("text")
        node.setText(text)
        node.setAlign(TextNode.ACenter)
        node.setTextColor(*color)
        np_ = parent.attachNewNode(node)
        np_.setPos(*pos)
        np_.setScale(scale)
        np_.setBin("fixed", sort)
        return node

    @property
    def item(self) -> PanelItem:
        return self.items[self.index]

    def _refresh(self) -> None:
        item = self.item
        span = max(1, item.high - item.low)
        labels = item.labels
        word = labels[self.value - item.low] if 0 <= self.value - item.low < len(labels) else ""
        self.value_text.setText(
            f"{self.value} {word}".strip() if item.high > 10 else word or str(self.value)
        )
        self.knob.setX(-0.35 + 0.7 * (self.value - item.low) / span)

    # ------------------------------------------------------------------ actions
    def ask(self, question: str) -> None:
        """Open the panel with the therapist's SUDS question; the value starts at the middle."""
        text = question.strip() or SUDS_ITEM.text
        self.ask_items("suds", (PanelItem(text, 0, 100, STEP),))

    def ask_items(self, kind: str, items: tuple[PanelItem, ...], level: int = 0) -> None:
        """Open the panel with a run of questions, the first shown; each starts mid-scale."""
        if not items:
            return
        self.kind, self.items, self.level, self.index, self.answers = kind, items, level, 0, []
        self._show_item()
        if self.rig is not None:  # gaze pointing: the panel stays where it opened, in the scene
            self.panel.reparentTo(self.head)
            self.panel.setPosHpr(*PANEL_POS, 0, 0, 0)
            self.panel.wrtReparentTo(self.rig)
        self.panel.show()
        self.open = True

    def _show_item(self) -> None:
        item = self.item
        count = f" ({self.index + 1} of {len(self.items)})" if len(self.items) > 1 else ""
        self.question = item.text + count
        self.question_text.setText(self.question)
        self.question_text.setWordwrap(22)
        for label in self.tick_labels:  # the 0-100 numbers belong to 0-100 scales only
            if (item.low, item.high) == (0, 100):
                label.show()
            else:
                label.hide()
        self.value = item.low + (item.high - item.low) // 2
        self._gaze_moved = False
        self._refresh()

    def change(self, delta: int) -> None:
        if self.open:
            step = self.item.step
            self.set_value(self.value + (step if delta > 0 else -step))

    def digit(self, digit: int) -> None:
        """A number key: tens on a 0-100 scale, else the value itself."""
        if self.open:
            self.set_value(digit * 10 if self.item.high - self.item.low > 10 else digit)

    def set_value(self, value: int) -> None:
        if self.open:
            self.value = max(self.item.low, min(self.item.high, int(value)))
            self._refresh()

    def send(self) -> None:
        """Send the chosen rating (the next question comes, if any) and close the panel."""
        if not self.open:
            return
        self.answers.append(self.value)
        if self.index + 1 < len(self.items):
            self.index += 1
            self._show_item()
            return
        if self.kind == "suds":
            self.emit({"type": "suds", "value": self.answers[0], "by": "client"})
        else:
            self.emit(
                {"type": "panel", "kind": self.kind, "level": self.level, "answers": self.answers}
            )
        self.close()

    def close(self) -> None:
        self.panel.hide()
        self.open = False
        self._pointed = None

    # ------------------------------------------------------------------ gaze pointing
    def point_with_gaze(self, rig: NodePath) -> None:
        """Head tracking is on: the client may also answer by looking at a value and holding
        the gaze there for `DWELL_S` (the panel opens fixed in the scene, not on the head)."""
        self.rig = rig

    def point(self, now: float) -> None:
        """Each frame while the panel is open: the value the gaze rests on, sent after a dwell."""
        if not self.open or self.rig is None:
            return
        origin = self.panel.getRelativePoint(self.head, (0, 0, 0))
        ahead = self.panel.getRelativeVector(self.head, (0, 1, 0))
        if ahead[1] <= 1e-6:
            self._pointed = None
            return
        k = -origin[1] / ahead[1]
        x, z = origin[0] + ahead[0] * k, origin[2] + ahead[2] * k
        if abs(x) > 0.42 or abs(z) > 0.2:  # looking off the panel
            self._pointed = None
            return
        item = self.item
        f = min(1.0, max(0.0, (x + 0.35) / 0.7))
        raw = item.low + f * (item.high - item.low)
        value = item.low + round((raw - item.low) / item.step) * item.step
        if self._pointed is None or self._pointed[0] != value:
            self._pointed = (value, now)
            self._gaze_moved = self._gaze_moved or value != self.value
            self.set_value(value)
        elif self._gaze_moved and now - self._pointed[1] >= DWELL_S:
            self._pointed = (value, now)  # the next question needs a dwell of its own
            self.send()

    def take_break(self) -> None:
        """The client asks for a break: go to the safe scene at once and tell the control side."""
        self.close()
        self.on_break()
        self.emit({"type": "safe", "by": "client"})

    def _space(self) -> None:
        if self.open:
            self.send()
        else:
            self.take_break()

    def _trigger(self) -> None:
        if self.open:
            self.send()
        else:
            self.take_break()


def overlay_card(
    head: NodePath,
    name: str,
    pos: tuple[float, float, float],
    frame: tuple[float, float, float, float],
    colour: tuple[float, float, float, float],
    sort: int,
) -> NodePath:
    """A card fixed to the client's head, drawn over the scene (no light, fog or depth test) in
    the fixed bin at `sort`, with a translucent background of `frame` (left, right, bottom,
    top, metres) in `colour`: the SUDS panel, the coach's captions."""
    card = head.attachNewNode(name)
    card.setPos(*pos)
    card.setLightOff()
    card.setFogOff()
    card.setDepthTest(False)
    card.setDepthWrite(False)
    card.setBin("fixed", sort)
    card.setTransparency(TransparencyAttrib.MAlpha)
    cm = CardMaker(f"{name}-bg")
    cm.setFrame(*frame)
    bg = card.attachNewNode(cm.generate())
    bg.setColor(*colour)
    bg.setBin("fixed", sort)
    return card
