"""The coach in the headset: which line it says, and when. Pure: no clock, no I/O but its script.

The coach carries the therapist's plan between their interventions; it never decides exposure.
`choose` is a pure function of the session state, the last decision and the lines said so far:
- the safe scene (and a step down for a ceiling) always gets its calm line first, at once;
- otherwise nothing is said within `min_gap_s` of the last line;
- no line is said twice in a row (a situation's lines take turns);
- welcome first (it says plainly that it is automated and the therapist is there), then
  breathing during the baseline, after a step up a question about the step before, shortly
  before the dwell is up what comes next and the expectancy question, praise while the client
  stays, paced breathing in the safe scene, and the end.

`Coach` folds the session's events into what `choose` needs, and answers each event with the
line to speak (a recorded `CoachLine` event), so replaying a record gives the same lines.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from exposure.core import step
from exposure.errors import UserError
from exposure.models import (
    SAFE_LEVEL,
    CoachAsk,
    CoachControl,
    CoachLine,
    CoachMode,
    Decision,
    Effect,
    Event,
    SessionState,
)

SCRIPTS_DIR = Path(__file__).with_name("coach_scripts")
SITUATIONS = (
    "welcome",
    "baseline",
    "before_step",
    "during",
    "calm",
    "breathe",
    "after_step",
    "end",
)
"""Every situation a script has lines for."""
TYPED_LINE = "typed"
"""The line id of a line the therapist typed on the console."""
ASK_LINE = "ask"
"""The line id of a question the therapist asked from the console."""
ASK_TEXTS: dict[str, str] = {
    "suds": "How anxious do you feel right now? Point to it on the panel.",
    "expectancy_before": "Before the next step: how likely is it that what you fear will happen? "
    "Point to it on the panel.",
    "expectancy_after": "Think of the step you just did. Did what you feared happen? How "
    "surprised are you? Point to your answers on the panel.",
    "sickness": "How sick do you feel right now, from 0 to 10? Point to it on the panel.",
    "ssq": "A few questions about how your body feels. Point to each answer on the panel.",
}
"""What the coach says when the therapist asks a question from the console (a script's
`[asks]` table replaces these in its language)."""


class ScriptError(UserError):
    """A coach script cannot be read; the message says which and how to fix it."""


@dataclass(frozen=True)
class ScriptLine:
    """One line of the script: what is said, in which situation, and what it asks."""

    id: str
    situation: str
    text: str
    ask: CoachAsk | None = None
    empathic: bool = False


@dataclass(frozen=True)
class Script:
    """A coach script for one language, with its timings in seconds."""

    language: str
    lines: tuple[ScriptLine, ...]
    asks: tuple[tuple[str, str], ...] = tuple(ASK_TEXTS.items())
    """What the coach says to ask each question when the therapist asks it (ask, text)."""
    min_gap_s: float = 20.0
    during_every_s: float = 45.0
    before_step_lead_s: float = 15.0
    breathe_every_s: float = 25.0
    after_step_delay_s: float = 8.0

    def paced(self, factor: float) -> Script:
        """The script with every timing scaled by `factor` (a demo's shortened dwell)."""
        if factor == 1.0:
            return self
        return dataclasses.replace(
            self,
            min_gap_s=self.min_gap_s * factor,
            during_every_s=self.during_every_s * factor,
            before_step_lead_s=self.before_step_lead_s * factor,
            breathe_every_s=self.breathe_every_s * factor,
            after_step_delay_s=self.after_step_delay_s * factor,
        )

    def of(self, situation: str) -> tuple[ScriptLine, ...]:
        """The lines for a situation, in script order."""
        return tuple(line for line in self.lines if line.situation == situation)

    def line(self, line_id: str) -> ScriptLine | None:
        """The line with this id, or None."""
        return next((line for line in self.lines if line.id == line_id), None)


def available_languages() -> list[str]:
    """The languages the shipped scripts cover."""
    return sorted(p.stem for p in SCRIPTS_DIR.glob("*.toml"))


def load_script(language: str = "en", path: Path | None = None) -> Script:
    """Read a script (a shipped language, or a TOML file); ScriptError says what is wrong."""
    if path is None:
        if language not in available_languages():
            raise ScriptError(
                f"No coach script for language {language!r}: use one of "
                f"{', '.join(available_languages())}, or add exposure/coach_scripts/{language}.toml."
            )
        path = SCRIPTS_DIR / f"{language}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ScriptError(
            f"The coach script {path} cannot be read ({err}): fix the file."
        ) from None
    return parse_script(data, str(path))


