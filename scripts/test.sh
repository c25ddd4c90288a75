#!/usr/bin/env bash
# The test suite (`make test`, CI): the gates, then the tests in two lanes side by side.
#
# Most of the suite waits on latencies (stacks starting, workflows, browsers), so one pytest process keeps
# about one core of two busy. Two pytest sessions, each with its own private stack (cluster/ports.py
# reserves each session's ports), run the suite in about two thirds of the time. Lane a holds the
# stack-level and end-to-end tests (tests/foundation, cluster, workflows, graphs); lane b everything else.
# The audit tests (no secret in a log line, nothing listening off loopback) judge what their own session did,
# so both lanes run them. mypy (minutes on a fresh clone, without its cache) runs beside the tests; ruff's
# checks, seconds long, run first and stop everything on a finding.
#
#   scripts/test.sh [pytest args…]      e.g. -m "not slow", -x
#   ICOP_TEST_LANES=1 scripts/test.sh   one pytest process (the old way; e.g. a one-core machine)
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=$VENV/bin/python
LANE_A=(tests/foundation tests/cluster tests/workflows tests/graphs)
AUDIT=(tests/gateway/test_logs.py tests/providers/test_loopback.py)
LANES=${ICOP_TEST_LANES:-$([ "$(nproc)" -ge 2 ] && echo 2 || echo 1)}
for arg in "$@"; do  # tests named on the command line: one session runs just those
  case $arg in tests/*|*.py|*.py::*) LANES=1 ;; esac
done

"$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . || exit 1

out=$(mktemp -d /tmp/icop-test-lanes.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "==> mypy (beside the tests; its report comes at the end)"
nice -n 15 "$VENV/bin/mypy" >"$out/mypy.log" 2>&1 &  # low priority: stacks start meanwhile
MYPY=$!

if [ "$LANES" = 1 ]; then
  "$PY" -m pytest -q "$@"
  tests=$?
else
  echo "==> tests in two lanes: [a] ${LANE_A[*]}; [b] the rest; the audit tests in both"
  ignores=()
  for p in "${LANE_A[@]}"; do ignores+=("--ignore=$p"); done
  # each lane's lines carry its letter; a lane's exit status is pytest's (pipefail)
  "$PY" -m pytest -q "$@" "${LANE_A[@]}" "${AUDIT[@]}" 2>&1 | sed -u 's/^/[a] /' &
  A=$!
  "$PY" -m pytest -q "$@" tests "${ignores[@]}" 2>&1 | sed -u 's/^/[b] /' &
  B=$!
  wait "$A"; a=$?
  wait "$B"; b=$?
  echo "==> lane a: exit $a; lane b: exit $b"
  tests=$(( a != 0 ? a : b ))
fi

wait "$MYPY"; typed=$?
cat "$out/mypy.log"
if [ "$typed" != 0 ]; then
  echo "error: mypy found problems (above)" >&2
  exit 1
fi
exit "$tests"
