"""A client's fear hierarchy: steps from the scene's levels, versions, and the ladder and start
step of the client's next session."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from exposure.errors import UserError
from scenes.registry import default_ladder
from tests.vret.test_progress import STEPS, course_session, start_course
from vret import clients, hierarchy
from vret.cli import main as cli_main
from vret.hierarchy import HierarchyError, Step
from vret.records import Records
from vret.session_cli import _client_ladder

SPIDERS = default_ladder("spiders")


def test_every_save_is_a_new_version_and_the_latest_makes_the_ladder(records: Records) -> None:
    clients.add(records, "C-0007", "spiders")
    first = hierarchy.save(records, "C-0007", "spiders", STEPS)
    second = hierarchy.save(records, "C-0007", "spiders", STEPS[:3])
    assert (first.version, second.version) == (1, 2)
    assert [h.version for h in hierarchy.versions(records, "C-0007", "spiders")] == [1, 2]
    assert hierarchy.versions(records, "C-0007", "spiders")[0].steps == STEPS  # kept whole
    ladder, version = hierarchy.session_ladder(records, "C-0007", "spiders")
    assert version == 2 and ladder.top == 3
    one, two, three = ladder.levels
    assert one == SPIDERS.levels[0].model_copy(update={"suds": 15})
    assert two.name == "Jar off, far end" and two.params == SPIDERS.levels[2].params
    assert three.params == {**SPIDERS.levels[3].params, "movement": 0.05}
    assert [lv.suds for lv in ladder.levels] == [15, 30, 45]
    assert hierarchy.latest(records, "C-0007", "heights") is None


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([], "at least one step"),
        ([Step(level=11, suds=10)], "levels 1 to 10"),
        ([Step(level=1, suds=10, params={"colour": 1.0})], "does not have"),
        ([Step(level=1, suds=10, params={"span": 5.0})], "outside what spiders shows"),
        ([Step(level=1, suds=10), Step(level=1, suds=20)], "their own names"),
        ([Step(level=1, suds=10)] * 31, "at most 30"),
    ],
)
def test_steps_that_cannot_make_a_ladder_are_refused_in_one_sentence(
    records: Records, steps: list[Step], words: str
) -> None:
    clients.add(records, "C-0007", "spiders")
    with pytest.raises(HierarchyError, match=words):
        hierarchy.save(records, "C-0007", "spiders", steps)
    assert hierarchy.versions(records, "C-0007") == []


def test_the_clients_own_skin_tone_may_be_any_the_scene_has_but_graded_variables_not(
    records: Records,
) -> None:
    clients.add(records, "C-0008", "heights")
    stock = default_ladder("heights")
    assert {lv.params["skin"] for lv in stock.levels} == {1.0}  # one tone on the stock ladder
    variables = hierarchy.scene_variables(stock)
    assert variables["skin"] == (0.0, 4.0) and variables["hands"] == (0.0, 1.0)
    top_height = max(lv.params["height"] for lv in stock.levels)
    assert variables["height"][1] == top_height  # graded: no higher than the scene's top
    saved = hierarchy.save(
        records, "C-0008", "heights", [Step(level=4, suds=30, params={"skin": 4.0})]
    )
    ladder, _ = hierarchy.session_ladder(records, "C-0008", "heights")
    assert saved.version == 1 and ladder.levels[0].params["skin"] == 4.0
    with pytest.raises(HierarchyError, match="outside what heights shows"):
        hierarchy.save(records, "C-0008", "heights", [Step(level=4, suds=30, params={"skin": 5.0})])
    with pytest.raises(HierarchyError, match="outside what heights shows"):
        hierarchy.save(
            records,
            "C-0008",
            "heights",
            [Step(level=4, suds=30, params={"height": top_height + 1})],
        )


def test_a_hierarchy_needs_a_client_and_a_scene(records: Records) -> None:
    with pytest.raises(clients.UnknownClient, match="No client .C-0007."):
        hierarchy.save(records, "C-0007", "spiders", STEPS)
    clients.add(records, "C-0007", "spiders")
    with pytest.raises(HierarchyError, match="No scene 'sharks'"):
        hierarchy.save(records, "C-0007", "sharks", STEPS)


def test_the_next_session_starts_where_the_last_reached_or_where_the_therapist_says(
    records: Records,
) -> None:
    start_course(records)
    ladder, _ = hierarchy.session_ladder(records, "C-0007", "spiders")
    assert ladder.start_level == 1  # a first session starts at the first step
    course_session(records, "C-0007", climb=2, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    assert hierarchy.session_ladder(records, "C-0007", "spiders")[0].start_level == 3
    assert hierarchy.session_ladder(records, "C-0007", "spiders", 2)[0].start_level == 2
    with pytest.raises(HierarchyError, match="give 1 to 5"):
        hierarchy.session_ladder(records, "C-0007", "spiders", 6)
    # a shorter new version: the start is kept inside it
    hierarchy.save(records, "C-0007", "spiders", STEPS[:2])
    assert hierarchy.session_ladder(records, "C-0007", "spiders")[0].start_level == 2


def test_a_session_command_uses_the_clients_hierarchy(
    records: Records, db_url: str, capsys: Any
) -> None:
    start_course(records)
    args = argparse.Namespace(
        client="C-0007", scene="spiders", ladder=None, start_step=None, db=db_url
    )
    ladder, version = _client_ladder(args)
    assert version == 1 and ladder.top == len(STEPS)
    assert "hierarchy v1, starting at step 1 of 5" in capsys.readouterr().out
    args.start_step = 4
    assert _client_ladder(args)[0].start_level == 4
    # not a registered client: the scene's ladder, as before clients existed
    args.client, args.start_step = "T-1", None
    ladder, version = _client_ladder(args)
    assert (ladder, version) == (SPIDERS, None)
    assert "not a registered client" in capsys.readouterr().out
    clients.archive(records, "C-0007")
    args.client = "C-0007"
    with pytest.raises(UserError, match="archived"):
        _client_ladder(args)


def test_hierarchies_from_the_command_line(
    records: Records, db_url: str, tmp_path: Path, capsys: Any
) -> None:
    clients.add(records, "C-0007", "spiders")
    steps = tmp_path / "steps.json"
    steps.write_text(
        json.dumps([{"level": 2, "suds": 20}, {"level": 6, "suds": 60, "name": "Big one"}])
    )
    db = ["--db", db_url]
    assert (
        cli_main(
            ["clients", "hierarchy", "C-0007", "--scene", "spiders", "--steps", str(steps), *db]
        )
        == 0
    )
    assert "Saved version 1" in capsys.readouterr().out
    assert cli_main(["clients", "hierarchy", "C-0007", "--scene", "spiders", *db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["version"], [s["level"] for s in shown["steps"]]) == (1, [2, 6])
    for content, words in [
        ("{not json", "is not JSON"),
        ('{"level": 1}', "must be a JSON list"),
        ('[{"level": 1, "suds": 101}]', "Step 1 of"),
        ('[{"level": 1, "suds": 10, "colour": "red"}]', "Step 1 of"),
    ]:
        steps.write_text(content)
        assert (
            cli_main(
                ["clients", "hierarchy", "C-0007", "--scene", "spiders", "--steps", str(steps), *db]
            )
            == 2
        )
        assert words in capsys.readouterr().err
    assert (
        cli_main(
            [
                "clients",
                "hierarchy",
                "C-0007",
                "--scene",
                "spiders",
                "--steps",
                str(tmp_path / "none.json"),
                *db,
            ]
        )
        == 2
    )
    assert "No steps file" in capsys.readouterr().err
    assert len(hierarchy.versions(records, "C-0007")) == 1
