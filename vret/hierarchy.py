"""A client's personal fear hierarchy: steps picked from a scene's levels, saved in versions.

The therapist and client pick situations from the scene's ladder, put them in the client's own
order, may change the scene's variables for a step (a smaller spider, a slower one: any of the
parameters the scene's levels set, within the range those levels span; an appearance setting
that grades nothing, such as the skin tone of the client's own hands, anywhere in the range the
scene declares for it), and rate how much
distress the client expects at each (anticipated SUDS, 0-100). Every save is a new version; old
versions stay, so a session's record says which hierarchy it ran (`sessions.hierarchy_version`)
and the session's ladder itself is in its `session_start` event, so replay needs nothing else.

A session for a client uses the latest version for its scene as its ladder, and starts at the
highest step the client reached in their last session on that scene, unless the therapist
gives a step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from exposure.core import replay_steps
from exposure.errors import UserError
from exposure.models import Event, Ladder, Level, SessionStart
from scenes.registry import default_ladder, get
from vret.clients import UnknownClient
from vret.records import Records, clients_table, hierarchies_table, sessions_table

MAX_STEPS = 30
"""As many steps as a ladder holds (10-15 is clinical practice)."""


class HierarchyError(UserError):
    """A hierarchy that cannot be saved or used; one sentence with the fix."""


class UnknownScene(HierarchyError):
    """There is no scene of that name."""


class Step(BaseModel):
    """One step of a client's hierarchy: a level of the scene, maybe varied, and its SUDS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: int = Field(ge=1, description="The scene's level this step is made from (1 = mildest).")
    name: str = Field(
        default="",
        max_length=80,
        description="The step in the client's words; empty: the scene level's name.",
    )
    params: dict[str, float] = Field(
        default_factory=dict,
        description="Scene variables changed for this step (the rest are the level's own).",
    )
    suds: int = Field(ge=0, le=100, description="Distress the client expects (anticipated SUDS).")

    @field_validator("name")
    @classmethod
    def _strip(cls, name: str) -> str:
        return name.strip()


class Hierarchy(BaseModel):
    """One saved version of a client's hierarchy for one scene."""

    model_config = ConfigDict(frozen=True)

    client: str
    scene: str
    version: int
    saved: str
    steps: list[Step]


def read_steps(path: Path) -> list[Step]:
    """Steps from a JSON file (a list of steps, or an object with "steps"); HierarchyError
    with the fix when the file cannot be read or a step is not valid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HierarchyError(f"No steps file {path}: give the path of a JSON file.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise HierarchyError(f"Cannot read {path} ({err}): give a readable JSON file.") from None
    except json.JSONDecodeError as err:
        raise HierarchyError(f"{path} is not JSON ({err.msg} at line {err.lineno}).") from None
    return parse_steps(data.get("steps") if isinstance(data, dict) else data, str(path))


def parse_steps(data: object, where: str = "the steps") -> list[Step]:
    """Steps from JSON data (a list of objects); HierarchyError naming the first bad one."""
    if not isinstance(data, list):
        raise HierarchyError(
            f'{where} must be a JSON list of steps such as [{{"level": 1, "suds": 20}}].'
        )
    steps: list[Step] = []
    for number, item in enumerate(data, start=1):
        try:
            steps.append(Step.model_validate(item))
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "the step"
            raise HierarchyError(f"Step {number} of {where}: {field}: {first['msg']}.") from None
    return steps


def scene_variables(scene_ladder: Ladder) -> dict[str, tuple[float, float]]:
    """The variables a scene exposes and the range a step may set: name -> (low, high).

    A graded variable keeps to the range the scene's own levels span (no step is harder than
    the scene's top); one the scene declares ungraded (`scenes.api.Param.graded`) has the whole
    range the scene declares for it.
    """
    ranges: dict[str, tuple[float, float]] = {}
    for level in scene_ladder.levels:
        for key, value in level.params.items():
            low, high = ranges.get(key, (value, value))
            ranges[key] = (min(low, value), max(high, value))
    try:
        declared = get(scene_ladder.scene).parameters
    except (KeyError, ValueError):
        declared = {}
    for key, spec in declared.items():
        if key in ranges and not spec.graded:
            ranges[key] = (float(spec.low), float(spec.high))
    return ranges


def scene_ladder(scene: str) -> Ladder:
    """The scene's own ladder; HierarchyError when there is no such scene."""
    try:
        return default_ladder(scene)
    except (KeyError, ValueError) as err:
        raise UnknownScene(f"No scene {scene!r}: see `vret scenes list` ({err}).") from None


def check_steps(scene: str, steps: Sequence[Step]) -> Ladder:
    """The ladder `steps` make on `scene`; HierarchyError (one sentence) if they cannot make one."""
    stock = scene_ladder(scene)
    if not steps:
        raise HierarchyError("A hierarchy needs at least one step: pick a level of the scene.")
    if len(steps) > MAX_STEPS:
        raise HierarchyError(f"A hierarchy holds at most {MAX_STEPS} steps, not {len(steps)}.")
    variables = scene_variables(stock)
    levels: list[Level] = []
    for number, step in enumerate(steps, start=1):
        if step.level > stock.top:
            raise HierarchyError(
                f"Step {number} uses level {step.level}, but {scene} has levels 1 to {stock.top}."
            )
        base = stock.levels[step.level - 1]
        for key, value in step.params.items():
            if key not in variables:
                known = ", ".join(sorted(variables)) or "none"
                raise HierarchyError(
                    f"Step {number} sets {key!r}, which {scene} does not have (its variables: {known})."
                )
            low, high = variables[key]
            if not low <= value <= high:
                raise HierarchyError(
                    f"Step {number} sets {key} to {value:g}, outside what {scene} shows "
                    f"({low:g} to {high:g})."
                )
        levels.append(
            Level(
                name=step.name or base.name,
                description=base.description,
                params={**base.params, **step.params},
                suds=step.suds,
            )
        )
    try:
        return Ladder(scene=scene, safe_scene=stock.safe_scene, levels=levels)
    except ValidationError as err:
        first = err.errors()[0]
        raise HierarchyError(
            f"These steps do not make a ladder: {first['msg']}; give repeated levels their own names."
        ) from None


