"""The procedural spider: anatomy, the tetrapod gait, its behaviour, the drop, and levels that
show from the client's seat."""

from __future__ import annotations

import math

import pytest
from panda3d.core import NodePath

from scenes.checks import diff_fraction, load_rgb, render_in_subprocess
from scenes.creatures.spider import (
    GAIT_POSES,
    SPECIES,
    STANDING,
    TETRAPOD_A,
    Walker,
    body_mesh,
    build_species,
    instance,
    leg_mesh,
    pose_legs,
    rig,
)
from scenes.registry import LIBRARY, get

BOUNDS = (-0.5, 0.5, 0.4, 2.8)
CLIENT = (0.0, -0.2)


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize("sp", SPECIES, ids=[s.name for s in SPECIES])
def test_a_spider_has_a_body_and_eight_jointed_legs_each_on_its_own_hip(sp):
    spider = rig(sp)
    assert len(spider.legs) == 8
    assert len({hip.getName() for hip, *_ in spider.legs}) == 8
    assert sum(1 for *_, side, _a in spider.legs if side < 0) == 4
    # each leg is seven segments with a knob at each joint: far more than a stick
    assert leg_mesh(sp, 1, 1).triangle_count > 7 * 12
    assert body_mesh(sp).triangle_count > 600  # abdomen, carapace, eyes, palps, hairs
    # the far version keeps the outline with far fewer vertices
    assert len(body_mesh(sp, detail=False).verts) < 0.6 * len(body_mesh(sp).verts)


def test_species_differ_in_build_and_hair():
    house, wolf, tarantula = SPECIES
    assert house.leg_radius < wolf.leg_radius < tarantula.leg_radius
    assert house.hairs < wolf.hairs < tarantula.hairs
    assert body_mesh(tarantula).triangle_count > body_mesh(house).triangle_count


def test_the_gait_swings_legs_l1_r2_l3_r4_against_the_other_four():
    spider = rig(SPECIES[0])
    names = [hip.getName()[-2:] for hip, *_ in spider.legs]
    group_a = {f"{side}{pair}" for side, pair in TETRAPOD_A}
    pose_legs(spider, 0.0, 1.0)
    lifted = {n for n, (hip, *_) in zip(names, spider.legs, strict=True) if abs(hip.getR()) > 1}
    assert lifted == group_a == {"L1", "R2", "L3", "R4"}
    pose_legs(spider, 0.5, 1.0)
    lifted = {n for n, (hip, *_) in zip(names, spider.legs, strict=True) if abs(hip.getR()) > 1}
    assert lifted == set(names) - group_a
    pose_legs(spider, 0.3, 0.0)  # no stride: every foot on the ground at its resting heading
    for hip, rest, _side, _a in spider.legs:
        assert abs(hip.getR()) < 1e-6 and abs(hip.getH() - rest) < 1e-6


def test_the_walk_cycle_is_baked_into_poses_one_shown_at_a_time():
    model = instance(build_species(SPECIES[1]), NodePath("table"))
    switch = model.poses.node()
    assert switch.getNumChildren() == GAIT_POSES + 1
    assert model.pose(0.0, 0.0) == STANDING and switch.getVisibleChild() == STANDING
    shown = [model.pose(k / GAIT_POSES + 0.01, 1.0) for k in range(GAIT_POSES)]
    assert shown == list(range(GAIT_POSES))
    assert model.pose(1.26, 0.7) == 2  # the cycle repeats
    # each pose is one near and one far geom, and walking poses differ from standing
    near = [model.poses.getChild(k).getChild(0) for k in (0, 4, STANDING)]
    assert all(n.findAllMatches("**/+GeomNode").getNumPaths() == 1 for n in near)
    bounds = [n.getTightBounds() for n in near]
    assert bounds[0] != bounds[2] and bounds[1] != bounds[2]


def run(walker: Walker, seconds: float, movement: float, face: float, dt: float = 1 / 30):
    home = (0.0, 1.2)
    walker.reset(*home, 0.0)
    trace = []
    for _ in range(int(seconds / dt)):
        walker.step(dt, movement, face, home, BOUNDS, CLIENT, 0.12)
        trace.append((walker.mode, walker.x, walker.y, walker.heading))
    return trace


