"""The audience: people in variety, idle motion, heads that turn to the speaker, gestures."""

from __future__ import annotations

import math
import random

import pytest
from panda3d.core import NodePath, Vec3

from scenes.creatures.people import (
    GESTURE_S,
    GESTURE_WINDOW_S,
    GESTURES,
    Person,
    body_mesh,
    head_mesh,
    seen_from,
    welded,
)
from scenes.geometry import Mesh
from scenes.registry import get


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def hall():
    info = get("public_speaking")
    scene = info.scene_class("public_speaking", NodePath("root"), info.folder)
    scene.build()
    return scene


def test_a_full_room_is_people_in_variety(hall):
    looks = [person.look for person, *_ in hall.people]
    assert len(looks) == 48
    assert len({lk.skin for lk in looks}) >= 5
    assert len({lk.hair_style for lk in looks}) >= 5
    assert len({lk.top for lk in looks}) >= 7
    assert any(lk.jacket for lk in looks) and any(lk.glasses for lk in looks)


def test_a_face_has_more_than_a_block_and_far_faces_cost_less():
    rng = random.Random(3)
    person = Person(NodePath("row"), rng, material=False)
    near, far = head_mesh(person.look), head_mesh(person.look, detail=False)
    assert len(far.verts) < 0.6 * len(near.verts)
    assert near.triangle_count > 200  # skull, jaw, nose, mouth, ears, eyes, brows, hair
    assert len(body_mesh(person.look, detail=False).verts) < len(body_mesh(person.look).verts)
    # the body without its right forearm (while it gestures) is smaller
    assert (
        body_mesh(person.look, right_forearm=False).triangle_count
        < body_mesh(person.look).triangle_count
    )


def corners(mesh) -> list[tuple]:
    """Each triangle's corners (position, normal, colour), to 1e-5 (welding joins rounding)."""

    def r(v):
        return tuple(round(x, 5) + 0.0 for x in v)  # + 0.0: -0.0 and 0.0 are one

    return sorted(
        tuple((r(p), r(n), r(c)) for p, n, c in (mesh.verts[i] for i in tri)) for tri in mesh.tris
    )


@pytest.mark.parametrize("detail", [True, False])
def test_a_welded_person_is_the_same_triangles_from_fewer_vertices(detail):
    look = Person(NodePath("row"), random.Random(6), material=False).look
    for mesh in (head_mesh(look, detail), body_mesh(look, detail)):
        before = corners(mesh)
        count = len(mesh.verts)
        welded(mesh)
        assert corners(mesh) == before  # each triangle: the same corners, normals, colours
        assert len(mesh.verts) < 0.8 * count
        assert len(set(mesh.verts)) == len(mesh.verts)  # no vertex is there twice


def test_faces_turned_from_every_eye_are_left_out_and_the_rest_kept():
    box = Mesh().box((0, 0, 0), (1, 1, 1), (0.5, 0.5, 0.5))
    assert (len(box.verts), box.triangle_count) == (24, 12)
    # eyes in front (-y) and above, a step either way: the back, bottom and far sides go
    eyes = [(x, -5.0, z) for x in (-0.1, 0.1) for z in (1.0, 2.0)]
    front = seen_from(Mesh().box((0, 0, 0), (1, 1, 1), (0.5, 0.5, 0.5)), eyes)
    assert (len(front.verts), front.triangle_count) == (8, 4)  # the front and the top
    assert {n for _p, n, _c in front.verts} == {(0.0, -1.0, 0.0), (0.0, 0.0, 1.0)}
    # eyes all round: nothing goes
    around = [(x, y, z) for x in (-5.0, 5.0) for y in (-5.0, 5.0) for z in (-5.0, 5.0)]
    assert seen_from(Mesh().box((0, 0, 0), (1, 1, 1), (0.5, 0.5, 0.5)), around).tris == box.tris


def test_people_breathe_blink_and_shift():
    person = Person(NodePath("row"), random.Random(5), material=False)
    heights, sways, closed = set(), set(), 0
    frames = 600
    for k in range(frames):  # ten seconds at 60 Hz
        person.pose(k / 60, 0.0, 0.0)
        heights.add(round(person.shift.getSz(), 4))
        sways.add(round(person.shift.getR(), 2))
        closed += not person.lids.isStashed()
    assert max(heights) - min(heights) > 0.01
    assert max(sways) - min(sways) > 1.0
    # a blink of 0.15 s every 2 to 6 s: the eyes are shut for a few percent of the time
    assert 0.01 * frames < closed < 0.1 * frames


def test_listening_heads_turn_to_the_speaker(hall):
    hall.advance(10.0, 0.0)  # everyone staring
    odds = hall.params(10.0)["gestures"]
    lectern = hall.root.getRelativePoint(hall.viewpoint, Vec3(0, 0.6, 1.6))
    listening = [p for p, *_ in hall.people if p.gesture_at(hall.time, odds)[0] in (None, "nod")]
    assert len(listening) > 24
    for person in listening:
        head = person.head
        forward = hall.root.getRelativeVector(head, Vec3(0, 1, 0))
        to_speaker = lectern - head.getPos(hall.root)
        forward.normalize()
        to_speaker.normalize()
        angle = math.degrees(math.acos(max(-1.0, min(1.0, forward.dot(to_speaker)))))
        assert angle < 20.0, f"a head looks {angle:.0f} degrees away from the speaker"


def test_people_not_listening_look_at_their_phones(hall):
    hall.advance(3.0, 0.0)  # "three listeners, mostly looking at their phones"
    attention = hall.params(3.0)["attention"]
    for person, _x, _y, _z, threshold in hall.people[:3]:
        assert person.phone.isHidden() == (threshold < attention - 0.01)
    assert sum(not person.phone.isHidden() for person, *_ in hall.people[:3]) >= 1


def test_gestures_come_from_the_level_odds_and_the_seed():
    person = Person(NodePath("row"), random.Random(9), material=False)
    times = [k * 0.25 for k in range(int(20 * GESTURE_WINDOW_S / 0.25))]
    assert all(person.gesture_at(t, 0.0) == (None, 0.0) for t in times)
    seen = [person.gesture_at(t, 1.0) for t in times]
    kinds = {kind for kind, _ in seen if kind}
    assert kinds <= set(GESTURES) and len(kinds) >= 3
    busy = sum(1 for kind, _ in seen if kind) * 0.25
    assert busy == pytest.approx(20 * GESTURE_S, rel=0.1)  # one gesture in every window
    again = Person(NodePath("row"), random.Random(9), material=False)
    assert [again.gesture_at(t, 1.0) for t in times] == seen


@pytest.mark.parametrize("event", ["yawn", "phone", "whisper", "nod"])
def test_a_gesture_event_makes_the_nearest_person_do_it_now(hall, event):
    hall.advance(10.0, 0.0)
    person = hall.people[0][0]
    assert person.elbow.isStashed()
    head_p = person.head.getP()
    hall.on_event(event)
    hall.advance(10.0, GESTURE_S * 0.4)  # well into the gesture
    if event == "nod":
        assert abs(person.head.getP() - head_p) > 3.0
    else:
        assert not person.elbow.isStashed() and person.elbow.getP() > 30
        assert person.body.getName().startswith("body-gesturing")  # the resting forearm gives way
    assert (not person.phone.isHidden()) == (event == "phone")
    hall.advance(10.0, GESTURE_S)  # over: back to what the person does by themself
    assert hall._event is None
    if person.gesture_at(hall.time, hall.params(10.0)["gestures"])[0] is None:
        assert person.elbow.isStashed() and person.body.getName() in ("body", "body-far")
