#!/usr/bin/env bash
# Create the project's virtual environment and install everything it needs, offline-safe:
# torch's CPU build first (otherwise pip resolves a multi-GB CUDA build), then the exact versions in
# requirements.lock (`pip freeze` of a verified environment; regenerate it with `make lock`).
set -euo pipefail
VENV=${1:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
echo "==> installing torch 2.13.0 (CPU build)"
"${PIP[@]}" install torch==2.13.0
echo "==> installing the locked dependency set (exact versions, no resolver work)"
"${PIP[@]}" install --no-deps -r requirements.lock
echo "==> installing ICOP (editable)"
"${PIP[@]}" install --no-deps --no-build-isolation -e .
# The lock must be complete and consistent: pip check fails on anything missing or conflicting.
"${PIP[@]}" check
echo "==> installed into $VENV"
