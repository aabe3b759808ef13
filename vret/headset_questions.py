"""Private self-report in the headset: the questions the panel asks, and the events its answers
make. The client answers by pointing (controller, gaze or keys), never aloud.

The coach (or the therapist, from the console's coach panel) asks; `questions_for` builds the
panel's run of questions, from the instruments' own data files where there is one (the SSQ's
sixteen items and their none-to-severe scale, the sickness rating's 0-10 scale); the answers
come back in one `ClientInput` and `answer_event` turns them into the session event of their
kind, scored as the console's measures panel scores them, so the console shows each as it
arrives and the record holds it like any other.
"""

from __future__ import annotations

from typing import Any

from exposure.measures import MeasureError, load_instrument, score
from exposure.models import SICKNESS_INSTRUMENT, Event, Expectancy, Measure, Phase
from scenes.render.messages import OpenQuestions, PanelItem

HEADSET_EXPECTATION = "the feared outcome of this step (rated privately in the headset)"
"""An expectancy before a step needs the expectation in words; the headset cannot take words,
so the record says it was rated there (the therapist's note can add the client's words)."""

ASKS = ("expectancy_before", "expectancy_after", "sickness", "ssq")
"""What the panel asks besides SUDS (which has its own message)."""


class AnswerError(ValueError):
    """Answers from the headset that do not fit their questions."""


def questions_for(ask: str, level: int) -> OpenQuestions:
    """The panel's run of questions for one ask (`ASKS`); `level` is the step it is about."""
    if ask == "expectancy_before":
        items: tuple[PanelItem, ...] = (
            PanelItem(
                "How likely is it that what you fear will happen at the next step? (0-100 %)",
                0,
                100,
                5,
            ),
        )
    elif ask == "expectancy_after":
        items = (
            PanelItem("Did what you feared happen at that step?", 0, 1, 1, ("no", "yes")),
            PanelItem("How surprised are you? (0-100)", 0, 100, 5),
        )
    elif ask in (SICKNESS_INSTRUMENT, "ssq"):
        instrument = load_instrument(ask)
        items = tuple(
            PanelItem(
                item.text if len(instrument.items) > 1 else instrument.question,
                int(instrument.item_range(item)[0]),
                int(instrument.item_range(item)[1]),
                1,
                tuple(instrument.scale.labels),
            )
            for item in instrument.items
        )
    else:
        raise ValueError(f"the headset panel does not ask {ask!r}")
    return OpenQuestions(kind=ask, items=items, level=level)


def answer_event(answer: dict[str, Any], phase: Phase) -> Event:
    """The session event for a panel's answers (stamped by the session); AnswerError if they
    do not fit. `phase` places an SSQ before (baseline), during or after (ended) the session."""
    kind, level, answers = answer.get("kind"), answer.get("level", 0), answer.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, int) for a in answers):
        raise AnswerError("answers must be a list of whole numbers")
    if not isinstance(level, int):
        raise AnswerError("level must be a whole number")
    try:
        if kind == "expectancy_before" and len(answers) == 1:
            return Expectancy(
                level=level, stage="before", expectation=HEADSET_EXPECTATION, likelihood=answers[0]
            )
        if kind == "expectancy_after" and len(answers) == 2:
            return Expectancy(
                level=level, stage="after", happened=bool(answers[0]), surprise=answers[1]
            )
        if kind in (SICKNESS_INSTRUMENT, "ssq"):
            when = "pre" if phase == "baseline" else "post" if phase == "ended" else "mid"
            if kind == SICKNESS_INSTRUMENT:
                when = "mid"
            scores = score(load_instrument(str(kind)), answers)
            return Measure(instrument=str(kind), phase=when, answers=list(answers), scores=scores)
    except (ValueError, MeasureError) as err:  # pydantic's ValidationError is a ValueError
        raise AnswerError(str(err).splitlines()[0]) from None
    raise AnswerError(f"no event for {len(answers)} answers of kind {kind!r}")
