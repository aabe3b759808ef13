"""The render process: the Panda3D loop alone in its own process, fed through a pipe.

The control process calls `start_render(...)` and gets a `RenderHandle`. Each frame the render
process polls (never blocks on) the pipe for the latest scene target, eases the scene toward it
(`transitions`), and now and then sends back frame times, client input, a small image of the
client's view and the frame each target first showed in (`messages`). If nothing arrives for
more than `watchdog_s` seconds it fades to the safe scene by itself. It never decides exposure.

Importing this package does not load Panda3D; only the render process does (`loop`).
"""

from __future__ import annotations

from scenes.render import messages
from scenes.render.config import RenderConfig
from scenes.render.handle import RenderError, RenderHandle, start_render

__all__ = ["RenderConfig", "RenderError", "RenderHandle", "messages", "start_render"]
