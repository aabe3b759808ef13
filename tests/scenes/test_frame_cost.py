"""What keeps a frame cheap in software rendering: counts of what is drawn and changed, never times.

The figures (milliseconds a frame) are in `make bench` and docs/render-process.md; these tests
hold the structure that gives them: the heights city in tiles that culling can drop, an audience
lit once at build time and looking as it did lit every frame, seated people that keep their
transform, idle listeners posed every other frame at the headset's rate.
"""

from __future__ import annotations

import math
import multiprocessing
import random

import numpy as np
import pytest
from panda3d.core import (
    BoundingBox,
    Camera,
    CullBinAttrib,
    CullBinManager,
    GeomVertexReader,
    LightAttrib,
    NodePath,
    PerspectiveLens,
    SceneGraphAnalyzer,
)

from scenes.api import EYE_HEIGHT_M
from scenes.creatures.people import NEAR_M, Person, RoomLight
from scenes.registry import get
from scenes.stage import PREVIEW_FOV

FRAME_S = 1.0 / 90.0


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def built(name: str):
    info = get(name)
    scene = info.scene_class(name, NodePath(f"scene-{name}"), info.folder)
    scene.build()
    return scene


def vertices(node: NodePath) -> int:
    analyzer = SceneGraphAnalyzer()
    analyzer.addNode(node.node())
    return analyzer.getNumVertices()


def in_view(scene, nodes: list[NodePath]) -> list[NodePath]:
    """The nodes whose bounds the client's camera (640x360, the preview lens) can see."""
    lens = PerspectiveLens()
    lens.setFov(PREVIEW_FOV)
    lens.setAspectRatio(640 / 360)
    lens.setNearFar(0.05, 900.0)
    cam = scene.viewpoint.attachNewNode(Camera("client", lens))
    cam.setPos(0.0, 0.0, EYE_HEIGHT_M)
    cam.setP(scene.gaze_pitch)
    frustum = lens.makeBounds()
    seen = []
    for node in nodes:
        low, high = node.getTightBounds(cam)
        if frustum.contains(BoundingBox(low, high)):
            seen.append(node)
    cam.removeNode()
    return seen


def test_the_heights_city_is_in_tiles_and_looking_down_most_are_out_of_view() -> None:
    scene = built("heights")
    scene.advance(10.0, 0.0)  # the top level: the roof edge, looking straight down
    tiles = list(scene.root.find("city").getChildren())
    assert len(tiles) >= 20
    total = sum(vertices(tile) for tile in tiles)
    assert max(vertices(tile) for tile in tiles) < 0.15 * total  # no tile is most of the city
    seen = in_view(scene, tiles)
    assert seen and sum(vertices(tile) for tile in seen) < 0.5 * total


def test_every_scene_stays_within_its_vertex_budget_at_the_top_level() -> None:
    # all levels of detail counted: what a frame can draw at most (before culling)
    budgets = {
        "heights": 50_000,
        "public_speaking": 75_000,
        "spiders": 95_000,
        "enclosed_space": 2_000,
        "safe_place": 10_000,
    }
    for name, budget in budgets.items():
        scene = built(name)
        scene.advance(float(scene.ladder(name).top), 0.0)
        assert vertices(scene.root) <= budget, name


def test_the_audience_is_lit_once_in_software_and_dimmed_by_a_colour_scale() -> None:
    hall = built("public_speaking")  # no renderer here: software rendering's tier
    assert hall.baked and all(person.baked for person, *_ in hall.people)
    lights = hall.seats.getAttrib(LightAttrib)
    assert lights is not None and lights.hasAllOff()
    hall.advance(10.0, 0.0)  # house lights down
    dim = hall.params(10.0)["lights"]
    assert hall.seats.getColorScale()[0] == pytest.approx(dim, abs=0.005)
    hall.advance(1.0, 0.0)
    assert hall.seats.getColorScale()[0] == pytest.approx(1.0, abs=0.005)


def test_seated_people_keep_their_transform_from_frame_to_frame() -> None:
    hall = built("public_speaking")
    hall.advance(10.0, 0.0)
    before = [person.root.getTransform() for person, *_ in hall.people]
    hall.advance(10.0, FRAME_S)
    assert [person.root.getTransform() for person, *_ in hall.people] == before


