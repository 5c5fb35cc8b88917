#!/usr/bin/env bash
# Set up commgraph from nothing: a virtualenv in .venv with the package and its extras.
# Idempotent and quick when already done. Usage: bash tools/bootstrap.sh [EXTRAS]  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.commgraph-$extras-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi
