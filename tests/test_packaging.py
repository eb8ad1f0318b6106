"""The wheel ships every module and data file: each code folder is a package and each data file is listed.

`scripts/check_wheel.sh` (run by CI) builds and installs the wheel for real; this test is the fast guard that
names the file a new folder or data file would leave out of it.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("core", "retrieval", "training", "agent", "ui", "evals", "cli")


def _code_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def test_every_folder_with_python_code_is_a_package_setup_finds() -> None:
    for top in TOP_LEVEL:
        found = {top} | {f"{top}/{name.replace('.', '/')}" for name in find_packages(where=str(ROOT / top))}
        folders = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / top).rglob("*.py")
                   if "__pycache__" not in p.parts}
        assert folders <= found, f"folders without __init__.py (left out of the wheel): {sorted(folders - found)}"


def test_every_data_file_matches_a_package_data_pattern() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]
    for top in TOP_LEVEL:
        globs = patterns.get(f"convrec.{top}", [])
        for path in _code_files(ROOT / top):
            if path.suffix == ".py":
                continue
            relative = path.relative_to(ROOT / top).as_posix()
            assert any(fnmatch.fnmatch(relative, glob) for glob in globs), (
                f"{top}/{relative} is not shipped: add a pattern under [tool.setuptools.package-data] "
                f"\"convrec.{top}\" in pyproject.toml")


def test_setup_maps_the_design_folders() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    (value,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "TOP_LEVEL" for t in node.targets)]
    assert ast.literal_eval(value) == TOP_LEVEL