def parse_script(data: dict[str, object], where: str = "the coach script") -> Script:
    """Validate a script's data: every situation covered, ids unique, repeats have two lines."""
    raw_lines = data.get("line")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ScriptError(f"{where} has no [[line]] entries: add the coach's lines.")
    lines: list[ScriptLine] = []
    ask_kinds = get_args(CoachAsk)
    for n, raw in enumerate(raw_lines, 1):
        if not isinstance(raw, dict):
            raise ScriptError(f"{where}: line {n} is not a table; write it as [[line]].")
        line_id, situation, text = raw.get("id"), raw.get("situation"), raw.get("text")
        ask, empathic = raw.get("ask"), raw.get("empathic", False)
        if (
            not isinstance(line_id, str)
            or not line_id
            or len(line_id) > 40
            or line_id == TYPED_LINE
        ):
            raise ScriptError(f"{where}: line {n} needs an id (1-40 characters, not 'typed').")
        if situation not in SITUATIONS:
            raise ScriptError(
                f"{where}: line {line_id!r} has situation {situation!r}; use one of "
                f"{', '.join(SITUATIONS)}."
            )
        if not isinstance(text, str) or not text.strip() or len(text) > 400:
            raise ScriptError(f"{where}: line {line_id!r} needs a text of 1-400 characters.")
        if ask is not None and ask not in ask_kinds:
            raise ScriptError(
                f"{where}: line {line_id!r} asks {ask!r}; use one of {', '.join(ask_kinds)}."
            )
        if not isinstance(empathic, bool):
            raise ScriptError(
                f"{where}: line {line_id!r} has empathic = {empathic!r}; use true or false."
            )
        lines.append(ScriptLine(line_id, str(situation), text.strip(), ask, empathic))
    ids = [line.id for line in lines]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ScriptError(f"{where}: line ids must be unique, and {', '.join(twice)} repeat.")
    for situation in SITUATIONS:
        count = sum(1 for line in lines if line.situation == situation)
        if count == 0:
            raise ScriptError(f"{where} has no line for the situation {situation!r}: add one.")
        if situation in _REPEATED and count < 2:
            raise ScriptError(
                f"{where} needs two lines or more for {situation!r}, which recurs, so no line "
                "is said twice in a row."
            )
    timings: dict[str, float] = {}
    for key in (
        "min_gap_s",
        "during_every_s",
        "before_step_lead_s",
        "breathe_every_s",
        "after_step_delay_s",
    ):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
            raise ScriptError(f"{where}: {key} = {value!r}; give seconds between 0 and 3600.")
        timings[key] = float(value)
    asks = dict(ASK_TEXTS)
    raw_asks = data.get("asks", {})
    if not isinstance(raw_asks, dict) or not all(
        k in asks and isinstance(v, str) and 0 < len(v.strip()) <= 400 for k, v in raw_asks.items()
    ):
        raise ScriptError(
            f"{where}: [asks] gives a text (1-400 characters) for any of {', '.join(asks)}."
        )
    asks.update({k: v.strip() for k, v in raw_asks.items()})
    return Script(
        language=str(data.get("language", "")),
        lines=tuple(lines),
        asks=tuple(asks.items()),
        **timings,
    )


_REPEATED = frozenset({"baseline", "before_step", "during", "calm", "breathe", "after_step"})
"""Situations that come more than once a session: they need two lines to take turns."""


# --------------------------------------------------------------------------- the chooser


