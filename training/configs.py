"""Hyper-parameters live in `training/configs/<ranker>.yaml`, not in code; each line says what it means.

A file holds the values (or `extends: <ranker>` to start from another file's) and, under `protocols:`,
overrides per protocol (e.g. more epochs on a sparser split). It is the only place a default is written:
a ranker's pydantic `Params` declares types and bounds without defaults, every ranker is built from its file
(`Ranker.__init__` fills what its caller leaves out), and `Params` validates the merged result, so a typo
fails at load. A ranker without hyper-parameters (`pop`) has no file.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml

from convrec.core.errors import UserError


def load_params(ranker: str, protocol: str | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge the file's values, the protocol's overrides and explicit overrides for one ranker."""
    loaded = copy.deepcopy(_read(ranker))
    if loaded is None:
        return dict(overrides or {})
    parent = loaded.pop("extends", None)
    if parent:  # an ablation shares its model's settings: `extends: <ranker>` merges that file first
        loaded = {**load_params(str(parent), protocol), **loaded}
    per_protocol = loaded.pop("protocols", {}) or {}
    params = {**loaded, **(per_protocol.get(protocol, {}) if protocol else {}), **(overrides or {})}
    return params


@cache
def _read(ranker: str) -> dict[str, Any] | None:
    """Parse `configs/<ranker>.yaml` once per process (None when the ranker has no file); callers copy it."""
    source = resources.files("convrec.training").joinpath("configs", f"{ranker}.yaml")
    if not ranker or not source.is_file():
        return None
    try:
        loaded = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"training/configs/{ranker}.yaml: not valid YAML ({exc})") from None
    if not isinstance(loaded, dict):
        raise UserError(f"training/configs/{ranker}.yaml: expected a mapping of parameter names to values")
    return loaded
