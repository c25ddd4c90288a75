#!/usr/bin/env bash
# Create the project's virtual environment and install everything it needs, offline-safe:
# the exact versions in requirements.lock (`pip freeze` of a verified environment; regenerate it with
# `make lock`), torch's CPU build among them (never a multi-GB CUDA build).
set -euo pipefail
VENV=${1:-.venv}
# RabbitMQ (events): Debian's package, started by `icop stack up` on loopback as its own node. Installed
# only when missing; the system service it may start is stopped again (the stack runs its own node).
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing rabbitmq-server (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q rabbitmq-server || { apt-get update -q && apt-get install -y -q rabbitmq-server; }
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true; fi
    epmd -kill >/dev/null 2>&1 || true  # the package's scripts leave an epmd on 0.0.0.0:4369
  else
    echo "warning: rabbitmq-server is not installed (needs root + apt): events will not work" >&2
  fi
fi
# Prometheus (`icop stack up --with-metrics`, and the test that queries it): Debian's package, run by the
# stack on loopback; the system service the package may start is stopped again.
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing prometheus (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends prometheus \
      || { apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; }
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  else
    echo "warning: prometheus is not installed (needs root + apt): icop stack up --with-metrics needs it" >&2
  fi
fi
# Chromium (the dashboard's browser tests): Debian's package, driven by Playwright for Python through
# executable_path=/usr/bin/chromium (`playwright install` downloads a browser and is not used), and
# Noto CJK so that the Korean pages render as Korean (not empty boxes) in the browser and screenshots.
BROWSER_PKGS=()
[ -x /usr/bin/chromium ] || BROWSER_PKGS+=(chromium)
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ko 2>/dev/null)" ]; } || BROWSER_PKGS+=(fonts-noto-cjk)
if [ ${#BROWSER_PKGS[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${BROWSER_PKGS[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${BROWSER_PKGS[@]}" || { apt-get update -q && apt-get install -y -q "${BROWSER_PKGS[@]}"; }
  else
    echo "warning: ${BROWSER_PKGS[*]} not installed (needs root + apt): the dashboard's browser tests need them" >&2
  fi
fi
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
# The dashboard (Next.js) needs Node.js 20 and npm. Its packages (package-lock.json, `npm ci`, skipped when
# node_modules already matches the lock) are installed here, with everything else, so that the tests and
# the stack need no registry; in the background, beside pip (cluster/dashboard.py needs only the standard
# library).
NPM_PID=
NPM_LOG=$(mktemp /tmp/icop-npm-ci.XXXXXX)
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  echo "==> installing the dashboard's packages in the background (npm ci, unless node_modules matches the lock)"
  ROOT=$(cd "$(dirname "$0")/.." && pwd)
  (cd "$ROOT" && NEXT_TELEMETRY_DISABLED=1 "$PYTHON" -m cluster.dashboard deps) >"$NPM_LOG" 2>&1 &
  NPM_PID=$!
else
  echo "warning: Node.js 20 and npm are not on PATH: the dashboard cannot be built" >&2
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
# uv (pinned in the lock itself) downloads and links the ≈ 270 packages in parallel: the lock with torch's
# CPU build in ≈ 1.5 min, against ≈ 6 for pip on this kind of machine. torch==2.13.0+cpu comes from pip's
# find-links (where this machine keeps that file); pip does the whole install where uv cannot.
echo "==> installing the locked dependency set with uv (exact versions, no resolver work)"
UV_VERSION=$(sed -n 's/^uv==//p' requirements.lock)
FIND_LINKS=()
for dir in ${PIP_FIND_LINKS:-} $("${PIP[@]}" config get global.find-links 2>/dev/null || true); do
  FIND_LINKS+=(--find-links "$dir")
done
if "${PIP[@]}" install "uv==$UV_VERSION" && "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" \
    "${FIND_LINKS[@]}" --no-deps -r requirements.lock; then
  :
else
  echo "warning: uv could not install the lock; pip does it instead" >&2
  echo "==> installing torch 2.13.0 (CPU build)"
  "${PIP[@]}" install torch==2.13.0
  echo "==> installing the locked dependency set (exact versions, no resolver work)"
  "${PIP[@]}" install --no-deps -r requirements.lock
fi
echo "==> installing ICOP (editable)"
"${PIP[@]}" install --no-deps --no-build-isolation -e .
# The lock must be complete and consistent: pip check fails on anything missing or conflicting.
"${PIP[@]}" check
if [ -n "$NPM_PID" ]; then
  if ! wait "$NPM_PID"; then
    cat "$NPM_LOG" >&2
    echo "error: the dashboard's npm ci failed (above)" >&2
    exit 1
  fi
  cat "$NPM_LOG"
fi
rm -f "$NPM_LOG"
echo "==> installed into $VENV"
