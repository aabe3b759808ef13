"""Clinical measures as data: an instrument is a file of items, an answer scale and its scoring.

`exposure/instruments/` ships the Simulator Sickness Questionnaire (`ssq`), the mid-session
sickness rating (`sickness`, one 0-10 item), expectancy ratings around a step (`expectancy`),
a Behavioural Approach Test record (`bat`) and a template for the disorder questionnaires a
clinic holds the rights to (`questionnaire_template`). A clinic adds its own by writing a file
in the same format in a folder of its own and passing that folder (`folders=`).

Scoring is pure and the same for every instrument: each item's answer is checked against its
scale, reversed where the file says so, multiplied by the item's weight for each score it counts
in, and each score aggregates those values (sum, mean, max, min, count, last) and scales the
result (`raw x multiplier + offset`). A score with `of` adds up the raw values of earlier
scores instead (the SSQ's total is the three cluster sums times 3.74).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exposure.errors import UserError

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
"""An instrument's name: its file's name, lower case letters, digits, `_` and `-`."""

SUFFIXES = (".toml", ".json")

Aggregate = Literal["sum", "mean", "max", "min", "count", "last", "items"]


class MeasureError(UserError):
    """Answers or an instrument file that cannot be scored; the message says what to fix."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Scale(_Model):
    """The answers an item accepts: whole numbers from `min` to `max` (or any number if not `integer`)."""

    min: float = 0
    max: float = Field(description="Highest answer.")
    integer: bool = True
    labels: tuple[str, ...] = Field(
        default=(), description="What each whole answer means, from `min` up (optional)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"the scale's max ({self.max:g}) must be above its min ({self.min:g})")
        return self


class Item(_Model):
    """One question, the scores it counts in (with its weight in each) and how it is keyed."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    text: str = Field(min_length=1, max_length=400)
    weights: dict[str, float] = Field(default_factory=dict)
    reverse: bool = Field(default=False, description="Score it backwards: min + max - answer.")
    min: float | None = Field(default=None, description="This item's own scale, if it differs.")
    max: float | None = None
    labels: tuple[str, ...] | None = None


class ScoreRule(_Model):
    """How one score is made: aggregate the weighted answers (or earlier raw scores), then scale."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    aggregate: Aggregate = "sum"
    of: tuple[str, ...] = Field(
        default=(), description="Earlier scores whose raw values this score adds up."
    )
    multiplier: float = 1.0
    offset: float = 0.0


class Instrument(_Model):
    """A questionnaire or rating: items, their scale, and the scores computed from the answers."""

    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    reference: str = ""
    question: str = ""
    placeholder: bool = Field(
        default=False, description="A template whose item texts must be replaced before use."
    )
    answers: Literal["all", "completed_steps"] = Field(
        default="all",
        description="`all`: one answer per item; `completed_steps`: answers for the first "
        "items only, in order (a Behavioural Approach Test: the steps completed).",
    )
    scale: Scale
    items: tuple[Item, ...] = Field(min_length=1, max_length=200)
    scores: tuple[ScoreRule, ...] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        known: set[str] = set()
        for rule in self.scores:
            if rule.id in known:
                raise ValueError(f"score {rule.id!r} is defined twice")
            unknown = [name for name in rule.of if name not in known]
            if unknown:
                raise ValueError(
                    f"score {rule.id!r} adds up {unknown[0]!r}, which is not a score defined above it"
                )
            known.add(rule.id)
        for item in self.items:
            stray = sorted(set(item.weights) - known)
            if stray:
                raise ValueError(f"item {item.id!r} counts in {stray[0]!r}, which is not a score")
            low, high = self.item_range(item)
            if high <= low:
                raise ValueError(f"item {item.id!r} has a max that is not above its min")
        return self

    def item_range(self, item: Item) -> tuple[float, float]:
        """The lowest and highest answer `item` accepts."""
        low = self.scale.min if item.min is None else item.min
        high = self.scale.max if item.max is None else item.max
        return low, high


# --------------------------------------------------------------------------- loading


def _package_folder() -> Path:
    return Path(str(resources.files("exposure") / "instruments"))


def list_instruments(folders: Sequence[Path] = ()) -> list[str]:
    """The names of the instruments in `folders` and the shipped ones, sorted."""
    names: set[str] = set()
    for folder in (*folders, _package_folder()):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.suffix in SUFFIXES and re.match(NAME_PATTERN, path.stem):
                names.add(path.stem)
    return sorted(names)


def load_instrument(name: str, folders: Sequence[Path] = ()) -> Instrument:
    """The instrument `name` from `folders` (first match wins) or the shipped ones.

    Reads `<folder>/<name>.toml` or `<name>.json`; raises MeasureError (one sentence) for an
    unknown name or a file that is not a valid instrument.
    """
    if not re.match(NAME_PATTERN, name):
        raise MeasureError(
            f"{name!r} is not an instrument name: use lower-case letters, digits, _ and -, "
            "as `vret measures list` shows them."
        )
    for folder in (*folders, _package_folder()):
        for suffix in SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.is_file():
                instrument = load_instrument_file(path)
                if instrument.name != name:
                    raise MeasureError(
                        f"{path} says its name is {instrument.name!r}: make the file's name "
                        f"and its `name` agree."
                    )
                return instrument
    known = ", ".join(list_instruments(folders))
    raise MeasureError(f"No instrument called {name!r}: the instruments are {known}.")


def load_instrument_file(path: Path) -> Instrument:
    """An instrument from one .toml or .json file; MeasureError names the file and the fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise MeasureError(f"Cannot read the instrument file {path}: {err}.") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise MeasureError(f"{path} is not valid {path.suffix[1:].upper()}: {err}.") from None
    try:
        return Instrument.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise MeasureError(f"{path} is not a valid instrument: {where}: {message}.") from None


# --------------------------------------------------------------------------- scoring


def _fmt(value: float) -> str:
    return f"{value:g}"


def _check_count(instrument: Instrument, answers: Sequence[int | float]) -> None:
    n = len(instrument.items)
    if instrument.answers == "completed_steps":
        if len(answers) > n:
            raise MeasureError(
                f"{instrument.name} has {n} steps and got {len(answers)} answers: give one "
                "SUDS per completed step, in order."
            )
    elif len(answers) != n:
        raise MeasureError(
            f"{instrument.name} needs {n} answers, one per item in order, and got {len(answers)}."
        )


def _checked(instrument: Instrument, item: Item, number: int, answer: int | float) -> float:
    low, high = instrument.item_range(item)
    if isinstance(answer, bool) or not isinstance(answer, int | float) or not math.isfinite(answer):
        raise MeasureError(f"Answer {number} ({item.id}) is not a number.")
    integer = instrument.scale.integer
    if not low <= answer <= high or (integer and answer != int(answer)):
        kind = "a whole number" if integer else "a number"
        raise MeasureError(
            f"Answer {number} ({item.id}) is {_fmt(answer)}: it must be {kind} from "
            f"{_fmt(low)} to {_fmt(high)}."
        )
    return float(low + high - answer) if item.reverse else float(answer)


def score(instrument: Instrument, answers: Sequence[int | float]) -> dict[str, float]:
    """The instrument's scores for `answers` (one per item, in the file's order).

    Raises MeasureError (one sentence) for a wrong number of answers or one off the scale. A
    score with nothing to aggregate (the SUDS peak of a BAT with no step completed) is left out.
    """
    _check_count(instrument, answers)
    values = [
        (item, _checked(instrument, item, number, answer))
        for number, (item, answer) in enumerate(zip(instrument.items, answers, strict=False), 1)
    ]
    raw: dict[str, float] = {}
    scores: dict[str, float] = {}
    for rule in instrument.scores:
        if rule.of:
            value: float | None = sum(raw[name] for name in rule.of)
        else:
            value = _aggregate(instrument, rule, values)
        if value is None:
            continue
        raw[rule.id] = value
        scores[rule.id] = round(value * rule.multiplier + rule.offset, 6)
    return scores


def _aggregate(
    instrument: Instrument, rule: ScoreRule, values: list[tuple[Item, float]]
) -> float | None:
    if rule.aggregate == "items":
        return float(len(instrument.items))
    weighted = [value * item.weights[rule.id] for item, value in values if rule.id in item.weights]
    if rule.aggregate == "count":
        return float(len(weighted))
    if rule.aggregate == "sum":
        return float(sum(weighted))
    if not weighted:
        return None
    if rule.aggregate == "mean":
        return sum(weighted) / len(weighted)
    if rule.aggregate == "max":
        return max(weighted)
    if rule.aggregate == "min":
        return min(weighted)
    return weighted[-1]  # "last"


def parse_answers(text: str) -> list[int | float]:
    """`"0,1,2"` as numbers (whole numbers stay ints); MeasureError names the one that is not."""
    if not text.strip():
        return []
    answers: list[int | float] = []
    for number, part in enumerate(text.split(","), start=1):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            raise MeasureError(
                f"Answer {number} is {part!r}, not a number: give the answers as numbers "
                "separated by commas, e.g. --answers 0,1,0,2."
            ) from None
        answers.append(int(value) if value.is_integer() else value)
    return answers
