#!/usr/bin/env bash
# Static checks CI runs: ruff (pycodestyle, pyflakes, isort, pyupgrade, bugbear, pydocstyle with the google
# convention, no print outside the CLI and scripts) over everything, and mypy over the library packages.
# Usage: bash scripts/lint.sh   (after scripts/test.sh has built .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
# mypy reads convrec's folders under their installed names (convrec.core, ...) through a tree of symlinks that
# mirrors setup.py's package-dir mapping (the editable install is an import hook mypy cannot follow); what it
# checks and how strictly is in pyproject.toml's [tool.mypy].
layout=build/mypy/convrec
mkdir -p "$layout"
ln -sfn ../../../convrec_pkg/__init__.py "$layout/__init__.py"
for folder in core retrieval training agent ui evals cli; do ln -sfn "../../../$folder" "$layout/$folder"; done
.venv/bin/mypy
