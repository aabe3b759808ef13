"""The control process's render link without a render process: its choices, its restart policy."""

from __future__ import annotations

import io

from PIL import Image

from exposure.live import LiveSession
from exposure.models import SessionStart
from scenes.registry import default_ladder
from scenes.render.messages import Thumbnail
from vret.render_link import RenderLink, RestartPolicy, encode_jpeg


def live() -> LiveSession:
    return LiveSession(SessionStart(ladder=default_ladder("spiders")))


def test_client_view_pictures_only_where_reading_them_back_costs_no_frames() -> None:
    assert RenderLink(live(), "offscreen", (640, 360)).thumbnail_hz == 4.0
    # on a GPU each read-back stalls the pipeline for frames the client would feel
    assert RenderLink(live(), "offscreen", (640, 360), pipe="egl").thumbnail_hz == 0.0
    assert RenderLink(live(), "window", (640, 360)).thumbnail_hz == 0.0
    assert RenderLink(live(), "openvr", (640, 360)).thumbnail_hz == 0.0
    assert RenderLink(live(), "openvr", (640, 360), thumbnail_hz=1.0).thumbnail_hz == 1.0


def test_the_client_view_is_encoded_top_row_first() -> None:
    width, height = 32, 32
    rgb = bytes([255, 0, 0] * width * 16 + [0, 0, 255] * width * 16)  # red above blue
    image = Image.open(io.BytesIO(encode_jpeg(Thumbnail(width=width, height=height, rgb=rgb))))
    assert image.format == "JPEG" and image.size == (width, height)
    top, bottom = image.convert("RGB").getpixel((16, 4)), image.convert("RGB").getpixel((16, 28))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]


def test_restarts_back_off_doubling_from_the_first_delay_up_to_the_longest() -> None:
    policy = RestartPolicy(first_delay_s=1.0, max_delay_s=6.0, max_restarts=10, window_s=600.0)
    delays = [policy.next_delay(100.0 + 10 * n) for n in range(5)]
    assert delays == [1.0, 2.0, 4.0, 6.0, 6.0]


def test_restarts_stop_at_the_cap_within_the_window() -> None:
    policy = RestartPolicy(first_delay_s=0.5, max_restarts=5, window_s=600.0)
    assert [policy.next_delay(t) for t in (0.0, 60.0, 120.0, 180.0, 240.0)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
    ]
    assert policy.next_delay(599.0) is None  # a sixth failure inside ten minutes: give up
    assert policy.next_delay(599.9) is None


def test_restarts_older_than_the_window_no_longer_count() -> None:
    policy = RestartPolicy(first_delay_s=1.0, max_restarts=2, window_s=100.0)
    assert policy.next_delay(0.0) == 1.0
    assert policy.next_delay(50.0) == 2.0
    assert policy.next_delay(99.0) is None
    assert policy.next_delay(100.0) == 2.0  # the first has left the window: one recent restart
    assert policy.next_delay(151.0) == 2.0  # so has the second; the one at 100 s still counts
