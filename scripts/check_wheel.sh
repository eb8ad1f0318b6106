#!/usr/bin/env bash
# Build convrec's wheel, install it (not editable) into a fresh virtual environment and run `convrec --help`
# and `convrec ask` from a folder outside the checkout: the editable install of the README cannot show a
# package or data file missing from the wheel, this can. CI runs it on every run.
# Usage: bash scripts/check_wheel.sh   (CONVREC_DATA_DIR is honoured, so CI points it at the test caches)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
export ANONYMIZED_TELEMETRY=False TOKENIZERS_PARALLELISM=false
WORK=$(mktemp -d "${TMPDIR:-/tmp}/convrec-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PY=${PYTHON:-python3.11}; command -v "$PY" >/dev/null 2>&1 || PY=python3

echo "[check_wheel] building the wheel"
"$REPO/.venv/bin/pip" wheel --no-deps -q -w "$WORK/dist" "$REPO"   # isolated build, as a user gets
WHEEL=$(ls "$WORK"/dist/convrec-*.whl)

echo "[check_wheel] installing $(basename "$WHEEL") into a fresh virtual environment"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q torch==2.13.0
"$WORK/venv/bin/pip" install -q "$WHEEL"

cd "$WORK"   # outside the checkout: nothing can be imported from the source folders
"$WORK/venv/bin/python" - <<'PY'
import convrec.core, pathlib, sys
location = pathlib.Path(convrec.core.__file__).resolve()
if "site-packages" not in location.parts:
    sys.exit(f"convrec.core was imported from {location}, not from the installed wheel")
print(f"[check_wheel] convrec imported from {location.parent.parent}")
PY
"$WORK/venv/bin/convrec" --help >/dev/null
echo "[check_wheel] convrec --help: ok"
"$WORK/venv/bin/convrec" ask "a smart 90s sci-fi movie, nothing too violent" --top 3
echo "[check_wheel] convrec ask: ok"
