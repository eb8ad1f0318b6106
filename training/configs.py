"""Hyper-parameters live in `training/configs/<ranker>.yaml`, not in code; each line says what it means.

A file holds the defaults (or `extends: <ranker>` to start from another file's) and, under `protocols:`,
overrides per protocol (e.g. more epochs on a sparser split). The ranker's pydantic `Params` validates the
merged result, so a typo fails at load.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from convrec.core.errors import UserError


def load_params(ranker: str, protocol: str | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the protocol's overrides and explicit overrides for one ranker."""
    source = resources.files("convrec.training").joinpath("configs", f"{ranker}.yaml")
    if not source.is_file():
        return dict(overrides or {})
    try:
        loaded = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"training/configs/{ranker}.yaml: not valid YAML ({exc})") from None
    parent = loaded.pop("extends", None)
    if parent:  # an ablation shares its model's settings: `extends: <ranker>` merges that file first
        loaded = {**load_params(str(parent), protocol), **loaded}
    per_protocol = loaded.pop("protocols", {}) or {}
    params = {**loaded, **(per_protocol.get(protocol, {}) if protocol else {}), **(overrides or {})}
    return params
