"""Fixtures for the scene tests: one offscreen render of every built-in level, shared."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenes.checks import render_in_subprocess
from scenes.registry import LIBRARY, discover

RENDER_SIZE = (200, 150)
BUILT_IN = ("spiders", "heights", "public_speaking", "enclosed_space", "safe_place")
LIBRARY_SCENES = tuple(sorted(discover([LIBRARY])[0]))
"""Every scene in scenes/library (a new scene there is tested without touching this file)."""
EXPOSURE_SCENES = tuple(n for n in LIBRARY_SCENES if n != "safe_place")


@pytest.fixture(scope="session")
def built_in():
    found, problems = discover([LIBRARY])
    assert not problems, [str(p) for p in problems]
    return found


@pytest.fixture(scope="session")
def level_renders(tmp_path_factory, built_in) -> dict[str, list[Path]]:
    """Every level of every built-in scene, rendered offscreen in one fresh process."""
    out = tmp_path_factory.mktemp("levels")
    result = render_in_subprocess(list(LIBRARY_SCENES), RENDER_SIZE, out, dirs=[LIBRARY])
    for name, paths in result.items():
        assert not isinstance(paths, str), f"{name} failed to render: {paths}"
    return result  # type: ignore[return-value]


def write_scene(library: Path, name: str, text: str) -> Path:
    folder = library / name
    folder.mkdir(parents=True)
    (folder / "scene.py").write_text(text)
    return folder / "scene.py"


def from_fresh_process(
    target: Callable[..., None], *args: Any, timeout: float = 120.0, what: str = "render process"
) -> Any:
    """Run `target(*args, conn)` in a fresh spawned process (one ShowBase each) and return
    what it sends on `conn`; fails the test if it sends nothing within `timeout`."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, theirs))
    proc.start()
    theirs.close()
    assert ours.poll(timeout), f"the {what} sent nothing"
    out = ours.recv()
    proc.join(10)
    return out