def test_idle_listeners_are_posed_every_other_frame_at_headset_rate() -> None:
    hall = built("public_speaking")
    hall.advance(10.0, 0.0)
    posed_in = []
    for _ in range(2):
        before = [person.shift.getTransform() for person, *_ in hall.people]
        hall.advance(10.0, FRAME_S)
        after = [person.shift.getTransform() for person, *_ in hall.people]
        posed = {i for i, (b, a) in enumerate(zip(before, after, strict=True)) if a != b}
        idle = {i for i, (person, *_) in enumerate(hall.people) if not person.gesturing}
        assert len(idle) >= 24  # at the top level most listen; a few nod, yawn or whisper
        assert abs(len(posed & idle) - len(idle) / 2) <= 1.5  # half the idle ones each frame
        assert set(range(len(hall.people))) - idle <= posed  # gestures go on every frame
        posed_in.append(posed)
    assert posed_in[0] | posed_in[1] == set(range(len(hall.people)))  # everyone, in two frames
    # a still (or a jump in time, as a preview makes) poses everyone at once
    before = [person.shift.getTransform() for person, *_ in hall.people]
    hall.advance(10.0, 0.5)
    after = [person.shift.getTransform() for person, *_ in hall.people]
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_a_gesturing_listener_is_posed_every_frame() -> None:
    hall = built("public_speaking")
    hall.advance(10.0, 0.0)
    hall.on_event("nod")
    heads = []
    for _ in range(4):
        hall.advance(10.0, FRAME_S)
        heads.append(hall.people[0][0].head.getP())
    assert len(set(heads)) == 4


def drawn(node: NodePath) -> list[NodePath]:
    """`node` and every node under it that the cull visits: stashed ones are left out."""
    nodes = [node]
    for child in node.getChildren():  # the stashed children are not among them
        nodes += drawn(child)
    return nodes


def test_a_person_in_the_audience_is_five_nodes_and_two_geoms_to_the_cull() -> None:
    # the old person was ten nodes (a switch and three LOD nodes with both their versions):
    # per node and per draw, not per vertex, was most of what a listener cost in software
    hall = built("public_speaking")
    hall.advance(10.0, 0.0)
    for person, *_ in hall.people:
        nodes = drawn(person.root)
        geoms = [n for n in nodes if n.node().isGeomNode()]
        arm = not person.elbow.isStashed()  # the forearm (and phone) of a gesture
        lids = not person.lids.isStashed()  # a blink
        assert len(nodes) == 5 + 3 * arm + lids
        assert len(geoms) == 2 + 2 * arm + lids
        assert not any(n.node().isLodNode() for n in nodes)
    # the whole audience: 48 people, at most one in ten blinking or gesturing at once
    audience = drawn(hall.seats)
    assert len(audience) <= 2 + 48 * 5 + 3 * 10
    assert sum(n.node().isGeomNode() for n in audience) <= 48 * 2 + 2 * 10


def test_the_audience_draws_at_most_12_000_vertices_at_the_top_level() -> None:
    # in software an audience costs by the vertex transformed (about 0.1 us each), not by the
    # node: a person's repeated vertices are drawn once (16,600 vertices before, 11,300 after)
    hall = built("public_speaking")
    hall.advance(10.0, 0.0)
    geoms = [n.node() for n in drawn(hall.seats) if n.node().isGeomNode()]
    rows = sum(
        g.getGeom(i).getVertexData().getNumRows() for g in geoms for i in range(g.getNumGeoms())
    )
    assert rows <= 12_000


def test_the_chairs_have_no_faces_the_speaker_cannot_see_in_software() -> None:
    hall = built("public_speaking")  # no renderer here: software rendering's tier
    data = hall.chairs.node().getGeom(0).getVertexData()
    assert data.getNumRows() <= 3_200  # 4,700 with the backs and the undersides
    normals = GeomVertexReader(data, "normal")
    while not normals.isAtEnd():
        n = normals.getData3()
        assert n[1] < 0.99  # no face turned to the back wall


