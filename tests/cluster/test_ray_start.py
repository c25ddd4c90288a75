"""A Ray node counts as started when `ray start --block` says so, not when its GCS port opens: under load a
raylet can abort after the port opened (it gives its dashboard agent 15 s), and such a start is tried again.
A stand-in for `ray start` plays the failing and the succeeding start here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cluster.processes import StackError, alive, stop_session
from cluster.ray_head import RAY_READY, START_ATTEMPTS, start_ray_node

# Counts its runs in a file; the runs before the one named by argv[2] die as a raylet's abort does.
FAKE_RAY = f"""
import sys, time
from pathlib import Path
counter = Path(sys.argv[1])
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
if n < int(sys.argv[2]):
    print("The current node timed out during startup.", flush=True)
    sys.exit(1)
print("{RAY_READY}.", flush=True)
time.sleep(60)
"""


def fake_ray(tmp_path: Path, succeeds_on: int) -> list[str]:
    return [sys.executable, "-c", FAKE_RAY, str(tmp_path / "runs"), str(succeeds_on)]


def test_a_node_that_dies_starting_is_started_again(tmp_path: Path) -> None:
    log = tmp_path / "ray.log"
    proc = start_ray_node(fake_ray(tmp_path, succeeds_on=2), log, {}, timeout=30)
    try:
        assert alive(proc.pid)
        assert (tmp_path / "runs").read_text() == "2"
        assert log.read_text().count("timed out during startup") == 1  # the first attempt's log is kept
    finally:
        stop_session(proc.pid)


def test_a_node_that_never_starts_is_an_error_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "ray.log"
    with pytest.raises(StackError) as e:
        start_ray_node(fake_ray(tmp_path, succeeds_on=START_ATTEMPTS + 1), log, {}, timeout=30)
    assert (tmp_path / "runs").read_text() == str(START_ATTEMPTS)
    assert f"{START_ATTEMPTS} attempts" in str(e.value) and "exited with status 1" in str(e.value)
    assert "timed out during startup" in str(e.value)