def test_a_still_spider_never_moves():
    trace = run(Walker(seed=1), 30.0, 0.0, 0.0)
    assert {m for m, *_ in trace} == {"pause"}
    assert {(x, y) for _, x, y, _h in trace} == {(0.0, 1.2)}


def test_a_restless_spider_walks_pauses_and_runs_inside_the_table():
    trace = run(Walker(seed=2), 60.0, 1.0, 0.0)
    assert {m for m, *_ in trace} == {"walk", "pause", "run"}
    for _, x, y, _h in trace:
        assert BOUNDS[0] <= x <= BOUNDS[1] and BOUNDS[2] <= y <= BOUNDS[3]
    # a run is several times faster than a walk
    speeds = {"walk": [], "run": []}
    for (m0, x0, y0, _), (m1, x1, y1, _) in zip(trace, trace[1:], strict=False):
        if m0 == m1 and m0 in speeds:
            speeds[m0].append(math.hypot(x1 - x0, y1 - y0) * 30)
    assert max(speeds["run"]) > 2 * max(speeds["walk"])


def test_the_same_seed_gives_the_same_spider():
    assert run(Walker(seed=3), 10.0, 0.7, 0.5) == run(Walker(seed=3), 10.0, 0.7, 0.5)
    assert run(Walker(seed=3), 10.0, 0.7, 0.5) != run(Walker(seed=4), 10.0, 0.7, 0.5)


def test_at_the_top_of_the_ladder_a_pausing_spider_turns_to_the_client():
    def facing_error(face: float) -> list[float]:
        errors = []
        trace = run(Walker(seed=5), 40.0, 0.6, face)
        for mode, x, y, h in trace[-200:]:
            if mode == "pause":
                to_client = math.degrees(math.atan2(-(CLIENT[0] - x), CLIENT[1] - y))
                errors.append(abs((h - to_client + 180) % 360 - 180))
        return errors

    facing = facing_error(1.0)
    assert facing and sorted(facing)[len(facing) // 2] < 20.0
    ignoring = facing_error(0.0)
    assert sorted(ignoring)[len(ignoring) // 2] > 20.0


def test_the_drop_event_lowers_a_spider_on_a_thread_and_takes_it_back_up():
    info = get("spiders")
    scene = info.scene_class("spiders", NodePath("root"), info.folder)
    scene.build()
    scene.advance(5.0, 0.0)
    assert scene.stimulus() is scene.spiders[0][int(round(scene.params(5.0)["species"]))].root
    assert scene.thread.isHidden()
    scene.on_event("spider_drop")
    for _ in range(90):  # three seconds
        scene.advance(5.0, 1 / 30)
    dropper = scene.stimulus()
    assert dropper is not None and not dropper.isHidden() and not scene.thread.isHidden()
    assert abs(dropper.getZ() - 1.2) < 0.1  # hanging at the client's chest, over the table
    assert scene.thread.getSz() == pytest.approx(2.6 - dropper.getZ(), abs=0.01)
    for _ in range(330):  # eleven seconds more: it has climbed back up and gone
        scene.advance(5.0, 1 / 30)
    assert scene.thread.isHidden()
    assert scene.stimulus() is scene.spiders[0][scene._shown[0]].root


@pytest.mark.render
def test_levels_3_and_4_differ_clearly_from_the_clients_seat(tmp_path):
    """The issue's measure: 46 pixels of a 320x240 preview before the new spider."""
    seat = render_in_subprocess(["spiders"], (320, 240), tmp_path / "seat", dirs=[LIBRARY])
    inset = render_in_subprocess(
        ["spiders"], (320, 240), tmp_path / "inset", dirs=[LIBRARY], inset=True
    )
    for result, least in ((seat, 80), (inset, 2000)):
        paths = result["spiders"]
        assert not isinstance(paths, str), paths
        a, b = load_rgb(paths[2]), load_rgb(paths[3])
        changed = diff_fraction(a, b) * a.shape[0] * a.shape[1]
        assert changed >= least, f"levels 3 and 4 differ in {changed:.0f} pixels"