def test_the_lecture_room_is_drawn_after_the_audience_and_the_chairs() -> None:
    # the room covers every pixel: drawn last, its pixels behind people fail the depth test
    hall = built("public_speaking")
    bins = CullBinManager.getGlobalPtr()

    def sort(node: NodePath) -> int:
        attrib = node.getNetState().getAttrib(CullBinAttrib)
        name = attrib.getBinName() if attrib is not None and attrib.getBinName() else "opaque"
        return bins.getBinSort(bins.findBin(name))

    room = hall.root.find("room")
    assert all(sort(room) > sort(n) for n in drawn(hall.seats) + [hall.chairs])


def test_the_front_rows_show_full_faces_and_the_back_rows_the_coarse_people() -> None:
    hall = built("public_speaking")
    for level in (4.0, 10.0):  # the rows move to the speaker: the choice follows them
        hall.advance(level, 0.0)
        front = hall.params(level)["front"]
        shown = [(person, y) for person, _x, y, *_ in hall.people if not person.root.isHidden()]
        assert len(shown) == hall.params(level)["audience"]
        for person, y in shown:
            head = person.head.getPos(hall.root)
            eye = hall.viewpoint.getPos(hall.root) + (0, 0, EYE_HEIGHT_M)
            # the nearest person (the preview's close-up) shows the full face wherever they sit
            near = (head - eye).length() < NEAR_M or person.head == hall.stimulus()
            assert (person.heads[True].isStashed(), person.heads[False].isStashed()) == (
                not near,
                near,
            ), (level, y + front)
    # at the top level the front row is near, the back row far
    assert not any(person.heads[True].isStashed() for person, _x, y, *_ in hall.people if y == 0)
    assert all(person.heads[True].isStashed() for person, _x, y, *_ in hall.people if y > 5)


def person_child(conn) -> None:
    """In a fresh process, p3tinydisplay offscreen: one person lit by the hall's lights every
    frame, and the same person with that light baked in."""
    from panda3d.core import AmbientLight, DirectionalLight

    from scenes.preview import screenshot_rgb
    from scenes.stage import configure, make_base

    configure("offscreen", (96, 96))
    base = make_base()
    base.cam.setPos(0.0, -2.2, 1.0)
    base.cam.lookAt(0.0, 0.0, 0.9)
    ambient, sun, sun_hpr = (0.62, 0.62, 0.6), (0.6, 0.58, 0.55), (20.0, -70.0, 0.0)
    pictures = []
    for bake in (False, True):
        row = base.render.attachNewNode("row")
        light = RoomLight(ambient, sun, (sun_hpr[0] - 180.0, *sun_hpr[1:])) if bake else None
        person = Person(row, random.Random(4), light=light)
        person.root.setH(180)  # facing the camera, as the audience faces the speaker
        person.pose(0.0, 0.0, 0.0)
        if not person.baked:
            a = row.attachNewNode(AmbientLight("house"))
            a.node().setColor((*ambient, 1))
            d = row.attachNewNode(DirectionalLight("ceiling"))
            d.node().setColor((*sun, 1))
            d.setHpr(*sun_hpr)
            row.setLight(a)
            row.setLight(d)
        base.graphicsEngine.renderFrame()
        base.graphicsEngine.renderFrame()
        pictures.append((person.baked, screenshot_rgb(base)))
        row.removeNode()
    conn.send(pictures)
    conn.close()


@pytest.mark.render
def test_a_person_lit_once_looks_as_when_lit_every_frame() -> None:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=person_child, args=(theirs,))
    proc.start()
    theirs.close()
    assert ours.poll(120), "the render process sent nothing"
    (lit_baked, (w, h, lit)), (baked, (_, _, once)) = ours.recv()
    proc.join(10)
    assert not lit_baked and baked
    lit_img = np.frombuffer(lit, np.uint8).reshape(h, w, 3).astype(float)
    once_img = np.frombuffer(once, np.uint8).reshape(h, w, 3).astype(float)
    person = (lit_img != lit_img[0, 0]).any(axis=2) | (once_img != once_img[0, 0]).any(axis=2)
    assert person.mean() > 0.1  # the person fills a good part of the picture
    # the same person, the same shading: within a couple of levels on average
    assert np.abs(lit_img - once_img)[person].mean() < 2.0
    assert math.isclose(lit_img[person].mean(), once_img[person].mean(), rel_tol=0.03)
