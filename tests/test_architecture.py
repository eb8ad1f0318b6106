"""The folders are the architecture: imports may only point down the layers
(cli -> ui -> agent -> retrieval/training -> core; evals -> agent), and nothing imports ui, evals or cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "core": set(),
    "retrieval": {"core"},
    "training": {"core"},
    "agent": {"core", "retrieval", "training"},
    "ui": {"agent", "core"},
    "evals": {"agent", "core", "retrieval", "training"},
    "cli": {"ui", "agent", "evals", "core", "retrieval", "training"},
}


def imported_packages(path: Path, package: str) -> set[str]:
    """The convrec top-level packages a module imports (absolute `convrec.x` or relative beyond its package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                depth = len(path.relative_to(ROOT / package).parts) - 1
                if node.level > depth + 1:
                    names = [f"convrec.{(node.module or '').split('.')[0]}"]
                else:
                    continue
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "convrec" and len(parts) > 1:
                found.add(parts[1])
    return found - {package}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down_the_layers(package: str) -> None:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path, package) - ALLOWED[package]
        if bad:
            violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, "\n".join(violations)


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    module = ROOT / "core" / "_probe_never_committed.py"
    module.write_text("from convrec.agent import graph\n")
    try:
        assert imported_packages(module, "core") == {"agent"}
    finally:
        module.unlink()
