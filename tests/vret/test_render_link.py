"""The control process's links, without starting their processes."""

from __future__ import annotations

import io

from PIL import Image

from exposure.live import LiveSession
from exposure.models import SessionStart
from scenes.registry import default_ladder
from scenes.render.messages import Thumbnail
from vret.render_link import RenderLink, encode_jpeg


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
