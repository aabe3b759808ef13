"""The core stays pure: no I/O, clocks, threads, rendering, serial, web or database imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "exposure"
FORBIDDEN = {
    "panda3d",
    "direct",
    "serial",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "time",
    "datetime",
    "threading",
    "asyncio",
    "multiprocessing",
    "random",
    "os",
    "socket",
    "subprocess",
}


@pytest.mark.parametrize("name", ["core.py", "models.py"])
def test_the_core_imports_nothing_impure(name: str) -> None:
    tree = ast.parse((CORE / name).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{name} imports {sorted(imported & FORBIDDEN)}"
