"""`--display window` (and the OpenVR mirror window) on a virtual X server, where one exists.

Needs `xvfb-run` (Debian package xvfb); the machine's OpenGL is Mesa's software llvmpipe.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.render,
    pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed"),
]

SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    from scenes.render import start_render
    from scenes.render.messages import ClientInput, Frames, Thumbnail

    def run(**kw):
        h = start_render(size=(320, 240), thumbnail_hz=4, scenes=["spiders"], **kw)
        ready = h.wait_ready(60)
        out = {"ready": ready.display, "frames": [], "thumb_std": 0.0, "client": []}
        vr = kw.get("display") == "openvr"

        def spiders_shown():  # at full brightness: the fade in is over
            return bool(out["frames"]) and out["frames"][-1][0::2] == ["spiders", 1.0]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until what is checked has happened
            h.send_target("spiders", 6.0, False)  # the heartbeat
            time.sleep(0.05)
            for m in h.poll():
                if isinstance(m, Frames):
                    out["frames"].append([m.scene, m.budget_ms, m.fade])
                elif isinstance(m, Thumbnail) and spiders_shown():
                    img = np.frombuffer(m.rgb, np.uint8).reshape(m.height, m.width, 3)
                    out["thumb_std"] = float(img.reshape(-1, 3).std(axis=0).max())
                elif isinstance(m, ClientInput):
                    out["client"].append(m.event)
            if vr:  # the trigger (frame 20), and both eyes of 21 frames submitted
                done = out["client"] and out["frames"] and submitted_frames() > 21
            else:  # spiders on show, and a picture taken after it was
                done = spiders_shown() and out["thumb_std"]
            if done:
                break
        h.poll()
        out["exit"] = h.stop()
        return out

    def submitted_frames():
        with open(os.environ["VRET_STANDIN_LOG"]) as f:
            return len({r["frame"] for r in map(json.loads, f) if r["call"] == "submit"})

    if __name__ == "__main__":
        window = run(display="window", frame_rate=0)
        vr = run(display="openvr", openvr_module="tests.scenes.standin_openvr")
        print(json.dumps({"window": window, "openvr": vr}))
""")


def test_window_display_and_openvr_mirror_window_on_a_virtual_x_server(tmp_path):
    log = tmp_path / "openvr.jsonl"
    script = tmp_path / "run_window.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "VRET_STANDIN_LOG": str(log),
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
    }
    r = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    window = result["window"]
    assert window["ready"] == "window" and window["exit"] == 0
    assert window["frames"][-1][0] == "spiders"
    # frame_rate=0: paced at the X screen's reported refresh rate (Xvfb says 60 Hz)
    assert window["frames"][-1][1] == pytest.approx(1000 / 60, abs=0.5)
    assert window["thumb_std"] > 10
    vr = result["openvr"]
    assert vr["ready"] == "openvr" and vr["exit"] == 0
    assert vr["client"] == [{"type": "safe", "by": "client"}]
    submits = [json.loads(line) for line in log.read_text().splitlines()]
    eyes = {(s["frame"], s["eye"]) for s in submits if s["call"] == "submit"}
    assert len(eyes) > 40 and all(s.get("handle", 1) for s in submits)