def save(records: Records, client: str, scene: str, steps: Sequence[Step]) -> Hierarchy:
    """Save `steps` as the next version of `client`'s hierarchy for `scene` and return it.

    The client must exist (`vret.clients.add`); the steps must make a ladder on the scene.
    """
    check_steps(scene, steps)
    text = json.dumps([s.model_dump(mode="json") for s in steps], ensure_ascii=False)
    saved = records.now_text()
    with records.transaction("save the hierarchy") as conn:
        known = conn.execute(
            sa.select(clients_table.c.code).where(clients_table.c.code == client)
        ).first()
        if known is None:
            raise UnknownClient(
                f"No client {client!r}: add them first with `vret clients add {client} --phobia ...`."
            )
        top = conn.execute(
            sa.select(sa.func.max(hierarchies_table.c.version)).where(
                hierarchies_table.c.client == client, hierarchies_table.c.scene == scene
            )
        ).scalar()
        version = 1 if top is None else int(top) + 1
        try:
            conn.execute(
                hierarchies_table.insert().values(
                    client=client, scene=scene, version=version, saved=saved, steps=text
                )
            )
        except sa.exc.IntegrityError:
            raise HierarchyError(
                f"Another console saved {client}'s {scene} hierarchy at the same moment: "
                "reload it and save again."
            ) from None
    return Hierarchy(client=client, scene=scene, version=version, saved=saved, steps=list(steps))


def versions(records: Records, client: str, scene: str | None = None) -> list[Hierarchy]:
    """Every saved version of `client`'s hierarchies (for `scene`, or all), oldest first."""
    query = sa.select(hierarchies_table).where(hierarchies_table.c.client == client)
    if scene is not None:
        query = query.where(hierarchies_table.c.scene == scene)
    with records.transaction("read the hierarchies") as conn:
        rows = conn.execute(
            query.order_by(hierarchies_table.c.scene, hierarchies_table.c.version)
        ).mappings()
        return [
            Hierarchy(
                client=r["client"],
                scene=r["scene"],
                version=r["version"],
                saved=r["saved"],
                steps=[Step.model_validate(s) for s in json.loads(r["steps"])],
            )
            for r in rows
        ]


def latest(records: Records, client: str, scene: str) -> Hierarchy | None:
    """The newest version of `client`'s hierarchy for `scene`, or None when there is none."""
    found = versions(records, client, scene)
    return found[-1] if found else None


def highest_step(events: Sequence[Event]) -> int:
    """The highest ladder level a recorded session reached during exposure (0: none)."""
    top = 0
    for _event, state, _effects in replay_steps(events):
        if state.phase == "exposure":
            top = max(top, state.level)
    return top


def last_session_step(records: Records, client: str, scene: str) -> tuple[int, str] | None:
    """The highest step `client`'s latest recorded session on `scene` reached, with its name
    (0 and "" when it never left the baseline; None when there is no session)."""
    with records.transaction("read the sessions") as conn:
        last = conn.execute(
            sa.select(sa.func.max(sessions_table.c.id)).where(
                sessions_table.c.client == client, sessions_table.c.scene == scene
            )
        ).scalar()
    if last is None:
        return None
    events = records.events(int(last))
    step = highest_step(events)
    ladder = events[0].ladder if events and isinstance(events[0], SessionStart) else None
    return step, ladder.level_name(step) if ladder is not None and step else ""


def session_ladder(
    records: Records, client: str, scene: str, start_step: int | None = None
) -> tuple[Ladder, int | None]:
    """The ladder for `client`'s next session on `scene` and the hierarchy version it came from.

    The latest hierarchy's steps (the scene's own ladder when the client has none, version
    None); it starts at `start_step` when given, else where the client's last session on this
    scene reached (the first step for a first session): at the step of the same name when the
    hierarchy was changed since (steps moved), else at the same number, kept inside the ladder.
    """
    found = latest(records, client, scene)
    ladder = check_steps(scene, found.steps) if found is not None else scene_ladder(scene)
    if start_step is not None:
        if not 1 <= start_step <= ladder.top:
            raise HierarchyError(
                f"--start-step {start_step} is not a step of this ladder: give 1 to {ladder.top}."
            )
        start = start_step
    else:
        reached = last_session_step(records, client, scene)
        names = [level.name for level in ladder.levels]
        if reached is None or reached[0] == 0:
            start = 1
        elif reached[1] in names:
            start = names.index(reached[1]) + 1
        else:
            start = min(reached[0], ladder.top)
    return ladder.model_copy(update={"start_level": start}), (
        found.version if found is not None else None
    )