@dataclass(frozen=True)
class Choice:
    """The line to say and why, in the therapist's words."""

    line: ScriptLine
    why: str
    level: int | None = None
    """The step the line's expectancy question is about."""

    def event(self, t: float, by: str = "auto") -> CoachLine:
        """The recorded event for saying this line at `t`."""
        return CoachLine(
            t=t,
            line=self.line.id,
            text=self.line.text,
            why=self.why,
            by="clinician" if by == "clinician" else "auto",
            ask=self.line.ask,
            level=self.level if self.line.ask is not None else None,
            empathic=self.line.empathic,
        )


def choose(
    script: Script,
    state: SessionState,
    last_decision: Decision | None,
    said: Sequence[CoachLine],
    *,
    passed: Sequence[tuple[float, str]] = (),
    ignore_gap: bool = False,
) -> Choice | None:
    """The line the coach should say now, or None.

    `said` are the lines spoken so far (oldest first); `passed` the (time, situation) of lines
    the therapist skipped, which count as said for "once per level" but not for the gap.
    `ignore_gap` previews the next line (the console) or says it at once (the therapist's
    trigger). The time is the state's.
    """
    now = state.t
    last = said[-1] if said else None
    last_id = last.line if last is not None else None

    def since(situation: str, t0: float) -> bool:
        done = any(line.t >= t0 and _situation(script, line.line) == situation for line in said)
        return done or any(t >= t0 and s == situation for t, s in passed)

    def pick(situation: str, why: str, level: int | None = None) -> Choice | None:
        line = _next_line(script, situation, said, last_id)
        return Choice(line, why, level) if line is not None else None

    if state.phase == "ended":
        if since("end", state.level_since) or since("end", 0.0):
            return None
        return pick("end", "the session ended")
    in_safe = state.phase == "safe" or (state.phase != "baseline" and state.level == SAFE_LEVEL)
    if in_safe and not since("calm", state.level_since):
        return pick("calm", "the client went to the safe scene: calm words first")
    stepped_down = (
        state.phase == "exposure"
        and last_decision is not None
        and last_decision.who == "auto"
        and SAFE_LEVEL < last_decision.to_level < last_decision.from_level
        and last_decision.t >= state.level_since
    )
    if stepped_down and not since("calm", state.level_since):
        return pick("calm", "arousal went past the ceiling and the level stepped down: calm words")

    gap = now - last.t if last is not None else None
    if gap is not None and gap < script.min_gap_s and not ignore_gap:
        return None
    if last is None:
        return pick("welcome", "the session began: the coach says who it is")
    if state.phase == "paused":
        return None  # the therapist is talking with the client
    if in_safe:
        if gap is not None and (gap >= script.breathe_every_s or ignore_gap):
            return pick("breathe", "in the safe scene: a paced-breathing guide")
        return None
    if state.phase == "baseline":
        if gap is not None and (gap >= script.during_every_s or ignore_gap):
            return pick("baseline", "baseline: resting breaths")
        return None
    dwell = now - state.level_since
    stepped_up = (
        last_decision is not None
        and last_decision.to_level > last_decision.from_level > SAFE_LEVEL
        and last_decision.t >= state.level_since
        # the question after a step pairs with the one asked before it
        and any(
            line.ask == "expectancy_before" and line.level == last_decision.from_level
            for line in said
        )
    )
    if (
        stepped_up
        and dwell >= script.after_step_delay_s
        and not since("after_step", state.level_since)
    ):
        assert last_decision is not None
        return pick(
            "after_step",
            f"stepped up from level {last_decision.from_level}: did the feared outcome happen?",
            last_decision.from_level,
        )
    lead = state.settings.min_dwell_s - script.before_step_lead_s
    if (
        state.auto
        and state.level < state.ladder.top
        and dwell >= lead
        and not since("before_step", state.level_since)
    ):
        return pick(
            "before_step",
            f"{dwell:.0f} of {state.settings.min_dwell_s:.0f} s at level {state.level}: the "
            "next step comes soon, so the coach asks the expectancy rating",
            state.level + 1,
        )
    if (
        gap is not None
        and (gap >= script.during_every_s or ignore_gap)
        and dwell >= script.min_gap_s
    ):
        return pick("during", f"{dwell:.0f} s at level {state.level}: praise for staying")
    return None


