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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["convrec", *parts])


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The convrec modules a module imports when it is imported (module level; not under TYPE_CHECKING)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import module` imports the module; `from module import name` the module itself
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def import_cycles(tops: tuple[str, ...] = tuple(ALLOWED)) -> list[list[str]]:
    """Every cycle of module-level imports between convrec modules, each as a path that returns to its start."""
    paths = [p for top in tops for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts]
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _top_level_imports(p, modules) for p in paths}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str], done: set[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycle = trail[trail.index(nxt):] + [nxt]
                if sorted(cycle[:-1]) not in [sorted(c[:-1]) for c in cycles]:
                    cycles.append(cycle)
            elif nxt not in done:
                visit(nxt, [*trail, nxt], done)
        done.add(node)

    finished: set[str] = set()
    for module in sorted(graph):
        if module not in finished:
            visit(module, [module], finished)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_cycle_checker_sees_a_cycle() -> None:
    first, second = ROOT / "evals" / "_probe_a_never_committed.py", ROOT / "evals" / "_probe_b_never_committed.py"
    first.write_text("from . import _probe_b_never_committed\n")
    second.write_text("from convrec.evals._probe_a_never_committed import x\n")
    try:
        assert ["convrec.evals._probe_a_never_committed", "convrec.evals._probe_b_never_committed",
                "convrec.evals._probe_a_never_committed"] in import_cycles(("evals",))
    finally:
        first.unlink()
        second.unlink()
