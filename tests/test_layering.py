"""Imports point one way (docs/architecture.md): a walk over every module's syntax tree.

`exposure` is the therapy domain and imports none of the other packages; `sensors`, `scenes`
and `clinician_console` import `exposure` and themselves only; `vret`, the composition root,
may import them all; nothing imports `vret` but the benchmarks and the tests. Function-local
imports count as much as those at the top: a cycle hidden inside a function is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ALLOWED: dict[str, frozenset[str]] = {
    "exposure": frozenset({"exposure"}),
    "sensors": frozenset({"sensors", "exposure"}),
    "scenes": frozenset({"scenes", "exposure"}),
    "clinician_console": frozenset({"clinician_console", "exposure"}),
    "vret": frozenset({"vret", "exposure", "sensors", "scenes", "clinician_console"}),
    "benchmarks": frozenset(
        {"benchmarks", "vret", "exposure", "sensors", "scenes", "clinician_console"}
    ),
}
"""For each package, the project packages its modules may import."""

PROJECT = frozenset(ALLOWED) | {"tests"}


def imported_packages(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, top-level project package) for every import in the file, wherever it stands."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # a relative import stays inside its own package
            names = [package] if node.level else [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT:
                found.append((node.lineno, top))
    return found


def back_edges(root: Path) -> list[str]:
    """Every import under `root` that the layering does not allow, as `file:line: a -> b`."""
    problems: list[str] = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, target in imported_packages(path, package):
                if target not in allowed:
                    where = path.relative_to(root)
                    problems.append(f"{where}:{line}: {package} -> {target}")
    return problems


def test_imports_point_one_way() -> None:
    assert back_edges(ROOT) == []


def test_every_package_is_walked() -> None:
    for package in ALLOWED:
        assert any((ROOT / package).rglob("*.py")), f"no modules found in {package}/"


def test_a_back_edge_is_found_even_inside_a_function(tmp_path: Path) -> None:
    for package in ALLOWED:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "sensors" / "fine.py").write_text("from exposure.models import Reading\n")
    (tmp_path / "exposure" / "live.py").write_text(
        "def serve():\n    from clinician_console.server import create_app\n"
    )
    (tmp_path / "scenes" / "sneaky.py").write_text("import vret.station as station\n")
    assert back_edges(tmp_path) == [
        "exposure/live.py:2: exposure -> clinician_console",
        "scenes/sneaky.py:1: scenes -> vret",
    ]


@pytest.mark.parametrize("package", ["sensors", "scenes", "clinician_console"])
def test_a_middle_layer_may_not_import_a_sibling(tmp_path: Path, package: str) -> None:
    (tmp_path / package).mkdir(parents=True)
    sibling = "sensors" if package != "sensors" else "scenes"
    (tmp_path / package / "bad.py").write_text(f"from {sibling} import anything\n")
    assert back_edges(tmp_path) == [f"{package}/bad.py:1: {package} -> {sibling}"]
