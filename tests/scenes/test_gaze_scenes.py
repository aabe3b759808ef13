"""Every built-in scene's anchors sit where its own resting view looks, at its mildest and its
hardest level: a head that faces the scene's view is on the stimulus, one turned round is not.

One render process shows each scene in turn with the demo's kind of script (relative to the
scene's resting view), turning between the two every half second.
"""

from __future__ import annotations

import time

import pytest

from scenes.pose import PoseScript, from_hpr, pose_line
from scenes.registry import get
from scenes.render import start_render
from scenes.render.messages import Frames, GazeSummary
from tests.scenes.conftest import EXPOSURE_SCENES

pytestmark = pytest.mark.render

EYE = (0.0, 0.0, 1.6)
AT, AWAY = from_hpr(0.0, 0.0), from_hpr(-120.0, 25.0)


def test_the_resting_view_of_every_scene_looks_at_its_stimulus():
    lines = [
        pose_line(0.0, EYE, AT),
        pose_line(0.45, EYE, AT),
        pose_line(0.5, EYE, AWAY),
        pose_line(0.95, EYE, AWAY),
        pose_line(1.0, EYE, AT),
    ]
    script = PoseScript.parse("\n".join(lines), relative=True)
    handle = start_render(
        size=(48, 36),
        frame_rate=30.0,
        thumbnail_hz=0,
        transition_s=0.2,
        scenes=list(EXPOSURE_SCENES),
        pose_script=script,
    )
    try:
        handle.wait_ready(60)
        seen: dict[tuple[str, int], set[float]] = {}
        for scene in EXPOSURE_SCENES:
            for level in (1, get(scene).ladder.top):
                values: set[float] = set()
                settled = False
                start = time.monotonic()
                # from the first frame report of this scene at this level, faded in, until the
                # head has been both at the stimulus and turned away (a second), or 6 s
                while time.monotonic() - start < 6.0 and not {0.0, 1.0} <= values:
                    handle.send_target(scene, float(level))
                    time.sleep(0.05)
                    for m in handle.poll():
                        if isinstance(m, Frames):
                            settled = (m.scene, m.intensity, m.fade) == (scene, level, 1.0)
                        elif isinstance(m, GazeSummary) and settled and m.distance_m:
                            values.add(m.on_stimulus)
                seen[(scene, level)] = values
        for case, values in seen.items():
            assert 1.0 in values, f"{case}: facing the scene's view is not on its stimulus"
            assert 0.0 in values, f"{case}: turned round is still on its stimulus"
    finally:
        handle.stop()
