"""Heights' wind: a flag over the drop, in the client's view, flapping harder the higher the
terrace, while nothing moves the client's own view."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scenes.registry import LIBRARY, discover
from tests.scenes.conftest import from_fresh_process

pytestmark = pytest.mark.render

SIZE = (160, 120)
TIMES = [k * 0.1 for k in range(30)]


def _child() -> dict[str, Any]:
    from scenes.preview import screenshot_rgb
    from scenes.stage import Stage, configure, make_base

    out: dict[str, Any] = {}
    configure("offscreen", SIZE)
    base = make_base()
    stage = Stage(base)
    stage.build(discover([LIBRARY])[0]["heights"])
    scene = stage.show("heights")
    for level in (1, 10):
        angles, views = [], []
        for t in TIMES:
            scene.time = t
            stage.frame(float(level), 0.0)
            angles.append([segment.getH() for segment in scene.flag])
            views.append(tuple(scene.viewpoint.getPos()) + tuple(scene.viewpoint.getHpr()))
        out[f"angles-{level}"] = angles
        out[f"views-{level}"] = views

    def shot() -> np.ndarray:
        scene.time = 1.0
        stage.frame(1.0, 0.0)
        base.graphicsEngine.renderFrame()
        w, h, rgb = screenshot_rgb(base)
        return np.frombuffer(rgb, np.uint8).reshape(h, w, 3).copy()

    out["with"] = shot()
    scene.root.find("**/flag").hide()
    out["without"] = shot()
    return out


@pytest.fixture(scope="module")
def wind() -> dict[str, Any]:
    return from_fresh_process(_child)


def test_the_flag_is_in_the_clients_view(wind):
    differ = np.any(wind["with"] != wind["without"], axis=2)
    assert differ.sum() >= 40, differ.sum()


def test_the_flag_flaps_and_flaps_harder_higher_up(wind):
    low = np.array(wind["angles-1"])
    high = np.array(wind["angles-10"])
    for angles in (low, high):
        assert np.ptp(angles[:, 1:], axis=0).min() > 5.0  # every strip moves in the wind
    assert np.ptp(high[:, 1:], axis=0).mean() > 1.5 * np.ptp(low[:, 1:], axis=0).mean()


def test_the_wind_never_moves_the_clients_own_view(wind):
    for level in (1, 10):
        assert len(set(wind[f"views-{level}"])) == 1
