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


def _send_result(target: Callable[..., dict[str, Any]], args: tuple[Any, ...], conn: Any) -> None:
    """In the child: send what `target(*args)` returns, or its exception as one line."""
    try:
        out = target(*args)
    except Exception as err:  # the parent fails the test with this
        out = {"error": f"{type(err).__name__}: {err}"}
    conn.send(out)
    conn.close()


def from_fresh_process(
    target: Callable[..., dict[str, Any]],
    *args: Any,
    timeout: float = 120.0,
    what: str = "render process",
) -> dict[str, Any]:
    """Run `target(*args)` in a fresh spawned process (one ShowBase each) and return the dict it
    returns; fails the test if it raised, or sent nothing within `timeout`."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_send_result, args=(target, args, theirs))
    proc.start()
    theirs.close()
    assert ours.poll(timeout), f"the {what} sent nothing"
    out: dict[str, Any] = ours.recv()
    proc.join(10)
    assert "error" not in out, f"the {what} failed: {out['error']}"
    return out