def _situation(script: Script, line_id: str) -> str | None:
    line = script.line(line_id)
    return line.situation if line is not None else None


def _next_line(
    script: Script, situation: str, said: Sequence[CoachLine], last_id: str | None
) -> ScriptLine | None:
    """The situation's lines take turns; never the line said last."""
    options = script.of(situation)
    if not options:
        return None
    count = sum(1 for line in said if _situation(script, line.line) == situation)
    for k in range(len(options)):
        line = options[(count + k) % len(options)]
        if line.id != last_id:
            return line
    return None  # the only line of its situation was the last said


# --------------------------------------------------------------------------- the coach


@dataclass
class Coach:
    """What the coach remembers between events, and the line it answers each event with.

    Fed every stepped event with its effects (`respond`), in order; the lines it returns are
    stepped as events right after, so a record replays to the same lines (`replay_lines`).
    """

    script: Script
    said: list[CoachLine] = field(default_factory=list)
    passed: list[tuple[float, str]] = field(default_factory=list)
    last_decision: Decision | None = None
    muted: bool = False
    mode: CoachMode = "person"

    def respond(
        self, event: Event, state: SessionState, effects: Iterable[Effect]
    ) -> CoachLine | None:
        """Take in one stepped event; the line to say after it, or None."""
        for effect in effects:
            if isinstance(effect, Decision):
                self.last_decision = effect
        if isinstance(event, CoachLine):
            self.said.append(event)
            return None
        if isinstance(event, CoachControl):
            return self._control(event, state)
        if self.muted or self.mode == "off":
            return None
        choice = choose(self.script, state, self.last_decision, self.said, passed=self.passed)
        return choice.event(state.t) if choice is not None else None

    def upcoming(self, state: SessionState) -> tuple[Choice | None, float]:
        """The next line the coach will say and in how many seconds at the soonest (console)."""
        choice = choose(
            self.script, state, self.last_decision, self.said, passed=self.passed, ignore_gap=True
        )
        wait = 0.0
        if self.said:
            wait = max(0.0, self.script.min_gap_s - (state.t - self.said[-1].t))
        return choice, round(wait, 1)

    def _control(self, c: CoachControl, state: SessionState) -> CoachLine | None:
        if c.action == "mute":
            self.muted = True
        elif c.action == "unmute":
            self.muted = False
        elif c.action == "mode" and c.mode is not None:
            self.mode = c.mode
        elif c.action == "skip":
            choice, _ = self.upcoming(state)
            if choice is not None:
                self.passed.append((state.t, choice.line.situation))
        elif c.action == "trigger":
            choice, _ = self.upcoming(state)
            if choice is not None:
                return choice.event(state.t, by="clinician").model_copy(
                    update={"why": f"the therapist asked for it ({choice.why})"}
                )
        elif c.action == "ask" and c.ask is not None:
            about = state.level + 1 if c.ask == "expectancy_before" else state.level
            return CoachLine(
                t=state.t,
                line=ASK_LINE,
                text=dict(self.script.asks)[c.ask],
                why=f"the therapist asked ({c.ask.replace('_', ' ')})",
                by="clinician",
                ask=c.ask,
                level=min(about, state.ladder.top) if c.ask.startswith("expectancy") else None,
            )
        elif c.action == "say" and c.text:
            return CoachLine(
                t=state.t,
                line=TYPED_LINE,
                text=c.text.strip(),
                why="typed by the therapist",
                by="clinician",
            )
        return None


def replay_lines(events: Iterable[Event], script: Script) -> list[CoachLine]:
    """The lines a coach would say over a record of events without its coach lines.

    Each recorded event is stepped through the core and answered by a fresh `Coach`, whose
    lines are stepped in turn at the same time, as `LiveSession` does live.
    """
    coach = Coach(script)
    state: SessionState | None = None
    out: list[CoachLine] = []
    for event in events:
        if isinstance(event, CoachLine):
            continue
        state, effects = step(state, event)
        line = coach.respond(event, state, effects)
        if line is not None:
            state, effects = step(state, line)
            coach.respond(line, state, effects)
            out.append(line)
    return out
